#!/usr/bin/env bash
# bench/cancel_latency.sh - how long a cancel takes to end vae_train in each
# phase of training: the scan, the bottom-k sample (max_rows), the canonical
# sort, normalization, the epochs and the score sample kept for
# vae_threshold.  Prints one line per phase and a summary table.
#
#   bench/cancel_latency.sh                    20,000,000 rows, pg_cancel_backend
#   ROWS=2000000 bench/cancel_latency.sh       another table size
#   MODE=timeout bench/cancel_latency.sh       statement_timeout instead
#   PHASES="sort normalize" bench/...          some phases only
#   MAX_LATENCY=1 bench/...                    exit 1 if a phase takes longer
#                                              (seconds; the integration test)
#
# How: a calibration run of the training statement with
# client_min_messages = debug1 stamps the backend's phase messages
# ("vae_train: sort phase, N rows", ...) as they arrive, which gives each
# phase's window.  Then, per phase, the statement runs again and is canceled
# in the middle of that window: MODE=cancel sends pg_cancel_backend from a
# second session once the phase's message has arrived and half the phase's
# calibrated length has passed; MODE=timeout sets statement_timeout to the
# middle of the window.  The latency is the time from the cancel (the
# moment pg_cancel_backend is sent, or the timeout's deadline) to the ERROR's
# arrival at the client; with MODE=cancel it includes starting the second
# psql (a few ms).  The phase the cancel landed in is the last phase message
# before the ERROR; a run that landed elsewhere (a noisy machine) is retried.
#
# The table, TABLE (default t<ROWS>), is made when missing (UNLOGGED):
# two random features per row, array[random(), g % 97]::real[], the
# reproduction of the issue.  Kept afterwards, since building 20M rows takes
# minutes.  With PGHOST set it uses that server; else a throwaway cluster
# (scripts/with-cluster.sh).  It installs nothing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

if [ -z "${PGHOST:-}" ]; then
	exec "$root/scripts/with-cluster.sh" "$0" "$@"
fi

ROWS=${ROWS:-20000000}
TABLE=${TABLE:-t$ROWS}
MODE=${MODE:-cancel}
PHASES=${PHASES:-scan sample sort normalize epochs score_sample}
MAX_LATENCY=${MAX_LATENCY:-}
OPTS=${OPTS:-'"epochs": 1, "hidden": [4], "latent_dim": 1, "mc_samples": 200'}
SAMPLE_ROWS=${SAMPLE_ROWS:-$((ROWS / 4))}
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
work=$(mktemp -d /tmp/vae-cancel.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT

"${PSQL[@]}" -c "CREATE EXTENSION IF NOT EXISTS vae" >/dev/null 2>&1
if ! "${PSQL[@]}" -Atc "SELECT 1 FROM pg_class WHERE relname = '$TABLE'" | grep -q 1; then
	echo "creating $TABLE ($ROWS rows)..."
	"${PSQL[@]}" -c "CREATE UNLOGGED TABLE $TABLE AS
		SELECT array[random(), g % 97]::real[] AS f FROM generate_series(1, $ROWS) g" || exit 2
fi

# run_stamped FILE TIMEOUT_MS OPTIONS: the training statement, every line of
# psql's output stamped with the client's clock; "start" marks the moment
# the statement is sent
run_stamped() {
	local file=$1 timeout=$2 opts=$3
	{
		"${PSQL[@]}" -v ON_ERROR_STOP=0 2>&1 <<SQL
SET client_min_messages = debug1;
DO \$\$BEGIN RAISE NOTICE 'start pid %', pg_backend_pid(); END\$\$;
SET statement_timeout = $timeout;
SELECT length(vae_train(f, '{$opts}')) FROM $TABLE;
SQL
	} | while IFS= read -r line; do
		echo "$EPOCHREALTIME $line"
	done >"$file"
}

# the options of a phase's runs: bottom-k needs max_rows
phase_opts() {
	if [ "$1" = sample ]; then
		echo "$OPTS, \"max_rows\": $SAMPLE_ROWS"
	else
		echo "$OPTS"
	fi
}

# the message that starts a phase, and the phase a message line names
phase_pattern() {
	case $1 in
	scan) echo "start pid" ;;
	score_sample) echo "vae_train: score sample phase" ;;
	*) echo "vae_train: $1 phase" ;;
	esac
}
line_phase() {
	case $1 in
	*"start pid"*) echo scan ;;
	*"vae_train: score sample phase"*) echo score_sample ;;
	*"vae_train: "*" phase"*) sed -E 's/.*vae_train: ([a-z]+) phase.*/\1/' <<<"$1" ;;
	esac
}

