#!/usr/bin/env bash
# reports.sh - scheduled anomaly reports (vae_report_*) against a real
# server with Debian's pg_cron loaded:
#
#   * a report over a table that two background sessions insert into while
#     two sessions run the report 20 times, overlapping: afterwards its
#     findings are exactly the anomalies a full rescoring of the table finds
#     (no row missed, none doubled) and the runs' row counts add up to the
#     table;
#   * a row the model cannot score (NaN) is recorded with its key, message
#     and SQLSTATE, and the run goes on past it;
#   * a psql session LISTENing on vae_anomalies receives the run's payload;
#   * a run cancelled while it waits inside a batch (pg_cancel_backend)
#     leaves the watermark, the findings and the history as they were, and
#     the next run scores those rows;
#   * a run waits for a transaction still inserting a smaller key, and one
#     open past writer_wait fails the run without moving the watermark;
#   * the drift flag of vae_reports stays off on the stream the model was
#     trained on and goes on after a shift; vae_report_retrain keeps the
#     deployed model before the shift and deploys the candidate after it;
#   * a report scheduled with pg_cron ('* * * * *') really runs on its
#     schedule (one wait of up to ~70 s, overlapped with the rest), and
#     vae_report_drop unschedules it; a schedule without pg_cron is an error;
#   * pg_dump / pg_restore of a database with the registry and a report:
#     the restored report has the same state and goes on from its watermark.
#
# Prints TAP-like lines; the last one is "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/tap.sh"
cd "$root"

it_cluster_start
c=$it_work/c

# pg_cron must be preloaded: restart the cluster with its settings (jobs run
# in background workers, so no TCP is needed).
if [ ! -f "$("$bindir/pg_config" --pkglibdir)/pg_cron.so" ]; then
	not_ok "pg_cron is installed (scripts/install-deps.sh installs postgresql-15-cron)"
	finish
fi
"$root/scripts/pgcluster.sh" stop "$c" >/dev/null
cat >>"$c/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
CONF
if "$root/scripts/pgcluster.sh" start "$c" >/dev/null; then
	ok "cluster restarted with shared_preload_libraries = 'pg_cron'"
else
	not_ok "cluster restarted with pg_cron"
	finish
fi

# q SQL: one value (or rows) from the postgres database
q() { psql_c -c "$1"; }
# all COND...: each COND is a string evaluated by test ([ ]'s syntax); true
# when all hold (check takes one command)
all() {
	local t
	for t in "$@"; do eval "[ $t ]" || return 1; done
}

# the stream: b follows a closely, kind depends on a; shift moves a and b
# away from where the model was trained; every 400th row is an injected
# anomaly (b far from 2a)
ins_sql() { # ins_sql N SHIFT
	echo "INSERT INTO events (a, b, kind)
	      SELECT a + $2, 2 * a + $2 + CASE WHEN random() < 0.0025 THEN 6 ELSE 0 END + 0.1 * (random() - 0.5),
	             CASE WHEN a > 0.5 THEN 'high' ELSE 'low' END
	      FROM (SELECT random() AS a FROM generate_series(1, $1)) g"
}

if psql_c -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION vae" \
	-c "CREATE TABLE events (id bigserial PRIMARY KEY, a double precision, b double precision, kind text)" \
	-c "SELECT setseed(0.5)" -c "$(ins_sql 3000 0)" \
	-c "SELECT vae_register('events', vae_train(t, '{\"seed\": 1, \"epochs\": 30}')) FROM (SELECT a, b, kind FROM events) t" \
	-c "SELECT vae_deploy('events', 1)" >/dev/null; then
	ok "CREATE EXTENSION pg_cron, vae; a model trained on 3000 rows, registered and deployed"
else
	not_ok "set up pg_cron, vae and a deployed model"
	finish
fi

# The scheduled report first, so that its minute passes while the rest runs.
if q "SELECT vae_report_create('ev_cron', 'events', 'events', 'id', 0.01, '* * * * *')" >/dev/null; then
	ok "vae_report_create with schedule '* * * * *' registers a pg_cron job"
else
	not_ok "vae_report_create with a schedule"
fi
job=$(q "SELECT count(*) FROM cron.job WHERE jobname = 'vae_report:ev_cron' AND schedule = '* * * * *'")
check "cron.job holds 'vae_report:ev_cron' (found $job)" [ "$job" = 1 ]

q "SELECT vae_report_create('ev', 'events', 'events', 'id', 0.01, NULL, '{\"batch_size\": 200}')" >/dev/null
q "CALL vae_report_run('ev')" >/dev/null

