# The stack layer: complete user stacks from CFI on stripped code without
# frame pointers, and names that can be trusted, checked against the chain
# fixture's known truth (its unstripped copies, *.full).

CHAIN_DIR=$BUILD/fixtures/chain

# name_of FUNCTION MODULE: the name virtscope must give FUNCTION of MODULE
# (a file in CHAIN_DIR): its own if the stripped file exports it, else
# MODULE+0xSTART, where START is its address in the unstripped copy.
name_of() {
	local fn=$1 mod=$2 addr
	if nm -D --defined-only "$CHAIN_DIR/$mod" | awk '{print $3}' | grep -qx "$fn"; then
		echo "$fn"
		return
	fi
	addr=$(nm "$CHAIN_DIR/$mod.full" | awk -v f="$fn" '$3 == f {print $1}')
	[ -n "$addr" ] || fail "no symbol $fn in $mod.full"
	printf '%s+0x%x\n' "$mod" "$((16#$addr))"
}

# The expected user chain below main and below the worker's start.
expected_tail() {
	echo "$(name_of prog_static_loop chain);vs_chain_lib_entry;$(name_of lib_static_work libvschain.so)"
}

# user_part FOLDED: the folded lines with kernel frames removed, merged.
user_part() {
	sed -E 's/;[^;]*_\[k\]//g' "$1" | awk '{ w = $NF; $NF = ""; sub(/ $/, ""); s[$0] += w }
		END { for (k in s) print k, s[k] }'
}

# start_chain ARGS...: runs a chain binary from CHAIN_DIR (or $CHAIN_BIN),
# waits for "ready PID", and sets CHAIN_PID.
start_chain() {
	local bin=${CHAIN_BIN:-$CHAIN_DIR/chain} out=$TMP/chain.$$.$RANDOM
	"$bin" "$@" >"$out" &
	for _ in $(seq 100); do
		grep -q '^ready' "$out" 2>/dev/null && break
		sleep 0.05
	done
	CHAIN_PID=$(awk '/^ready/ {print $2}' "$out")
	[ -n "$CHAIN_PID" ] || fail "the chain fixture did not start"
}

