#!/usr/bin/env bash
# fdw_score.sh - scoring runs on the shards of a postgres_fdw set-up
# (docs/scale-out.md, "Scoring"): a coordinator holds a table partitioned
# over two foreign partitions (async_capable, extensions 'vae') on two shard
# clusters.  EXPLAIN VERBOSE must show the scores in the Remote SQL, for a
# score in WHERE (model from a subquery, as a literal, with a vae_method and
# with vae_threshold), in ORDER BY ... LIMIT, under a pushed-down count(*),
# and in the select list through a shard-side view (the record form, with
# the model in a shard-side table), and per-tenant models in that view
# under a pushed-down GROUP BY tenant; and every query must return the same
# scores, bit for bit, as the same query on a local copy of the rows.  The
# forms that stay on the coordinator, a method given as a text literal (the
# reason for vae_method) and the row form on the partitioned table, are
# shown to stay there, with the right answers.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
cd "$root"

shards="s1 s2"
# stop the shard clusters too, then the usual cleanup
fdw_cleanup() {
	local s
	for s in $shards; do
		[ -n "${it_work:-}" ] && "$root/scripts/pgcluster.sh" stop "$it_work/$s" >/dev/null 2>&1
	done
	it_cleanup
}

it_cluster_start
trap fdw_cleanup EXIT
for s in $shards; do
	"$root/scripts/pgcluster.sh" start "$it_work/$s" >/dev/null ||
		{ not_ok "start shard cluster $s"; finish; }
done
ok "coordinator and shard clusters $shards started"

# psql_at CLUSTER ARGS...: psql_c against a shard
psql_at() {
	local c=$1
	shift
	(. "$it_work/$c/env" && "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 "$@")
}

# The shards: the rows' table, a model table, and a view that scores each
# row with the shard's copy of a model (record form, a vae_method, the
# automatic threshold) and with its tenant's model.
shard_sql="
CREATE EXTENSION vae;
CREATE TABLE events (id int, tenant int, x1 float8, x2 float8, x3 float8, f real[]);
CREATE TABLE models (name text, tenant int, model bytea);
CREATE VIEW events_scored AS
SELECT e.id, e.tenant, vae_score(m.model, e) AS score, vae_score(m.model, e, 'mse') AS mse,
       vae_score(m.model, e) > vae_threshold(m.model) AS is_anomaly,
       vae_score(t.model, e) > vae_threshold(t.model, 0.2) AS tenant_anomaly
FROM events e JOIN models m ON m.name = 'rows'
     JOIN models t ON t.name = 'tenant' AND t.tenant = e.tenant;"
for s in $shards; do
	psql_at "$s" -c "$shard_sql" || { not_ok "set up shard $s"; finish; }
done

# The coordinator: events partitioned by hash over the two shards, the
# shard-side view as a second partitioned table, the shards' model tables as
# foreign tables (to copy the models there), and a local copy of the rows.
setup_sql="
CREATE EXTENSION vae;
CREATE EXTENSION postgres_fdw;
CREATE TABLE events (id int, tenant int, x1 float8, x2 float8, x3 float8, f real[])
  PARTITION BY LIST (tenant);
CREATE TABLE events_scored (id int, tenant int, score float8, mse float8, is_anomaly boolean,
                            tenant_anomaly boolean)
  PARTITION BY LIST (tenant);"
i=0
for s in $shards; do
	setup_sql="$setup_sql
CREATE SERVER $s FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '$it_work/$s', port '$(. "$it_work/$s/env" && echo "$PGPORT")', dbname 'postgres',
           async_capable 'true', extensions 'vae');
CREATE USER MAPPING FOR CURRENT_USER SERVER $s OPTIONS (user 'postgres');
CREATE FOREIGN TABLE events_$s PARTITION OF events FOR VALUES IN ($i, $((i + 2)))
  SERVER $s OPTIONS (table_name 'events');
CREATE FOREIGN TABLE events_scored_$s PARTITION OF events_scored
  FOR VALUES IN ($i, $((i + 2))) SERVER $s OPTIONS (table_name 'events_scored');
CREATE FOREIGN TABLE models_$s (name text, tenant int, model bytea) SERVER $s OPTIONS (table_name 'models');"
	i=$((i + 1))
done
setup_sql="$setup_sql
CREATE TABLE local_events AS
SELECT i AS id, i % 4 AS tenant, sin(i * 0.1) AS x1, cos(i * 0.13) AS x2, (i % 7) / 7.0 AS x3,
       ARRAY[sin(i * 0.1), cos(i * 0.13), (i % 7) / 7.0]::real[] AS f
