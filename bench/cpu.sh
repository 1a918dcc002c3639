#!/usr/bin/env bash
# bench/cpu.sh - CPU performance of the vae extension against references
# measured in the same run (the machine may be shared and noisy, so only the
# ratios within one run mean much):
#
#   1. training throughput (rows x epochs / s) of SELECT vae_train(f, opts)
#      FROM t, wall time client-side, against a PyTorch CPU training loop of
#      the same network (best of 1 and 2 threads), for an MNIST-like
#      784-400-20 network on MNIST-like rows (80% zeros) and on dense uniform
#      rows (the same speed expected: no data-dependent slow path), and a
#      KDD-like 118-60-10 network;
#   2. scoring throughput (rows / s) of vae_score 'mse' and the default
#      'recon_prob' in one backend and with 2 parallel workers, against
#      PyTorch's batched forward pass on 1 thread;
#   3. the GEMM ceiling (bench/cpu_gemm.c: cblas_sgemm on the layer shapes and
#      a large square) and vae's achieved GFLOP/s;
#   4. the backend's peak memory (VmHWM) training the KDD-like network,
#      against the goal of at most 1.25 x the rows' size + 64 MB;
#   5. detection over a table: the set-returning vae_detect(model,
#      'kdd'::regclass, ..., method => 'mse' | 'recon_prob') in one backend,
#      and the core's batched scoring (bench/cpu_score.c: vc_score_batch
#      against vc_score_row, one thread, and whether they differ in any
#      bit), for mse and recon_prob, against PyTorch's batched forward pass
#      on one thread, in wall and CPU time (goal: at least 1.0x).
#
# Usage: bench/cpu.sh               full run (under ~10 minutes on 2 cores)
#        QUICK=1 bench/cpu.sh       smoke run with reduced sizes
#        OUT_JSON=FILE ...          also write the summary as JSON to FILE
#        VAE_BLAS_THREADS=N ...     start the server with OPENBLAS_NUM_THREADS=N
#                                   (default: OpenBLAS picks, one per CPU)
#        DETECT_ONLY=1 ...          only parts 3 and 5 (the KDD-like rows alone;
#                                   with VAE_BLAS_THREADS=1: the one-core comparison)
#
# Needs: the extension installed (make install), gcc and OpenBLAS
# (libopenblas-dev), and PyTorch importable from /usr/bin/python3 (Debian's
# python3-torch).  The data is synthetic and generated here (deterministic).
# The helpers are bench/cpu_bench.py (driver and report), bench/cpu_torch.py
# (PyTorch reference) and bench/cpu_gemm.c.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=/usr/bin/python3		# Debian's, with torch (not the pyenv one on PATH)

if ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
	echo "cpu.sh: $PYTHON cannot import torch and numpy (apt-get install python3-torch)" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/vae-bench-cpu.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

gcc -O2 -Wall -o "$tmp/cpu_gemm" bench/cpu_gemm.c -lopenblas
# the core's scoring alone, with the extension's code-generation flags (PGXS
# adds -fno-strict-aliasing -fwrapv -fexcess-precision=standard)
gcc -O3 ${OPTFLAGS--march=native} -fno-strict-aliasing -fwrapv -fexcess-precision=standard \
	-Wall -Isrc/core -o "$tmp/cpu_score" bench/cpu_score.c src/core/vc_*.c -lopenblas -lm -lpthread

if [ -n "${VAE_BLAS_THREADS:-}" ]; then
	# inherited by the postmaster, hence by every backend
	export OPENBLAS_NUM_THREADS=$VAE_BLAS_THREADS
fi

start=$SECONDS
BENCH_TMP=$tmp BENCH_GEMM=$tmp/cpu_gemm BENCH_SCORE=$tmp/cpu_score \
	scripts/with-cluster.sh "$PYTHON" bench/cpu_bench.py
echo "cpu.sh: total run time $((SECONDS - start)) s (with cluster start and stop)"
