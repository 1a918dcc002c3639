#!/usr/bin/env bash
# Integration test of vae_gpud with its CPU backend (no GPU needed): the
# daemon built by `make` (build/vae_gpud) and the test client
# (build/vgp_test_client, test/gpud/vgp_test_client.c).
#
# Prints "ok N - ..." / "not ok N - ..." per check and, last,
# "# N passed, N failed, N skipped".  Each check is described where it runs.
set -uo pipefail
cd "$(dirname "$0")/../.."

GPUD=build/vae_gpud
CLIENT=build/vgp_test_client
n_pass=0
n_fail=0
n_skip=0
n=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		n_pass=$((n_pass + 1))
		echo "ok $n - $2"
	else
		n_fail=$((n_fail + 1))
		echo "not ok $n - $2"
	fi
}
skip() {
	n=$((n + 1))
	n_skip=$((n_skip + 1))
	echo "ok $n - # SKIP $1"
}
finish() {
	echo "# $n_pass passed, $n_fail failed, $n_skip skipped"
	[ "$n_fail" -eq 0 ]
	exit
}

if [ ! -x "$GPUD" ] || [ ! -x "$CLIENT" ]; then
	ok 1 "vae_gpud and the test client are built (run make)"
	finish
fi

T=$(mktemp -d /tmp/vae-gpud-test.XXXXXX)
chmod 700 "$T"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

# wait_log FILE PATTERN SECONDS: 0 once PATTERN appears in FILE
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# quietly run the client; its output goes to $T/out
client() {
	"$CLIENT" "$@" >"$T/out" 2>&1
}

# ---- start-up refusals ------------------------------------------------------
# --backend cuda without a CUDA build or without a device must fail clearly
if "$GPUD" --version | grep -q "cuda backend" && nvidia-smi -L >/dev/null 2>&1; then
	skip "--backend cuda refusal (this machine has a GPU and a CUDA build)"
else
	mkdir -m 700 "$T/c"
	timeout 20 "$GPUD" --socket "$T/c/s" --backend cuda >"$T/cuda.out" 2>&1
	rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qi "cuda" "$T/cuda.out"
	ok $? "--backend cuda without CUDA exits non-zero with a message: $(head -n1 "$T/cuda.out")"
fi

mkdir -m 777 "$T/open"
chmod 777 "$T/open"
"$GPUD" --socket "$T/open/s" --backend cpu >"$T/open.out" 2>&1
[ $? -ne 0 ] && grep -q "accessible by other users" "$T/open.out" && [ ! -e "$T/open/s" ]
ok $? "refuses a socket directory with mode 0777"

mkdir -m 750 "$T/group"
"$GPUD" --socket "$T/group/s" --backend cpu >"$T/group.out" 2>&1
[ $? -ne 0 ] && grep -q "accessible by other users" "$T/group.out"
ok $? "refuses a socket directory open to the group (0750)"

# owned by someone else: /tmp (root's) for a normal user; as root, a 0700
# directory given to nobody
if [ "$(id -u)" -ne 0 ]; then
	other=/tmp
else
	other="$T/other"
	mkdir -m 700 "$other"
	chown nobody "$other" 2>/dev/null || chown 65534 "$other"
fi
"$GPUD" --socket "$other/vae-gpud-$$.sock" --backend cpu >"$T/other.out" 2>&1
[ $? -ne 0 ] && grep -q "owned by another user" "$T/other.out"
ok $? "refuses a socket directory owned by another user ($other)"

"$GPUD" --listen 127.0.0.1:0 --backend cpu >"$T/nosecret.out" 2>&1 </dev/null
[ $? -ne 0 ] && grep -q "needs a shared secret" "$T/nosecret.out"
ok $? "refuses --listen without a secret"

printf 'right-secret\n' >"$T/secret"
chmod 644 "$T/secret"
"$GPUD" --listen 127.0.0.1:0 --secret-file "$T/secret" --backend cpu >"$T/badsecret.out" 2>&1
[ $? -ne 0 ] && grep -q "accessible by other users" "$T/badsecret.out"
ok $? "refuses a secret file readable by others"
chmod 600 "$T/secret"

# plain TCP: only with --insecure-loopback, and only on a loopback address
"$GPUD" --listen 127.0.0.1:0 --secret-file "$T/secret" --backend cpu >"$T/plain.out" 2>&1
[ $? -ne 0 ] && grep -q "in the clear" "$T/plain.out" && grep -q -- "--tls-cert" "$T/plain.out"
ok $? "refuses --listen without TLS or --insecure-loopback: $(head -n1 "$T/plain.out")"
"$GPUD" --listen 0.0.0.0:0 --secret-file "$T/secret" --insecure-loopback --backend cpu \
	>"$T/plainany.out" 2>&1
