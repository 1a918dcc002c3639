# mk/gpud.mk - vae_gpud, the GPU worker daemon (included by the Makefile).
#
# Built into build/vae_gpud from src/gpu/*.c, the protocol (src/protocol/*.c)
# and its own copy of the core objects (normal flags, -pthread; the extension's objects are -fPIC for a
# shared library), plus the CUDA engine when mk/cuda.mk turns it on; see
# docs/gpu-worker-protocol.md.  Installed into the server's bindir by
# `make install`.  build/vgp_test_client is the integration test's client.

GPUD_DIR      := build/gpud
GPUD_BIN      := build/vae_gpud
GPUD_CLIENT   := build/vgp_test_client
GPUD_SRCS     := $(sort $(wildcard src/gpu/*.c))
GPUD_OBJS     := $(GPUD_SRCS:src/gpu/%.c=$(GPUD_DIR)/gpu/%.o)
GPUD_CORE_OBJS := $(CORE_SRCS:src/core/%.c=$(GPUD_DIR)/core/%.o)
GPUD_PROTO_OBJS := $(PROTO_SRCS:src/protocol/%.c=$(GPUD_DIR)/protocol/%.o)
GPUD_CFLAGS   ?= $(CSTD) -O3 $(OPTFLAGS) -g -Wall -Wextra -pthread
GPUD_CPPFLAGS := -Isrc/core -Isrc/protocol -Isrc/gpu -Isrc/gpu/cuda -MMD -MP \
	-DVAE_VERSION='"$(EXTVERSION)"'
GPUD_LDLIBS   := $(BLAS_LIBS) -lm $(SSL_LIBS) -pthread

.PHONY: gpud install-gpud uninstall-gpud FORCE

# rebuild the daemon when CUDA is switched on or off (make VGP_CUDA=0);
# recursive: CUDA_ON and NVCC come from mk/cuda.mk, included after this file
GPUD_CONFIG = cuda=$(CUDA_ON) nvcc=$(NVCC) version=$(EXTVERSION)
$(GPUD_DIR)/config: FORCE
	@mkdir -p $(@D)
	@echo '$(GPUD_CONFIG)' | cmp -s - $@ || echo '$(GPUD_CONFIG)' >$@

all: $(GPUD_BIN) $(GPUD_CLIENT)
gpud: $(GPUD_BIN)

$(GPUD_CORE_OBJS): $(GPUD_DIR)/core/%.o: src/core/%.c $(GPUD_DIR)/config
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) $(GPUD_CFLAGS) -c -o $@ $<

$(GPUD_DIR)/core/vc_rng.o: GPUD_CFLAGS += $(RNG_CFLAGS)

$(GPUD_OBJS): $(GPUD_DIR)/gpu/%.o: src/gpu/%.c $(GPUD_DIR)/config
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) $(GPUD_CFLAGS) -c -o $@ $<

$(GPUD_PROTO_OBJS): $(GPUD_DIR)/protocol/%.o: src/protocol/%.c $(GPUD_DIR)/config
	@mkdir -p $(@D)
	$(CC) $(GPUD_CPPFLAGS) $(GPUD_CFLAGS) -c -o $@ $<

$(GPUD_BIN): $(GPUD_OBJS) $(GPUD_PROTO_OBJS) $(GPUD_CORE_OBJS)
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