# At least 99 % of the samples show exactly the expected chain, from the
# thread's root (clone3 for the worker, _start for the main thread).
test_stacks_fixture_exact_chain() {
	local out=$TMP/chain.folded tail main_root worker_root total good
	start_chain 4
	"$VIRTSCOPE" profile -p "$CHAIN_PID" -F 999 -d 3 -o "$out" 2>"$TMP/chain.err"
	wait
	tail=$(expected_tail)
	main_root="chain;$(name_of _start chain);__libc_start_main;__libc_start_call_main;$(name_of main chain)"
	worker_root="chain-worker;__clone3;start_thread;$(name_of worker_main chain)"
	user_part "$out" >"$TMP/chain.user"
	total=$(awk '{ s += $NF } END { print s + 0 }' "$TMP/chain.user")
	good=$(awk -v a="$main_root;$tail" -v b="$worker_root;$tail" '{ w = $NF; $NF = ""; sub(/ $/, "") }
		$0 == a || $0 == b { s += w } END { print s + 0 }' "$TMP/chain.user")
	echo "exact: $good of $total samples" >&2
	# Two busy threads for 3 s at 999 Hz: up to 6000 samples, fewer when
	# the machine's two CPUs are shared.
	[ "$total" -gt 1500 ] || fail "only $total samples in 3 s at 999 Hz on two threads"
	[ $((good * 100)) -ge $((total * 99)) ] || { sort -k2 -nr "$TMP/chain.user" | head -5 >&2; fail "only $good of $total samples show the expected chain"; }
	grep -q "reach the thread's root" "$TMP/chain.err"
}

# The static function is named by its own start, never after the exported
# function laid out just before it.
test_stacks_static_not_named_after_neighbour() {
	local out=$TMP/neigh.folded
	start_chain 3
	"$VIRTSCOPE" profile -p "$CHAIN_PID" -F 499 -d 1.5 -o "$out" 2>/dev/null
	wait
	! grep -q 'vs_chain_lib_neighbour' "$out" || fail "a static function took its neighbour's name"
	grep -q ";$(name_of lib_static_work libvschain.so) " "$out" || fail "lib_static_work not found"
}

# The library and the executable are replaced on disk while the fixture
# runs (their mappings then read "(deleted)"): names stay right.
test_stacks_binaries_replaced_on_disk() {
	local dir=$TMP/replaced out=$TMP/replaced.folded
	mkdir -p "$dir"
	cp "$CHAIN_DIR/chain" "$CHAIN_DIR/libvschain.so" "$dir/"
	CHAIN_BIN=$dir/chain start_chain 4
	cp /bin/true "$dir/new" && mv -f "$dir/new" "$dir/libvschain.so"
	cp /bin/true "$dir/new" && mv -f "$dir/new" "$dir/chain"
	grep -q 'libvschain.so (deleted)' "/proc/$CHAIN_PID/maps" || fail "the library was not replaced"
	"$VIRTSCOPE" profile -p "$CHAIN_PID" -F 499 -d 1.5 -o "$out" 2>/dev/null
	wait
	[ "$(folded_weight_user_ends "$out" ";$(expected_tail)")" -gt 200 ] || fail "$(head -3 "$out")"
}

# A library dlopen'ed after virtscope attached is symbolized.
test_stacks_dlopen_after_attach() {
	local out=$TMP/dl.folded
	CHAIN_BIN=$CHAIN_DIR/chain-dl start_chain 3 --dlopen 0.1 &
	# start_chain waits for "ready", printed after the dlopen: attach to
	# the process as soon as it exists instead.
	local pid
	for _ in $(seq 100); do pid=$(pgrep -nx chain-dl) && break; sleep 0.01; done
	"$VIRTSCOPE" profile -p "$pid" -F 499 -d 2 -o "$out" 2>/dev/null
	wait
	grep -q ';vs_chain_lib_entry;libvschain.so+0x' "$out" || fail "$(head -3 "$out")"
}

# Children that exit long before the profile ends keep complete, named
# stacks; without --children they are not sampled at all.
test_stacks_short_lived_children() {
	local out=$TMP/kids.folded fork_fn
	fork_fn=$(name_of fork_children chain)
	start_chain 3 --fork-children 5
	"$VIRTSCOPE" profile -p "$CHAIN_PID" --children -F 999 -d 2.5 -o "$out" 2>/dev/null
	wait
	[ "$(folded_weight_user_ends "$out" ";$fork_fn;$(expected_tail)")" -gt 200 ] || fail "$(grep "$fork_fn" "$out" | head -3)"
	start_chain 2 --fork-children 3
	"$VIRTSCOPE" profile -p "$CHAIN_PID" -F 999 -d 1 -o "$out" 2>/dev/null
	wait
	# (the parent shows fork_children too, while it forks: only the
	# children run the chain under it)
	[ "$(folded_weight_has "$out" ";$fork_fn;$(name_of prog_static_loop chain);")" -eq 0 ] ||
		fail "children sampled without --children"
}

# A process in another mount namespace, running from a directory that only
# exists there, is read through /proc/PID/root.
test_stacks_other_mount_namespace() {
	local dir=$TMP/nsroot out=$TMP/ns.folded
	mkdir -p "$dir"
	unshare --mount --propagation private sh -c "
		mount -t tmpfs none '$dir' && cp '$CHAIN_DIR/chain' '$CHAIN_DIR/libvschain.so' '$dir/' &&
		exec '$dir/chain' 3" >"$TMP/ns.out" &
	for _ in $(seq 100); do grep -q '^ready' "$TMP/ns.out" 2>/dev/null && break; sleep 0.05; done
	local pid
	pid=$(awk '/^ready/ {print $2}' "$TMP/ns.out")
	[ ! -e "$dir/chain" ] || fail "the fixture's files are visible outside its namespace"
	"$VIRTSCOPE" profile -p "$pid" -F 499 -d 1.5 -o "$out" 2>/dev/null
	wait
	[ "$(folded_weight_user_ends "$out" ";$(expected_tail)")" -gt 200 ] || fail "$(head -3 "$out")"
}

# Frame pointers stay available, and show what they cannot do here.
test_stacks_fp_mode() {
	local out=$TMP/fp.folded
	start_chain 3
	"$VIRTSCOPE" profile -p "$CHAIN_PID" --unwind fp -F 499 -d 1 -o "$out" 2>"$TMP/fp.err"
	wait
	[ "$(folded_weight "$out" '.')" -gt 300 ] || fail "no samples in fp mode"
	grep -q "0.0% reach the thread's root" "$TMP/fp.err" || fail "$(cat "$TMP/fp.err")"
}

# On the real daemon: whole paths from the worker thread's root through
# virNetServerProgramDispatch, with libvirt's static functions in between
# named by module and offset.
test_stacks_libvirtd_whole_paths() {
	local out=$TMP/lv.folded
	load rpc -d 8 >/dev/null 2>&1 &
	sleep 1
	"$VIRTSCOPE" profile -p "$LAB_PID" -F 999 -d 5 -o "$out" 2>"$TMP/lv.err"
	wait
	grep -qE '^(rpc-libvirtd|prio-rpc-libvir);__clone3;start_thread;libvirt\.so\.0[^;]*\+0x[0-9a-f]+;.*virNetServerProgramDispatch;' "$out" ||
		fail "no whole worker path: $(grep -m3 rpc-libvirtd "$out" | cut -c1-300)"
	local pct
	pct=$(grep -oE '[0-9.]+% reach' "$TMP/lv.err" | cut -d% -f1)
	echo "libvirtd user stacks reaching the root: $pct%" >&2
	awk -v p="$pct" 'BEGIN { exit !(p >= 98) }' || fail "only $pct% of stacks reach the root"
}

# The profile of a copy of the fixture made from files in DIR, with the
# environment given before the command (VAR=value ...).
profile_copy() {
	local dir=$1 out=$2
	shift 2
	CHAIN_BIN=$dir/chain start_chain 3
	env "$@" "$VIRTSCOPE" profile -p "$CHAIN_PID" -F 499 -d 1.5 -o "$out" 2>/dev/null
	wait
}

# Real names of the fixture's static functions, once debug symbols are found.
expect_debug_names() {
	local n
	n=$(folded_weight_user_ends "$1" ";main;prog_static_loop;vs_chain_lib_entry;lib_static_work")
	[ "$n" -gt 100 ] || fail "static functions not named from debug symbols: $(sort -k2 -nr "$1" | head -2)"
}

split_debug() { # FILE: FILE.debug from FILE.full, FILE stays stripped
	objcopy --only-keep-debug "$1.full" "$1.debug"
}

# A debug file found by build-id, under a debug directory.
test_stacks_names_from_build_id() {
	local dir=$TMP/bid dbg=$TMP/bid-debug f id
	mkdir -p "$dir" "$dbg"
	for f in chain libvschain.so; do
		cp "$CHAIN_DIR/$f" "$CHAIN_DIR/$f.full" "$dir/"
		split_debug "$dir/$f"
		id=$(readelf -n "$dir/$f" | awk '/Build ID/ {print $3}')
		mkdir -p "$dbg/.build-id/${id:0:2}"
		mv "$dir/$f.debug" "$dbg/.build-id/${id:0:2}/${id:2}.debug"
		rm "$dir/$f.full"
	done
	profile_copy "$dir" "$TMP/bid.folded" VIRTSCOPE_DEBUGINFO_PATH="+:.debug:$dbg"
	expect_debug_names "$TMP/bid.folded"
}

# A debug file found through .gnu_debuglink, beside the binary.
test_stacks_names_from_debuglink() {
	local dir=$TMP/dlink f
	mkdir -p "$dir"
	for f in chain libvschain.so; do
		cp "$CHAIN_DIR/$f.full" "$dir/"
		split_debug "$dir/$f"
		objcopy --strip-unneeded --add-gnu-debuglink="$dir/$f.debug" "$dir/$f.full" "$dir/$f"
		rm "$dir/$f.full"
	done
	profile_copy "$dir" "$TMP/dlink.folded"
	expect_debug_names "$TMP/dlink.folded"
}

# MiniDebugInfo: an xz-compressed symbol table in .gnu_debugdata.
test_stacks_names_from_gnu_debugdata() {
	local dir=$TMP/mini f
	mkdir -p "$dir"
	for f in chain libvschain.so; do
		cp "$CHAIN_DIR/$f.full" "$dir/"
		nm -D "$dir/$f.full" --format=posix --defined-only | awk '{print $1}' | sort >"$dir/dyn"
		nm "$dir/$f.full" --format=posix --defined-only | awk '$2 ~ /^[Tt]$/ {print $1}' | sort >"$dir/funcs"
		comm -13 "$dir/dyn" "$dir/funcs" >"$dir/keep"
		objcopy --only-keep-debug "$dir/$f.full" "$dir/mini.debug"
		objcopy -S --remove-section .gdb_index --remove-section .comment \
			--keep-symbols="$dir/keep" "$dir/mini.debug" "$dir/mini"
		xz -f "$dir/mini"
		objcopy --strip-unneeded --add-section .gnu_debugdata="$dir/mini.xz" "$dir/$f.full" "$dir/$f"
		rm -f "$dir/$f.full" "$dir/mini.debug"
	done
	profile_copy "$dir" "$TMP/mini.folded"
	expect_debug_names "$TMP/mini.folded"
}

# glibc's static functions come from libc6-dbg's build-id files: the
# stripped libc does not export __libc_start_call_main.
test_stacks_libc_names_from_libc6_dbg() {
	! nm -D /lib/x86_64-linux-gnu/libc.so.6 | grep -q ' __libc_start_call_main$' || fail "libc exports it"
	start_chain 2
	"$VIRTSCOPE" profile -p "$CHAIN_PID" -F 499 -d 1 -o "$TMP/libc.folded" 2>/dev/null
	wait
	grep -q '^chain;[^;]*;__libc_start_main;__libc_start_call_main;' "$TMP/libc.folded" ||
		fail "$(head -2 "$TMP/libc.folded")"
}

# Samples in the vDSO are named, and unwound through to the thread's root.
test_stacks_vdso() {
	local out=$TMP/vdso.folded inside rooted
	start_chain 3 --vdso 1
	"$VIRTSCOPE" profile -p "$CHAIN_PID" -F 999 -d 1.5 -o "$out" 2>/dev/null
	wait
	inside=$(sed -E 's/;[^;]*_\[k\]//g' "$out" | awk '$0 ~ /clock_gettime [0-9]+$/ { s += $NF } END { print s + 0 }')
	rooted=$(sed -E 's/;[^;]*_\[k\]//g' "$out" | awk '$0 ~ /clock_gettime [0-9]+$/ && ($0 ~ /^chain-worker;__clone3;start_thread;/ || $0 ~ /^chain;[^;]*;__libc_start_main;/) { s += $NF } END { print s + 0 }')
	[ "$inside" -gt 100 ] || fail "only $inside samples end in the vDSO's clock_gettime: $(sort -k2 -nr "$out" | head -3)"
	[ $((rooted * 100)) -ge $((inside * 98)) ] || fail "$rooted of $inside vDSO samples reach the root"
}

# The target is never stopped or traced while it is profiled.
test_stacks_target_never_traced() {
	start_chain 3
	"$VIRTSCOPE" profile -p "$CHAIN_PID" -F 999 -d 2 -o /dev/null 2>/dev/null &
	local vs=$! i
	for i in $(seq 15); do
		sleep 0.1
		grep -q '^TracerPid:[[:space:]]*0$' "/proc/$CHAIN_PID/status" || fail "traced"
		! grep -qE '^State:[[:space:]]*[tT]' "/proc/$CHAIN_PID/status" || fail "stopped"
	done
	wait
}
