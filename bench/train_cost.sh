#!/usr/bin/env bash
# bench/train_cost.sh - wall time of vae_train with DEFAULT options on two
# 200,000-row tables against the 1.0 default rule reproduced with explicit
# options, alternating, to check the "at most 1.5x the old defaults'
# training time on a 200,000-row table" bar (docs/detect.md, "Defaults in
# 1.1").
#
#   bench/train_cost.sh                  defaults vs the old rule, 2 rounds
#   REPEAT=3 bench/train_cost.sh         more rounds
#   OPTS_118='{"epochs": 5}' OPTS_16='{"epochs": 5}' bench/train_cost.sh
#                                        also a candidate per table (options
#                                        on top of the defaults)
#   OLD_118=... OLD_16=...               other reference options
#   REF_ENV=/tmp/ref/env bench/train_cost.sh
#                                        also the defaults of another build
#                                        (column "issue"), on a second server
#                                        whose PG* exports are in that file
#                                        (scripts/pgcluster.sh's env file):
#                                        the same tables are loaded there
#
# REF_ENV measures the bar as the issue words it, against the build of the
# day it was filed (commit 1545a81, whose engine had neither the one-thread
# path for small networks nor flush-to-zero), where "old" is the old rule on
# today's engine, which those changes made cheaper too (the stricter
# reading).  docs/detect.md, "Training cost on 200,000-row tables", has
# the setup of the reference server.
#
# The old rule (1.0 and 1.1 before "Defaults in 1.1") on these tables:
# 180,000 training rows (10% held out), 1,407 steps per epoch, epochs =
# ceil(12,000 / 1,407) = 9, latent ceil(D/12) clamped to [2, 20], one hidden
# layer of ceil(D/2) clamped to [max(8, 2 latent), 512]: 118-59-10 and
# 16-8-2.  Every other option is the same under both rules.
#
# Tables: kdd118 = 200,000 label-0 rows of KDD Cup 99 (118 features, data in
# ../shared/data or DATA_DIR); letter16 = the 20,000 rows of mlbench's
# LetterRecognition ten times over, each copy shifted by a seeded jitter
# of +-0.05 (16 features).  REPEAT (default 2) rounds; each round trains
# old, then default (then candidate) on each table, and prints the
# seconds; the end prints per table the ratio default / old (and
# candidate / old) of the summed seconds, and what the defaults resolved
# to.  Needs PGHOST etc. (run it through scripts/with-cluster.sh, or
# against the cluster of bench/detect.sh with the database vae_detect
# loaded: it reads letter_prepared from there).  Works in the database
# vae_train_cost (dropped and re-created).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
data=$(cd "${DATA_DIR:-$root/../shared/data}" && pwd)
OLD_118=${OLD_118:-'{"epochs": 9, "latent_dim": 10, "hidden": [59]}'}
OLD_16=${OLD_16:-'{"epochs": 9, "latent_dim": 2, "hidden": [8]}'}
OPTS_118=${OPTS_118:-}
OPTS_16=${OPTS_16:-}
REPEAT=${REPEAT:-2}
REF_ENV=${REF_ENV:-}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
# ref CMD...: CMD with the reference server's PG* settings (REF_ENV)
ref() { (. "$REF_ENV"; export PGDATABASE=vae_train_cost; "$@"); }
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
if [ -n "$REF_ENV" ]; then
	(. "$REF_ENV"; "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS vae_train_cost" -c "CREATE DATABASE vae_train_cost")
	ref "${PSQL[@]}" -c "CREATE EXTENSION vae"
	for t in kdd118 letter16; do
		ref "${PSQL[@]}" -c "CREATE TABLE $t (f real[])"
		"${PSQL[@]}" -c "COPY $t TO STDOUT" | ref "${PSQL[@]}" -c "COPY $t FROM STDIN"
	done
fi
# train TABLE OPTIONS: "SECONDS RESOLVED": the wall seconds of one vae_train
# (the psql call's statement alone) and what the model says it resolved to
train() {
	printf '%s\n' "SELECT clock_timestamp() AS t0 \\gset" \
		"CREATE TEMP TABLE m AS SELECT vae_train(f, '$2'::jsonb) AS m FROM $1;" \
		"SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1)
			|| ' ' || jsonb_build_object('hidden', i->'hidden', 'latent_dim', i->'latent_dim',
				'epochs', i->'options'->'epochs', 'epochs_run', i->'epochs', 'parameters', i->'parameters')
			FROM (SELECT vae_model_info(m) AS i FROM m) x;" |
		"${PSQL[@]}" -At -f - | tail -n 1
}
declare -A sum resolved
for r in $(seq "$REPEAT"); do
	for t in kdd118 letter16; do
		old=$OLD_118 cand=$OPTS_118
		[ $t = letter16 ] && old=$OLD_16 cand=$OPTS_16
		line="round $r $t"
		for v in old issue default candidate; do
			case $v in
				old) o=$old ;;
				issue) o='{}'; [ -n "$REF_ENV" ] || continue ;;
				default) o='{}' ;;
				candidate) o=$cand; [ -n "$o" ] || continue ;;
			esac
			if [ $v = issue ]; then
				read -r sec res <<<"$(ref train $t "$o")"
			else
				read -r sec res <<<"$(train $t "$o")"
			fi
			sum[$t/$v]=$(echo "${sum[$t/$v]:-0} + $sec" | bc)
			resolved[$t/$v]=$res
			line="$line, $v $sec s"
		done
		echo "$line"
	done
done
echo
for t in kdd118 letter16; do
	cand=$OPTS_118
	[ $t = letter16 ] && cand=$OPTS_16
	for v in old issue default candidate; do
		[ $v = candidate ] && [ -z "$cand" ] && continue
		[ $v = issue ] && [ -z "$REF_ENV" ] && continue
		ratio=$(echo "scale=2; ${sum[$t/$v]} / ${sum[$t/old]}" | bc)
		line="$t $v: ${sum[$t/$v]} s in $REPEAT rounds, ratio to old $ratio"
		if [ -n "$REF_ENV" ]; then
			line="$line, to issue $(echo "scale=2; ${sum[$t/$v]} / ${sum[$t/issue]}" | bc)"
		fi
		echo "$line; ${resolved[$t/$v]}"
	done
done
