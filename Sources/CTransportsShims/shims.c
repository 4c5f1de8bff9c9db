#define _GNU_SOURCE
#include <sys/socket.h>
#include "CTransportsShims.h"

int heartbeat_accept_nonblocking(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

#include <errno.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

// epoll_pwait2 through syscall(2), so that this builds against a glibc older than 2.35 (which has
// no wrapper); the number is the same on x86_64 and aarch64 when the headers predate it.
#if !defined(SYS_epoll_pwait2) && (defined(__x86_64__) || defined(__aarch64__))
#define SYS_epoll_pwait2 441
#endif

int heartbeat_epoll_wait_nanoseconds(int epfd, struct epoll_event *events, int maxevents, long long timeout) {
#ifdef SYS_epoll_pwait2
    // The kernel's struct __kernel_timespec: 64-bit fields on every architecture.
    struct { long long tv_sec; long long tv_nsec; } span = { timeout / 1000000000LL, timeout % 1000000000LL };
    return (int)syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout < 0 ? NULL : (void *)&span, NULL, (size_t)(_NSIG / 8));
#else
    (void)epfd; (void)events; (void)maxevents; (void)timeout;
    errno = ENOSYS;
    return -1;
#endif
}

int heartbeat_timerfd_arm(int fd, long long deadline) {
    struct itimerspec spec = { 0 };
    if (deadline >= 0) {
        // An absolute deadline of 0 would disarm the timer: 1 ns is as good as "now".
        if (deadline == 0) deadline = 1;
        spec.it_value.tv_sec = deadline / 1000000000LL;
        spec.it_value.tv_nsec = deadline % 1000000000LL;
    }
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL);
}

int heartbeat_timerfd_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

int heartbeat_set_timer_slack(unsigned long nanoseconds) { return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0); }
