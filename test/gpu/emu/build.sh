#!/bin/bash
# test/gpu/emu/build.sh - the CUDA engine's tests on the host emulation
# (test/gpu/emu/*): the real vgp_engine_cuda.cu compiled as C++ against
# stand-ins for the CUDA runtime and cuBLAS, with the kernels' bodies run on
# the CPU.  Checks the engine's logic on machines without a GPU; it is no
# substitute for test/integration/cuda.sh on one.  Needs only g++, OpenBLAS.
#
#   test/gpu/emu/build.sh && build/gpu-emu/test_cuda_engine
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=build/gpu-emu
CC=${CC:-gcc}
CXX=${CXX:-g++}
SAN=${SAN:--fsanitize=address,undefined -fno-sanitize-recover=all}
COMMON="-O1 -g -Wall -Wextra $SAN -Isrc/core -Isrc/gpu -Itest/unit"
mkdir -p "$OUT/core"
objs=()
for f in src/core/*.c; do
	o="$OUT/core/$(basename "${f%.c}").o"
	"$CC" -std=gnu11 $COMMON -c "$f" -o "$o"
	objs+=("$o")
done
# the emulation's headers come first: <cuda_runtime.h> and <cublas_v2.h> are theirs
"$CXX" -std=c++17 $COMMON -Itest/gpu/emu -Isrc/gpu/cuda -x c++ -c src/gpu/cuda/vgp_engine_cuda.cu \
	-o "$OUT/vgp_engine_cuda.o"
"$CXX" -std=c++17 $COMMON -Itest/gpu/emu -Isrc/gpu/cuda -c test/gpu/emu/emu_runtime.cpp \
	-o "$OUT/emu_runtime.o"
for t in test/gpu/test_*.c; do
	b="$OUT/$(basename "${t%.c}")"
	"$CC" -std=gnu11 $COMMON -Isrc/gpu/cuda -Itest/gpu/emu -DVGP_EMULATED -c "$t" -o "$b.o"
	"$CXX" $SAN -o "$b" "$b.o" "${objs[@]}" "$OUT/vgp_engine_cuda.o" "$OUT/emu_runtime.o" \
		-lopenblas -lm
	echo "built $b"
done
