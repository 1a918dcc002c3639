#!/usr/bin/env bash
# bench/ensemble_cost.sh - what an ensemble costs (option "ensemble",
# docs/detect.md "Ensembles in the extension"): training wall time, model
# size and scoring time of K networks against one, on a small and a
# 50,000-row table, alternating K = 1 and K = K_MAX in each round so that
# the ratios come from the same invocation on the same (loaded) machine.
#
#   bench/ensemble_cost.sh                      (needs PGHOST etc., or:)
#   VAE_PRIVATE_INSTALL=1 bench/ensemble_cost.sh   build, install privately,
#                                               throwaway cluster
#   REPEAT=3 K_MAX=3 bench/ensemble_cost.sh     rounds (default 3), the K compared
#
# Tables: small = 300 rows, large = 50,000 rows, both of 16 features of
# seeded smooth functions plus noise; default options otherwise (so
# "ensemble": 1 is what a 50,000-row table gets by default, and K_MAX what
# the small one gets).  Prints per round and table the seconds of
# vae_train, then the medians, the ratios K_MAX / 1, the model sizes and
# the scoring time of every row of the table (vae_score).  Works in the
# database vae_ensemble_cost (dropped and re-created).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$root/scripts/common.sh"
. "$here/lib.sh"
bench_enter_cluster ensemble_cost "$here/ensemble_cost.sh" "$@"

REPEAT=${REPEAT:-3}
K_MAX=${K_MAX:-3}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
bench_fresh_db ensemble_cost vae_ensemble_cost >/dev/null
"${PSQL[@]}" <<'SQL'
SELECT setseed(0.25) \g /dev/null
CREATE TABLE small AS
SELECT i, ARRAY(SELECT (sin(i * 0.01 * j) + 0.1 * random())::real FROM generate_series(1, 16) j) AS f
FROM generate_series(1, 300) i;
CREATE TABLE large AS
SELECT i, ARRAY(SELECT (sin(i * 0.0001 * j) + 0.1 * random())::real FROM generate_series(1, 16) j) AS f
FROM generate_series(1, 50000) i;
CREATE TABLE models (tab text, k int, round int, seconds float8, model bytea);
SQL

# train TABLE K ROUND: one vae_train, its wall seconds stored with the model
train() {
	printf '%s\n' "SELECT clock_timestamp() AS t0 \\gset" \
		"CREATE TEMP TABLE m AS SELECT vae_train(f, '{\"ensemble\": $2}') AS model FROM $1;" \
		"INSERT INTO models SELECT '$1', $2, $3, extract(epoch FROM clock_timestamp() - :'t0'::timestamptz), model FROM m;" \
		"SELECT round(seconds::numeric, 2) FROM models WHERE tab = '$1' AND k = $2 AND round = $3;" |
		"${PSQL[@]}" -At -f - | tail -n 1
}
# score TABLE K: wall seconds of scoring every row of TABLE with round 1's model
score() {
	printf '%s\n' "SELECT clock_timestamp() AS t0 \\gset" \
		"SELECT sum(vae_score(m.model, t.f)) FROM $1 t, (SELECT model FROM models WHERE tab = '$1' AND k = $2 AND round = 1) m \\g /dev/null" \
		"SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2);" |
		"${PSQL[@]}" -At -f - | tail -n 1
}
for r in $(seq "$REPEAT"); do
	for t in small large; do
		a=$(train $t 1 "$r")
		b=$(train $t "$K_MAX" "$r")
		echo "round $r $t: ensemble 1 $a s, ensemble $K_MAX $b s"
	done
done
for t in small large; do
	echo "$t scoring every row: ensemble 1 $(score $t 1) s, ensemble $K_MAX $(score $t "$K_MAX") s"
done
"${PSQL[@]}" -c "
SELECT tab AS \"table\",
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE k = 1))::numeric, 2) AS train_s_1,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE k = $K_MAX))::numeric, 2) AS train_s_k,
       round(((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE k = $K_MAX))
              / (percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE k = 1)))::numeric, 2) AS train_ratio,
       max(length(model)) FILTER (WHERE k = 1) AS bytes_1,
       max(length(model)) FILTER (WHERE k = $K_MAX) AS bytes_k,
       round((max(length(model)) FILTER (WHERE k = $K_MAX))::numeric
             / max(length(model)) FILTER (WHERE k = 1), 2) AS size_ratio,
       max(vae_model_info(model)->>'epochs') FILTER (WHERE k = 1) AS epochs
FROM models GROUP BY tab ORDER BY tab DESC"
