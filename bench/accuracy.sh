#!/usr/bin/env bash
# bench/accuracy.sh - accuracy benchmarks of the vae extension against
# published reference figures.  Prints the figures, a summary table, and
# exits 0 when every bar is met, 1 when one is missed, 2 on a setup error.
#
#   bench/accuracy.sh                 both experiments in a throwaway cluster
#   EPOCHS=30 bench/accuracy.sh       MNIST trained for 30 epochs instead of 10
#   ONLY=mnist|kdd bench/accuracy.sh  one experiment only
#   KDD_SEEDS="1 2 3" bench/accuracy.sh  KDD also trained with these seeds
#                                      (figures for information, no bars)
#   KDD_OPTIONS='{"epochs": 7}' bench/accuracy.sh  KDD trained with these
#                                      options instead of the defaults, to
#                                      prototype new defaults (the bars and
#                                      the summary then say so)
#   DATA_DIR=/path bench/accuracy.sh  the data directory (default
#                                      ../shared/data from the repository root)
#
# It builds and installs nothing: run `make install` first.  When PGHOST is
# not set it re-executes itself through scripts/with-cluster.sh (a fresh
# cluster, removed afterwards); when PGHOST is set it works in a database of
# its own, vae_accuracy, which it drops and re-creates at the start and
# leaves behind for inspection.
#
# Data: ../shared/data relative to the repository root (see its README.md).
#
# a. MNIST (mnist10k.csv.gz): id = row number in the file, seeded shuffle
#    ORDER BY md5(id || 'seed42'), first 8,000 rows train, other 2,000 test.
#    784-400-20 relu VAE, Bernoulli decoder, Adam 1e-3, batch 128, no input
#    normalization, no validation split, seed 1.  Figure: mean test
#    vae_score(model, px, 'elbo') (negative ELBO, nats per image).
#    Bar: <= 124.5 after 10 epochs (PyTorch reference 123.2).  Other EPOCHS
#    values are reported without a bar (reference after 30 epochs: 111.6)
#    unless MNIST_BAR=x sets one.
# b. KDD Cup 99 (kdd_cup.csv.gz), DAGMM protocol: label 1 ("normal" traffic)
#    is the anomaly class.  The label-0 rows are shuffled by
#    md5(id || 'seed42'); the first floor(n0/2) train, test = the other
#    label-0 rows + every label-1 row.  Trained with DEFAULT options
#    (vae_train(f)).  Figures: ROC AUC (rank based, ties averaged) and F1 at
#    the threshold that flags k = #label-1 test rows (top-k by score, ties
#    broken by id; precision = recall = F1 there).  Bars for the default
#    method recon_prob: AUC >= 0.975, F1 >= 0.93 (careful PyTorch VAE:
#    0.98 / 0.93; DAGMM F1 0.937).  elbo and mse are reported for information.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=$(cd "${DATA_DIR:-$root/../shared/data}" 2>/dev/null && pwd) || {
	echo "accuracy: data directory ${DATA_DIR:-$root/../shared/data} not found" >&2
	exit 2
}

if [ -z "${PGHOST:-}" ]; then
	exec "$root/scripts/with-cluster.sh" "$0" "$@"
fi

EPOCHS=${EPOCHS:-10}
ONLY=${ONLY:-all}
case "$EPOCHS" in '' | *[!0-9]*) echo "accuracy: EPOCHS must be a positive integer" >&2; exit 2 ;; esac
if [ -z "${MNIST_BAR:-}" ]; then
	case "$EPOCHS" in
	10) MNIST_BAR=124.5 ;;
	*) MNIST_BAR= ;;
	esac
fi
case "$ONLY" in all | mnist | kdd) ;; *) echo "accuracy: ONLY must be mnist or kdd" >&2; exit 2 ;; esac

for f in mnist10k.csv.gz kdd_cup.csv.gz; do
	[ -r "$data/$f" ] || { echo "accuracy: missing $data/$f" >&2; exit 2; }
done

DB=vae_accuracy
export PGDATABASE=${PGDATABASE:-postgres}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
t_start=$(date +%s)

ts() { date +%H:%M:%S; }
step() { echo "[$(ts)] $*"; }

step "fresh database $DB on ${PGHOST}:${PGPORT:-5432}"
"${PSQL[@]}" -d "$PGDATABASE" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" || exit 2
export PGDATABASE=$DB

if ! err=$("${PSQL[@]}" -c "CREATE EXTENSION vae" 2>&1); then
	echo "$err" >&2
	echo "accuracy: CREATE EXTENSION vae failed - build and install the extension first (make && make install)" >&2
	exit 2
