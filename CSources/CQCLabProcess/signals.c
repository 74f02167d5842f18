#include "CQCLabProcess.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

// Files to remove if SIGTERM, SIGINT or SIGHUP arrives while an output is being written.
// This is C, not Swift, because a signal handler may only do async-signal-safe things:
// it reads fixed buffers and calls unlink, sigaction and raise, all async-signal-safe;
// Swift code may allocate or take locks, which a handler must not.

#define QCLAB_CLEANUP_SLOTS 4
#define QCLAB_CLEANUP_PATH 4096

static char cleanup_paths[QCLAB_CLEANUP_SLOTS][QCLAB_CLEANUP_PATH];
static volatile sig_atomic_t cleanup_active[QCLAB_CLEANUP_SLOTS];
static const int cleanup_signals[] = {SIGTERM, SIGINT, SIGHUP};
static struct sigaction cleanup_previous[3];
static int cleanup_installed = 0;

// A stop asked for by SIGTERM or SIGINT while `qclab_stop_catch` is on: the handler only
// records the signal, and the drivers act on it between batches (writing a last
// checkpoint). Files registered above are then left alone: the write in progress
// finishes, and its caller renames or removes its temporary file as usual.
static volatile sig_atomic_t stop_catching = 0;
static volatile sig_atomic_t stop_signal = 0;
// Set by `qclab_stop_exit_with` (mode 1): instead, the handler writes "qclab: stopped by
// SIGTERM" and this text on standard error and ends the process (for a process whose loop
// cannot check the flag, such as an MPI rank that has nothing to save). Set by
// `qclab_stop_announce` (mode 2): the handler writes the line at the first stop, then
// records it as usual.
static char stop_exit_text[512];
static volatile sig_atomic_t stop_exits = 0;
static volatile sig_atomic_t stop_exit_drains = 0;

static void write_text(const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t written = write(STDERR_FILENO, text, length);
        if (written <= 0) return;
        text += written;
        length -= (size_t)written;
    }
}

void qclab_stop_linger(void) {
    // ioctl and nanosleep: system calls, safe in a signal handler.
    struct timespec pause = {0, 2000000};
    for (int i = 0; i < 500; i++) {
        int unread = 0;
        if (ioctl(STDERR_FILENO, FIONREAD, &unread) != 0 || unread == 0) break;
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < 1000; i++) nanosleep(&pause, NULL);
}

static void cleanup_handler(int signal_number) {
    if (stop_catching && (signal_number == SIGTERM || signal_number == SIGINT)) {
        if (stop_exits && (stop_exits == 1 || !stop_signal)) {
            write_text(signal_number == SIGTERM ? "qclab: stopped by SIGTERM" : "qclab: stopped by SIGINT");
            write_text(stop_exit_text);
        }
        if (stop_exits == 1) {
            if (stop_exit_drains) qclab_stop_linger();
            _exit(128 + signal_number);
        }
        if (!stop_signal) stop_signal = signal_number;
        return;
    }
    for (int slot = 0; slot < QCLAB_CLEANUP_SLOTS; slot++) {
        if (cleanup_active[slot]) {
            unlink(cleanup_paths[slot]);
            cleanup_active[slot] = 0;
        }
    }
    // Put back what was there before (the default: end the process) and deliver the
    // signal again, so that the process ends as the signal says (status 128 + n).
    for (int i = 0; i < 3; i++) {
        if (cleanup_signals[i] == signal_number) sigaction(signal_number, &cleanup_previous[i], NULL);
    }
    raise(signal_number);
}

// Installs the handler for the three signals, saving what was there, unless it is installed.
static void install(void) {
    if (cleanup_installed) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cleanup_handler;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 3; i++) sigaddset(&action.sa_mask, cleanup_signals[i]);
    for (int i = 0; i < 3; i++) sigaction(cleanup_signals[i], &action, &cleanup_previous[i]);
    cleanup_installed = 1;
}

// Puts back the saved handlers once nothing needs ours: no file guarded, no stop caught.
static void uninstall_if_unused(void) {
    if (stop_catching) return;
    for (int other = 0; other < QCLAB_CLEANUP_SLOTS; other++) {
        if (cleanup_active[other]) return;
    }
    if (cleanup_installed) {
        for (int i = 0; i < 3; i++) sigaction(cleanup_signals[i], &cleanup_previous[i], NULL);
        cleanup_installed = 0;
    }
}

int qclab_cleanup_register(const char *path) {
    if (strlen(path) >= QCLAB_CLEANUP_PATH) return -1;
    for (int slot = 0; slot < QCLAB_CLEANUP_SLOTS; slot++) {
        if (cleanup_active[slot]) continue;
        strcpy(cleanup_paths[slot], path);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        cleanup_active[slot] = 1;
        install();
        return slot;
    }
    return -1;
}

void qclab_cleanup_unregister(int slot) {
    if (slot < 0 || slot >= QCLAB_CLEANUP_SLOTS) return;
    cleanup_active[slot] = 0;
    uninstall_if_unused();
}

void qclab_stop_catch(int on) {
    if (on) {
        stop_signal = 0;
        stop_catching = 1;
        install();
    } else {
        stop_catching = 0;
        stop_exits = 0;
        uninstall_if_unused();
    }
}

int qclab_stop_signal(void) { return stop_signal; }

// Mode 1: write the line and end the process; mode 2: write it and go on.
static int set_stop_text(const char *text, int mode) {
    if (strlen(text) >= sizeof stop_exit_text) return -1;
    stop_exits = 0;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    strcpy(stop_exit_text, text);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    stop_exits = mode;
    return 0;
}

int qclab_stop_exit_with(const char *text, int wait_for_reader) {
    stop_exit_drains = wait_for_reader;
    return set_stop_text(text, 1);
}

int qclab_stop_announce(const char *text) { return set_stop_text(text, 2); }


