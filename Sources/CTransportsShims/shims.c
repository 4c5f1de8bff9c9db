#define _GNU_SOURCE
#include <sys/socket.h>
#include "CTransportsShims.h"

int heartbeat_accept_nonblocking(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

#include <errno.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>

int heartbeat_epoll_wait_nanoseconds(int epfd, struct epoll_event *events, int maxevents, long long timeout) {
    if (timeout < 0) return epoll_pwait2(epfd, events, maxevents, NULL, NULL);
    struct timespec span = { .tv_sec = timeout / 1000000000LL, .tv_nsec = timeout % 1000000000LL };
    return epoll_pwait2(epfd, events, maxevents, &span, NULL);
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