FROM generate_series(1, 2000) AS i;
INSERT INTO events SELECT * FROM local_events;
CREATE TABLE models AS
SELECT 'arr'::text AS name, NULL::int AS tenant, vae_train(f, '{\"epochs\": 3, \"seed\": 1}') AS model
FROM local_events
UNION ALL
SELECT 'rows', NULL, vae_train(t, '{\"epochs\": 3, \"seed\": 1}')
FROM (SELECT x1, x2, x3 FROM local_events) t
UNION ALL
SELECT 'tenant', tenant, vae_train(t, '{\"epochs\": 3, \"seed\": 2}')
FROM (SELECT tenant, x1, x2, x3 FROM local_events) t GROUP BY tenant;
INSERT INTO models_s1 SELECT * FROM models;
INSERT INTO models_s2 SELECT * FROM models;
ANALYZE local_events;"
if psql_c -c "$setup_sql"; then
	ok "coordinator: events over 2 foreign partitions, models trained and copied to the shards"
else
	not_ok "set up the coordinator"
	finish
fi
n1=$(psql_at s1 -c "SELECT count(*) FROM events")
n2=$(psql_at s2 -c "SELECT count(*) FROM events")
check "the rows are on the shards ($n1 + $n2 = 2000, both non-empty)" \
	[ "$((n1 + n2))" = 2000 -a "$n1" -gt 0 -a "$n2" -gt 0 ]

arr="(SELECT model FROM models WHERE name = 'arr')"
rows="(SELECT model FROM models WHERE name = 'rows')"
lit=$(psql_c -c "SELECT quote_literal(model::text) || '::bytea' FROM models WHERE name = 'arr'")

# plan SQL: the verbose plan of a query
plan() { psql_c -c "EXPLAIN (VERBOSE, COSTS OFF) $1"; }
# same TABLE SQL: the query's rows on TABLE (distributed) and on
# local_events are the same set (every score printed with all its digits;
# sorted here, so that a query needs no ORDER BY that would change its plan)
same() {
	local q=$2 a b
	a=$(psql_c -c "${q//@/$1}" | sort) && b=$(psql_c -c "${q//@/local_events}" | sort) &&
		[ -n "$a" ] && [ "$a" = "$b" ]
}
# checkp DESC CMD...: check, showing the last plan ($p) when it fails
checkp() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else
		not_ok "$desc"
		cut -c1-300 <<<"$p" | sed 's/^/#   /'
	fi
}
# remote_count PLAN PATTERN: how many Remote SQL lines match PATTERN
remote_count() { grep 'Remote SQL:' <<<"$1" | grep -c -- "$2"; }

# 1. WHERE, the model from a subquery (an InitPlan: sent as a parameter)
q="SELECT id, vae_score($arr, f) FROM @ WHERE vae_score($arr, f) > 4.9"
p=$(plan "${q//@/events}")
checkp "WHERE vae_score(model subquery, f): in both shards' Remote SQL, as a parameter" \
	[ "$(remote_count "$p" 'WHERE ((public.vae_score(\$1::bytea, f) > ')" = 2 ]
checkp "... the foreign scans run asynchronously" [ "$(grep -c 'Async Foreign Scan' <<<"$p")" = 2 ]
check "... same rows and scores as local" same events "$q"

# 2. a vae_method and vae_threshold in WHERE
q="SELECT id FROM @ WHERE vae_score($arr, f, 'elbo'::vae_method) > vae_threshold($arr, 0.05, 'elbo'::vae_method)"
p=$(plan "${q//@/events}")
checkp "WHERE vae_score(.., 'elbo'::vae_method) > vae_threshold(.., 'elbo'::vae_method): shipped" \
	[ "$(remote_count "$p" "public.vae_score(\$[0-9]::bytea, f, 'elbo'::public.vae_method) > public.vae_threshold(\$[0-9]::bytea, 0.05::double precision, 'elbo'::public.vae_method)")" = 2 ]
check "... same rows as local" same events "$q"

