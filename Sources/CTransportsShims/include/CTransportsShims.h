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

#endif
