#!/usr/bin/env bash
# bench/registry.sh - what scoring by name costs against scoring with the
# model's bytes: the same rows scored three ways in one session, alternating,
# best of REPS runs each, printed as ratios to the bytes form:
#
#   bytes   vae_score(m.model, t) FROM t, (SELECT model ... LIMIT 1) m
#           (the stored model, recognized by its TOAST pointer per row)
#   param   vae_score((SELECT model FROM ...), t)  (one value for the query)
#   name    vae_score('bench', t)                   (looked up once per query)
#
#   bench/registry.sh                 200,000 rows of the KDD-like shape
#   ROWS=1000000 REPS=5 bench/registry.sh
#
# With PGHOST set it uses that server (the extension installed); else a
# throwaway cluster (scripts/with-cluster.sh).  It installs nothing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

if [ -z "${PGHOST:-}" ]; then
	exec "$root/scripts/with-cluster.sh" "$0" "$@"
fi
ROWS=${ROWS:-200000}
REPS=${REPS:-3}
DB=${DB:-vae_bench_registry}

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
psql -X -q -At -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null || exit 1
q >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE EXTENSION vae;
CREATE TABLE t AS
SELECT i AS id, (i % 7) * 1.5 AS load, (i % 50)::int AS port, random() * 100 AS bytes,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3] AS host, i % 5 = 0 AS ok
FROM generate_series(1, $ROWS) AS i;
SELECT vae_register('bench', vae_train(t, '{"epochs": 3, "exclude": ["id"], "max_rows": 20000}')) FROM t;
SET max_parallel_workers_per_gather = 0;
SQL

declare -A best
run() {	# run NAME SQL: keep the best wall time in ms
	local ms
	ms=$(q -c "SET max_parallel_workers_per_gather = 0" -c '\timing on' -c "$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
	if [ -z "${best[$1]:-}" ] || awk "BEGIN { exit !($ms < ${best[$1]}) }"; then best[$1]=$ms; fi
}
for r in $(seq "$REPS"); do
	run bytes "SELECT sum(vae_score(m.model, t)) FROM t, (SELECT model FROM vae_model_registry WHERE name = 'bench' LIMIT 1) m"
	run param "SELECT sum(vae_score((SELECT model FROM vae_model_registry WHERE name = 'bench' LIMIT 1), t)) FROM t"
	run name "SELECT sum(vae_score('bench', t)) FROM t"
done
echo "rows $ROWS, best of $REPS, one backend, no parallel workers"
for k in bytes param name; do
	awk -v k=$k -v ms="${best[$k]}" -v ref="${best[bytes]}" \
		'BEGIN { printf "%-6s %9.1f ms   %.3f x the bytes form\n", k, ms, ms / ref }'
done
psql -X -q -c "DROP DATABASE $DB" >/dev/null
