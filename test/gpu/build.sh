#!/bin/bash
# test/gpu/build.sh - build the CUDA engine tests without the Makefile's
# gpu-tests target (same flags): core with gcc, src/gpu/cuda/*.cu with nvcc,
# each test/gpu/test_*.c linked with both into build/gpu/.
#
#   test/gpu/build.sh            # then: build/gpu/test_cuda_engine
#
# Exits 2 (and says why) when nvcc is not found.
set -euo pipefail
cd "$(dirname "$0")/../.."
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$NVCC" ]; then
	echo "nvcc not found (set NVCC or install the CUDA toolkit)" >&2
	exit 2
fi
CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$NVCC")")}
OUT=${OUT_DIR:-build/gpu}
CC=${CC:-gcc}
OPTFLAGS=${OPTFLAGS:--march=native}
NVFLAGS="-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
 -gencode arch=compute_90,code=compute_90 -std=c++17 -O3 -Isrc/core -Isrc/gpu -Isrc/gpu/cuda \
 -Xcompiler -fPIC -DVGP_HAVE_CUDA -Xcompiler -Wall --Werror all-warnings"
CFLAGS="-std=gnu11 -O2 $OPTFLAGS -Wall -Wextra -pthread -Isrc/core -Isrc/gpu -Isrc/gpu/cuda -Itest/unit"
mkdir -p "$OUT/core" "$OUT/cuda"
objs=()
for f in src/core/*.c; do
	o="$OUT/core/$(basename "${f%.c}").o"
	"$CC" $CFLAGS -c "$f" -o "$o"
	objs+=("$o")
done
for f in src/gpu/cuda/*.cu; do
	o="$OUT/cuda/$(basename "${f%.cu}").o"
	"$NVCC" $NVFLAGS -c "$f" -o "$o"
	objs+=("$o")
done
for t in test/gpu/test_*.c; do
	b="$OUT/$(basename "${t%.c}")"
	"$CC" $CFLAGS -c "$t" -o "$b.o"
	"$CC" -o "$b" "$b.o" "${objs[@]}" -L"$CUDA_HOME/lib64" -Wl,-rpath,"$CUDA_HOME/lib64" \
		-lcublas -lcudart -lopenblas -lm -lstdc++ -pthread
	echo "built $b"
done
