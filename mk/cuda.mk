# mk/cuda.mk - the CUDA engine of vae_gpud (included by the Makefile after
# mk/gpud.mk: it adds its objects to the daemon's link and -DVGP_HAVE_CUDA to
# its flags).
#
# The backend (src/gpu/cuda/*.cu) is compiled when nvcc is found on PATH or
# in /usr/local/cuda; `make VGP_CUDA=0` or `make NVCC=` leaves it out, and the
# daemon still builds (CPU backend only).
#
#   make gpu-tests    build test/gpu/test_*.c against the CUDA engine into
#                     build/gpu/ (needs nvcc)

VGP_CUDA  ?= 1
ifndef NVCC
NVCC := $(or $(shell command -v nvcc 2>/dev/null),$(wildcard /usr/local/cuda/bin/nvcc))
endif
CUDA_SRCS := $(sort $(wildcard src/gpu/cuda/*.cu))
# no .cu files (the engine lives on its own branch until merged) = CUDA off
ifeq ($(VGP_CUDA)$(if $(NVCC),y)$(if $(CUDA_SRCS),y),1yy)
CUDA_ON    := 1
CUDA_HOME  ?= $(patsubst %/bin/nvcc,%,$(NVCC))
NVCC_FLAGS ?= -O3 -std=c++17 -Isrc/core -Isrc/gpu -Isrc/gpu/cuda -Xcompiler -fPIC \
	-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
	-gencode arch=compute_90,code=compute_90
CUDA_OBJS  := $(CUDA_SRCS:src/gpu/cuda/%.cu=build/gpu/%.o)
CUDA_LIBS  := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcudart -lcublas
GPUD_CPPFLAGS += -DVGP_HAVE_CUDA
else
CUDA_ON    :=
CUDA_OBJS  :=
CUDA_LIBS  :=
endif

# the daemon links the engine's objects (CUDA_LIBS and -lstdc++ are in its
# link recipe, mk/gpud.mk)
$(GPUD_BIN): $(CUDA_OBJS)

.PHONY: gpu-tests

$(CUDA_OBJS): build/gpu/%.o: src/gpu/cuda/%.cu $(wildcard src/gpu/cuda/*.h src/gpu/cuda/*.cuh \
	src/core/vc.h src/core/vc_math.h src/core/vc_rng.h)
	@mkdir -p $(@D)
	$(NVCC) $(NVCC_FLAGS) -c -o $@ $<

# CUDA engine tests (test/gpu/test_*.c): only with the CUDA backend
GPU_TEST_SRCS := $(sort $(wildcard test/gpu/test_*.c))
GPU_TEST_BINS := $(GPU_TEST_SRCS:test/gpu/%.c=build/gpu/%)

ifeq ($(CUDA_ON),1)
gpu-tests: $(GPU_TEST_BINS)

$(GPU_TEST_BINS): build/gpu/%: test/gpu/%.c $(GPUD_CORE_OBJS) $(CUDA_OBJS)
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) -Itest/unit $(GPUD_CFLAGS) -o $@ $^ $(CUDA_LIBS) $(GPUD_LDLIBS) -lstdc++
else
gpu-tests:
	@echo "gpu-tests: the CUDA backend is not built (nvcc not found, VGP_CUDA=0, or no src/gpu/cuda/*.cu)" >&2; exit 1
endif
