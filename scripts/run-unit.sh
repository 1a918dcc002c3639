#!/usr/bin/env bash
# Run the unit test programs built by `make unit-build` (build/unit/test_*,
# one per test/unit/test_*.c) and tally their results.
#
# Each program prints "# N passed, N failed" as its last line.  Counting:
#   - that line found: add its N passed / N failed; if the program still
#     exited non-zero with 0 failed (e.g. a leak report at exit), +1 failed;
#   - line missing (crash, sanitizer abort, timeout) or program not built:
#     +1 failed.
# Output of each program goes to build/unit/<name>.log (shown when it fails).
# Writes build/unit/summary ("PASSED FAILED") and build/unit/results.txt.
# Last line printed: "unit: N passed, N failed"; exits 1 if anything failed.
#
# UNIT_TIMEOUT (seconds, default 900) bounds each program.
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$VAE_ROOT"

out=build/unit
mkdir -p "$out"
: >"$out/results.txt"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
timeout_s=${UNIT_TIMEOUT:-900}

total_p=0
total_f=0
nprog=0
shopt -s nullglob
for src in test/unit/test_*.c; do
	name=$(basename "$src" .c)
	bin="$out/$name"
	log="$out/$name.log"
	nprog=$((nprog + 1))
	p=0 f=0 note=""
	if [ ! -x "$bin" ]; then
		f=1 rc=-1 note="not built"
		echo "not built" >"$log"
	else
		timeout -k 10 "$timeout_s" "$bin" >"$log" 2>&1
		rc=$?
		line=$(grep -E '^# [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
		if [ -n "$line" ]; then
			p=$(echo "$line" | sed -E 's/^# ([0-9]+) passed, ([0-9]+) failed$/\1/')
			f=$(echo "$line" | sed -E 's/^# ([0-9]+) passed, ([0-9]+) failed$/\2/')
			if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
				f=1 note="exit status $rc after summary"
			fi
		else
			f=1
			if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
				note="timed out after ${timeout_s}s"
			else
				note="no summary line (exit status $rc)"
			fi
		fi
	fi
	if [ "$f" -eq 0 ]; then
		status=ok
	else
		status=FAIL
	fi
	printf '%-40s %-4s %4d passed, %d failed%s\n' "$name" "$status" "$p" "$f" \
		"${note:+  ($note)}"
	echo "$name $status $p $f $rc" >>"$out/results.txt"
	if [ "$status" = FAIL ]; then
		echo "---- $log (last 200 lines) ----"
		tail -n 200 "$log"
		echo "---- end of $log ----"
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
done

echo "$total_p $total_f" >"$out/summary"
echo "unit: $nprog programs"
echo "unit: $total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
