#!/usr/bin/env bash
# bench/gpu.sh - GPU training throughput of vae against PyTorch on the same
# GPU, and the end-to-end speed-up of vae_gpud's CUDA backend over its CPU
# backend.  Figures are ratios within one run (machines are shared).
#
#   1. vc_train_engine on the CUDA engine (bench/gpu_bench.c), with and
#      without CUDA graphs, against bench/gpu_torch.py on the same rows, for
#      784-400-20 bernoulli relu (MNIST-like, 60000 rows) and 118-60-10
#      gaussian tanh (KDD-like, 494021 rows) at batch 128 and 1024:
#      rows x epochs / s over epochs 2..E.  Goals: >= 1.5x PyTorch at batch
#      128, >= 1x at batch 1024.
#   2. a 1,000,000-row KDD-like job through vae_gpud's protocol
#      (bench/gpu_e2e.c), connect to received model, --backend cuda against
#      --backend cpu on this machine.  Goal: >= 5x.
#
# Usage: bench/gpu.sh            (QUICK=1: smaller sizes, a smoke run)
# Environment:
#   PYTHON          python with torch (default python3)
#   EPOCHS          epochs per throughput run (default 5)
#   E2E_ROWS        rows of the end-to-end job (default 1000000)
#   E2E_EPOCHS, E2E_BATCH   of the end-to-end job (default -1: not given, so
#                   the daemon resolves them as for any user: batch 128)
#   VAE_GPUD        the daemon binary (default: build/gpu/vae_gpud, or
#                   build/vae_gpud)
#   VAE_GPUD_ARGS   its arguments; {socket} and {backend} are substituted
#                   (default: "--socket {socket} --backend {backend}")
#
# Without a GPU (no nvidia-smi or no device) or nvcc it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
	echo "gpu.sh: no GPU: skipped"
	exit 0
fi
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$NVCC" ]; then
	echo "gpu.sh: no nvcc: skipped"
	exit 0
fi
export NVCC
CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$NVCC")")}
PYTHON=${PYTHON:-python3}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
tmp=$(mktemp -d /tmp/vae-bench-gpu.XXXXXX)
daemon_pid=
cleanup()
{
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# core + CUDA objects (the tests' build), then the drivers
test/gpu/build.sh >/dev/null
LIBS="-L$CUDA_HOME/lib64 -Wl,-rpath,$CUDA_HOME/lib64 -lcublas -lcudart -lopenblas -lm -lstdc++ -pthread"
CFLAGS="-std=gnu11 -O2 -Wall -Isrc/core -Isrc/gpu -Isrc/gpu/cuda"
gcc $CFLAGS -o "$tmp/gpu_bench" bench/gpu_bench.c build/gpu/core/*.o build/gpu/cuda/*.o $LIBS
have_e2e=0
if [ -f src/protocol/vgp_protocol.c ]; then
	gcc $CFLAGS -o "$tmp/gpu_e2e" bench/gpu_e2e.c src/protocol/*.c -Isrc/protocol build/gpu/core/*.o $LIBS -lssl -lcrypto \
		&& have_e2e=1
fi

BENCH_TMP=$tmp BENCH_HAVE_E2E=$have_e2e "$PYTHON" bench/gpu_bench.py
