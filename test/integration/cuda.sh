#!/bin/bash
# test/integration/cuda.sh - the CUDA engine's tests (test/gpu/test_*.c):
# agreement with the CPU core, determinism for a seed, the device RNG, and
# recovery after a failed job.
#
# Skips -- visibly, in well under a second -- when there is no GPU
# (nvidia-smi missing or listing none) or no nvcc to build with.  Last line:
# "# N passed, N failed, N skipped" (what scripts/run-tests.sh reads).
set -uo pipefail
cd "$(dirname "$0")/../.."

skip()
{
	echo "# SKIP: no GPU ($1)"
	echo "# 0 passed, 0 failed, 1 skipped"
	exit 0
}

command -v nvidia-smi >/dev/null 2>&1 || skip "nvidia-smi not found"
nvidia-smi -L 2>/dev/null | grep -q '^GPU ' || skip "nvidia-smi lists no device"
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$NVCC" ] || skip "nvcc not found, cannot build the CUDA engine"
export NVCC

# the Makefile's target when it has one, else the same build by hand
if grep -q '^gpu-tests:' Makefile 2>/dev/null; then
	${MAKE:-make} gpu-tests || { echo "# building the GPU tests failed"; echo "# 0 passed, 1 failed"; exit 1; }
else
	test/gpu/build.sh || { echo "# building the GPU tests failed"; echo "# 0 passed, 1 failed"; exit 1; }
fi

passed=0
failed=0
skipped=0
for t in build/gpu/test_*; do
	[ -x "$t" ] && [ "${t%.o}" = "$t" ] || continue
	echo "## $t"
	out=$("$t" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | grep -E '^# [0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if echo "$out" | grep -q '^# SKIP'; then
		skipped=$((skipped + 1))
	elif [ -z "$line" ]; then
		echo "# $t ended without a summary (exit $rc)"
		failed=$((failed + 1))
	else
		p=$(echo "$line" | sed -E 's/^# ([0-9]+) passed.*/\1/')
		f=$(echo "$line" | sed -E 's/^# [0-9]+ passed, ([0-9]+) failed.*/\1/')
		passed=$((passed + p))
		failed=$((failed + f))
		[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || failed=$((failed + 1))
	fi
done
echo "# $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