# ---- 20 overlapping runs while two sessions insert -------------------------
inserter() {
	local i
	for i in $(seq 1 25); do
		psql_c -c "$(ins_sql 40 0)" >/dev/null || return 1
	done
}
runner() {
	local i
	for i in $(seq 1 10); do
		psql_c -c "CALL vae_report_run('ev')" >/dev/null 2>>"$it_work/runner.err" || return 1
	done
}
inserter & i1=$!
inserter & i2=$!
runner & r1=$!
runner & r2=$!
fails=0
for p in $i1 $i2 $r1 $r2; do wait $p || fails=$((fails + 1)); done
check "two inserters and two runners (20 runs) finish without an error ($fails failed)" [ $fails = 0 ]
[ -s "$it_work/runner.err" ] && sed 's/^/#   /' "$it_work/runner.err" | head -n 5
q "CALL vae_report_run('ev')" >/dev/null
runs=$(q "SELECT count(*) FROM vae_report_runs WHERE report = 'ev' AND error IS NULL")
check "22 runs recorded without a run error (got $runs)" [ "$runs" = 22 ]

# run_waiting CONDITION: wait up to 30 s until the CALL vae_report_run('ev')
# in progress waits as CONDITION (on pg_stat_activity) says; prints 1 then, else 0
run_waiting() {
	local w=0
	for _ in $(seq 1 300); do
		w=$(q "SELECT count(*) FROM pg_stat_activity WHERE query = 'CALL vae_report_run(''ev'')' AND $1")
		[ "$w" = 1 ] && break
		sleep 0.1
	done
	echo "$w"
}

