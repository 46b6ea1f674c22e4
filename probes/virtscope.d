/*
 * The virtscope USDT provider: what a virtualization daemon tells virtscope
 * about its locks, operations, forks, capability lookups, D-Bus calls, main
 * loop and keepalives. Every argument is 8 bytes; strings are pointers.
 * probes/README.md documents each probe and argument, and probes.mk turns
 * this file into $(OUTPUT)/probes/virtscope_probes.h (dtrace -h) and the
 * object that defines the semaphores (dtrace -G). Keep it in step with
 * probes/virtscope_probes_fallback.h.
 */
provider virtscope {
	/* Locks: around every acquisition and release of a daemon object's lock. */
	probe lock_acquire_begin(void *lock, const char *kind, const char *object);
	probe lock_acquired(void *lock, const char *kind, const char *object);
	probe lock_release(void *lock, const char *kind, const char *object);

	/* Operations: one API call (an RPC) from its start to its result. */
	probe op_begin(const char *op, const char *object, uint64_t request_id);
	probe op_end(const char *op, const char *object, uint64_t request_id, int64_t result);

	/* Child processes: fork_end fires in the parent, exec in the child. */
	probe fork_begin(const char *reason);
	probe fork_end(const char *reason, int64_t child_pid);
	probe exec(const char *path);

	/* Emulator capability lookups (virQEMUCapsCacheLookup's counterpart). */
	probe caps_lookup_begin(const char *binary);
	probe caps_lookup_end(const char *binary, int64_t result);

	/* Synchronous D-Bus method calls, with the timeout they wait for. */
	probe dbus_call_begin(const char *bus_name, const char *path, const char *iface,
			      const char *method, int64_t timeout_ms);
	probe dbus_call_end(const char *bus_name, const char *path, const char *iface,
			    const char *method, int64_t timeout_ms, int64_t result);

	/* The main event loop: one iteration, and each source it dispatches. */
	probe loop_iteration_begin(uint64_t iteration);
	probe loop_iteration_end(uint64_t iteration);
	probe loop_dispatch(const char *source, int64_t fd);

	/* Keepalives: proc is 1 for PING, 2 for PONG, as in libvirt. */
	probe keepalive_sent(void *client, int64_t proc);
	probe keepalive_received(void *client, int64_t proc);
	probe keepalive_timeout(void *client, int64_t count_to_death, int64_t idle_s);
};
