#!/usr/bin/env bash
# citus_score.sh - scoring runs on the Citus workers (docs/scale-out.md,
# "Scoring"): a coordinator and two workers on loopback, events distributed
# by tenant, models in a reference table.  For each query shape - a score in
# WHERE with the model from the reference table (join and subquery) or as a
# literal, with a vae_method and vae_threshold, ORDER BY score LIMIT, the
# score in the select list, the row form, a view with vae_threshold, and
# per-tenant models grouped by the distribution column - EXPLAIN VERBOSE
# must show vae_score in the workers' plans and not in the coordinator's
# part, and the query must return the same scores, bit for bit, as on a
# local copy of the rows.  Skipped without Citus (scripts/install-citus.sh).
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
. "$here/lib/citus.sh"
cd "$root"

if ! citus_available; then
	skip "Citus scoring" "citus.so not installed (scripts/install-citus.sh)"
	finish
fi
citus_start 2
ok "Citus coordinator and 2 workers started"

# events distributed by tenant over 8 shards; models (one for all tenants,
# array and row form, and one per tenant) in a reference table; local
# copies of both on the coordinator for the reference answers
setup_sql="
SET citus.shard_count = 8;
CREATE TABLE local_events AS
SELECT i AS id, i % 8 AS tenant, sin(i * 0.1) AS x1, cos(i * 0.13) AS x2, (i % 7) / 7.0 AS x3,
       ARRAY[sin(i * 0.1), cos(i * 0.13), (i % 7) / 7.0]::real[] AS f
FROM generate_series(1, 2000) AS i;
CREATE TABLE events (LIKE local_events);
SELECT create_distributed_table('events', 'tenant');
INSERT INTO events SELECT * FROM local_events;
CREATE TABLE local_models AS
SELECT 'arr'::text AS name, NULL::int AS tenant, vae_train(f, '{\"epochs\": 3, \"seed\": 1}') AS model
FROM local_events
UNION ALL
SELECT 'rows', NULL, vae_train(t, '{\"epochs\": 3, \"seed\": 1}')
FROM (SELECT x1, x2, x3 FROM local_events) t
UNION ALL
SELECT 'tenant', tenant, vae_train(t, '{\"epochs\": 3, \"seed\": 2}')
FROM (SELECT tenant, x1, x2, x3 FROM local_events) t GROUP BY tenant;
CREATE TABLE models (LIKE local_models);
SELECT create_reference_table('models');
INSERT INTO models SELECT * FROM local_models;"
if psql_coord -c "$setup_sql" >/dev/null; then
	ok "events distributed by tenant (8 shards), models in a reference table"
else
	not_ok "set up the distributed and reference tables"
	finish
fi
placed=$(psql_coord -c "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'events'::regclass")
check "the shards are on both workers ($placed nodes)" [ "$placed" = 2 ]

lit=$(psql_coord -c "SELECT quote_literal(model::text) || '::bytea' FROM local_models WHERE name = 'arr'")

