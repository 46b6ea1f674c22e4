# libvirtd 9.0 as Debian 12 ships it (9.0.0-4+deb12u2), stripped and without
# USDT for locks: uprobes on libvirt.so.0's exported functions. Offsets are
# from ../shared/notes/libvirt-9.0.md and only read on the builds below.
profile libvirtd
describe "libvirtd 9.0 (Debian 9.0.0-4+deb12u2)"
match exe libvirtd
require build-id libvirt.so.0 ed70d3d961c73950e65dd965330d6dcba75e62a4

role libvirtd main-loop
role rpc-libvirtd worker
role prio-rpc-libvir priority-worker
role rpc-admin admin-worker
role vm-* vm-event
role qemu-event qemu-event
role qmp-* caps-probe
role init-* domain-init
role cmd-async-io command-io
role gdbus glib-dbus
role gmain glib-main

# Every virMutex: object locks (virObjectLock) and lock guards alike. A
# virObjectLockable keeps its mutex at +0x18; its class (virClass *) is at
# -16 from the object, with the magic 0xCAFExxxx at +16 and the class name at
# +24; a virDomainObj's definition is at +0x88, with the domain name at +0x30.
# Mutexes that are no object's fail the magic check and stay unnamed.
probe lock.request at uprobe:libvirt.so.0:virMutexLock check=0xffff0000:0xcafe0000 object-if-kind=virDomainObj addr=$arg1 aux=+16(+-16($arg1-0x18)):u32 kind=+24(+-16($arg1-0x18)) object=+0x30(+0x88($arg1-0x18))
probe lock.acquired at uretprobe:libvirt.so.0:virMutexLock stack
probe lock.release at uprobe:libvirt.so.0:virMutexUnlock stack addr=$arg1
# A domain job waits on vm->cond with the domain lock given up meanwhile.
probe lock.cond-wait at uprobe:libvirt.so.0:virCondWait addr=$arg2
probe lock.acquired at uretprobe:libvirt.so.0:virCondWait
probe lock.cond-wait at uprobe:libvirt.so.0:virCondWaitUntil addr=$arg2
probe lock.acquired at uretprobe:libvirt.so.0:virCondWaitUntil

# What each worker is doing: the generated RPC stubs name their job. The
# probe sits at +9, past "test %rdi,%rdi; je", on a push: uprobes emulate a
# push, but single-step a test out of line, which costs about 10 us a hit
# on this kind of machine (bench/RESULTS.md) and runs twice per RPC. %rdi
# still holds the name there. Only used on the build named above.
probe thread.job at uprobe:libvirt.so.0:virThreadJobSet+9 name=$arg1
probe thread.job at uprobe:libvirt.so.0:virThreadJobClear

# Where forks come from (virtscope forks): QEMU capability lookups, and the
# functions that fork on libvirt's behalf (virCommandRun also launches
# QEMU). All are exported; each starts with an emulated push except
# virProcessRunInMountNamespace (sub, single-stepped), which runs rarely.
probe span.begin:caps at uprobe:libvirt_driver_qemu.so:virQEMUCapsCacheLookup name=$arg2
probe span.end:caps   at uretprobe:libvirt_driver_qemu.so:virQEMUCapsCacheLookup
probe span.begin:func at uprobe:libvirt.so.0:virCommandRun
probe span.end:func   at uretprobe:libvirt.so.0:virCommandRun
probe span.begin:func at uprobe:libvirt.so.0:virFileAccessibleAs
probe span.end:func   at uretprobe:libvirt.so.0:virFileAccessibleAs
probe span.begin:func at uprobe:libvirt.so.0:virProcessRunInMountNamespace
probe span.end:func   at uretprobe:libvirt.so.0:virProcessRunInMountNamespace
probe span.begin:func at uprobe:libvirt.so.0:virProcessRunInFork
probe span.end:func   at uretprobe:libvirt.so.0:virProcessRunInFork