# the reference: every row of the table rescored with the deployed model
full_check() { # full_check LABEL
	local missed doubled extra total scored wm found
	missed=$(q "SELECT count(*) FROM events e
	            WHERE CASE WHEN EXISTS (SELECT 1 FROM vae_report_errors x WHERE x.report = 'ev' AND x.key = e.id::text)
	                       THEN false	-- the recorded bad row: not scorable
	                       ELSE (vae_detect(vae_model('events'), e, 0.01)).is_anomaly END
	              AND NOT EXISTS (SELECT 1 FROM ev f WHERE f.id = e.id)")
	extra=$(q "SELECT count(*) FROM ev f JOIN events e USING (id)
	           WHERE CASE WHEN EXISTS (SELECT 1 FROM vae_report_errors x WHERE x.report = 'ev' AND x.key = e.id::text)
	                      THEN true ELSE NOT (vae_detect(vae_model('events'), e, 0.01)).is_anomaly END")
	doubled=$(q "SELECT count(*) - count(DISTINCT id) FROM ev")
	total=$(q "SELECT count(*) FROM events")
	scored=$(q "SELECT sum(rows_scored + row_errors) FROM vae_report_runs WHERE report = 'ev'")
	wm=$(q "SELECT (SELECT watermark FROM vae_reports WHERE name = 'ev') = (SELECT max(id)::text FROM events)")
	found=$(q "SELECT count(*) FROM ev")
	check "$1: findings = the anomalies of a full rescoring ($found findings; missed $missed, extra $extra, doubled $doubled)" \
		all '"$missed" = 0' '"$extra" = 0' '"$doubled" = 0' '"$found" -gt 0'
	check "$1: the runs scored every row once ($scored of $total) and the watermark is the last key ($wm)" \
		all '"$scored" = "$total"' '"$wm" = t'
}
full_check "after 20 overlapping runs with inserts"

# ---- a bad row ---------------------------------------------------------------
bad=$(q "INSERT INTO events (a, b, kind) VALUES (0.5, 'NaN', 'low') RETURNING id")
q "$(ins_sql 50 0)" >/dev/null
q "CALL vae_report_run('ev')" >/dev/null 2>"$it_work/bad.err"
err=$(q "SELECT key || ' ' || sqlstate || ' ' || message FROM vae_report_errors WHERE report = 'ev'")
check "the NaN row is recorded in vae_report_errors ($err)" [ "$err" = "$bad 22000 column \"b\" is NaN, which the model cannot score" ]
last=$(q "SELECT rows_scored || ' ' || row_errors || ' ' || coalesce(error, 'no error') FROM vae_report_runs WHERE report = 'ev' ORDER BY run DESC LIMIT 1")
check "the run went on: 50 rows scored, 1 row error, no run error ($last)" [ "$last" = "50 1 no error" ]
check "vae_reports shows the row error in last_error" \
	[ "$(q "SELECT errors = 1 AND last_error LIKE '1 row(s) could not be scored%' FROM vae_reports WHERE name = 'ev'")" = t ]

# ---- NOTIFY to a real listener -----------------------------------------------
mkfifo "$it_work/listen.in"
(. "$c/env" && "$bindir/psql" -X -At <"$it_work/listen.in" >"$it_work/listen.out" 2>&1) &
lp=$!
exec 7>"$it_work/listen.in"
echo "LISTEN vae_anomalies;" >&7
echo "SELECT 'listening';" >&7
for _ in $(seq 1 100); do grep -q listening "$it_work/listen.out" && break; sleep 0.1; done
worst=$(q "INSERT INTO events (a, b, kind) VALUES (0.3, 9, 'low') RETURNING id")
q "CALL vae_report_run('ev')" >/dev/null
echo "SELECT 'done';" >&7
exec 7>&-
wait $lp
note=$(grep -o 'Asynchronous notification "vae_anomalies" with payload ".*"' "$it_work/listen.out")
run=$(q "SELECT max(run) FROM vae_report_runs WHERE report = 'ev'")
check "the LISTENing psql received the run's NOTIFY (${note:0:160})" \
	grep -q "\"report\" : \"ev\", \"run\" : $run, \"count\" : [1-9][0-9]*, \"worst_key\" : \"$worst\"" <<<"$note"

# ---- cancel mid-run ----------------------------------------------------------
# A trigger on the findings table makes the run wait on an advisory lock
# that this test holds, once it reaches the rows inserted last: the batches
# before have been scored and appended (uncommitted) when it is cancelled.
before=$(q "SELECT watermark || ' ' || runs || ' ' || (SELECT count(*) FROM ev) FROM vae_reports WHERE name = 'ev'")
from=$(q "SELECT max(id) FROM events")
q "$(ins_sql 1500 0)" >/dev/null
q "INSERT INTO events (a, b, kind) VALUES (0.2, 7, 'low')" >/dev/null	# an anomaly past the gate
q "CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN IF NEW.id > $from + 1000 THEN PERFORM pg_advisory_xact_lock_shared(4242); END IF; RETURN NEW; END \$\$;
   CREATE TRIGGER gate BEFORE INSERT ON ev FOR EACH ROW EXECUTE FUNCTION gate()" >/dev/null
mkfifo "$it_work/hold.in"
(. "$c/env" && "$bindir/psql" -X -At <"$it_work/hold.in" >"$it_work/hold.out" 2>&1) &
hp=$!
exec 8>"$it_work/hold.in"
echo "SELECT pg_advisory_lock(4242), 'holding';" >&8
for _ in $(seq 1 100); do grep -q holding "$it_work/hold.out" && break; sleep 0.1; done
psql_c -c "CALL vae_report_run('ev')" >"$it_work/cancel.out" 2>&1 &
rp=$!
waiting=$(run_waiting "wait_event = 'advisory'")
check "the run waits inside a batch past row $((from + 1000))" [ "$waiting" = 1 ]
q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'CALL vae_report_run(''ev'')'" >/dev/null
wait $rp
check "the run was cancelled ($(head -n 1 "$it_work/cancel.out"))" grep -q "canceling statement due to user request" "$it_work/cancel.out"
echo "SELECT pg_advisory_unlock(4242);" >&8
exec 8>&-
wait $hp
after=$(q "SELECT watermark || ' ' || runs || ' ' || (SELECT count(*) FROM ev) FROM vae_reports WHERE name = 'ev'")
check "watermark, run count and findings are unchanged by the cancelled run ($after)" [ "$after" = "$before" ]
q "DROP TRIGGER gate ON ev" >/dev/null
q "CALL vae_report_run('ev')" >/dev/null
full_check "after the cancel and the next run"

# ---- a row committed late with a smaller key -----------------------------------
# Session A takes a key and holds its transaction open; session B takes the
# next key and commits. A run started now must not move past A's key
# without it: it waits for A (the writer barrier), then scores both rows.
mkfifo "$it_work/late.in"
(. "$c/env" && "$bindir/psql" -X -q -At <"$it_work/late.in" >"$it_work/late.out" 2>&1) &
ap=$!
exec 9>"$it_work/late.in"
echo "BEGIN;" >&9
echo "INSERT INTO events (a, b, kind) VALUES (0.5, 1, 'low') RETURNING id;" >&9
for _ in $(seq 1 100); do [ -s "$it_work/late.out" ] && break; sleep 0.1; done
late_a=$(head -n 1 "$it_work/late.out")
late_b=$(q "INSERT INTO events (a, b, kind) VALUES (0.5, 1, 'low') RETURNING id")
psql_c -c "CALL vae_report_run('ev')" >"$it_work/late.run" 2>&1 &
rp=$!
waiting=$(run_waiting "wait_event_type = 'Lock'")
check "a run waits for the open transaction that took key $late_a (B took $late_b and committed)" [ "$waiting" = 1 ]
echo "COMMIT;" >&9
exec 9>&-
wait $ap
wait $rp
got=$(q "SELECT rows_scored || ' ' || watermark_from || '..' || watermark_to FROM vae_report_runs WHERE report = 'ev' ORDER BY run DESC LIMIT 1")
check "after A commits the run scores both rows ($got)" [ "$got" = "2 $((late_b - 2))..$late_b" ]
# a writer that stays open past writer_wait: the run fails, recorded, nothing moves
q "UPDATE vae_report_state SET options = options || '{\"writer_wait\": \"1s\"}' WHERE name = 'ev'" >/dev/null
mkfifo "$it_work/open.in"
(. "$c/env" && "$bindir/psql" -X -q -At <"$it_work/open.in" >"$it_work/open.out" 2>&1) &
ap=$!
exec 9>"$it_work/open.in"
echo "BEGIN;" >&9
echo "INSERT INTO events (a, b, kind) VALUES (0.5, 1, 'low') RETURNING id;" >&9
for _ in $(seq 1 100); do [ -s "$it_work/open.out" ] && break; sleep 0.1; done
q "$(ins_sql 10 0)" >/dev/null
wm=$(q "SELECT watermark FROM vae_reports WHERE name = 'ev'")
q "CALL vae_report_run('ev')" >/dev/null 2>&1
got=$(q "SELECT error_sqlstate || ' ' || (SELECT watermark FROM vae_reports WHERE name = 'ev') FROM vae_report_runs WHERE report = 'ev' ORDER BY run DESC LIMIT 1")
check "a writer open past writer_wait fails the run (55P03) and the watermark stays ($got)" [ "$got" = "55P03 $wm" ]
echo "COMMIT;" >&9
exec 9>&-
wait $ap
q "UPDATE vae_report_state SET options = options - 'writer_wait' WHERE name = 'ev'" >/dev/null
q "CALL vae_report_run('ev')" >/dev/null
full_check "after the late and the open writers"

# ---- drift and retrain -------------------------------------------------------
drift=$(q "SELECT drift || ' ' || round(recent_rate::numeric, 4) || ' p=' || drift_p FROM vae_reports WHERE name = 'ev'")
check "no drift on the stream the model was trained on ($drift)" [ "${drift%% *}" = false ]
dec=$(q "SELECT decision || ': ' || reason FROM vae_report_retrain('ev', NULL, '{\"rows\": 2000, \"train\": {\"seed\": 2, \"epochs\": 30}}')")
check "vae_report_retrain keeps the deployed model before the shift (${dec:0:150})" [ "${dec%%:*}" = kept ]
q "$(ins_sql 2000 1.5)" >/dev/null
q "CALL vae_report_run('ev')" >/dev/null
drift=$(q "SELECT drift || ' ' || round(recent_rate::numeric, 4) || ' p=' || drift_p FROM vae_reports WHERE name = 'ev'")
check "vae_reports flags drift after the shift ($drift)" [ "${drift%% *}" = true ]
dec=$(q "SELECT decision || ': ' || reason FROM vae_report_retrain('ev', NULL, '{\"rows\": 2000, \"train\": {\"seed\": 2, \"epochs\": 30}}')")
check "vae_report_retrain deploys the candidate after the shift (${dec:0:150})" [ "${dec%%:*}" = deployed ]
st=$(q "SELECT string_agg(version || ':' || state, ' ' ORDER BY version) FROM vae_model_registry WHERE name = 'events'")
check "the registry holds the candidates, the last one deployed ($st)" [ "$st" = "1:retired 2:candidate 3:deployed" ]
q "$(ins_sql 400 1.5)" >/dev/null
q "CALL vae_report_run('ev')" >/dev/null
v=$(q "SELECT model_version || ' ' || drift FROM vae_reports WHERE name = 'ev'")
check "the next run scores with version 3 and the shifted stream is no drift for it ($v)" [ "$v" = "3 false" ]
cnt=$(q "SELECT count(*) FROM vae_report_retrains WHERE report = 'ev'")
check "both decisions are in vae_report_retrains ($cnt)" [ "$cnt" = 2 ]

# ---- the scheduled report ----------------------------------------------------
# A scheduled run that fell on one of the scenarios above (an open writer
# past writer_wait, a cancel) ends with its error recorded, and pg_cron
# counts the job as succeeded: wait for a run without one, which the next
# minute brings.
cron_ok=0
for _ in $(seq 1 150); do
	cron_ok=$(q "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	             WHERE j.jobname = 'vae_report:ev_cron' AND d.status = 'succeeded'")
	[ "$cron_ok" -gt 0 ] &&
		[ "$(q "SELECT count(*) FROM vae_report_runs WHERE report = 'ev_cron' AND error IS NULL")" -gt 0 ] &&
		break
	sleep 1
done
check "pg_cron ran 'vae_report:ev_cron' on its schedule ($cron_ok succeeded)" [ "$cron_ok" -gt 0 ]
cr=$(q "SELECT count(*) || ' ' || coalesce(sum(rows_scored), 0) FROM vae_report_runs WHERE report = 'ev_cron' AND error IS NULL")
wrong=$(q "SELECT count(*) FROM ev_cron f JOIN events e USING (id)
           JOIN vae_model_registry g ON g.name = 'events' AND g.version = f.model_version
           WHERE CASE WHEN EXISTS (SELECT 1 FROM vae_report_errors x WHERE x.report = 'ev_cron' AND x.key = e.id::text)
                      THEN true ELSE NOT (vae_detect(g.model, e, 0.01)).is_anomaly END")
found=$(q "SELECT count(*) FROM ev_cron")
check "its runs scored rows ($cr) and found $found anomalies, each one confirmed by its model version ($wrong not)" \
	all '"${cr#* }" -gt 0' '"$wrong" = 0' '"$found" -gt 0'
q "SELECT vae_report_drop('ev_cron')" >/dev/null
check "vae_report_drop unschedules the job and drops the findings table" \
	[ "$(q "SELECT count(*) FROM cron.job WHERE jobname LIKE 'vae_%'")$(q "SELECT to_regclass('ev_cron') IS NULL")" = 0t ]

# ---- no pg_cron, dump and restore ------------------------------------------
psql_c -c "CREATE DATABASE src" -c "CREATE DATABASE dst" >/dev/null
if psql_c -d src -c "CREATE EXTENSION vae" \
	-c "CREATE TABLE events (id bigserial PRIMARY KEY, a double precision, b double precision, kind text)" \
	-c "$(ins_sql 1000 0)" \
	-c "SELECT vae_register('events', vae_train(t, '{\"seed\": 1, \"epochs\": 10}')) FROM (SELECT a, b, kind FROM events) t" \
	-c "SELECT vae_deploy('events', 1)" -c "SELECT vae_report_create('ev', 'events', 'events', 'id', 0.05)" \
	-c "CALL vae_report_run('ev')" -c "$(ins_sql 100 0)" -c "CALL vae_report_run('ev')" >/dev/null; then
	ok "a second database without pg_cron: a report with two runs"
else
	not_ok "a second database without pg_cron: a report with two runs"
fi
msg=$(psql_c -d src -c "SELECT vae_report_create('ev2', 'events', 'events', 'id', 0.05, '0 * * * *')" 2>&1)
first=${msg%%$'\n'*}
check "a schedule without pg_cron is an error with a hint (${first:0:100})" \
	grep -q "a schedule needs the pg_cron extension" <<<"$msg"
state_sql="SELECT name, model, model_version, source, watermark, runs, rows_scored, anomalies, errors,
                  (SELECT count(*) FROM ev), (SELECT count(*) FROM vae_report_runs),
                  (SELECT string_agg(version || state || md5(model), ',' ORDER BY version) FROM vae_model_registry)
           FROM vae_reports"
psql_c -d src -c "$state_sql" >"$it_work/state.src"
(. "$c/env" && "$bindir/pg_dump" -Fc -d src -f "$it_work/src.dump") &&
	(. "$c/env" && "$bindir/pg_restore" --exit-on-error -d dst "$it_work/src.dump")
check "pg_dump / pg_restore of the database" [ $? = 0 ]
psql_c -d dst -c "$state_sql" >"$it_work/state.dst"
check "the restored registry, report state, history and findings are the same ($(cat "$it_work/state.dst" | cut -c1-80))" \
	cmp -s "$it_work/state.src" "$it_work/state.dst"
psql_c -d dst -c "$(ins_sql 100 0)" -c "CALL vae_report_run('ev')" >/dev/null
r=$(psql_c -d dst -c "SELECT runs || ' ' || rows_scored || ' ' || (watermark = (SELECT max(id)::text FROM events)) FROM vae_reports")
check "the restored report goes on from its watermark: 3 runs, 1200 rows ($r)" [ "$r" = "3 1200 true" ]

finish