[ $? -ne 0 ] && grep -q "not a loopback address" "$T/plainany.out"
ok $? "refuses plain TCP on a non-loopback address (0.0.0.0): $(head -n1 "$T/plainany.out")"
"$GPUD" --listen 127.0.0.1:0 --secret-file "$T/secret" --tls-cert "$T/secret" --backend cpu \
	>"$T/halftls.out" 2>&1
[ $? -ne 0 ] && grep -q "go together" "$T/halftls.out"
ok $? "refuses --tls-cert without --tls-key"

# ---- the daemon --------------------------------------------------------------
D="$T/run"
SOCK="$D/gpud.sock"
LOG="$T/gpud.log"
"$GPUD" --socket "$SOCK" --listen 127.0.0.1:0 --secret-file "$T/secret" --insecure-loopback \
	--backend cpu --max-queue 1 --max-request-bytes 1000000 --idle-timeout 2 \
	--log-file "$LOG" &
GPID=$!
PIDS+=("$GPID")
wait_log "$LOG" "ready" 10
ok $? "daemon starts (cpu backend, unix socket + tcp)"
PORT=$(sed -n 's/.*listening on tcp 127.0.0.1 port \([0-9]*\).*/\1/p' "$LOG" | head -n1)

[ "$(stat -c %a "$D")" = 700 ] && [ "$(stat -c %a "$SOCK")" = 600 ]
ok $? "created the socket directory 0700 and the socket 0600"

# a valid job: the model must be byte-identical to one trained by the core
# directly (vc_train, the CPU path of vae_train) on the same rows and
# options, after zeroing train_seconds in both; the RESULT history must equal
# the model's, and there must be one PROGRESS per epoch (verbose)
client --socket "$SOCK" --rows 600 --dim 10 --epochs 4 --seed 11 --verbose --compare \
	--out "$T/model.bin"
rc=$?
cat "$T/out"
[ $rc -eq 0 ] && grep -q "identical" "$T/out" && grep -q "4 epochs, 4 progress frames" "$T/out"
ok $? "valid job over the unix socket: model byte-identical to the core's, history and progress"

# enough rows for the daemon to hash them on several threads (65,536 rows a
# thread, as many threads as CPUs): still the core's model to the byte
client --socket "$SOCK" --rows 140000 --dim 1 --epochs 1 --seed 5 --compare
rc=$?
threads=$(sed -n 's/.*hashing rows [0-9.]* s on \([0-9]*\) thread.*/\1/p' "$LOG" | tail -n1)
want=2
[ "$(nproc)" -lt 2 ] && want=1
[ $rc -eq 0 ] && grep -q "identical" "$T/out" && [ "$threads" = "$want" ]
ok $? "140,000 rows hashed on $threads threads: model byte-identical to the core's"

# garbage of each kind: ERROR (or a close), and the daemon keeps serving
for kind in random magic version type wrongtype hugelen hugesmall short lying_rows \
	overflow_rows badopt badlatent dim0 extra nan; do
	case $kind in
	nan) client --socket "$SOCK" --garbage nan --expect-error "is NaN" ;;
	*) client --socket "$SOCK" --garbage "$kind" ;;
	esac
	rc=$?
	grep -q "^ERROR" "$T/out" && [ $rc -eq 0 ]
	ok $? "garbage '$kind' answered with ERROR: $(head -n1 "$T/out")"
done
for seed in 1 2 3 4 5 6 7 8 9 10; do
	client --socket "$SOCK" --garbage random --seed "$seed" || break
	client --socket "$SOCK" --garbage randhdr --seed "$seed" || break
done
ok $? "ten random-byte requests and ten TRAINs with random headers answered with ERROR or a close"

client --socket "$SOCK" --garbage truncated --expect-error "timed out" --timeout 10
ok $? "a truncated request times out with ERROR (idle timeout): $(head -n1 "$T/out")"

kill -0 "$GPID" 2>/dev/null && client --socket "$SOCK" --rows 300 --dim 5 --epochs 2 --compare
ok $? "daemon still alive and serving valid jobs after the garbage"

client --socket "$SOCK" --rows 5000 --dim 60 --epochs 1 --expect-error "exceeds the limit"
ok $? "oversized request (1.2 MB > --max-request-bytes 1000000) rejected: $(head -n1 "$T/out")"

