#ifndef QCLAB_PROCESS_H
#define QCLAB_PROCESS_H
#include <sys/types.h>

// Process and signal helpers for the drivers and the output writer: what Swift cannot
// call (variadic prctl, Glibc's RLIMIT_* enum) or must not run (code in a signal handler).

// MARK: Processes (process.c)

/// In a forked worker: asks the kernel to SIGKILL this process when its parent dies
/// (Linux's prctl(PR_SET_PDEATHSIG), variadic, which Swift cannot call), then checks that
/// the parent `parent` is still alive (it may have died before the request). Returns 0,
/// or -1 if the parent is gone already. Elsewhere it only checks.
int qclab_die_with_parent(pid_t parent);
/// CPU time (user + system, in clock ticks) that process `pid` has used, from
/// /proc/PID/stat, or -1 if unknown: the forked driver's sign of life from a busy worker.
long long qclab_process_cpu_ticks(pid_t pid);
/// The soft limit of resource `which` (0: open files, 1: processes, 2: address space in
/// bytes, 3: file size in bytes), or -1 if unlimited or unknown. In C because Glibc's
/// RLIMIT_* constants come into Swift as an enum of a different type on each platform.
long long qclab_resource_limit(int which);

// MARK: Signals (signals.c)

/// Removes `path` if SIGTERM, SIGINT or SIGHUP arrives before `qclab_cleanup_unregister`,
/// then ends the process as the signal would have (a handler in C: see signals.c). Returns
/// the slot to unregister, or -1 if none is free or the path is too long. Not thread-safe:
/// callers serialise (the HDF5 writer holds its lock).
int qclab_cleanup_register(const char *path);
/// Stops guarding the file of `slot`; the last one restores the previous signal handlers.
void qclab_cleanup_unregister(int slot);

/// With `on`, SIGTERM and SIGINT no longer end the process: the first one is recorded for
/// `qclab_stop_signal` (and a file guarded by `qclab_cleanup_register` is left to its
/// writer); the drivers check it between batches. Off puts the previous handlers back
/// (once no file is guarded). Call it from one thread, outside any write.
void qclab_stop_catch(int on);
/// The signal recorded while stops are caught (SIGTERM or SIGINT), or 0.
int qclab_stop_signal(void);
/// While stops are caught: a stop writes "qclab: stopped by SIGTERM" (or SIGINT) and
/// `text` (which should end with a newline) on standard error and ends the process with
/// status 128 + the signal, for a process that has nothing to save; with
/// `wait_for_reader`, after `qclab_stop_linger`. Returns -1 if `text` is too long (511 bytes at most).
int qclab_stop_exit_with(const char *text, int wait_for_reader);
/// While stops are caught: the first stop writes "qclab: stopped by SIGTERM" (or SIGINT)
/// and `text` on standard error at once, then is recorded as usual (for MPI rank 0, which
/// the launcher may kill a few milliseconds after passing the signal on). Returns -1 if
/// `text` is too long.
int qclab_stop_announce(const char *text);
/// For an MPI rank about to leave after its last line: waits until the pipe standard
/// error is has been read (a second at most), then two seconds for the launcher to end
/// the job; async-signal-safe.
void qclab_stop_linger(void);

#endif
