#!/bin/bash
# test/integration/cuda.sh - the CUDA engine's tests (test/gpu/test_*.c):
# agreement with the CPU core, determinism for a seed, the device RNG, and
# recovery after a failed job.
#
# Without a GPU (nvidia-smi missing or listing none) or nvcc, the on-device
# run is skipped, visibly (counted as 1 skipped), and the same test program
# runs instead on the host emulation of the engine (test/gpu/emu/: the real
# engine source compiled by g++ against stand-ins for the CUDA runtime and
# cuBLAS; about 30 s).  That checks the engine's logic -- the kernels'
# arithmetic and reduction order, the step schedule, error handling -- not
# the GPU.  VGP_CUDA_EMU=0 skips the emulation too.
# Last line: "# N passed, N failed, N skipped" (what scripts/run-tests.sh
# reads).
set -uo pipefail
cd "$(dirname "$0")/../.."

# run build/<dir>/test_* and total their "# N passed, N failed" lines
run_tests()
{
	local dir=$1 passed=0 failed=0 skipped=0 t out rc line p f
	for t in "$dir"/test_*; do
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
}

build_failed()
{
	echo "# building the GPU tests failed"
	echo "# 0 passed, 1 failed"
	exit 1
}

skip()
{
	local out rc line
	echo "# SKIP: no GPU ($1): the CUDA tests did not run on a device"
	if [ "${VGP_CUDA_EMU:-1}" = 0 ]; then
		echo "# 0 passed, 0 failed, 1 skipped"
		exit 0
	fi
	echo "# running the same tests on the host emulation of the engine"
	test/gpu/emu/build.sh || build_failed
	out=$(run_tests build/gpu-emu)
	rc=$?
	echo "$out"
	line=$(echo "$out" | tail -n 1)
	# the emulated counts, plus the skipped on-device run
	echo "$line" | sed -E 's/^# ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/# \1 passed, \2 failed, 1 skipped/'
	exit $rc
}

command -v nvidia-smi >/dev/null 2>&1 || skip "nvidia-smi not found"
nvidia-smi -L 2>/dev/null | grep -q '^GPU ' || skip "nvidia-smi lists no device"
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$NVCC" ] || skip "nvcc not found, cannot build the CUDA engine"
export NVCC

# the Makefile's target when it has one, else the same build by hand
if grep -q '^gpu-tests:' Makefile 2>/dev/null; then
	${MAKE:-make} gpu-tests || build_failed
else
	test/gpu/build.sh || build_failed
fi
run_tests build/gpu
