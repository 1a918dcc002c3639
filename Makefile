# Makefile for the vae PostgreSQL extension (PGXS).
#
#   make              build vae.so, the GPU worker build/vae_gpud and its
#                     test client build/vgp_test_client
#   make install      install into the server found by $(PG_CONFIG)
#                     (vae_gpud goes into its bindir)
#   make installcheck pg_regress against a running server (PGHOST/PGPORT)
#   make test         deps + build + install + unit + pg_regress +
#                     integration tests in throwaway clusters; last line is
#                     "N passed, N failed[, N skipped]"; TEST_PACKAGE=1 adds
#                     the package test (make test-package) to the run and to
#                     the counts (what CI runs: .ci/run)
#   make demo         deps + build + install + demo/demo.sql in a throwaway
#                     cluster
#   make deps         install missing system packages (scripts/install-deps.sh);
#                     `make test` and `make demo` run it first, printing what
#                     they install and why; VAE_NO_DEPS=1 skips it.  `make
#                     test` also builds and installs Citus when it is missing
#                     (scripts/install-citus.sh, for the scale-out tests: about
#                     3 minutes once per machine on 2 cores)
#   make unit         the sanitized C unit tests alone (mk/unit.mk)
#   make gpu-tests    the CUDA engine tests (mk/cuda.mk; needs nvcc)
#   make deb          the Debian package postgresql-15-vae (mk/deb.mk)
#   make test-package build the package, install it, run pg_regress against
#                     it, remove it again (mk/deb.mk)
#
# PG_CONFIG picks the server: `make PG_CONFIG=/usr/lib/postgresql/16/bin/pg_config`
# on a machine with several versions (Debian's pg_config on PATH is the newest).
# OPTFLAGS defaults to -march=native, like pgvector's: fastest on the machine
# that builds.  For a binary that must run on other CPUs, `make OPTFLAGS=`
# (the Debian package is built that way, see mk/deb.mk).
# BLAS_LIBS defaults to -lopenblas (override, e.g. BLAS_LIBS=-lblas).
#
# `make test VAE_PRIVATE_INSTALL=1` (same for demo) installs into a temporary
# private copy of the server installation instead of the system directories:
# no root or sudo needed, and no clash with other trees installed on a shared
# machine.  The default (system-wide `make install`) is what CI uses.

EXTENSION = vae
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

CORE_SRCS := $(sort $(wildcard src/core/*.c))
PG_SRCS   := $(sort $(wildcard src/pg/*.c))
# the wire protocol between vae.so and vae_gpud (src/protocol/): both link it
PROTO_SRCS := $(sort $(wildcard src/protocol/*.c))

MODULE_big = vae
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o) $(PROTO_SRCS:.c=.o)
# every version's script and every upgrade path: a new version needs no change
DATA = $(wildcard $(EXTENSION)--*.sql)
REGRESS := $(sort $(basename $(notdir $(wildcard sql/*.sql))))
# PGXS installcheck talks to whatever server PGHOST/PGPORT/PGUSER name
# (scripts/with-cluster.sh exports them for a throwaway cluster).
REGRESS_OPTS = --inputdir=.

OPTFLAGS ?= -march=native
BLAS_LIBS ?= -lopenblas
# OpenSSL (libssl-dev): the protocol's HMAC and TLS on the worker's TCP path
SSL_LIBS ?= -lssl -lcrypto
CSTD ?= -std=gnu11

# -MMD -MP: header dependency files next to the objects, so a change to
# src/core/*.h rebuilds what includes it.
# VAE_VERSION: the module's version for PostgreSQL 18's PG_MODULE_MAGIC_EXT
PG_CPPFLAGS = -Isrc/core -Isrc/protocol -MMD -MP -DVAE_VERSION='"$(EXTVERSION)"'
# -O3: the elementwise loops of the core (vc_math.h) must vectorize
PG_CFLAGS = $(CSTD) -O3 $(OPTFLAGS)
SHLIB_LINK = $(BLAS_LIBS) -lm $(SSL_LIBS)
# vc_rng.c, in every build of the core (here, mk/unit.mk, mk/gpud.mk): the
# training noise's loop (vc_train_normals) vectorizes only without sqrtf's
# errno path (same bits either way); no code there reads errno
RNG_CFLAGS := -fno-math-errno
src/core/vc_rng.o: override CFLAGS += $(RNG_CFLAGS)

EXTRA_CLEAN = build/ $(OBJS:.o=.d) results/ regression.diffs regression.out \
	log/ tmp_check/ output_iso/

# Our hot paths are BLAS calls; JIT-inlining bitcode buys nothing and would
# add a clang requirement, so don't build/install .bc files.
override with_llvm = no

.DEFAULT_GOAL := all

PG_CONFIG ?= pg_config
export PG_CONFIG
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

include mk/unit.mk
include mk/gpud.mk
include mk/cuda.mk
include mk/deb.mk

.PHONY: deps test demo

deps:
	scripts/install-deps.sh

# The two quick-start commands install what is missing first (visibly;
# VAE_NO_DEPS=1 skips it).  Orchestration lives in scripts/run-tests.sh,
# which re-invokes make (so a pg_config installed by `deps` is picked up).
test:
	$(if $(filter 1,$(VAE_NO_DEPS)),@echo "deps: skipped (VAE_NO_DEPS=1)",scripts/install-deps.sh --why "make test")
	$(if $(filter 1,$(VAE_NO_DEPS)),@echo "citus: skipped (VAE_NO_DEPS=1)",scripts/install-citus.sh --why "make test")
	MAKE="$(MAKE)" scripts/run-tests.sh $(if $(filter 1,$(TEST_PACKAGE)),scripts/test-package.sh)

demo:
	$(if $(filter 1,$(VAE_NO_DEPS)),@echo "deps: skipped (VAE_NO_DEPS=1)",scripts/install-deps.sh --why "make demo")
	MAKE="$(MAKE)" scripts/demo.sh
