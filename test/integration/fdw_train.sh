#!/usr/bin/env bash
# fdw_train.sh - sample-merge training over postgres_fdw (docs/scale-out.md):
# two shard clusters and a coordinator whose partitioned table has one
# foreign partition on each (async_capable, extensions 'vae').  postgres_fdw
# never pushes partial aggregates, but it pushes a whole aggregate per
# partition (enable_partitionwise_aggregate, GROUP BY the partition key):
#
#   SELECT vae_train_samples(s)
#   FROM (SELECT vae_sample(r, options) AS s FROM pt GROUP BY part) x
#
# runs vae_sample on each shard (over a shard view of vae_row(t): a
# whole-row reference would reach the shard as an anonymous ROW(...) and
# lose the column names) and trains on the coordinator from the union of
# the samples.  Checks: EXPLAIN VERBOSE shows both aggregates pushed down as
# async foreign scans, and the model is byte-identical, but the training
# time and the CRC, to local training on all the rows, with and without
# max_rows.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
cd "$root"

it_cluster_start
stop_shards() {
	local s
	for s in s1 s2; do
		"$root/scripts/pgcluster.sh" stop "$it_work/$s" >/dev/null 2>&1 || true
	done
	it_cleanup
}
trap stop_shards EXIT
for s in s1 s2; do
	"$root/scripts/pgcluster.sh" start "$it_work/$s" >/dev/null ||
		{ not_ok "start shard cluster $s"; finish; }
done
ok "a coordinator and two shard clusters started"

psql_s() {
	local s=$1
	shift
	(. "$it_work/$s/env" && "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 "$@")
}

# the rows: shard i holds ids i, i + 2, ...; the coordinator a local copy of all
rows_sql="SELECT g AS id, (g % 97) * 0.25 AS x, g % 13 AS y,
	CASE WHEN g % 17 = 0 THEN NULL ELSE 'c' || (g * 7 % (3 + g % 5)) END AS cat,
	g % 3 = 0 AS flag FROM generate_series(1, 8000) g"
setup_ok=1
for i in 1 2; do
	psql_s s$i >/dev/null <<SQL || setup_ok=0
CREATE EXTENSION vae;
CREATE TABLE t AS SELECT * FROM ($rows_sql) r WHERE id % 2 = $((i % 2));
CREATE VIEW t_rows AS SELECT $i AS part, vae_row(t) AS r FROM t;
SQL
done
servers=""
for i in 1 2; do
	servers+=$(. "$it_work/s$i/env" && cat <<SQL
CREATE SERVER s$i FOREIGN DATA WRAPPER postgres_fdw
	OPTIONS (host '$PGHOST', port '$PGPORT', dbname 'postgres', async_capable 'true', extensions 'vae');
CREATE USER MAPPING FOR postgres SERVER s$i OPTIONS (user 'postgres');
CREATE FOREIGN TABLE pt$i PARTITION OF pt FOR VALUES IN ($i) SERVER s$i OPTIONS (table_name 't_rows');
SQL
)$'\n'
done
psql_c >/dev/null <<SQL || setup_ok=0
CREATE EXTENSION vae;
CREATE EXTENSION postgres_fdw;
CREATE TABLE t AS $rows_sql;
CREATE TABLE pt (part int, r vae_row) PARTITION BY LIST (part);
$servers
CREATE FUNCTION strip(m bytea) RETURNS bytea LANGUAGE sql AS \$\$
	SELECT overlay(substring(m FROM 1 FOR length(m) - 4) PLACING '\x0000000000000000'::bytea FROM 153 FOR 8)
\$\$;
SQL
check "shards, foreign partitions and the local copy set up" [ $setup_ok = 1 ]

q() {
	echo "SELECT vae_train_samples(s) FROM (SELECT vae_sample(r, '$1') AS s FROM pt GROUP BY part) x"
}
opts_k='{"epochs": 2, "max_rows": 300}'
plan=$(psql_c -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN VERBOSE $(q "$opts_k")")
pushed=$(grep -c "Remote SQL: SELECT public.vae_sample(r, '{\"epochs\": 2, \"max_rows\": 300}'::jsonb), part FROM public.t_rows GROUP BY 2" <<<"$plan")
async=$(grep -c 'Async Foreign Scan' <<<"$plan")
if [ "$pushed" -eq 2 ] && [ "$async" -eq 2 ]; then
	ok "vae_sample is pushed down whole to both shards, as async foreign scans"
else
	not_ok "vae_sample is pushed down whole to both shards ($pushed pushed, $async async)"
	echo "$plan" | sed 's/^/# /'
fi

for opts in "$opts_k" '{"epochs": 2}'; do
	same=$(psql_c -c "SET client_min_messages = warning" -c "SET enable_partitionwise_aggregate = on" \
		-c "SELECT strip(($(q "$opts"))) = strip((SELECT vae_train(t, '$opts') FROM t))")
	check "$opts: the model merged from the shards' samples is the local one, byte for byte" \
		[ "$same" = t ]
done

finish