# window PHASE FILE: "start end" seconds after "start pid" (the first
# occurrence of the phase; it ends at the next phase message or the result)
window() {
	local pat t0 s
	pat=$(phase_pattern "$1")
	t0=$(grep -m1 "start pid" "$2" | cut -d' ' -f1)
	s=$(grep -m1 -n -- "$pat" "$2" | cut -d: -f1)
	[ -n "$s" ] || return 1
	awk -v t0="$t0" -v s="$s" 'NR == s { a = $1 }
		NR > s && b == "" && /vae_train: |ERROR:|^[0-9.]+ +[0-9]+$/ { b = $1 }
		END { if (a == "" || b == "") exit 1; printf "%.3f %.3f\n", a - t0, b - t0 }' "$2"
}

# landed FILE: the phase of the last phase message before the ERROR
landed() {
	local last="" line p
	while IFS= read -r line; do
		case $line in
		*"ERROR:"*) break ;;
		esac
		p=$(line_phase "$line")
		[ -n "$p" ] && last=$p
	done <"$1"
	echo "$last"
}

echo "calibrating on $TABLE ($ROWS rows), options {$OPTS}..."
run_stamped "$work/cal" 0 "$OPTS"
run_stamped "$work/cal_sample" 0 "$(phase_opts sample)"
for p in scan sort normalize epochs score_sample; do
	echo "  $p: $(window "$p" "$work/cal" | awk '{ printf "%.3f s to %.3f s", $1, $2 }')"
done
echo "  sample (max_rows $SAMPLE_ROWS): $(window sample "$work/cal_sample" | awk '{ printf "%.3f s to %.3f s", $1, $2 }')"

results=()
worst=0
for phase in $PHASES; do
	cal=$work/cal
	[ "$phase" = sample ] && cal=$work/cal_sample
	read -r ws we < <(window "$phase" "$cal") || { echo "$phase: no window"; continue; }
	lat=""
	for try in 1 2 3; do
		out=$work/run_${phase}_${try}
		if [ "$MODE" = timeout ]; then
			mid_ms=$(awk -v s="$ws" -v e="$we" 'BEGIN { printf "%d", (s + e) / 2 * 1000 }')
			run_stamped "$out" "$mid_ms" "$(phase_opts "$phase")"
			t0=$(grep -m1 "start pid" "$out" | cut -d' ' -f1)
			tc=$(awk -v t0="$t0" -v m="$mid_ms" 'BEGIN { printf "%.6f", t0 + m / 1000 }')
		else
			run_stamped "$out" 0 "$(phase_opts "$phase")" &
			runner=$!
			pat=$(phase_pattern "$phase")
			until grep -q -- "$pat" "$out" 2>/dev/null || ! kill -0 "$runner" 2>/dev/null; do
				sleep 0.01
			done
			pid=$(grep -m1 "start pid" "$out" | sed -E 's/.*start pid ([0-9]+).*/\1/')
			sleep "$(awk -v s="$ws" -v e="$we" 'BEGIN { printf "%.3f", (e - s) / 2 }')"
			tc=$EPOCHREALTIME
			"${PSQL[@]}" -Atc "SELECT pg_cancel_backend($pid)" >/dev/null
			wait "$runner"
		fi
		te=$(grep -m1 "ERROR:" "$out" | cut -d' ' -f1)
		got=$(landed "$out")
		if [ -n "$te" ] && [ "$got" = "$phase" ]; then
			lat=$(awk -v a="$tc" -v b="$te" 'BEGIN { printf "%.3f", b - a }')
			break
		fi
		if [ -z "$te" ]; then
			echo "  $phase try $try: the statement ended before the cancel, retrying"
		else
			echo "  $phase try $try: the cancel landed in '${got:-none}', retrying"
		fi
	done
	if [ -z "$lat" ]; then
		echo "$phase: could not cancel inside the phase"
		results+=("$phase|n/a")
		worst=999
		continue
	fi
	grep -m1 "ERROR:" "$out" | cut -d' ' -f2- | sed 's/^/  /'
	echo "$phase: canceled $(awk -v s="$ws" -v e="$we" 'BEGIN { printf "%.2f", (s + e) / 2 }') s into the statement, ERROR after $lat s"
	results+=("$phase|$lat")
	worst=$(awk -v a="$worst" -v b="$lat" 'BEGIN { print (b > a ? b : a) }')
done

echo
echo "cancel latency ($MODE) at $ROWS rows:"
printf '  %-14s %s\n' phase "seconds from cancel to ERROR"
for r in "${results[@]}"; do
	printf '  %-14s %s\n' "${r%%|*}" "${r#*|}"
done
if [ -n "$MAX_LATENCY" ]; then
	awk -v w="$worst" -v m="$MAX_LATENCY" 'BEGIN { exit !(w <= m) }' || {
		echo "worst latency $worst s is more than $MAX_LATENCY s"
		exit 1
	}
fi
exit 0