# plan SQL: the verbose plan, one task shown
plan() { psql_coord -c "EXPLAIN (VERBOSE, COSTS OFF) $1"; }
# coordinator part / worker part of a Citus plan: before / after "Task Count"
coord_part() { sed '/Task Count/,$d' <<<"$1"; }
worker_part() { sed -n '/Task Count/,$p' <<<"$1"; }
# on_workers PLAN PATTERN: the workers' plan matches PATTERN, the
# coordinator's part calls no vae_ function, and the plan is distributed
# (here-strings, not "| grep -q": with pipefail, grep -q quitting early
# fails the pipeline by SIGPIPE)
on_workers() {
	grep -q 'Custom Scan (Citus' <<<"$1" && grep -q -- "$2" <<<"$(worker_part "$1")" &&
		! grep -q 'vae_[a-z_]*(' <<<"$(coord_part "$1")"
}
# checkw DESC PATTERN: on_workers for the last plan ($p), which is shown
# when the check fails
checkw() {
	[ -n "${SHOW_PLANS:-}" ] && { echo "## $1"; cut -c1-250 <<<"$p"; }
	if on_workers "$p" "$2"; then ok "$1"; else
		not_ok "$1"
		cut -c1-300 <<<"$p" | sed 's/^/#   /'
	fi
}
# same SQL: the query on events/models (@E, @M) and on the local copies
# returns the same rows (sorted here; every score with all its digits)
same() {
	local q=$1 a b
	q=${q//@M/models}
	a=$(psql_coord -c "${q//@E/events}" | sort)
	q=${1//@M/local_models}
	b=$(psql_coord -c "${q//@E/local_events}" | sort)
	[ -n "$a" ] && [ "$a" = "$b" ]
}

arr="(SELECT model FROM @M WHERE name = 'arr')"
rows="(SELECT model FROM @M WHERE name = 'rows')"

# 1. WHERE, the model joined from the reference table
q="SELECT e.id, vae_score(m.model, e.f) FROM @E e JOIN @M m ON m.name = 'arr' WHERE vae_score(m.model, e.f) > 4.9"
p=$(plan "$(q=${q//@E/events}; echo "${q//@M/models}")")
checkw "WHERE vae_score(reference-table model, f): on the workers" 'Filter: (vae_score(m.model, e.f) >'
check "... same rows and scores as local" same "$q"

# 2. WHERE, the model from a scalar subquery on the reference table
q="SELECT id FROM @E WHERE vae_score($arr, f) > 4.9"
p=$(plan "$(q=${q//@E/events}; echo "${q//@M/models}")")
checkw "WHERE vae_score((SELECT model FROM models ..), f): on the workers" 'vae_score('
check "... same rows as local" same "$q"

# 3. WHERE, the model as a literal (in every task's SQL)
q="SELECT id FROM @E WHERE vae_score($lit, f) > 4.9"
p=$(plan "${q//@E/events}")
checkw "WHERE vae_score('\\x...'::bytea, f): on the workers, the literal in the task" "vae_score('\\\\x"
check "... same rows as local" same "$q"

# 4. a method (text, or vae_method) and vae_threshold
q="SELECT e.id FROM @E e JOIN @M m ON m.name = 'arr'
   WHERE vae_score(m.model, e.f, 'elbo'::vae_method) > vae_threshold(m.model, 0.05, 'elbo'::vae_method)"
p=$(plan "$(q=${q//@E/events}; echo "${q//@M/models}")")
checkw "WHERE vae_score(.., 'elbo'::vae_method) > vae_threshold(..): on the workers" 'vae_threshold(m.model'
check "... same rows as local" same "$q"
p=$(plan "SELECT e.id FROM events e JOIN models m ON m.name = 'arr' WHERE vae_score(m.model, e.f, 'mse') > 1")
checkw "... a text method too (Citus ships any expression)" "vae_score(m.model, e.f, 'mse'::text)"

# 5. ORDER BY score LIMIT: each shard sorts and limits, the coordinator merges
q="SELECT e.id, vae_score(m.model, e.f) AS s FROM @E e JOIN @M m ON m.name = 'arr' ORDER BY s DESC, e.id LIMIT 5"
p=$(plan "$(q=${q//@E/events}; echo "${q//@M/models}")")
checkw "ORDER BY vae_score(..) DESC LIMIT 5: sort and limit on the workers" 'Sort Key: (vae_score(m.model, e.f)) DESC'
check "... the workers limit too" grep -q 'Limit' <<<"$(worker_part "$p")"
check "... same top 5 as local" same "$q"

# 6. the score in the select list
q="SELECT e.id, vae_score(m.model, e.f, 'mse'::vae_method) FROM @E e JOIN @M m ON m.name = 'arr'"
p=$(plan "$(q=${q//@E/events}; echo "${q//@M/models}")")
checkw "SELECT id, vae_score(..): computed on the workers" 'Output: e.id, vae_score(m.model, e.f'
check "... same 2000 scores as local" same "$q"

# 7. the row form, whole rows of the shard
q="SELECT e.id, vae_score(m.model, e) FROM @E e JOIN @M m ON m.name = 'rows' WHERE vae_score(m.model, e) > 4.4"
p=$(plan "$(q=${q//@E/events}; echo "${q//@M/models}")")
checkw "row form vae_score(model, e): on the workers" 'vae_score(m.model, e.*)'
check "... same rows and scores as local" same "$q"

# 8. a detection view with vae_threshold, queried with ORDER BY ... LIMIT
view="SELECT e.id, e.tenant, vae_score(m.model, e) AS score
FROM @E e JOIN @M m ON m.name = 'rows'
WHERE vae_score(m.model, e) > vae_threshold(m.model)"
v=${view//@E/events}
v2=${view//@E/local_events}
if psql_coord -c "SET client_min_messages = error" -c "CREATE VIEW anomalies AS ${v//@M/models}" -c "CREATE VIEW local_anomalies AS ${v2//@M/local_models}"; then
	p=$(plan "SELECT * FROM anomalies ORDER BY score DESC LIMIT 3")
	checkw "a view with vae_threshold, ORDER BY score LIMIT 3: scored, filtered, sorted on the workers" 'vae_threshold(m.model)'
	check "... same rows as local" [ "$(psql_coord -c "SELECT * FROM anomalies ORDER BY score DESC LIMIT 3")" = \
		"$(psql_coord -c "SELECT * FROM local_anomalies ORDER BY score DESC LIMIT 3")" ]
	nflag=$(psql_coord -c "SELECT count(*) FROM anomalies")
	check "... the view flags some rows, not all ($nflag of 2000)" [ "$nflag" -gt 0 -a "$nflag" -lt 2000 ]
else
	not_ok "create the detection views"
fi

# 9. per-tenant models, grouped by the distribution column: pushed down whole
q="SELECT e.tenant, count(*), min(vae_score(m.model, e)), max(vae_score(m.model, e)) FROM @E e JOIN @M m ON m.tenant = e.tenant
   WHERE vae_score(m.model, e) > vae_threshold(m.model, 0.2) GROUP BY e.tenant"
p=$(plan "$(q=${q//@E/events}; echo "${q//@M/models}")")
checkw "per-tenant models, GROUP BY tenant: join, score and aggregate on the workers" 'Group Key: e.tenant'
check "... the coordinator does not aggregate" \
	[ "$(coord_part "$p" | grep -c 'Aggregate')" = 0 ]
check "... same counts and score ranges as local (8 tenants)" same "$q"

finish