# 3. the text literal keeps the call on the coordinator (why vae_method exists)
p=$(plan "SELECT id FROM events WHERE vae_score($arr, f, 'mse') > 3")
checkp "WHERE vae_score(.., 'mse') (text): not shipped, filtered on the coordinator" \
	[ "$(remote_count "$p" vae_score)" = 0 -a "$(grep -c "Filter: (vae_score(.*'mse'::text)" <<<"$p")" = 2 ]
p=$(plan "SELECT id FROM events WHERE vae_score($arr, f, 'mse'::vae_method) > 3")
checkp "... 'mse'::vae_method: shipped" [ "$(remote_count "$p" "'mse'::public.vae_method")" = 2 ]

# 4. the model as a literal
q="SELECT id FROM @ WHERE vae_score($lit, f, 'mse'::vae_method) > 1"
p=$(plan "${q//@/events}")
checkp "WHERE vae_score('\\x...'::bytea, f, ..): the ${#lit}-byte literal in both Remote SQL" \
	[ "$(remote_count "$p" "public.vae_score(E'\\\\\\\\x")" = 2 ]
check "... same rows as local" same events "$q"

# 5. ORDER BY score LIMIT: each shard sorts by its scores
q="SELECT id, vae_score($arr, f) FROM @ ORDER BY vae_score($arr, f) DESC, id LIMIT 5"
p=$(plan "${q//@/events}")
checkp "ORDER BY vae_score(..) LIMIT 5: each shard sorts by the score (Remote SQL ORDER BY)" \
	[ "$(remote_count "$p" 'ORDER BY public.vae_score(\$1::bytea, f) DESC')" = 2 ]
checkp "... a Merge Append of the shards' sorted rows" grep -q 'Merge Append' <<<"$p"
check "... same top 5 as local" same events "$q"

# 6. an aggregate over a score filter, grouped by the partition key: with
#    partitionwise aggregation the whole count(*) runs on each shard
q="SET enable_partitionwise_aggregate = on;
SELECT tenant, count(*) FROM @ WHERE vae_score($arr, f, 'mse'::vae_method) > 0.5 GROUP BY tenant ORDER BY tenant"
p=$(psql_c -c "SET enable_partitionwise_aggregate = on" \
	-c "EXPLAIN (VERBOSE, COSTS OFF) SELECT tenant, count(*) FROM events WHERE vae_score($arr, f, 'mse'::vae_method) > 0.5 GROUP BY tenant")
checkp "count(*) ... WHERE score GROUP BY: the aggregate and the score pushed to both shards" \
	[ "$(remote_count "$p" 'SELECT tenant, count(\*) FROM public.events WHERE ((public.vae_score(')" = 2 ]
check "... same counts as local" same events "$q"

# 7. the select list, through the shard-side view (record form, shard's model)
q="SELECT id, score, mse, is_anomaly FROM events_scored WHERE score > 4.4 ORDER BY id"
p=$(plan "$q")
checkp "select list through the shard-side view: Remote SQL reads the view's score, WHERE included" \
	[ "$(remote_count "$p" 'SELECT id, score, mse, is_anomaly FROM public.events_scored WHERE ((score > 4.4')" = 2 ]
checkp "... no vae_ function evaluated on the coordinator" \
	[ "$(grep -v 'Remote SQL' <<<"$p" | grep -c vae_)" = 0 ]
a=$(psql_c -c "$q")
b=$(psql_c -c "SELECT id, vae_score($rows, e), vae_score($rows, e, 'mse'),
	vae_score($rows, e) > vae_threshold($rows) FROM local_events e WHERE vae_score($rows, e) > 4.4 ORDER BY id")
check "... same rows, scores and flags as the record form on local rows ($(wc -l <<<"$a") rows)" \
	[ -n "$a" -a "$a" = "$b" ]

# 8. per-tenant models through the shard-side view, grouped by the
#    partition key: the whole aggregate on each shard
q="SELECT tenant, count(*) FILTER (WHERE tenant_anomaly) FROM events_scored GROUP BY tenant"
p=$(psql_c -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF) $q")
checkp "per-tenant models in the shard-side view, GROUP BY tenant: the aggregate on both shards" \
	[ "$(remote_count "$p" 'SELECT tenant, count(\*) FILTER (WHERE tenant_anomaly) FROM public.events_scored GROUP BY')" = 2 ]
a=$(psql_c -c "SET enable_partitionwise_aggregate = on" -c "$q ORDER BY tenant")
b=$(psql_c -c "SELECT e.tenant, count(*) FILTER (WHERE vae_score(m.model, e) > vae_threshold(m.model, 0.2))
	FROM local_events e JOIN models m ON m.name = 'tenant' AND m.tenant = e.tenant GROUP BY e.tenant ORDER BY 1")
check "... same per-tenant counts as local ($(tr '\n' ' ' <<<"$a"))" [ -n "$a" -a "$a" = "$b" ]

# 9. the record form on the coordinator's partitioned table: the parent's
#    whole-row reference becomes a row-type conversion per partition, which
#    postgres_fdw does not ship; the answer is still right
q="SELECT id, vae_score($rows, e) FROM @ e WHERE vae_score($rows, e) > 4.4"
p=$(plan "${q//@/events}")
checkp "record form on the partitioned table: evaluated on the coordinator (documented)" \
	[ "$(remote_count "$p" vae_score)" = 0 ]
check "... same rows and scores as local" same events "$q"

finish
