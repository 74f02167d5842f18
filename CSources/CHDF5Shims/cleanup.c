#include "CHDF5Shims.h"
#include <signal.h>
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

static void cleanup_handler(int signal_number) {
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

int qclab_cleanup_register(const char *path) {
    if (strlen(path) >= QCLAB_CLEANUP_PATH) return -1;
    for (int slot = 0; slot < QCLAB_CLEANUP_SLOTS; slot++) {
        if (cleanup_active[slot]) continue;
        strcpy(cleanup_paths[slot], path);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        cleanup_active[slot] = 1;
        if (!cleanup_installed) {
            struct sigaction action;
            memset(&action, 0, sizeof action);
            action.sa_handler = cleanup_handler;
            sigemptyset(&action.sa_mask);
            for (int i = 0; i < 3; i++) sigaddset(&action.sa_mask, cleanup_signals[i]);
            for (int i = 0; i < 3; i++) sigaction(cleanup_signals[i], &action, &cleanup_previous[i]);
            cleanup_installed = 1;
        }
        return slot;
    }
    return -1;
}

void qclab_cleanup_unregister(int slot) {
    if (slot < 0 || slot >= QCLAB_CLEANUP_SLOTS) return;
    cleanup_active[slot] = 0;
    for (int other = 0; other < QCLAB_CLEANUP_SLOTS; other++) {
        if (cleanup_active[other]) return;
    }
    if (cleanup_installed) {
        for (int i = 0; i < 3; i++) sigaction(cleanup_signals[i], &cleanup_previous[i], NULL);
        cleanup_installed = 0;
    }
}
