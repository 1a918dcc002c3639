# Makefile for the vae PostgreSQL extension (PGXS).
#
#   make              build vae.so, the GPU worker build/vae_gpud and its
#                     test client build/vgp_test_client
#   make install      install into the server found by $(PG_CONFIG)
#                     (vae_gpud goes into its bindir)
#   make gpu-tests    build test/gpu/test_*.c against the CUDA engine into
#                     build/gpu/ (needs nvcc)
#   make deps         install missing system packages (scripts/install-deps.sh)
#   make unit         build test/unit/test_*.c with ASan+UBSan against
#                     src/core/*.c into build/unit/ and run them
#   make installcheck pg_regress against a running server (PGHOST/PGPORT)
#   make test         deps + build + install + unit + pg_regress in a
#                     throwaway cluster; last line is "N passed, N failed"
#   make demo         deps + build + install + demo/demo.sql in a throwaway
#                     cluster
#
# Portable builds: OPTFLAGS defaults to -march=native (like pgvector).  For a
# binary that must run on other CPUs, override it, e.g. `make OPTFLAGS=`.
# BLAS: BLAS_LIBS defaults to -lopenblas (override, e.g. BLAS_LIBS=-lblas).
# CUDA: vae_gpud gets its CUDA backend (src/gpu/cuda/*.cu) when nvcc is found
# on PATH or in /usr/local/cuda; `make VGP_CUDA=0` or `make NVCC=` leaves it
# out.  The daemon still builds (CPU backend only) without it.
#
# `make test VAE_PRIVATE_INSTALL=1` (same for demo) installs into a temporary
# private copy of the server installation instead of the system directories:
# no root or sudo needed, and no clash with other trees installed on a shared
# machine.  The default (system-wide `make install`) is what CI uses.

PG_CONFIG ?= $(or $(wildcard /usr/lib/postgresql/15/bin/pg_config),pg_config)
export PG_CONFIG

OPTFLAGS ?= -march=native
BLAS_LIBS ?= -lopenblas
# OpenSSL (libssl-dev): the protocol's HMAC and TLS on the worker's TCP path
SSL_LIBS ?= -lssl -lcrypto
CSTD ?= -std=gnu11

