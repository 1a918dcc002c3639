#!/usr/bin/env bash
# registry_lock.sh - two sessions registering the same name get distinct
# versions, and scoring by name is not blocked meanwhile:
#
#   session A registers "c" in a transaction it keeps open (until the test
#   sets the sequence gate to 2); session B registers "c" too and waits for
#   A's registry lock (seen in pg_locks, no sleeps relied on); scoring by
#   name in a third session runs while A holds the lock; A commits: A has
#   version 1 (deployed), B version 2 (candidate).  A REPEATABLE READ
#   transaction whose snapshot predates another registration of the name
#   fails with 40001 (retry), not with a duplicate key.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
cd "$root"

it_cluster_start
ok "throwaway cluster started"

psql_c >/dev/null <<'SQL' || { not_ok "set up"; finish; }
CREATE EXTENSION vae;
CREATE TABLE arr AS
SELECT i AS id, ARRAY[sin(i * 0.2), cos(i * 0.2)]::real[] AS f
FROM generate_series(1, 200) AS i;
CREATE TABLE mt AS SELECT vae_train(f, '{"epochs": 3}') AS m FROM arr;
-- the gate the sessions wait at: a sequence, which every snapshot sees
CREATE SEQUENCE gate;
SELECT vae_register('other', m) FROM mt;
SQL
ok "set up: a model to register and another already registered"

# wait_for SQL: poll until SQL returns t (at most 60 s: a guard, not a measure)
wait_for() {
	local i
	for i in $(seq 600); do
		[ "$(psql_c -c "$1")" = t ] && return 0
		sleep 0.1
	done
	return 1
}
locks="SELECT (SELECT count(*) FROM pg_locks WHERE relation = 'vae_model_registry'::regclass AND mode = 'ShareRowExclusiveLock'"

psql_c -c "BEGIN" -c "SELECT vae_register('c', m, 'A') FROM mt" \
	-c "DO \$\$ BEGIN LOOP EXIT WHEN (SELECT last_value FROM gate) = 2; PERFORM pg_sleep(0.05); END LOOP; END \$\$" \
	-c "COMMIT" >"$it_work/a.out" 2>&1 &
pid_a=$!
check "session A registered and holds the registry lock" wait_for "$locks AND granted) = 1"
psql_c -c "SELECT vae_register('c', m, 'B') FROM mt" >"$it_work/b.out" 2>&1 &
pid_b=$!
check "session B waits for it" wait_for "$locks AND NOT granted) = 1"
scored=$(psql_c -c "SET statement_timeout = '60s'" -c "SELECT count(vae_score('other', f)) FROM arr")
check "scoring by name is not blocked meanwhile ($scored rows)" [ "$scored" = 200 ]
psql_c -c "SELECT setval('gate', 2)" >/dev/null
wait $pid_a
rc_a=$?
wait $pid_b
rc_b=$?
check "both sessions succeeded (A: $(tr '\n' ' ' <"$it_work/a.out"), B: $(tr '\n' ' ' <"$it_work/b.out"))" \
	[ $rc_a -eq 0 -a $rc_b -eq 0 ]
got=$(psql_c -c "SELECT string_agg(version || ' ' || state || ' ' || note, ', ' ORDER BY version) FROM vae_models WHERE name = 'c'")
check "distinct versions: A 1 deployed, B 2 candidate (got: $got)" [ "$got" = "1 deployed A, 2 candidate B" ]

# REPEATABLE READ: the snapshot is taken before another session registers
psql_c -v VERBOSITY=verbose -c "SELECT setval('gate', 1)" -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM vae_model_registry" \
	-c "DO \$\$ BEGIN LOOP EXIT WHEN (SELECT last_value FROM gate) = 2; PERFORM pg_sleep(0.05); END LOOP; END \$\$" \
	-c "SELECT vae_register('c', m, 'C') FROM mt" -c "COMMIT" >"$it_work/c.out" 2>&1 &
pid_c=$!
check "session C took its snapshot" wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'DO %gate%'"
psql_c -c "SELECT vae_register('c', m, 'D') FROM mt" -c "SELECT setval('gate', 2)" >/dev/null
wait $pid_c
rc_c=$?
err=$(grep -m 1 '^ERROR' "$it_work/c.out")
check "C fails with a serialization failure to retry ($err)" \
	[ $rc_c -ne 0 -a "${err#ERROR:  40001: could not register model}" != "$err" ]
got=$(psql_c -c "SELECT string_agg(version || ' ' || note, ', ' ORDER BY version) FROM vae_models WHERE name = 'c'")
check "the registry holds versions 1-3 (got: $got)" [ "$got" = "1 A, 2 B, 3 D" ]
finish
