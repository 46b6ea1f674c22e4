# The virtscope USDT provider and the reference daemon built with it; included
# by the top Makefile. `make probes` builds:
#   $(OUTPUT)/probes/virtscope_probes.h  the provider's header (dtrace -h)
#   $(OUTPUT)/probes/virtscope_probes.o  its semaphores (dtrace -G)
#   $(OUTPUT)/refdaemon                  the reference daemon, on that header
#   $(OUTPUT)/refdaemon-fallback         the same on probes/virtscope_probes_fallback.h
#   $(OUTPUT)/refclient                  its client
#
# Semaphores: systemtap's `dtrace -h` header only declares them (extern, in
# section .probes), so one object must define them or the link fails. For the
# dtrace build that is the object `dtrace -G` generates from the same .d file;
# for the fallback build it is ref_semaphores.c, which includes the fallback
# header with VIRTSCOPE_PROBES_DEFINE_SEMAPHORES.

DTRACE ?= dtrace

PROBES_OUT   := $(OUTPUT)/probes
PROBES_H     := $(PROBES_OUT)/virtscope_probes.h
PROBES_SEM_O := $(PROBES_OUT)/virtscope_probes.o

# What the probes need from Debian, on top of the build's own packages.
DEPS_PROBES := systemtap-sdt-dev libdbus-1-dev
DEPS += $(DEPS_PROBES)

REF_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -MMD -MP \
	      -I$(PROBES_OUT) -Iprobes -Iprobes/examples
REF_LDLIBS := -pthread

# The probe sites go into .dynsym too, so that uprobes find them by name
# even in a stripped binary, as they find libvirt's exported functions.
REF_PROBE_SITES := ref_object_lock ref_object_unlock ref_op_begin ref_op_end \
		   ref_fork_helper ref_exec ref_caps_lookup ref_dbus_call \
		   ref_loop_iteration ref_loop_dispatch ref_keepalive_sent \
		   ref_keepalive_received ref_keepalive_timeout
REF_LDFLAGS := $(foreach s,$(REF_PROBE_SITES),-Wl,--export-dynamic-symbol=$(s))

REF_DAEMON_SRCS := refdaemon.c ref_config.c ref_loop.c ref_conn.c ref_keepalive.c \
		   ref_request.c ref_ops.c ref_pool.c ref_stop.c ref_object.c ref_proc.c \
		   ref_caps.c ref_dbus.c ref_peer.c ref_bus.c ref_probes.c ref_util.c
REF_CLIENT_SRCS := refclient.c ref_util.c

REF_DAEMON_OBJS   := $(patsubst %.c,$(PROBES_OUT)/obj/%.o,$(REF_DAEMON_SRCS))
REF_FALLBACK_OBJS := $(patsubst %.c,$(PROBES_OUT)/obj-fallback/%.o,\
			$(REF_DAEMON_SRCS) ref_semaphores.c)
REF_CLIENT_OBJS   := $(patsubst %.c,$(PROBES_OUT)/obj/%.o,$(REF_CLIENT_SRCS))

.PHONY: probes
probes: $(OUTPUT)/refdaemon $(OUTPUT)/refdaemon-fallback $(OUTPUT)/refclient

$(PROBES_H): probes/virtscope.d
	$(call msg,DTRACE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(DTRACE) -h -s $< -o $@

# dtrace -G compiles with $CC/$CFLAGS and leaves temporary files in the
# current directory: run it in the output directory.
$(PROBES_SEM_O): probes/virtscope.d
	$(call msg,DTRACE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)cd $(@D) && CC="$(CC)" CFLAGS="$(CFLAGS)" $(DTRACE) -G -s $(abspath $<) -o $(@F)

$(PROBES_OUT)/obj/%.o: probes/examples/%.c $(PROBES_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(REF_CFLAGS) $$(pkg-config --cflags dbus-1) -c $< -o $@

$(PROBES_OUT)/obj-fallback/%.o: probes/examples/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(REF_CFLAGS) -DVIRTSCOPE_PROBES_FALLBACK \
		$$(pkg-config --cflags dbus-1) -c $< -o $@

$(OUTPUT)/refdaemon: $(REF_DAEMON_OBJS) $(PROBES_SEM_O)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(REF_LDFLAGS) $^ -o $@ $$(pkg-config --libs dbus-1) $(REF_LDLIBS)

$(OUTPUT)/refdaemon-fallback: $(REF_FALLBACK_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(REF_LDFLAGS) $^ -o $@ $$(pkg-config --libs dbus-1) $(REF_LDLIBS)

$(OUTPUT)/refclient: $(REF_CLIENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(REF_LDLIBS)

-include $(REF_DAEMON_OBJS:.o=.d) $(REF_FALLBACK_OBJS:.o=.d) $(REF_CLIENT_OBJS:.o=.d)

# The probe-site cost benchmark (bench/probe_cost.c), on the same header.
$(OUTPUT)/bench/probe-cost: bench/probe_cost.c $(PROBES_H) $(PROBES_SEM_O)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g $(REF_CFLAGS) $< $(PROBES_SEM_O) -o $@ -Wl,--export-dynamic-symbol=vs_bench_site

probes: $(OUTPUT)/bench/probe-cost
