# mk/unit.mk - the C unit tests (included by the Makefile).
#
# Each test/unit/test_*.c is a standalone program linked with the numeric
# core (and any non-test_*.c helper in test/unit/), built with
# AddressSanitizer + UndefinedBehaviorSanitizer into build/unit/.
#
#   make unit-build   build them
#   make unit         build and run them (scripts/run-unit.sh)

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

.PHONY: unit unit-build

unit-build: $(UNIT_BINS)

unit: unit-build
	scripts/run-unit.sh

# Static pattern rules: every object is an explicit target (never deleted as
# an intermediate) and no rule can match an unrelated file under build/.
$(UNIT_CORE_OBJS): $(UNIT_DIR)/core/%.o: src/core/%.c
	@mkdir -p $(@D)
	$(CC) $(UNIT_CPPFLAGS) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(UNIT_DIR)/core/vc_rng.o: UNIT_CFLAGS += $(RNG_CFLAGS)

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