# queue full: one job running, one waiting (--max-queue 1), the third refused
"$CLIENT" --socket "$SOCK" --rows 900 --dim 32 --epochs 100000 >"$T/a.out" 2>&1 &
A=$!
wait_log "$LOG" "job [0-9]* started: 900 rows" 10
JA=$(sed -n 's/.*job \([0-9]*\) started: 900 rows.*/\1/p' "$LOG" | tail -n1)
"$CLIENT" --socket "$SOCK" --rows 800 --dim 32 --epochs 100000 >"$T/b.out" 2>&1 &
B=$!
wait_log "$LOG" "job [0-9]* queued: 800 rows" 10
client --socket "$SOCK" --rows 300 --dim 5 --epochs 2 --expect-error "queue full"
ok $? "queue full answered with ERROR: $(head -n1 "$T/out")"

# disconnects: the queued job is dropped, the running one canceled
kill "$B"
wait "$B" 2>/dev/null
wait_log "$LOG" "canceled while queued" 5
ok $? "a queued job whose client disconnects is dropped"
kill "$A"
wait "$A" 2>/dev/null
wait_log "$LOG" "job $JA canceled after" 5
ok $? "a running job whose client disconnects is canceled (log: $(grep "job $JA canceled" "$LOG" | sed 's/.*] //'))"
start=$(date +%s.%N)
client --socket "$SOCK" --rows 300 --dim 5 --epochs 2
rc=$?
el=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
[ $rc -eq 0 ] && awk -v e="$el" 'BEGIN { exit !(e < 5) }'
ok $? "the next job starts and finishes promptly after the cancel (${el}s)"

# a client that hangs up after the first PROGRESS cancels its job too
client --socket "$SOCK" --rows 900 --dim 32 --epochs 100000 --disconnect-after-progress
J=$(sed -n 's/.*job \([0-9]*\) started: 900 rows.*/\1/p' "$LOG" | tail -n1)
wait_log "$LOG" "job $J canceled after .* (client disconnected)" 5
ok $? "disconnect mid-job (after a PROGRESS) cancels the job"

# ---- TCP ---------------------------------------------------------------------
if [ -n "$PORT" ]; then
	client --tcp "127.0.0.1:$PORT" --no-auth --rows 300 --dim 5 --expect-error "authentication required"
	ok $? "TCP without AUTH rejected: $(head -n1 "$T/out")"
	client --tcp "127.0.0.1:$PORT" --secret wrong-secret --rows 300 --dim 5 \
		--expect-error "authentication failed"
	ok $? "TCP with a wrong secret rejected: $(head -n1 "$T/out")"
	grep -q "authentication failed" "$LOG"
	ok $? "the failed authentication is logged"
	client --tcp "127.0.0.1:$PORT" --secret right-secret --rows 400 --dim 6 --epochs 3 --compare
	rc=$?
	[ $rc -eq 0 ] && grep -q identical "$T/out"
	ok $? "TCP with the right secret: model byte-identical to the core's"
else
	ok 1 "TCP port found in the log"
fi

# ---- TLS ---------------------------------------------------------------------
# a CA, a server certificate it signs for 127.0.0.1 and localhost, and an
# unrelated CA that must not be trusted

# start_tls NAME: a daemon with $T/NAME.crt and .key on 127.0.0.1, logging to
# $T/NAME.log; sets TLS_PID and TLS_PORT; 0 once it is ready
start_tls() {
	"$GPUD" --listen 127.0.0.1:0 --secret-file "$T/secret" --tls-cert "$T/$1.crt" \
		--tls-key "$T/$1.key" --backend cpu --log-file "$T/$1.log" &
	TLS_PID=$!
	PIDS+=("$TLS_PID")
	wait_log "$T/$1.log" "ready" 10 || return 1
	TLS_PORT=$(sed -n 's/.*listening on tcp 127.0.0.1 port \([0-9]*\) (TLS).*/\1/p' "$T/$1.log" |
		head -n1)
}
if ! test/gpud/make_test_certs.sh "$T" >"$T/mkcert.out" 2>&1; then
	cat "$T/mkcert.out"
	ok 1 "made a test CA and server certificate with openssl"
