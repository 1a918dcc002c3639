#!/usr/bin/env bash
# bench/train_cost.sh - wall time of vae_train on two 200,000-row tables with
# today's default options and with candidate options, alternating, to check
# a new default against the "at most 1.5x today's training time" bar
# (docs/detect.md, "Candidate defaults").
#
#   OPTS_118='{"epochs": 8, ...}' OPTS_16='{"epochs": 8, ...}' bench/train_cost.sh
#
# Tables: kdd118 = 200,000 label-0 rows of KDD Cup 99 (118 features, data in
# ../shared/data or DATA_DIR); letter16 = the 20,000 rows of mlbench's
# LetterRecognition ten times over, each copy shifted by a seeded jitter
# of +-0.05 (16 features).  REPEAT (default 2) rounds; each round trains
# default then candidate on each table.  Needs PGHOST etc. (run it through
# scripts/with-cluster.sh, or against the cluster of bench/detect.sh with
# the database vae_detect loaded: it reads letter_prepared from there).
# Works in the database vae_train_cost (dropped and re-created).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=$(cd "${DATA_DIR:-$root/../shared/data}" && pwd)
: "${OPTS_118:?set OPTS_118 (candidate options for 118 features)}"
: "${OPTS_16:?set OPTS_16 (candidate options for 16 features)}"
REPEAT=${REPEAT:-2}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS vae_train_cost" -c "CREATE DATABASE vae_train_cost"
export PGDATABASE=vae_train_cost
"${PSQL[@]}" -c "CREATE EXTENSION vae"
gzip -dc "$data/kdd_cup.csv.gz" | sed -e 's/^/{/' -e 's/,\(.\)$/}\t\1/' |
	"${PSQL[@]}" -c "CREATE TABLE kdd (id bigserial, f real[], label int); COPY kdd (f, label) FROM STDIN"
"${PSQL[@]}" -c "CREATE TABLE kdd118 AS SELECT f FROM kdd WHERE label = 0 ORDER BY md5(id::text) LIMIT 200000" \
	-c "DROP TABLE kdd"
psql -X -At -d vae_detect -c "COPY (SELECT features FROM letter_prepared) TO STDOUT" |
	"${PSQL[@]}" -c "CREATE TEMP TABLE l (f real[]); COPY l FROM STDIN" \
		-c "SELECT setseed(0.5)" \
		-c "CREATE TABLE letter16 AS SELECT (SELECT array_agg(v + (random() - 0.5) * 0.1 ORDER BY o)
				FROM unnest(l.f) WITH ORDINALITY u(v, o))::real[] AS f FROM l, generate_series(1, 10)" >/dev/null
# train TABLE OPTIONS: print the wall seconds of one vae_train
train() {
	printf '%s\n' "SELECT clock_timestamp() AS t0 \\gset" \
		"SELECT length(vae_train(f, '$2'::jsonb)) FROM $1;" \
		"SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1);" |
		"${PSQL[@]}" -At -f - | tail -n 1
}
for r in $(seq "$REPEAT"); do
	for t in kdd118 letter16; do
		o=$OPTS_118
		[ $t = letter16 ] && o=$OPTS_16
		echo "round $r $t default $(train $t '{}') s, candidate $(train $t "$o") s ($o)"
	done
done
