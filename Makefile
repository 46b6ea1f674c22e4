# virtscope: one binary, with its BPF programs compiled by clang and embedded
# as bpftool skeletons. `make V=1` shows the full commands.

OUTPUT    ?= build
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

CFLAGS    ?= -O2 -g
# Flags the code needs whatever CFLAGS the caller gives.
VS_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -I$(OUTPUT) -MMD -MP
LDLIBS    := -lbpf -ldw -lelf -lz -lcap -lseccomp -lncurses -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -I$(OUTPUT) -Ibpf \
	      -I/usr/include/x86_64-linux-gnu

# Sanitized build, used by `make check`: the same sources under ASan+UBSan.
SAN_OUTPUT := $(OUTPUT)/asan
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRCS  := $(wildcard lib/*.c collectors/*.c flamegraph/*.c ui/*.c export/*.c)
CLI_SRCS  := $(wildcard cli/*.c)
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
PROFILES  := $(wildcard collectors/profiles/*.profile)
LIB_OBJS  := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS)) $(OUTPUT)/obj/gen/builtin_profiles.o
CLI_OBJS  := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(CLI_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(UNIT_SRCS))
# The unit tests link everything but main().
TESTED_OBJS := $(LIB_OBJS) $(filter-out $(OUTPUT)/obj/cli/main.o,$(CLI_OBJS))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all clean deps check unit fixtures bench soak demo fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: virtscope $(OUTPUT)/virtscope-load $(OUTPUT)/virtscope-fake-machined

$(OUTPUT)/virtscope: $(LIB_OBJS) $(CLI_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The binary also stands at the top of the tree, where the README runs it.
virtscope: $(OUTPUT)/virtscope
	$(Q)cp $< $@

$(OUTPUT)/obj/%.o: %.c $(SKELS) | $(OUTPUT)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(VS_CFLAGS) -c $< -o $@

# The daemon profiles are data, built into the binary.
$(OUTPUT)/gen/builtin_profiles.c: $(PROFILES) scripts/embed-profiles
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scripts/embed-profiles $@ $(PROFILES)

$(OUTPUT)/obj/gen/builtin_profiles.o: $(OUTPUT)/gen/builtin_profiles.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(VS_CFLAGS) -I. -c $< -o $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "make: this kernel has no BTF ($(VMLINUX_BTF) is missing)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT):
	$(Q)mkdir -p $@

# The lab's load generator: a separate program, since it is a libvirt client.
$(OUTPUT)/virtscope-load: scripts/load.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(VS_CFLAGS) $< -o $@ $$(pkg-config --cflags --libs libvirt) -lpthread

# The lab's fake systemd-machined (scripts/lab start --machined-delay): a D-Bus peer.
$(OUTPUT)/virtscope-fake-machined: scripts/fake-machined.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(VS_CFLAGS) $< -o $@ $$(pkg-config --cflags --libs dbus-1)

# Small target programs with a known behaviour, for the integration tests.
FIXTURES := $(patsubst tests/fixtures/%.c,$(OUTPUT)/fixtures/%,$(wildcard tests/fixtures/*.c))

# The chain fixture is built as Debian builds daemons: -O2, no frame
# pointers, stripped. The unstripped copies (*.full) hold the truth.
CHAIN     := $(OUTPUT)/fixtures/chain
CHAIN_CC  := $(CC) -O2 -g -fomit-frame-pointer -fno-toplevel-reorder -Wall -Wextra
FIXTURES  += $(CHAIN)/libvschain.so $(CHAIN)/chain $(CHAIN)/chain-dl

$(CHAIN)/libvschain.so: tests/fixtures/chain/libvschain.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CHAIN_CC) -fPIC -shared $< -o $@.full
	$(Q)strip --strip-unneeded $@.full -o $@

$(CHAIN)/chain: tests/fixtures/chain/chain.c $(CHAIN)/libvschain.so
	$(call msg,CC,$@)
	$(Q)$(CHAIN_CC) -pthread $< -o $@.full -L$(CHAIN) -Wl,--no-as-needed -lvschain -Wl,--as-needed -ldl -Wl,-rpath,'$$ORIGIN'
	$(Q)strip --strip-unneeded $@.full -o $@

$(CHAIN)/chain-dl: tests/fixtures/chain/chain.c $(CHAIN)/libvschain.so
	$(call msg,CC,$@)
	$(Q)$(CHAIN_CC) -pthread $< -o $@.full -ldl -Wl,-rpath,'$$ORIGIN'
	$(Q)strip --strip-unneeded $@.full -o $@

# A daemon built on sd-bus, linked as one.
$(OUTPUT)/fixtures/sdbus_calls: tests/fixtures/sdbus_calls.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra $< -o $@ $$(pkg-config --cflags --libs libsystemd)

$(OUTPUT)/fixtures/%: tests/fixtures/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -pthread $< -o $@

fixtures: $(FIXTURES)

$(OUTPUT)/unit-tests: $(UNIT_OBJS) $(TESTED_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Everything the build, the lab, the tests and the benchmarks use; nothing more.
DEPS_BUILD := make gcc clang bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev \
	      libcap-dev libseccomp-dev pkg-config linux-libc-dev binutils \
	      libncurses-dev
DEPS_LAB   := libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev \
	      qemu-system-x86 dbus util-linux procps libdbus-1-dev
# libc6-dbg: glibc's static functions by build-id; xz-utils: MiniDebugInfo
# fixtures; linux-perf: the stack benchmark's comparison; chromium and a font:
# flame graphs in a real browser; time: the flame benchmark's peak memory;
# bpftrace: the independent measurements the tests compare against;
# libsystemd-dev: the fixture that calls D-Bus through sd-bus.
DEPS_TEST  := libc6-dbg xz-utils linux-perf chromium fonts-dejavu-core time bpftrace tmux \
	      libsystemd-dev
DEPS       := $(DEPS_BUILD) $(DEPS_LAB) $(DEPS_TEST)

deps:
	$(Q)scripts/install-deps $(DEPS)

unit: $(OUTPUT)/unit-tests
	$(Q)$(OUTPUT)/unit-tests

# `make check` installs what it needs, builds plain and sanitized, and runs the
# unit tests and the integration tests against the lab.
check: deps
	$(Q)$(MAKE) --no-print-directory all fixtures probes $(OUTPUT)/unit-tests
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) \
		CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
		$(SAN_OUTPUT)/unit-tests $(SAN_OUTPUT)/virtscope
	$(Q)tests/run --build $(OUTPUT) --asan-build $(SAN_OUTPUT)

bench: deps all
	$(Q)bench/run

# `make soak DURATION=SECONDS`: top --json and a flight recorder against the
# bench lab under mixed load (scripts/soak); the result goes in bench/RESULTS.md.
# `make check` runs a 2-minute one as a test.
DURATION ?= 1800
soak: deps all
	$(Q)SOAK_SECONDS=$(DURATION) bench/run soak

# The main job on the built-in lab: start it, drive load, profile the daemon.
demo: deps all
	$(Q)VIRTSCOPE_DEMO_BUILT=1 scripts/demo

# The USDT provider and the reference daemon built with it.
-include probes/probes.mk

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) virtscope

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)

# `make fuzz`: the recording reader under libFuzzer (clang, ASan, UBSan) for
# FUZZ_SECONDS, from the seeds in tests/fuzz/seeds; what crashes it is kept
# in tests/fuzz/crashes, which the unit tests replay.
FUZZ_SECONDS ?= 60
FUZZ_BIN := $(OUTPUT)/fuzz/fuzz-replay

$(FUZZ_BIN): tests/fuzz/fuzz_replay.c $(LIB_SRCS) $(SKELS) $(OUTPUT)/gen/builtin_profiles.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -w \
		-I$(OUTPUT) -I. tests/fuzz/fuzz_replay.c $(LIB_SRCS) \
		$(OUTPUT)/gen/builtin_profiles.c $(LDLIBS) -o $@

fuzz: $(FUZZ_BIN)
	$(Q)mkdir -p $(OUTPUT)/fuzz/corpus tests/fuzz/crashes
	$(Q)$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
		-artifact_prefix=tests/fuzz/crashes/ $(OUTPUT)/fuzz/corpus tests/fuzz/seeds