fi
# a stale installation (an older vae--1.0.sql) lacks the API this benchmark uses
if [ "$("${PSQL[@]}" -At -c "SELECT to_regprocedure('vae_score(bytea,anyarray,text)') IS NOT NULL
	AND EXISTS (SELECT FROM pg_proc WHERE proname = 'vae_train' AND prokind = 'a')")" != t ]; then
	echo "accuracy: the installed vae extension lacks vae_train/vae_score - stale install? run make install" >&2
	exit 2
fi
"${PSQL[@]}" -c "SELECT extversion FROM pg_extension WHERE extname = 'vae'" -At | sed 's/^/vae extension version /'

"${PSQL[@]}" <<'SQL' || exit 2
CREATE TABLE bench_result (
	ord        serial,
	experiment text NOT NULL,
	metric     text NOT NULL,
	value      double precision,
	op         text,				-- '<=' or '>=' when there is a bar
	bar        double precision,
	reference  text,				-- published figure, for comparison
	digits     int NOT NULL DEFAULT 4
);
SQL

rc=0

# ---------------------------------------------------------------------------
if [ "$ONLY" != kdd ]; then
	step "MNIST: loading mnist10k.csv.gz"
	# "label,p1,...,p784" -> "label<TAB>{p1,...,p784}": COPY parses the array
	gzip -dc "$data/mnist10k.csv.gz" | sed -e 's/,/\t{/' -e 's/$/}/' |
		"${PSQL[@]}" -c "CREATE TABLE mnist (id bigserial PRIMARY KEY, label int NOT NULL, px real[] NOT NULL);
			COPY mnist (label, px) FROM STDIN" || exit 2
	step "MNIST: training ($EPOCHS epochs) and scoring"
	"${PSQL[@]}" -v epochs="$EPOCHS" -v bar="$MNIST_BAR" -f "$here/accuracy_mnist.sql" || exit 2
fi

# ---------------------------------------------------------------------------
if [ "$ONLY" != mnist ]; then
	step "KDD Cup 99: loading kdd_cup.csv.gz"
	# "f1,...,f118,label" -> "{f1,...,f118}<TAB>label" (the label is one digit)
	t0=$(date +%s.%N)
	gzip -dc "$data/kdd_cup.csv.gz" | sed -e 's/^/{/' -e 's/,\(.\)$/}\t\1/' |
		"${PSQL[@]}" -c "CREATE TABLE kdd (id bigserial PRIMARY KEY, f real[] NOT NULL, label int NOT NULL);
			COPY kdd (f, label) FROM STDIN" || exit 2
	t1=$(date +%s.%N)
	load_s=$(awk "BEGIN { print $t1 - $t0 }")
	"${PSQL[@]}" -c "INSERT INTO bench_result (experiment, metric, value, digits)
		VALUES ('kdd', 'load 494,021 rows (s)', $load_s, 1)" || exit 2
	kdd_options='{}'
	[ -n "${KDD_OPTIONS:-}" ] && kdd_options=$KDD_OPTIONS
	step "KDD Cup 99: training (options $kdd_options) and scoring"
	"${PSQL[@]}" -v kdd_options="$kdd_options" -f "$here/accuracy_kdd.sql" || exit 2
	for seed in ${KDD_SEEDS:-}; do
		case "$seed" in '' | *[!0-9]*) echo "accuracy: KDD_SEEDS must be integers" >&2; exit 2 ;; esac
		step "KDD Cup 99: training and scoring with seed $seed"
		"${PSQL[@]}" -v seed="$seed" -f "$here/accuracy_kdd_seed.sql" || exit 2
	done
fi

# ---------------------------------------------------------------------------
echo
echo "================================ summary ================================"
"${PSQL[@]}" -P footer=off <<'SQL' || exit 2
SELECT experiment,
	   metric,
	   CASE WHEN value IS NULL THEN '-' ELSE round(value::numeric, digits)::text END AS value,
	   coalesce(op || ' ' || bar, '') AS bar,
	   coalesce(reference, '') AS reference,
	   CASE WHEN op IS NULL THEN ''
			WHEN value IS NULL OR value = 'NaN' THEN 'FAIL'
			WHEN op = '<=' AND value <= bar THEN 'PASS'
			WHEN op = '>=' AND value >= bar THEN 'PASS'
			ELSE 'FAIL' END AS result
FROM bench_result ORDER BY ord;
SQL
fails=$("${PSQL[@]}" -At -c "SELECT count(*) FROM bench_result WHERE op IS NOT NULL AND
	(value IS NULL OR value = 'NaN' OR (op = '<=' AND NOT value <= bar) OR (op = '>=' AND NOT value >= bar))") || exit 2
passes=$("${PSQL[@]}" -At -c "SELECT count(*) FROM bench_result WHERE op IS NOT NULL") || exit 2
passes=$((passes - fails))
echo "total run time $(( $(date +%s) - t_start )) s; bars: $passes passed, $fails failed"
[ "$fails" -eq 0 ] || rc=1
exit $rc
