# Makefile for the vae PostgreSQL extension (PGXS).
#
#   make              build vae.so
#   make install      install into the server found by $(PG_CONFIG)
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
#
# `make test VAE_PRIVATE_INSTALL=1` (same for demo) installs into a temporary
# private copy of the server installation instead of the system directories:
# no root or sudo needed, and no clash with other trees installed on a shared
# machine.  The default (system-wide `make install`) is what CI uses.

PG_CONFIG ?= $(or $(wildcard /usr/lib/postgresql/15/bin/pg_config),pg_config)
export PG_CONFIG

OPTFLAGS ?= -march=native
BLAS_LIBS ?= -lopenblas
CSTD ?= -std=gnu11

CORE_SRCS := $(sort $(wildcard src/core/*.c))
PG_SRCS   := $(sort $(wildcard src/pg/*.c))

MODULE_big = vae
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o)
EXTENSION = vae
DATA = vae--1.0.sql
REGRESS := $(sort $(basename $(notdir $(wildcard sql/*.sql))))
# PGXS installcheck talks to whatever server PGHOST/PGPORT/PGUSER name
# (scripts/with-cluster.sh exports them for a throwaway cluster).
REGRESS_OPTS = --inputdir=.

# -MMD -MP: header dependency files next to the objects, so a change to
# src/core/*.h rebuilds what includes it.
PG_CPPFLAGS = -Isrc/core -MMD -MP
# -O3: the elementwise loops of the core (vc_math.h) must vectorize
PG_CFLAGS = $(CSTD) -O3 $(OPTFLAGS)
SHLIB_LINK = $(BLAS_LIBS) -lm

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
UNIT_HELPER_OBJS := $(UNIT_HELPER_SRCS:test/unit/%.c=$(UNIT_DIR)/helpers/%.o)

SAN_FLAGS   ?= -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_CFLAGS ?= $(CSTD) -g -O1 -fno-omit-frame-pointer -Wall -Wextra -pthread $(OPTFLAGS)
UNIT_CPPFLAGS = -Isrc/core -Itest/unit -MMD -MP
UNIT_LDLIBS ?= $(BLAS_LIBS) -lm

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

$(UNIT_HELPER_OBJS): $(UNIT_DIR)/helpers/%.o: test/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(UNIT_TEST_OBJS): $(UNIT_DIR)/%.o: test/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(UNIT_BINS): $(UNIT_DIR)/%: $(UNIT_DIR)/%.o $(UNIT_CORE_OBJS) $(UNIT_HELPER_OBJS)
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(UNIT_LDLIBS)

-include $(wildcard $(UNIT_DIR)/*.d $(UNIT_DIR)/core/*.d $(UNIT_DIR)/helpers/*.d)

# Full pipeline; orchestration lives in scripts/run-tests.sh, which re-invokes
# make (so a pg_config installed by `deps` is picked up).
test: deps
	MAKE="$(MAKE)" scripts/run-tests.sh

demo: deps
	MAKE="$(MAKE)" scripts/demo.sh
