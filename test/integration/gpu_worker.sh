#!/usr/bin/env bash
# gpu_worker.sh - the extension's side of the GPU worker, end to end, with
# the daemon's CPU backend (vae_gpud --backend cpu):
#
#   device 'gpu' through a daemon started by hand (Unix socket, then plain
#   TCP on loopback with a secret, then TLS with a certificate made here)
#   trains the same model as the CPU; a certificate from another CA, a wrong
#   secret and plain TCP to a non-loopback address are refused; no worker / a dead worker /
#   a worker killed mid-job gives 'gpu' an ERROR and 'auto' a NOTICE and a
#   CPU model; statement_timeout and pg_cancel_backend abort a GPU job within
#   about a second and free the daemon; the worker's data errors keep the
#   CPU's SQLSTATE; and a second cluster with vae in shared_preload_libraries
#   and vae.gpu_worker_autostart = on supervises its own daemon (0700 socket
#   directory, restart after kill -9, nothing left after shutdown).  Neither
#   server ever restarts.
#
# Needs the extension installed where scripts/pgcluster.sh finds the server
# (scripts/run-tests.sh does that; run alone, VAE_PRIVATE_INSTALL=1 installs
# into a private root here) and the vae_gpud binary built (VAE_GPUD, else
# found in the build tree).  Prints TAP-like lines; the last one is
# "# N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# ok, not_ok, skip, check, finish (and scripts/common.sh)
. "$here/lib/tap.sh"
cd "$root"

# ---- setup ----------------------------------------------------------------
work=$(mktemp -d /tmp/vae-gw.XXXXXX) || exit 1
chmod 755 "$work"
cl_a=$work/a
cl_b=$work/b
pids_to_kill=()
cleanup() {
	local p
	for p in "${pids_to_kill[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	"$root/scripts/pgcluster.sh" stop "$cl_a" >/dev/null 2>&1 || true
	"$root/scripts/pgcluster.sh" stop "$cl_b" >/dev/null 2>&1 || true
	# only a private root made here: one from scripts/run-tests.sh serves
	# the tests after this one
	[ "${it_own_root:-0}" = 1 ] && remove_private_root
	rm -rf "$work"
}
trap cleanup EXIT

it_install

gpud=${VAE_GPUD:-}
if [ -z "$gpud" ]; then
	for p in build/gpu/vae_gpud build/vae_gpud src/gpu/vae_gpud vae_gpud; do
		[ -x "$p" ] && { gpud=$root/$p; break; }
	done
fi

# server processes and the daemons run as `postgres` when we are root
owner=$(id -un)
[ "$(id -u)" -eq 0 ] && owner=postgres
as_owner_cmd=()
[ "$(id -u)" -eq 0 ] && as_owner_cmd=(setpriv --reuid=postgres --regid=postgres --init-groups --)
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
	else
		"$@"
	fi
}

# psql against cluster A (or B with PSQL_ENV=b); -X, no psqlrc, stop on error
psql_a() { (. "$cl_a/env" && "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"); }
psql_b() { (. "$cl_b/env" && "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"); }
now() { date +%s.%N; }
elapsed_lt() { awk -v a="$1" -v b="$2" -v lim="$3" 'BEGIN { exit !(b - a < lim) }'; }

"$root/scripts/pgcluster.sh" start "$cl_a" >/dev/null || { not_ok "start cluster A"; finish; }
ok "throwaway cluster A started"
psql_a -c "CREATE EXTENSION vae" || { not_ok "CREATE EXTENSION vae"; finish; }
start_a=$(psql_a -Atc "SELECT pg_postmaster_start_time()")

# small data for equality checks, long data for jobs to kill and cancel
psql_a <<'SQL' || { not_ok "create test tables"; finish; }
CREATE TABLE small AS
SELECT i, ARRAY(SELECT (sin(i * 0.37 + j * 1.3) + 0.1 * cos(i * j))::real
                FROM generate_series(1, 8) AS j) AS f