else
	LOG5="$T/srv.log"
	start_tls srv
	ok $? "daemon starts with --tls-cert and --tls-key"
	G5=$TLS_PID
	TPORT=$TLS_PORT
	client --tcp "127.0.0.1:$TPORT" --tls-ca "$T/ca.crt" --secret right-secret --rows 400 --dim 6 \
		--epochs 3 --verbose --compare
	[ $? -eq 0 ] && grep -q identical "$T/out" && grep -q "3 epochs, 3 progress frames" "$T/out"
	ok $? "TLS to 127.0.0.1: model byte-identical to the core's, with progress"
	client --tcp "localhost:$TPORT" --tls-ca "$T/ca.crt" --secret right-secret --rows 30000 --dim 20 \
		--epochs 1 --compare
	[ $? -eq 0 ] && grep -q identical "$T/out"
	ok $? "TLS to localhost, 2.4 MB of rows: model byte-identical to the core's"
	client --tcp "127.0.0.1:$TPORT" --tls-ca "$T/other.crt" --secret right-secret --rows 300 --dim 5 \
		--expect-error "certificate verify failed"
	ok $? "a certificate from another CA is refused: $(head -n1 "$T/out")"
	grep -q "TLS handshake failed" "$LOG5"
	ok $? "the failed handshake is logged: $(grep -m1 "TLS handshake failed" "$LOG5" | sed 's/.*] //')"
	client --tcp "127.0.0.1:$TPORT" --tls-ca "$T/ca.crt" --secret wrong-secret --rows 300 --dim 5 \
		--expect-error "authentication failed"
	ok $? "TLS with a wrong secret rejected: $(head -n1 "$T/out")"
	client --tcp "127.0.0.1:$TPORT" --secret right-secret --rows 300 --dim 5 --timeout 2
	[ $? -ne 0 ] && ! grep -q RESULT "$T/out"
	ok $? "a plain client gets nothing from a TLS listener"
	"$CLIENT" --tcp "127.0.0.1:$TPORT" --tls-ca "$T/ca.crt" --secret right-secret --rows 900 --dim 32 \
		--epochs 100000 >"$T/tlslong.out" 2>&1 &
	TL=$!
	wait_log "$LOG5" "job [0-9]* started: 900 rows" 10
	JT=$(sed -n 's/.*job \([0-9]*\) started: 900 rows.*/\1/p' "$LOG5" | tail -n1)
	kill "$TL"
	wait "$TL" 2>/dev/null
	wait_log "$LOG5" "job $JT canceled after" 5
	ok $? "a TLS client that disconnects mid-job cancels its job"
	kill -INT "$G5"
	wait "$G5"
	ok $? "SIGINT: clean exit (TLS daemon)"

	# the right CA but a certificate for another host: refused
	start_tls elsewhere
	G6=$TLS_PID
	WPORT=$TLS_PORT
	client --tcp "127.0.0.1:$WPORT" --tls-ca "$T/ca.crt" --secret right-secret --rows 300 --dim 5 \
		--expect-error "IP address mismatch"
	ok $? "a certificate for another host is refused (127.0.0.1): $(head -n1 "$T/out")"
	client --tcp "localhost:$WPORT" --tls-ca "$T/ca.crt" --secret right-secret --rows 300 --dim 5 \
		--expect-error "hostname mismatch"
	ok $? "... and by name (localhost): $(head -n1 "$T/out")"
	kill -INT "$G6"
	wait "$G6"
fi

# ---- a second daemon, stale sockets, shutdown -----------------------------------
"$GPUD" --socket "$SOCK" --backend cpu >"$T/second.out" 2>&1
[ $? -ne 0 ] && grep -q "already serving" "$T/second.out"
ok $? "a second daemon on a live socket refuses to start"

# SIGTERM while a job runs: cancel it, exit 0, remove the socket
"$CLIENT" --socket "$SOCK" --rows 900 --dim 32 --epochs 100000 >"$T/c.out" 2>&1 &
C=$!
wait_log "$LOG" "job [0-9]* started: 900 rows" 10
sleep 0.3
kill -TERM "$GPID"
start=$(date +%s)
wait "$GPID"
rc=$?
wait "$C" 2>/dev/null
[ $rc -eq 0 ] && [ ! -e "$SOCK" ] && [ $(($(date +%s) - start)) -le 5 ]
ok $? "SIGTERM during a job: exit status $rc, socket removed, job canceled"
grep -q "daemon shutting down" "$LOG"
ok $? "the running job was canceled by the shutdown"

# a socket file left behind by a killed daemon is replaced
"$GPUD" --socket "$SOCK" --backend cpu --log-file "$T/log2" &
G2=$!
PIDS+=("$G2")
wait_log "$T/log2" "ready" 10
kill -9 "$G2"
wait "$G2" 2>/dev/null
[ -S "$SOCK" ]
stale=$?
"$GPUD" --socket "$SOCK" --backend cpu --max-queued-bytes 7000 --max-connections 2 \
	--log-file "$T/log3" &
