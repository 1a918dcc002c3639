#!/usr/bin/env bash
# registry_dump.sh - named models survive pg_dump and restore:
#
#   a database with registered models (a row model with three versions, the
#   second deployed, the third a candidate; an array model registered by
#   another role; SELECT on the registry granted to a reader role) is dumped
#   with pg_dump in the custom format (restored with pg_restore) and in the
#   plain format (restored with psql), each into a new database with a
#   fresh CREATE EXTENSION from the dump.  The registry rows (every column,
#   the model bytes by md5), the deployment history, the deployed state, the
#   grant, and the scores by name come back exactly; the next vae_register
#   continues the version numbers and vae_rollback the history.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
cd "$root"

it_cluster_start
ok "throwaway cluster started"

# pg_tool NAME ARGS...: a client program of the server against the cluster
pg_tool() {
	(. "$it_work/c/env" && "$bindir/$1" "${@:2}")
}

psql_c -c "CREATE DATABASE src" || { not_ok "create the source database"; finish; }
psql_c -d src >/dev/null 2>&1 <<'SQL' || { not_ok "register models in the source database"; finish; }
CREATE EXTENSION vae;
CREATE ROLE regress_vae_dump_owner;
CREATE ROLE regress_vae_dump_reader;
CREATE TABLE traffic AS
SELECT i AS id, (i % 7) * 1.5 AS load, (i % 5)::int AS port,
       (ARRAY['web', 'db', 'cache'])[1 + i % 3] AS host
FROM generate_series(1, 300) AS i;
CREATE TABLE arr AS
SELECT i AS id, ARRAY[sin(i * 0.2), cos(i * 0.2)]::real[] AS f
FROM generate_series(1, 200) AS i;
GRANT SELECT ON arr TO regress_vae_dump_owner;
SELECT vae_register('traffic', vae_train(t, '{"epochs": 4, "exclude": ["id"]}'), 'first', 'traffic') FROM traffic t;
SELECT vae_register('traffic', vae_train(t, '{"epochs": 5, "exclude": ["id"], "seed": 2}'), 'second') FROM traffic t;
SELECT vae_deploy('traffic', 2);
SELECT vae_register('traffic', vae_train(t, '{"epochs": 3, "exclude": ["id"], "seed": 3}')) FROM traffic t;
SET ROLE regress_vae_dump_owner;
SELECT vae_register('arr', vae_train(f, '{"epochs": 3}')) FROM arr;
RESET ROLE;
GRANT SELECT ON vae_model_registry TO regress_vae_dump_reader;
SQL
ok "models registered: $(psql_c -d src -c "SELECT string_agg(name || ' v' || version || ' ' || state, ', ' ORDER BY name, version) FROM vae_models")"

# what must come back: every registry column, the history, scores by name, the grant
state() {
	psql_c -d "$1" -c "
		SELECT name, version, state, created_at, created_by, md5(model), source, options, metrics, note
		FROM vae_model_registry ORDER BY name, version" -c "
		SELECT * FROM vae_model_deployments ORDER BY name, seq" -c "
		SELECT name, version FROM vae_models WHERE state = 'deployed' ORDER BY name" -c "
		SELECT has_table_privilege('regress_vae_dump_reader', 'vae_model_registry', 'SELECT'),
		       has_table_privilege('regress_vae_dump_reader', 'vae_model_registry', 'INSERT')"
}
scores() {
	psql_c -d "$1" -c "SELECT id, vae_score('traffic', t), vae_score('traffic', t, 'mse') FROM traffic t ORDER BY id" \
		-c "SELECT id, vae_score('arr', f) FROM arr ORDER BY id"
}
state src >"$it_work/state.src"
scores src >"$it_work/scores.src"
counts=$(psql_c -d src -c "SELECT (SELECT count(*) FROM vae_model_registry) || ' ' || (SELECT count(*) FROM vae_model_deployments)")
check "the source has 4 registry rows, 3 deployments (got $counts), 500 scores by name" \
	[ "$counts" = "4 3" -a "$(wc -l <"$it_work/scores.src")" -eq 500 ]

pg_tool pg_dump -Fc -d src -f "$it_work/src.dump" && ok "pg_dump -Fc" || not_ok "pg_dump -Fc"
pg_tool pg_dump -Fp -d src -f "$it_work/src.sql" && ok "pg_dump -Fp" || not_ok "pg_dump -Fp"
check "the dump holds the registry's rows (COPY vae_model_registry)" \
	grep -q "^COPY public.vae_model_registry" "$it_work/src.sql"

psql_c -c "CREATE DATABASE dst_restore" -c "CREATE DATABASE dst_psql"
pg_tool pg_restore --exit-on-error -d dst_restore "$it_work/src.dump" &&
	ok "pg_restore into a new database" || not_ok "pg_restore into a new database"
psql_c -d dst_psql -f "$it_work/src.sql" >/dev/null &&
	ok "psql -f the plain dump into a new database" || not_ok "psql -f the plain dump into a new database"

for db in dst_restore dst_psql; do
	state $db >"$it_work/state.$db"
	if cmp -s "$it_work/state.src" "$it_work/state.$db"; then
		ok "$db: registry rows, deployment history, deployed versions and grants as in the source"
	else
		not_ok "$db: registry as in the source"
		diff "$it_work/state.src" "$it_work/state.$db" | head -n 20 | sed 's/^/#   /'
	fi
	scores $db >"$it_work/scores.$db"
	check "$db: vae_score('traffic', t) and vae_score('arr', f) give the same $(wc -l <"$it_work/scores.$db") scores" \
		cmp -s "$it_work/scores.src" "$it_work/scores.$db"
	out=$(psql_c -d $db -c "SELECT vae_register('traffic', vae_train(t, '{\"epochs\": 3, \"exclude\": [\"id\"]}')) FROM traffic t" \
		-c "SELECT vae_rollback('traffic')" 2>&1 | tr '\n' ' ')
	check "$db: the next version is 4 and rollback returns to version 1 (got: $out)" [ "$out" = "4 1 " ]
done

psql_c -c "DROP DATABASE src" -c "DROP DATABASE dst_restore" -c "DROP DATABASE dst_psql" \
	-c "DROP ROLE regress_vae_dump_owner" -c "DROP ROLE regress_vae_dump_reader" >/dev/null 2>&1
finish