CORE_SRCS := $(sort $(wildcard src/core/*.c))
PG_SRCS   := $(sort $(wildcard src/pg/*.c))
# the wire protocol between vae.so and vae_gpud (src/protocol/): both link it
PROTO_SRCS := $(sort $(wildcard src/protocol/*.c))

MODULE_big = vae
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o) $(PROTO_SRCS:.c=.o)
EXTENSION = vae
DATA = vae--1.0.sql vae--1.1.sql vae--1.0--1.1.sql
REGRESS := $(sort $(basename $(notdir $(wildcard sql/*.sql))))
# PGXS installcheck talks to whatever server PGHOST/PGPORT/PGUSER name
# (scripts/with-cluster.sh exports them for a throwaway cluster).
REGRESS_OPTS = --inputdir=.

# -MMD -MP: header dependency files next to the objects, so a change to
# src/core/*.h rebuilds what includes it.
PG_CPPFLAGS = -Isrc/core -Isrc/protocol -MMD -MP
# -O3: the elementwise loops of the core (vc_math.h) must vectorize
PG_CFLAGS = $(CSTD) -O3 $(OPTFLAGS)
SHLIB_LINK = $(BLAS_LIBS) -lm $(SSL_LIBS)

EXTRA_CLEAN = build/ $(OBJS:.o=.d) results/ regression.diffs regression.out \
	log/ tmp_check/ output_iso/

# Our hot paths are BLAS calls; JIT-inlining bitcode buys nothing and would
# add a clang requirement, so don't build/install .bc files.
override with_llvm = no

.DEFAULT_GOAL := all

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all install installcheck:
	@echo "pg_config ('$(PG_CONFIG)') not found: run 'make deps' first" >&2; exit 1
clean:
	rm -rf $(EXTRA_CLEAN) $(OBJS) vae.so
endif

-include $(OBJS:.o=.d)

# ---------------------------------------------------------------------------
# Unit tests: each test/unit/test_*.c is a standalone program linked with the
# numeric core (and any non-test_*.c helper in test/unit/), built with
# AddressSanitizer + UndefinedBehaviorSanitizer.
# ---------------------------------------------------------------------------
UNIT_DIR         := build/unit
UNIT_SRCS        := $(sort $(wildcard test/unit/test_*.c))
UNIT_HELPER_SRCS := $(sort $(filter-out test/unit/test_%.c test/unit/fuzz_%.c,$(wildcard test/unit/*.c)))
UNIT_BINS        := $(UNIT_SRCS:test/unit/%.c=$(UNIT_DIR)/%)
UNIT_TEST_OBJS   := $(UNIT_BINS:=.o)
UNIT_CORE_OBJS   := $(CORE_SRCS:src/core/%.c=$(UNIT_DIR)/core/%.o)
UNIT_PROTO_OBJS  := $(PROTO_SRCS:src/protocol/%.c=$(UNIT_DIR)/protocol/%.o)
UNIT_HELPER_OBJS := $(UNIT_HELPER_SRCS:test/unit/%.c=$(UNIT_DIR)/helpers/%.o)

SAN_FLAGS   ?= -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_CFLAGS ?= $(CSTD) -g -O1 -fno-omit-frame-pointer -Wall -Wextra -pthread $(OPTFLAGS)
UNIT_CPPFLAGS = -Isrc/core -Isrc/protocol -Itest/unit -MMD -MP
UNIT_LDLIBS ?= $(BLAS_LIBS) -lm $(SSL_LIBS)

.PHONY: deps unit unit-build test demo

deps:
	scripts/install-deps.sh

unit-build: $(UNIT_BINS)

unit: unit-build
	scripts/run-unit.sh

# Static pattern rules: every object is an explicit target (never deleted as
# an intermediate) and no rule can match an unrelated file under build/.
$(UNIT_CORE_OBJS): $(UNIT_DIR)/core/%.o: src/core/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(UNIT_PROTO_OBJS): $(UNIT_DIR)/protocol/%.o: src/protocol/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(UNIT_HELPER_OBJS): $(UNIT_DIR)/helpers/%.o: test/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(UNIT_TEST_OBJS): $(UNIT_DIR)/%.o: test/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(UNIT_BINS): $(UNIT_DIR)/%: $(UNIT_DIR)/%.o $(UNIT_CORE_OBJS) $(UNIT_PROTO_OBJS) $(UNIT_HELPER_OBJS)
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(UNIT_LDLIBS)

-include $(wildcard $(UNIT_DIR)/*.d $(UNIT_DIR)/core/*.d $(UNIT_DIR)/protocol/*.d $(UNIT_DIR)/helpers/*.d)

# ---------------------------------------------------------------------------
# vae_gpud, the GPU worker daemon (docs/gpu-worker-protocol.md): built into
# build/vae_gpud from src/gpu/*.c, the protocol (src/protocol/*.c) and its
# own copy of the core objects
# (normal flags, -pthread; the extension's objects are -fPIC for a
# shared library), plus the CUDA engine when nvcc is there.  Installed into
# the server's bindir by `make install`.
# ---------------------------------------------------------------------------
GPUD_DIR      := build/gpud
GPUD_BIN      := build/vae_gpud
GPUD_CLIENT   := build/vgp_test_client
GPUD_SRCS     := $(sort $(wildcard src/gpu/*.c))
GPUD_OBJS     := $(GPUD_SRCS:src/gpu/%.c=$(GPUD_DIR)/gpu/%.o)
GPUD_CORE_OBJS := $(CORE_SRCS:src/core/%.c=$(GPUD_DIR)/core/%.o)
GPUD_PROTO_OBJS := $(PROTO_SRCS:src/protocol/%.c=$(GPUD_DIR)/protocol/%.o)
GPUD_CFLAGS   ?= $(CSTD) -O3 $(OPTFLAGS) -g -Wall -Wextra -pthread
GPUD_CPPFLAGS := -Isrc/core -Isrc/protocol -Isrc/gpu -Isrc/gpu/cuda -MMD -MP
GPUD_LDLIBS   := $(BLAS_LIBS) -lm $(SSL_LIBS) -pthread

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

.PHONY: gpud gpu-tests install-gpud uninstall-gpud FORCE

# rebuild the daemon when CUDA is switched on or off (make VGP_CUDA=0)
GPUD_CONFIG := cuda=$(CUDA_ON) nvcc=$(NVCC)
$(GPUD_DIR)/config: FORCE
	@mkdir -p $(@D)
	@echo '$(GPUD_CONFIG)' | cmp -s - $@ || echo '$(GPUD_CONFIG)' >$@

all: $(GPUD_BIN) $(GPUD_CLIENT)
gpud: $(GPUD_BIN)

$(GPUD_CORE_OBJS): $(GPUD_DIR)/core/%.o: src/core/%.c $(GPUD_DIR)/config
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) $(GPUD_CFLAGS) -c -o $@ $<

$(GPUD_OBJS): $(GPUD_DIR)/gpu/%.o: src/gpu/%.c $(GPUD_DIR)/config
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) $(GPUD_CFLAGS) -c -o $@ $<

$(GPUD_PROTO_OBJS): $(GPUD_DIR)/protocol/%.o: src/protocol/%.c $(GPUD_DIR)/config
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) $(GPUD_CFLAGS) -c -o $@ $<

$(CUDA_OBJS): build/gpu/%.o: src/gpu/cuda/%.cu $(wildcard src/gpu/cuda/*.h src/gpu/cuda/*.cuh \
	src/core/vc.h src/core/vc_math.h src/core/vc_rng.h)
	@mkdir -p $(@D)
	$(NVCC) $(NVCC_FLAGS) -c -o $@ $<

$(GPUD_BIN): $(GPUD_OBJS) $(GPUD_PROTO_OBJS) $(GPUD_CORE_OBJS) $(CUDA_OBJS)
	$(CC) $(GPUD_CFLAGS) -o $@ $^ $(CUDA_LIBS) $(GPUD_LDLIBS) $(if $(CUDA_ON),-lstdc++)

# the integration test's client: the protocol, plus the core objects of
# vae.so itself (PGXS flags) to train the reference model it compares the
# daemon's against, so "byte-identical to the CPU path" means vae.so's
# build of the core (not installed)
GPUD_CLIENT_OBJS := $(GPUD_DIR)/test/vgp_test_client.o $(GPUD_PROTO_OBJS)

$(GPUD_DIR)/test/vgp_test_client.o: test/gpud/vgp_test_client.c
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) $(GPUD_CFLAGS) -c -o $@ $<

$(GPUD_CLIENT): $(GPUD_CLIENT_OBJS) $(CORE_SRCS:.c=.o)
	$(CC) $(GPUD_CFLAGS) -o $@ $^ $(GPUD_LDLIBS)

-include $(wildcard $(GPUD_DIR)/*/*.d)

install: install-gpud
uninstall: uninstall-gpud

install-gpud: $(GPUD_BIN)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	rm -f '$(DESTDIR)$(bindir)/vae_gpud'
	$(INSTALL_PROGRAM) $(GPUD_BIN) '$(DESTDIR)$(bindir)/vae_gpud'

uninstall-gpud:
	rm -f '$(DESTDIR)$(bindir)/vae_gpud'

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

# Full pipeline; orchestration lives in scripts/run-tests.sh, which re-invokes
# make (so a pg_config installed by `deps` is picked up).
test: deps
	MAKE="$(MAKE)" scripts/run-tests.sh

demo: deps
	MAKE="$(MAKE)" scripts/demo.sh