G3=$!
PIDS+=("$G3")
wait_log "$T/log3" "ready" 10 && client --socket "$SOCK" --rows 300 --dim 5 --epochs 2
rc=$?
[ $stale -eq 0 ] && [ $rc -eq 0 ]
ok $? "a stale socket file from a killed daemon is removed at start-up"
client --socket "$SOCK" --rows 400 --dim 5 --epochs 2 --expect-error "bytes of rows waiting"
ok $? "--max-queued-bytes: 8000 bytes of rows over a 7000-byte budget refused: $(head -n1 "$T/out")"
# --max-connections 2: two idle connections fill it, a third is refused
"$CLIENT" --socket "$SOCK" --garbage truncated --timeout 3 >/dev/null 2>&1 &
I1=$!
"$CLIENT" --socket "$SOCK" --garbage truncated --timeout 3 >/dev/null 2>&1 &
I2=$!
sleep 1	# idle connections log nothing; give both time to connect
client --socket "$SOCK" --rows 300 --dim 5 --expect-error "too many connections"
ok $? "--max-connections: a connection over the limit is refused: $(head -n1 "$T/out")"
kill "$I1" "$I2" 2>/dev/null
wait "$I1" "$I2" 2>/dev/null
kill -INT "$G3"
wait "$G3"
ok $? "SIGINT: clean exit"

# ---- the request deadline (--request-timeout) ---------------------------------
# A client that trickles its TRAIN one byte every 0.5 s is never silent for
# --idle-timeout 1; only --request-timeout 2 ends it, with ERROR, freeing its
# queue place, and the daemon goes on.  A job that trains for longer than the
# deadline is not cut: the deadline is for receiving the request only.
S4="$T/rt/gpud.sock"
LOG4="$T/log4"
"$GPUD" --socket "$S4" --backend cpu --max-queue 1 --idle-timeout 1 --request-timeout 2 \
	--log-file "$LOG4" &
G4=$!
PIDS+=("$G4")
wait_log "$LOG4" "ready" 10
ok $? "daemon starts with --request-timeout 2 --idle-timeout 1"
long_start=$(date +%s.%N)
"$CLIENT" --socket "$S4" --rows 900 --dim 32 --epochs 100000 >"$T/long.out" 2>&1 &
L=$!
wait_log "$LOG4" "job [0-9]* started: 900 rows" 10
JL=$(sed -n 's/.*job \([0-9]*\) started: 900 rows.*/\1/p' "$LOG4" | tail -n1)
start=$(date +%s.%N)
"$CLIENT" --socket "$S4" --garbage trickle --expect-error "longer than --request-timeout" \
	--timeout 8 >"$T/trickle.out" 2>&1 &
TR=$!
# its TRAIN header took the one queue place (the long job runs): a job is refused
wait_log "$T/trickle.out" "TRICKLING" 10 &&
	client --socket "$S4" --rows 300 --dim 5 --expect-error "queue full"
ok $? "a trickling upload holds a queue place: $(head -n1 "$T/out")"
wait "$TR"
rc=$?
el=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
[ $rc -eq 0 ] && awk -v e="$el" 'BEGIN { exit !(e >= 1.9 && e < 5) }'
ok $? "a request trickled faster than --idle-timeout gets ERROR at --request-timeout (${el}s): $(tail -n1 "$T/trickle.out")"
grep -q "connection [0-9]* (unix): vae_gpud: the request took longer than --request-timeout (2 s)" "$LOG4"
ok $? "the request timeout is logged"
age=$(awk -v a="$long_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
kill -0 "$L" 2>/dev/null && [ ! -s "$T/long.out" ] && ! grep -q "job $JL \(canceled\|failed\)" "$LOG4" &&
	awk -v e="$age" 'BEGIN { exit !(e > 2) }'
ok $? "a job training past the deadline is not cut (still running ${age}s after it connected)"
# the freed place takes the next job, which trains once the long one is canceled
"$CLIENT" --socket "$S4" --rows 301 --dim 5 --epochs 2 --compare >"$T/next.out" 2>&1 &
N=$!
wait_log "$LOG4" "job [0-9]* queued: 301 rows" 5
queued=$?
kill "$L"
wait "$L" 2>/dev/null
wait "$N"
rc=$?
[ $queued -eq 0 ] && [ $rc -eq 0 ] && grep -q identical "$T/next.out"
ok $? "after the timeout the next client's job is queued and trained (model byte-identical to the core's)"
kill -INT "$G4"
wait "$G4"
ok $? "SIGINT: clean exit (--request-timeout daemon)"

echo "---- daemon log ----"
sed 's/^/# /' "$LOG" "$LOG4"
finish
