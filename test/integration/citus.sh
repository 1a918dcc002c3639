#!/usr/bin/env bash
# citus.sh - training on a real Citus cluster (docs/scale-out.md): a
# coordinator and two workers on loopback (test/integration/lib/citus.sh), a
# table distributed over 32 shards, and vae_train(vae_row(t), options):
#
#   - the plan (EXPLAIN VERBOSE) splits vae_train into worker_partial_agg
#     on every shard and coord_combine_agg on the coordinator;
#   - with max_rows = k the coordinator's combine receives one state per
#     shard of at most k rows (counted from the combine's DEBUG1 lines: Citus
#     cannot EXPLAIN ANALYZE an aggregate split this way, its partial
#     results being of type cstring);
#   - the model is byte-identical, but the training time and the CRC, to
#     local training on the same rows, with and without max_rows;
#   - the same for feature arrays, vae_train(vae_features(f));
#   - plain vae_train(t) still works there (its rows are pulled).
#
# Skips when Citus is not installed (scripts/install-citus.sh, which `make
# test` runs, installs it).  Prints TAP-like lines; the last one is
# "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
. "$here/lib/citus.sh"
cd "$root"

if ! citus_available; then
	skip "Citus cluster" "Citus is not installed (scripts/install-citus.sh)"
	finish
fi
# the NOTICE that the key column "id" is left out, once per model, is expected
CITUS_CONF="client_min_messages = warning" citus_start 2
ok "Citus coordinator and 2 workers started"

shards=32
k=200
if psql_coord >/dev/null <<SQL; then
SET citus.shard_count = $shards;
CREATE TABLE t (id bigint, x double precision, y int, cat text, flag boolean, n numeric);
SELECT create_distributed_table('t', 'id');
INSERT INTO t
SELECT g, (g % 97) * 0.25, g % 13,
	CASE WHEN g % 17 = 0 THEN NULL ELSE 'c' || (g * 7 % (3 + g % 5)) END,
	g % 3 = 0, CASE WHEN g % 23 = 0 THEN NULL ELSE round(sqrt(g)::numeric, 2) END
FROM generate_series(1, 12000) g;
CREATE TABLE t_local AS SELECT * FROM t;
CREATE FUNCTION strip(m bytea) RETURNS bytea LANGUAGE sql AS \$\$
	SELECT overlay(substring(m FROM 1 FOR length(m) - 4) PLACING '\x0000000000000000'::bytea FROM 153 FOR 8)
\$\$;
SQL
	ok "table distributed over $shards shards, 12000 rows, and a local copy"
else
	not_ok "distribute a table"
	finish
fi

opts_k="{\"epochs\": 2, \"max_rows\": $k}"
plan=$(psql_coord -c "EXPLAIN VERBOSE SELECT vae_train(vae_row(t), '$opts_k') FROM t")
if grep -q 'coord_combine_agg' <<<"$plan" &&
	grep -q "worker_partial_agg('public.vae_train(public.vae_row,jsonb)'" <<<"$plan" &&
	grep -q "Task Count: $shards" <<<"$plan"; then
	ok "the plan splits vae_train into worker partial aggregates on $shards shards"
else
	not_ok "the plan splits vae_train into worker partial aggregates"
	echo "$plan" | sed 's/^/# /'
fi

# the options constant travels once, in each shard's query text, not per row
if grep -q "ROW(public.vae_row(t.\*), '{\"epochs\": 2, \"max_rows\": $k}'::jsonb)" <<<"$plan"; then
	ok "the options are a constant of the worker query"
else
	not_ok "the options are a constant of the worker query"
fi

# The states the coordinator combines: one per shard, at most k rows each.
log=$(psql_coord -c "SET client_min_messages = debug1" \
	-c "CREATE TABLE m_citus_k AS SELECT vae_train(vae_row(t), '$opts_k') AS m FROM t" 2>&1)
states=$(grep -c 'vae_train: combining a state of' <<<"$log")
rows=$(sed -n 's/.*vae_train: combining a state of \([0-9]*\) rows.*/\1/p' <<<"$log" |
	awk -v k=$k '{ s += $1; if ($1 > k) big++ } END { print s + 0, big + 0 }')
read -r total over <<<"$rows"
if [ "$states" -eq $shards ] && [ "$over" -eq 0 ] && [ "$total" -le $((shards * k)) ]; then
	ok "the coordinator combined $states shard states, $total rows (at most $shards x $k)"
else
	not_ok "the coordinator combined $states shard states, $total rows, $over over k=$k (want $shards, <= $((shards * k)))"
	echo "$log" | tail -n 5 | sed 's/^/# /'
fi

same=$(psql_coord -c "SELECT strip(m) = (SELECT strip(vae_train(t, '$opts_k')) FROM t_local t)
	FROM m_citus_k")
check "max_rows = $k: the Citus model is the local one, byte for byte" [ "$same" = t ]

opts="{\"epochs\": 2}"
same=$(psql_coord -c "SELECT strip((SELECT vae_train(vae_row(t), '$opts') FROM t))
	= strip((SELECT vae_train(t, '$opts') FROM t_local t))")
check "all rows: the Citus model is the local one, byte for byte" [ "$same" = t ]

# vae_train(t) over a record has no combine function: Citus pulls the rows
# (it would refuse a record argument in a worker partial aggregate)
same=$(psql_coord -c "SELECT strip((SELECT vae_train(t, '$opts_k') FROM t))
	= strip((SELECT vae_train(t, '$opts_k') FROM t_local t))")
check "vae_train(t) on the distributed table still trains (rows pulled), the same model" [ "$same" = t ]

# feature arrays: vae_train(vae_features(f)) splits the same way and trains
# the model of the 1.0 vae_train(f) (whose internal state pulls the rows)
plan=$(psql_coord -c "EXPLAIN VERBOSE SELECT vae_train(vae_features(ARRAY[x, y]), '$opts_k') FROM t")
same=$(psql_coord -c "SELECT strip((SELECT vae_train(vae_features(ARRAY[x, y]), '$opts_k') FROM t))
	= strip((SELECT vae_train(ARRAY[x, y], '$opts_k') FROM t_local))")
if grep -q "worker_partial_agg('public.vae_train(public.vae_features,jsonb)'" <<<"$plan" &&
	[ "$same" = t ]; then
	ok "arrays: vae_train(vae_features(f)) splits, and its model is the local one"
else
	not_ok "arrays: vae_train(vae_features(f)) splits ($(grep -c worker_partial_agg <<<"$plan")), same model: $same"
fi

# the model scores on the workers like any other
scored=$(psql_coord -c "SELECT count(*) FROM t WHERE vae_score((SELECT m FROM m_citus_k), t) IS NOT NULL")
check "the Citus model scores the distributed rows ($scored)" [ "$scored" = 12000 ]

finish
