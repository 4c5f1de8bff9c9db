#ifndef C_TRANSPORTS_SHIMS_H
#define C_TRANSPORTS_SHIMS_H
// Linux headers that Swift's Glibc module does not bring in (epoll, eventfd, TCP options), and
// wrappers for the variadic calls Swift cannot import (ioctl).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/// ioctl(fd, FIONREAD, &count): octets waiting to be read. Returns -1 and sets errno on failure.
static inline int heartbeat_fionread(int fd, int *count) { return ioctl(fd, FIONREAD, count); }

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), a GNU extension Swift cannot see.
int heartbeat_accept_nonblocking(int fd);

/// epoll_pwait2 with a relative timeout in nanoseconds (negative: wait forever), no signal mask.
/// Returns -1 with errno ENOSYS where the kernel (before Linux 5.11) or the build lacks it, or
/// with EPERM where a seccomp filter refuses it.
int heartbeat_epoll_wait_nanoseconds(int epfd, struct epoll_event *events, int maxevents, long long timeout);

/// A non-blocking, close-on-exec timerfd on CLOCK_MONOTONIC (the fallback when epoll_pwait2 is missing).
int heartbeat_timerfd_create(void);

/// Arms `fd` to expire at the absolute CLOCK_MONOTONIC time `deadline` (nanoseconds); negative disarms.
int heartbeat_timerfd_arm(int fd, long long deadline);

/// prctl(PR_SET_TIMERSLACK): how late the kernel may fire this thread's timers to batch wake-ups.
int heartbeat_set_timer_slack(unsigned long nanoseconds);

#endif
