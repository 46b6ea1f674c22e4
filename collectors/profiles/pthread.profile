# Any daemon's POSIX locks, through uprobes on the C library's exported lock
# functions: mutexes, read-write locks (read and write sides alike), and
# condition waits, which give their mutex up while they wait. It matches no
# process by itself: `virtscope locks --all` falls back to it for a daemon
# without a profile, or name it with --profile pthread. Locks have no names
# here; they are shown by address and by the call site that first took them.
# Every lock call hits a uprobe whose first instruction is single-stepped, so
# this costs several microseconds per lock operation: a tool for finding a
# lock, not for leaving on.
profile pthread
describe "POSIX mutexes, rwlocks and condition waits of any process (glibc)"

probe lock.request  at uprobe:libc.so.6:pthread_mutex_lock addr=$arg1
probe lock.acquired at uretprobe:libc.so.6:pthread_mutex_lock stack
probe lock.release  at uprobe:libc.so.6:pthread_mutex_unlock stack addr=$arg1

probe lock.request  at uprobe:libc.so.6:pthread_rwlock_rdlock addr=$arg1
probe lock.acquired at uretprobe:libc.so.6:pthread_rwlock_rdlock stack
probe lock.request  at uprobe:libc.so.6:pthread_rwlock_wrlock addr=$arg1
probe lock.acquired at uretprobe:libc.so.6:pthread_rwlock_wrlock stack
probe lock.release  at uprobe:libc.so.6:pthread_rwlock_unlock stack addr=$arg1

probe lock.cond-wait at uprobe:libc.so.6:pthread_cond_wait addr=$arg2
probe lock.acquired  at uretprobe:libc.so.6:pthread_cond_wait
probe lock.cond-wait at uprobe:libc.so.6:pthread_cond_timedwait addr=$arg2
probe lock.acquired  at uretprobe:libc.so.6:pthread_cond_timedwait
