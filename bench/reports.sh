#!/usr/bin/env bash
# bench/reports.sh - what a report run costs over scoring the same rows in
# one query.
#
#   bench/reports.sh [ROWS]          (default 100000; VAE_PRIVATE_INSTALL=1
#                                     for a private install, as elsewhere)
#
# In a throwaway cluster: a table of ROWS synthetic rows (three numbers, a
# category), a row model registered by name; then, alternating three times
# on the same rows:
#   query  SELECT count(*) FILTER (WHERE (vae_detect(m, t, 0.01)).is_anomaly)
#          over the whole table (the floor: scoring alone);
#   run    CALL vae_report_run over a fresh report of the same rows (batches
#          of 1000: the writer barrier, the findings, the scratch scores, the
#          history), and the same with one NaN row in every batch, which
#          sends every batch down the key-by-key path.
# Prints each time and the ratios run/query and bad/query (best of three
# each); ratios, not seconds, are what compare across machines and loads.
set -euo pipefail
. "$(dirname "$0")/../scripts/common.sh"
. "$(dirname "$0")/lib.sh"
bench_enter_cluster "reports" "$0" "$@"

rows=${1:-100000}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# t SQL: the statement's wall time in seconds
t() {
	local s e
	s=$(date +%s.%N)
	q "$1" >/dev/null
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }'
}
# min A B: the smaller (B when A is empty)
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }

q "DROP EXTENSION IF EXISTS vae CASCADE" 2>/dev/null || true
q "CREATE EXTENSION vae"
q "DROP TABLE IF EXISTS bench_rows, bench_bad CASCADE"
q "CREATE TABLE bench_rows (id bigserial PRIMARY KEY, a double precision, b double precision,
                            c double precision, kind text)"
q "INSERT INTO bench_rows (a, b, c, kind)
   SELECT x, 2 * x + 0.1 * random(), sin(x * 6), CASE WHEN x > 0.5 THEN 'high' ELSE 'low' END
   FROM (SELECT random() AS x FROM generate_series(1, $rows)) g"
q "CREATE TABLE bench_bad AS SELECT * FROM bench_rows"
q "ALTER TABLE bench_bad ADD PRIMARY KEY (id)"
q "UPDATE bench_bad SET a = 'NaN' WHERE id % 1000 = 500"
q "SELECT vae_register('bench', vae_train(t, '{\"seed\": 1, \"epochs\": 10}'))
   FROM (SELECT a, b, c, kind FROM bench_rows LIMIT 20000) t" >/dev/null

best_q=; best_r=; best_b=
for i in 1 2 3; do
	tq=$(t "SELECT count(*) FILTER (WHERE (vae_detect(vae_model('bench'), t, 0.01)).is_anomaly) FROM bench_rows t")
	q "SELECT vae_report_create('bench_run_$i', 'bench', 'bench_rows', 'id', 0.01)" >/dev/null
	tr=$(t "CALL vae_report_run('bench_run_$i')")
	q "SELECT vae_report_create('bench_bad_$i', 'bench', 'bench_bad', 'id', 0.01)" >/dev/null
	tb=$(t "CALL vae_report_run('bench_bad_$i')")
	printf 'round %d: query %.3f s, run %.3f s, run with a bad row per batch %.3f s\n' "$i" "$tq" "$tr" "$tb"
	best_q=$(min "$best_q" "$tq")
	best_r=$(min "$best_r" "$tr")
	best_b=$(min "$best_b" "$tb")
done
q "SELECT rows_scored, row_errors, anomalies FROM vae_report_runs WHERE report = 'bench_bad_3'" |
	sed 's/^/bad-row run: rows_scored|row_errors|anomalies = /'
awk -v n="$rows" -v q="$best_q" -v r="$best_r" -v b="$best_b" \
	'BEGIN { printf "rows %d: run/query %.2f, bad/query %.2f (best of 3 each)\n", n, r / q, b / q }'
