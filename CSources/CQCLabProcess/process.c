// Process helpers for the forked driver that Swift cannot express directly.
#include "CQCLabProcess.h"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

int qclab_die_with_parent(pid_t parent) {
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
#endif
    return getppid() == parent ? 0 : -1;
}

long long qclab_process_cpu_ticks(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (!file) return -1;
    char buffer[1024];
    size_t n = fread(buffer, 1, sizeof buffer - 1, file);
    fclose(file);
    buffer[n] = 0;
    // Fields after the command name, which is in parentheses and may hold spaces.
    char *p = buffer + n;
    while (p > buffer && *p != ')') p--;
    if (*p != ')') return -1;
    unsigned long long utime = 0, stime = 0;
    char state;
    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
    if (sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state, &utime, &stime) != 3) return -1;
    if (state == 'T' || state == 't') return -2;  // stopped: no life at all
    return (long long)(utime + stime);
}

#include <sys/resource.h>

long long qclab_resource_limit(int which) {
    static const int resources[] = {RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_AS, RLIMIT_FSIZE};
    if (which < 0 || which > 3) return -1;
    struct rlimit limit;
    if (getrlimit(resources[which], &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return -1;
    return (long long)limit.rlim_cur;
}