FROM generate_series(1, 600) AS i;
CREATE TABLE big AS
SELECT i, ARRAY(SELECT sin(i * 0.011 + j * 0.7)::real FROM generate_series(1, 32) AS j) AS f
FROM generate_series(1, 50000) AS i;
CREATE TABLE bern AS
SELECT i, ARRAY[(i % 2)::real, CASE WHEN i = 77 THEN 2 ELSE (i % 3 = 0)::int END::real] AS f
FROM generate_series(1, 200) AS i;
-- exact scores of a model on the small rows, as bytes
CREATE FUNCTION score_bytes(m bytea) RETURNS text LANGUAGE sql AS
$$ SELECT md5(string_agg(encode(float8send(vae_score(m, f)), 'hex'), '' ORDER BY i)) FROM small $$;
SQL

if [ -z "$gpud" ]; then
	skip "GPU worker checks" "vae_gpud not built"
	finish
fi

# the daemon started by hand: its socket in a directory only the server's
# user can open
sockdir=$work/gpud
mkdir -p "$sockdir"
chown "$owner" "$sockdir" 2>/dev/null
chmod 700 "$sockdir"
sock=$sockdir/s
gpud_log=$work/gpud.log
: >"$gpud_log"
chown "$owner" "$gpud_log" 2>/dev/null
gpud_pid=
start_gpud() {
	# no function or subshell in between: $! must be the daemon itself
	"${as_owner_cmd[@]}" "$gpud" --backend cpu "$@" >>"$gpud_log" 2>&1 &
	gpud_pid=$!
	pids_to_kill+=("$gpud_pid")
	local i
	# up to 30 s: on a busy shared machine a start has taken over 5 s
	for i in $(seq 1 600); do
		if [ "${1:-}" = --socket ] && [ -S "$2" ]; then return 0; fi
		if [ "${1:-}" = --listen ] && ss -Htln "sport = :${2##*:}" 2>/dev/null | grep -q .; then return 0; fi
		kill -0 "$gpud_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
stop_gpud() {
	[ -n "$gpud_pid" ] || return 0
	kill -TERM "$gpud_pid" 2>/dev/null
	wait "$gpud_pid" 2>/dev/null
	gpud_pid=
}
start_gpud --socket "$sock" || { not_ok "vae_gpud --backend cpu starts"; cat "$gpud_log"; finish; }
ok "vae_gpud --backend cpu listens on a Unix socket"

GW="SET vae.gpu_worker = '$sock';"
OPTS='"epochs": 4, "seed": 3, "hidden": [6], "latent_dim": 2'

# ---- same model as the CPU -------------------------------------------------
out=$(psql_a -At <<SQL 2>&1
$GW
CREATE TABLE models AS
SELECT 'cpu' AS dev, vae_train(f, '{$OPTS, "device": "cpu"}') AS m FROM small
UNION ALL
SELECT 'gpu', vae_train(f, '{$OPTS, "device": "gpu"}') FROM small;
SELECT (SELECT score_bytes(m) FROM models WHERE dev = 'cpu') =
       (SELECT score_bytes(m) FROM models WHERE dev = 'gpu');
SELECT vae_model_info(m)->>'device', vae_model_info(m)->'options'->>'device'
FROM models WHERE dev = 'gpu';
SQL
)
check "device 'gpu' trains on the worker: scores equal the CPU model's bit for bit" \
	[ "$(echo "$out" | sed -n 1p)" = t ]
check "vae_model_info reports the device that trained it (daemon's CPU backend: cpu; requested: gpu)" \
	[ "$(echo "$out" | sed -n 2p)" = "cpu|gpu" ]
out=$(psql_a -At -c "$GW" -c "SELECT score_bytes(vae_train(f, '{$OPTS, \"device\": \"gpu\", \"ensemble\": 3}'))
	= (SELECT score_bytes(vae_train(f, '{$OPTS, \"device\": \"cpu\", \"ensemble\": 3}')) FROM small) FROM small" 2>&1)
check "an ensemble of three trained on the worker scores as the CPU's, bit for bit" [ "$out" = t ]
# the TRAIN header does not carry the scoring method (option method): the
# worker resolves the default (elbo), the backend sets a given one
out=$(psql_a -At -c "$GW" -c "SELECT string_agg(vae_model_info(m)->'options'->>'method' || ' '
	|| (vae_model_info(m)->>'format_version'), ', ' ORDER BY o)
FROM (SELECT o, vae_train(f, ('{$OPTS, \"device\": \"gpu\"}'::jsonb || o)) AS m
      FROM small, (VALUES ('{}'::jsonb), ('{\"method\": \"recon_prob\"}'), ('{\"method\": \"mse\"}')) v(o)
      GROUP BY o) x" 2>&1)
check "the worker's models keep the scoring method: default elbo, or the one given (got: $out)" \
	[ "$out" = "elbo 4, mse 4, recon_prob 1" ]
grep -qi "job" "$gpud_log"
check "the daemon logged the job" [ $? -eq 0 ]

# scale-out (docs/scale-out.md): the model trained from the merged samples of
# parts goes through the same engine selection: device 'gpu' trains it on the
# worker, with the CPU model's scores bit for bit
out=$(psql_a -At -c "$GW" -c "SET client_min_messages = warning" -c "
SELECT score_bytes(m) = (SELECT score_bytes(m) FROM models WHERE dev = 'cpu'), vae_model_info(m)->>'device'
FROM (SELECT vae_train_samples(s) AS m FROM
	(SELECT vae_sample(vae_features(f), '{$OPTS, \"device\": \"gpu\"}') AS s FROM small GROUP BY i % 3) p) x" 2>&1)
check "a model merged from parts' samples trains on the worker, same scores as the CPU's" \
	[ "$out" = "t|cpu" ]

out=$(psql_a -At -c "$GW" -c "SELECT length(vae_train(f, '{$OPTS, \"device\": \"gpu\", \"verbose\": true, \"ensemble\": 1}')) > 0 FROM small" 2>&1)
check "verbose: one NOTICE per epoch from the worker's PROGRESS" \
	[ "$(echo "$out" | grep -c 'NOTICE:  vae_train epoch')" -eq 4 ]
# an ensemble of three: each network trained by the worker; the NOTICEs name the network
out=$(psql_a -At -c "$GW" -c "SELECT length(vae_train(f, '{$OPTS, \"device\": \"gpu\", \"verbose\": true, \"ensemble\": 3}')) > 0 FROM small" 2>&1)
check "verbose ensemble: one NOTICE per epoch of each of the 3 networks, naming it" \
	[ "$(echo "$out" | grep -c 'NOTICE:  vae_train epoch [0-9] (network [1-3] of 3)')" -eq 12 ]

out=$(psql_a -At -c "$GW" -c "SELECT vae_model_info(vae_train(f, '{$OPTS}'))->>'device' FROM small" 2>&1)
check "default device 'auto' uses the configured worker, without a NOTICE" \
	[ "$out" = cpu ] && ! grep -q NOTICE <<<"$out"

# ---- no worker, or a dead one -----------------------------------------------
sqlstate_of() { grep -oE 'ERROR:  [0-9A-Z]{5}' <<<"$1" | head -n 1 | cut -c9-; }
out=$(psql_a -At -v VERBOSITY=verbose -c "\\set VERBOSITY verbose" -c "SELECT vae_train(f, '{\"device\": \"gpu\"}') FROM small" 2>&1)
check "'gpu' without vae.gpu_worker: ERROR 58000 naming vae.gpu_worker" \
	[ "$(sqlstate_of "$out")" = 58000 ] && grep -q "none is configured" <<<"$out" && grep -q "vae.gpu_worker" <<<"$out"

out=$(psql_a -At -c "\\set VERBOSITY verbose" -c "SET vae.gpu_worker = '$work/nothing'" -c "SELECT vae_train(f, '{\"device\": \"gpu\"}') FROM small" 2>&1)
check "'gpu' with vae.gpu_worker pointing at nothing: ERROR 58000, could not connect" \
	[ "$(sqlstate_of "$out")" = 58000 ] && grep -q "could not connect" <<<"$out"

out=$(psql_a -At -c "SET vae.gpu_worker = '$work/nothing'" -c "SELECT vae_model_info(vae_train(f, '{\"device\": \"auto\", \"epochs\": 2}'))->>'device' FROM small" 2>&1)
check "'auto' with an unreachable worker: NOTICE, then a CPU model" \
	grep -q "NOTICE:  vae_train is training on the CPU" <<<"$out" && [ "$(tail -n 1 <<<"$out")" = cpu ]

out=$(psql_a -At -c "SELECT vae_model_info(vae_train(f, '{\"epochs\": 2}'))->>'device' FROM small" 2>&1)
check "'auto' with no worker configured: silently the CPU" [ "$out" = cpu ]

# ---- worker errors about the data: same SQLSTATE as the CPU ---------------
cpu_err=$(psql_a -At -c "\\set VERBOSITY verbose" -c "SELECT vae_train(f, '{\"likelihood\": \"bernoulli\", \"normalize\": \"none\", \"device\": \"cpu\"}') FROM bern" 2>&1 | grep ERROR)
gpu_err=$(psql_a -At -c "\\set VERBOSITY verbose" -c "$GW" -c "SELECT vae_train(f, '{\"likelihood\": \"bernoulli\", \"normalize\": \"none\", \"device\": \"gpu\"}') FROM bern" 2>&1 | grep ERROR)
auto_err=$(psql_a -At -c "\\set VERBOSITY verbose" -c "$GW" -c "SELECT vae_train(f, '{\"likelihood\": \"bernoulli\", \"normalize\": \"none\", \"device\": \"auto\"}') FROM bern" 2>&1)
echo "# cpu: $cpu_err"
echo "# gpu: $gpu_err"
check "a data error from the worker has the CPU's SQLSTATE ($(sqlstate_of "$cpu_err"))" \
	[ -n "$(sqlstate_of "$cpu_err")" ] && [ "$(sqlstate_of "$cpu_err")" = "$(sqlstate_of "$gpu_err")" ]
check "... and 'auto' reports it too, without falling back" \
	[ "$(sqlstate_of "$auto_err")" = "$(sqlstate_of "$cpu_err")" ] && ! grep -q "training on the CPU" <<<"$auto_err"

# ---- cancel ------------------------------------------------------------------
LONG="SELECT vae_train(f, '{\"epochs\": 10000, \"patience\": 0, \"device\": \"gpu\"}') FROM big"
t0=$(now)
out=$(psql_a -At -c "$GW" -c "SET statement_timeout = '1s'" -c "$LONG" 2>&1)
t1=$(now)
echo "# statement_timeout: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
check "statement_timeout = 1s cancels a long GPU job" grep -q "canceling statement due to statement timeout" <<<"$out"
check "... within 2.5 s of wall time" elapsed_lt "$t0" "$t1" 2.5
t0=$(now)
out=$(psql_a -At -c "$GW" -c "SELECT length(vae_train(f, '{$OPTS, \"device\": \"gpu\"}')) > 0 FROM small" 2>&1)
t1=$(now)
check "the daemon dropped the canceled job and takes the next one at once" \
	[ "$out" = t ] && elapsed_lt "$t0" "$t1" 5
grep -qE "job [0-9]+ canceled|canceling job|dropped from the queue" "$gpud_log"
check "the daemon log shows the job canceled" [ $? -eq 0 ]

(psql_a -At -c "$GW" -c "SET application_name = 'gw_cancel'" -c "$LONG" >"$work/cancel.out" 2>&1) &
bg=$!
for i in $(seq 1 50); do
	[ "$(psql_a -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gw_cancel' AND state = 'active'")" = 1 ] && break
	sleep 0.1
done
sleep 1
t0=$(now)
psql_a -At -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'gw_cancel'" >/dev/null
wait "$bg"
t1=$(now)
echo "# pg_cancel_backend: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
check "pg_cancel_backend cancels a GPU job from another session" \
	grep -q "canceling statement due to user request" "$work/cancel.out"
check "... within 1.5 s" elapsed_lt "$t0" "$t1" 1.5

# ---- the daemon killed mid-job -------------------------------------------------
kill_mid_job() {
	local dev=$1 opts=$2 started
	started=$(grep -c ' started: ' "$gpud_log")
	(psql_a -At -c "$GW" -c "SELECT vae_model_info(vae_train(f, '{$opts, \"device\": \"$dev\"}'))->>'device' FROM big" >"$work/kill.out" 2>&1) &
	local bg=$! i
	# kill it once the job runs (its log says "job N started")
	for i in $(seq 1 100); do
		[ "$(grep -c ' started: ' "$gpud_log")" -gt "$started" ] && break
		sleep 0.05
	done
	sleep 0.3
	kill -KILL "$gpud_pid"
	wait "$gpud_pid" 2>/dev/null
	gpud_pid=
	wait "$bg"
	start_gpud --socket "$sock"
}
kill_mid_job gpu '"epochs": 10000, "patience": 0'
check "daemon killed mid-job: 'gpu' gets a clear ERROR" \
	grep -qE "ERROR:  vae_train could not train on the GPU worker: (the worker closed the connection|could not receive)" "$work/kill.out"
# about 2 s of training, for the CPU to do again
kill_mid_job auto '"epochs": 30, "patience": 0'
check "daemon killed mid-job: 'auto' falls back with a NOTICE and returns a CPU model" \
	grep -q "NOTICE:  vae_train is training on the CPU" "$work/kill.out" && [ "$(tail -n 1 "$work/kill.out")" = cpu ]
[ -s "$work/kill.out" ] && sed 's/^/#   /' "$work/kill.out" | head -n 5

# ---- TCP and the secret --------------------------------------------------------
stop_gpud
port=$((20000 + RANDOM % 20000))
while ss -Htln "sport = :$port" 2>/dev/null | grep -q .; do port=$((port + 1)); done
secret_file=$work/secret
printf 'correct horse battery staple' >"$secret_file"
chown "$owner" "$secret_file" 2>/dev/null
chmod 600 "$secret_file"
if start_gpud --listen "127.0.0.1:$port" --secret-file "$secret_file" --insecure-loopback; then
	ok "vae_gpud listens on plain TCP (loopback) with a secret"
	TCP="SET vae.gpu_worker = '127.0.0.1:$port';"
	out=$(psql_a -At -c "$TCP" -c "SET vae.gpu_secret = 'correct horse battery staple'" -c "SELECT score_bytes(vae_train(f, '{$OPTS, \"device\": \"gpu\"}')) = (SELECT score_bytes(m) FROM models WHERE dev = 'cpu') FROM small" 2>&1)
	check "TCP with the right secret trains the same model" [ "$out" = t ]
	out=$(psql_a -At -c "$TCP" -c "SET vae.gpu_secret = 'wrong'" -c "SELECT vae_train(f, '{$OPTS, \"device\": \"gpu\"}') FROM small" 2>&1)
	check "TCP with a wrong secret: ERROR, the worker refused authentication" grep -q "refused authentication" <<<"$out"
	out=$(psql_a -At -c "$TCP" -c "SELECT vae_train(f, '{$OPTS, \"device\": \"gpu\"}') FROM small" 2>&1)
	check "TCP without vae.gpu_secret: ERROR saying it is not set" grep -q "vae.gpu_secret is not set" <<<"$out"
	out=$(psql_a -At -c "$TCP" -c "SET vae.gpu_secret = 'wrong'" -c "SELECT vae_model_info(vae_train(f, '{$OPTS}'))->>'device' FROM small" 2>&1)
	check "TCP with a wrong secret and 'auto': NOTICE and a CPU model" \
		grep -q "NOTICE:  vae_train is training on the CPU" <<<"$out" && [ "$(tail -n 1 <<<"$out")" = cpu ]
else
	not_ok "vae_gpud listens on TCP with a secret"
	tail -n 5 "$gpud_log"
fi
stop_gpud

# plain TCP to anything but loopback: refused before connecting
out=$(psql_a -At -c "SET vae.gpu_worker = '192.0.2.1:5499'" -c "SET vae.gpu_secret = 'x'" -c "SELECT vae_train(f, '{$OPTS, \"device\": \"gpu\"}') FROM small" 2>&1)
check "plain TCP to a non-loopback worker is refused, naming vae.gpu_tls_ca_file" \
	grep -q "refusing plain TCP to \"192.0.2.1:5499\", which is not a loopback address: set vae.gpu_tls_ca_file" <<<"$out"

# ---- TLS ---------------------------------------------------------------------
# a CA, a server certificate it signs for 127.0.0.1 and localhost, and an
# unrelated CA; the server's user must be able to read the CA files
mkcert() {
	mkdir -p "$work/tls" && chmod 755 "$work/tls" &&
		"$root/test/gpud/make_test_certs.sh" "$work/tls" &&
		{ chown "$owner" "$work/tls/srv.key" 2>/dev/null || true; }
}
tport=$((port + 1))
while ss -Htln "sport = :$tport" 2>/dev/null | grep -q .; do tport=$((tport + 1)); done
if ! mkcert >"$work/mkcert.out" 2>&1; then
	not_ok "make a test CA and server certificate with openssl"
	cat "$work/mkcert.out"
elif start_gpud --listen "127.0.0.1:$tport" --secret-file "$secret_file" \
	--tls-cert "$work/tls/srv.crt" --tls-key "$work/tls/srv.key"; then
	ok "vae_gpud listens with TLS (--tls-cert, --tls-key)"
	TLS="SET vae.gpu_secret = 'correct horse battery staple'; SET vae.gpu_tls_ca_file = '$work/tls/ca.crt';"
	for host in 127.0.0.1 localhost; do
		out=$(psql_a -At -c "SET vae.gpu_worker = '$host:$tport'; $TLS" -c "SELECT score_bytes(vae_train(f, '{$OPTS, \"device\": \"gpu\"}')) = (SELECT score_bytes(m) FROM models WHERE dev = 'cpu') FROM small" 2>&1)
		check "TLS to $host:port trains the same model as the CPU (scores bit for bit)" [ "$out" = t ]
	done
	out=$(psql_a -At -c "SET vae.gpu_worker = '127.0.0.1:$tport'; $TLS" -c "SET vae.gpu_tls_ca_file = '$work/tls/other.crt'" -c "SELECT vae_train(f, '{$OPTS, \"device\": \"gpu\"}') FROM small" 2>&1)
	check "a worker certificate from another CA: ERROR, certificate verify failed" \
		grep -q "TLS handshake with the worker failed: certificate verify failed" <<<"$out"
	echo "# $(grep ERROR <<<"$out")"
	out=$(psql_a -At -c "SET vae.gpu_worker = '127.0.0.1:$tport'; $TLS" -c "SET vae.gpu_secret = 'wrong'" -c "SELECT vae_train(f, '{$OPTS, \"device\": \"gpu\"}') FROM small" 2>&1)
	check "TLS with a wrong secret: ERROR, the worker refused authentication" grep -q "refused authentication" <<<"$out"
	out=$(psql_a -At -c "SET vae.gpu_worker = '127.0.0.1:$tport'; $TLS" -c "SET vae.gpu_tls_ca_file = ''" -c "SET vae.gpu_connect_timeout = '1s'" -c "SELECT vae_train(f, '{$OPTS, \"device\": \"gpu\"}') FROM small" 2>&1)
	check "plain TCP to a TLS worker: ERROR naming vae.gpu_tls_ca_file" grep -q "needs vae.gpu_tls_ca_file" <<<"$out"
	t0=$(now)
	out=$(psql_a -At -c "SET vae.gpu_worker = '127.0.0.1:$tport'; $TLS" -c "SET statement_timeout = '1s'" -c "$LONG" 2>&1)
	t1=$(now)
	tls_canceled() { grep -q "canceling statement due to statement timeout" <<<"$out" && elapsed_lt "$t0" "$t1" 2.5; }
	check "statement_timeout = 1s cancels a long GPU job over TLS within 2.5 s" tls_canceled
	out=$(psql_a -At -c "SET vae.gpu_worker = '127.0.0.1:$tport'; $TLS" -c "SELECT length(vae_train(f, '{$OPTS, \"device\": \"gpu\"}')) > 0 FROM small" 2>&1)
	check "... and the worker takes the next TLS job" [ "$out" = t ]
else
	not_ok "vae_gpud listens with TLS"
	tail -n 5 "$gpud_log"
fi
stop_gpud

check "cluster A never restarted" [ "$(psql_a -Atc "SELECT pg_postmaster_start_time()")" = "$start_a" ]
"$root/scripts/pgcluster.sh" stop "$cl_a" >/dev/null

# ---- autostart under a background worker ---------------------------------------
if ! "$root/scripts/pgcluster.sh" start "$cl_b" >/dev/null; then
	not_ok "start cluster B"
	finish
fi
{
	echo "shared_preload_libraries = 'vae'"
	echo "vae.gpu_worker_autostart = on"
	echo "vae.gpu_backend = 'cpu'"
	echo "vae.gpud_options = '--max-queue 3  --request-timeout 120'"
	[ -x "$bindir/vae_gpud" ] || echo "vae.gpud_path = '$gpud'"
} >>"$cl_b/data/postgresql.conf"
if ! as_owner "$bindir/pg_ctl" -D "$cl_b/data" -l "$cl_b/postgres.log" -w -t 60 restart >/dev/null 2>&1; then
	not_ok "restart cluster B with vae preloaded"
	tail -n 20 "$cl_b/postgres.log"
	finish
fi
ok "cluster B runs with shared_preload_libraries = 'vae' and vae.gpu_worker_autostart = on"
psql_b -c "CREATE EXTENSION vae" -c "CREATE TABLE small AS SELECT * FROM generate_series(1, 300) i, LATERAL (SELECT ARRAY[sin(i)::real, cos(i)::real, (i % 7)::real] AS f) s" >/dev/null
start_b=$(psql_b -Atc "SELECT pg_postmaster_start_time()")
bdir=$cl_b/data/vae_gpud

# training works without vae.gpu_worker, once the daemon is up
train_b() {
	local i out
	for i in $(seq 1 40); do
		out=$(psql_b -At -c "SELECT vae_model_info(vae_train(f, '{\"epochs\": 2, \"device\": \"gpu\"}'))->>'epochs' FROM small" 2>&1)
		[ "$out" = 2 ] && return 0
		sleep 0.25
	done
	echo "# $out"
	return 1
}
check "the supervised daemon trains with device 'gpu' and vae.gpu_worker unset" train_b
check "its socket directory is mode 0700, owned by the server's user" \
	[ "$(stat -c '%a %U' "$bdir")" = "700 $owner" ]
# a live process id; never 0 or empty, which kill would take as our own
# process group
is_pid() { [[ "${1:-}" =~ ^[0-9]+$ ]] && [ "$1" -gt 1 ] && kill -0 "$1" 2>/dev/null; }
pid1=$(cat "$bdir/vae_gpud.pid" 2>/dev/null)
check "the supervisor wrote the daemon's pid" is_pid "$pid1"
parent_of_pid1() { is_pid "$pid1" && [ "$(ps -o comm= -p "$(ps -o ppid= -p "$pid1" | tr -d ' ')" 2>/dev/null | head -c 6)" = postgr ]; }
check "the daemon is a child of the supervisor" parent_of_pid1
check "it runs with vae.gpud_options split into its arguments" \
	grep -q "ready: backend cpu, max request [0-9]* bytes in 120 s, queue 3" "$cl_b/postgres.log"
is_pid "$pid1" && kill -KILL "$pid1" 2>/dev/null
pid2=
restarted() { is_pid "$pid2" && [ "$pid2" != "$pid1" ]; }
for i in $(seq 1 50); do
	pid2=$(cat "$bdir/vae_gpud.pid" 2>/dev/null)
	restarted && break
	sleep 0.1
done
check "kill -9 of the daemon: the supervisor starts a new one within 5 s" restarted
check "... and training works again" train_b
grep -q "vae: GPU worker (pid $pid1) was terminated by signal 9" "$cl_b/postgres.log"
check "the server log shows the crash and the restart" [ $? -eq 0 ]
check "cluster B never restarted" [ "$(psql_b -Atc "SELECT pg_postmaster_start_time()")" = "$start_b" ]
"$root/scripts/pgcluster.sh" stop "$cl_b" >/dev/null
gone=1
for i in $(seq 1 20); do
	is_pid "$pid2" || { gone=0; break; }
	sleep 0.1
done
check "stopping the server leaves no vae_gpud behind" [ $gone -eq 0 ]

# an immediate shutdown kills the supervisor without ceremony: the kernel
# still takes the daemon down with it (PR_SET_PDEATHSIG)
if as_owner "$bindir/pg_ctl" -D "$cl_b/data" -l "$cl_b/postgres.log" -w -t 60 start >/dev/null 2>&1; then
	pid3=
	for i in $(seq 1 50); do
		pid3=$(cat "$bdir/vae_gpud.pid" 2>/dev/null)
		[ -n "$pid3" ] && [ "$pid3" != "$pid2" ] && kill -0 "$pid3" 2>/dev/null && break
		sleep 0.1
	done
	as_owner "$bindir/pg_ctl" -D "$cl_b/data" -m immediate -w -t 60 stop >/dev/null 2>&1
	gone=1
	for i in $(seq 1 30); do
		is_pid "$pid3" || { gone=0; break; }
		sleep 0.1
	done
	gone_after_immediate() { [ -n "$pid3" ] && [ $gone -eq 0 ]; }
	check "an immediate shutdown leaves no vae_gpud behind either" gone_after_immediate
else
	not_ok "start cluster B again"
fi

finish
