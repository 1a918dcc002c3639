#!/usr/bin/env bash
# upgrade.sh - ALTER EXTENSION vae UPDATE from 1.0 to the current version:
#
#   CREATE EXTENSION vae VERSION '1.0', train models (test/fixtures/
#   models.sql: gaussian and bernoulli, with and without hidden layers) into
#   a table and record everything they compute as exact text (scores of
#   every method, thresholds, encodings, ... : test/fixtures/scores.sql);
#   ALTER EXTENSION vae UPDATE; then the version is the control file's
#   default, the stored models compute the same text, and the extension's
#   objects are exactly those of a fresh CREATE EXTENSION vae in another
#   database (which proves the upgrade scripts and vae--<default>.sql
#   agree), down to each function's signature and properties.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
cd "$root"
fx=test/fixtures
default=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" vae.control)

it_cluster_start
ok "throwaway cluster started"

# The extension's objects, one line each: pg_describe_object of every member
# (pg_depend), and for functions and aggregates the properties that a
# script could get wrong (result type, volatility, parallel safety,
# strictness, C symbol, rows, argument names and defaults, support
# functions, SECURITY DEFINER, settings, privileges), and for tables and
# views their columns, constraints, indexes, definition, privileges and
# whether pg_dump dumps their rows.
objects_sql="
SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
       || coalesce(' | ' || (
          SELECT concat_ws(' ', pg_get_function_result(p.oid), p.prokind,
                           p.provolatile, p.proparallel, p.proisstrict, p.prosrc,
                           p.prorows, p.procost, p.proargnames::text,
                           pg_get_expr(p.proargdefaults, 0),
                           a.aggtransfn, a.aggfinalfn, a.aggfinalmodify,
                           a.aggcombinefn, a.aggserialfn, a.aggdeserialfn,
                           a.aggtranstype::regtype)
          FROM pg_proc p LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid
          WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid), '')
       || coalesce(' | ' || (
          SELECT concat_ws(' ', p.prosecdef, p.proconfig::text, p.proacl::text)
          FROM pg_proc p
          WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid), '')
       || coalesce(' | ' || (
          SELECT concat_ws(' ', c.relkind, c.relacl::text, c.reloptions::text,
                           pg_get_viewdef(c.oid),
                           (SELECT string_agg(concat_ws(' ', t.attname, format_type(t.atttypid, t.atttypmod),
                                                        t.attnotnull, pg_get_expr(ad.adbin, ad.adrelid)),
                                              ', ' ORDER BY t.attnum)
                            FROM pg_attribute t
                            LEFT JOIN pg_attrdef ad ON ad.adrelid = t.attrelid AND ad.adnum = t.attnum
                            WHERE t.attrelid = c.oid AND t.attnum > 0 AND NOT t.attisdropped),
                           (SELECT string_agg(pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname)
                            FROM pg_constraint k WHERE k.conrelid = c.oid),
                           (SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY 1)
                            FROM pg_index i WHERE i.indrelid = c.oid),
                           (SELECT c.oid = ANY (e.extconfig) FROM pg_extension e WHERE e.extname = 'vae'))
          FROM pg_class c
          WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid), '')
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vae')
ORDER BY 1"

if psql_c -c "CREATE EXTENSION vae VERSION '1.0'"; then
	ok "CREATE EXTENSION vae VERSION '1.0'"
else
	not_ok "CREATE EXTENSION vae VERSION '1.0'"
	finish
fi
v=$(psql_c -c "SELECT extversion FROM pg_extension WHERE extname = 'vae'")
check "the installed version is 1.0 (got $v)" [ "$v" = 1.0 ]

if psql_c -f $fx/data.sql -f $fx/models.sql; then
	ok "models trained with 1.0 and stored: $(psql_c -c "SELECT string_agg(name, ', ' ORDER BY name) FROM fx_models")"
else
	not_ok "train and store models with 1.0"
	finish
fi
psql_c -f $fx/scores.sql >"$it_work/before" 2>&1
check "1.0 computes scores (all methods), thresholds, encodings ($(wc -l <"$it_work/before") values)" \
	[ "$(wc -l <"$it_work/before")" -gt 500 ]

if psql_c -c "ALTER EXTENSION vae UPDATE"; then
	ok "ALTER EXTENSION vae UPDATE"
else
	not_ok "ALTER EXTENSION vae UPDATE"
	finish
fi
v=$(psql_c -c "SELECT extversion FROM pg_extension WHERE extname = 'vae'")
check "the version after the update is the default, $default (got $v)" [ "$v" = "$default" ]

psql_c -f $fx/scores.sql >"$it_work/after" 2>&1
if cmp -s "$it_work/before" "$it_work/after"; then
	ok "the stored models compute the same values bit for bit after the update"
else
	not_ok "the stored models compute the same values bit for bit after the update"
	diff "$it_work/before" "$it_work/after" | head -n 20 | sed 's/^/#   /'
fi

psql_c -c "$objects_sql" >"$it_work/upgraded" 2>&1
psql_c -c "CREATE DATABASE fresh" &&
	psql_c -d fresh -c "CREATE EXTENSION vae" &&
	psql_c -d fresh -c "$objects_sql" >"$it_work/fresh" 2>&1
check "a fresh CREATE EXTENSION vae installs $default" \
	[ "$(psql_c -d fresh -c "SELECT extversion FROM pg_extension WHERE extname = 'vae'")" = "$default" ]
if [ -s "$it_work/fresh" ] && cmp -s "$it_work/fresh" "$it_work/upgraded"; then
	ok "upgraded and fresh $default have the same $(wc -l <"$it_work/fresh") objects, with the same properties"
else
	not_ok "upgraded and fresh $default have the same objects"
	diff "$it_work/fresh" "$it_work/upgraded" | head -n 20 | sed 's/^/#   /'
fi

# every version script and upgrade path installed: each reaches the default
for s in vae--*--*.sql; do
	from=${s#vae--}
	from=${from%%--*}
	psql_c -c "CREATE DATABASE path_$$" &&
		psql_c -d path_$$ -c "CREATE EXTENSION vae VERSION '$from'" -c "ALTER EXTENSION vae UPDATE" &&
		psql_c -d path_$$ -c "$objects_sql" >"$it_work/path" 2>&1
	cmp -s "$it_work/fresh" "$it_work/path"
	check "$s: $from updates to the objects of a fresh $default" [ $? -eq 0 ]
	psql_c -c "DROP DATABASE path_$$" >/dev/null 2>&1
done

psql_c -c "DROP EXTENSION vae CASCADE" >/dev/null 2>&1
left=$(psql_c -c "SELECT count(*) FROM pg_proc WHERE proname LIKE 'vae\_%'")
check "DROP EXTENSION vae leaves no vae_* function behind (found $left)" [ "$left" = 0 ]

finish
