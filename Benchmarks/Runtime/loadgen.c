// Load generator of the scale run (Benchmarks/Runtime/scale.py): opens CONNECTIONS loopback TCP
// connections from SOURCE_IP to HOST:PORT speaking the TCP envelope (spec/envelope.md), sends its
// preface, and sends one PING per connection per interval from the moment it is up, phases
// spread evenly over the interval, and times each PONG. It answers the server's PINGs with PONGs.
// One thread, one epoll set, one read buffer for all connections.
//
// Protocol with the driver (stdout, one line each):  "ready N" once N connections are up (or
// "failed ..." and exit 1). SIGUSR1 starts the measured window, SIGUSR2 ends it: it then prints
//   result conns=.. pings=.. pongs=.. missed=.. late=.. closed=.. goaways=.. server_pings=..
// and, with a samples file, writes the window's RTTs (microseconds, one per line), and exits.
// A PING not answered before the next one is due (the interval) counts as missed; a PONG to it
// arriving later counts as late. Every run is bounded: DEADLINE_S after start it exits anyway.
// Build: gcc -O2 -o loadgen loadgen.c
// Usage: loadgen HOST PORT SOURCE_IP CONNECTIONS [INTERVAL_MS=1000] [DEADLINE_S=120] [SAMPLES_FILE]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PREFACE = 8, MAX_PENDING_CONNECTS = 256, HOLD = 32 };
static const uint8_t preface[PREFACE] = {0x89, 0x48, 0x42, 0x0D, 0x0A, 0x1A, 0x0A, 0x01};

typedef struct {
    int fd;
    uint8_t up, dead;
    uint8_t preface_seen;  // octets of the server's preface read
    uint8_t held;          // octets of a split frame kept in hold
    uint8_t hold[HOLD];
    uint64_t skip;         // payload octets of a frame we do not keep (DATA, GOAWAY reason)
    uint32_t sequence;     // of the outstanding PING, 0 when none
    int64_t sent_ns;
    int64_t due_ns;
} Connection;

static Connection *connections;
static int count;
static volatile sig_atomic_t recording, finished;
static uint64_t pings, pongs, missed, late, closed, goaways, server_pings;
static uint32_t *samples;
static size_t sample_count, sample_capacity;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void on_signal(int number) {
    if (number == SIGUSR1) recording = 1; else finished = 1;
}

static void put32(uint8_t *to, uint32_t value) {
    to[0] = value >> 24; to[1] = value >> 16; to[2] = value >> 8; to[3] = value;
}
static uint32_t get32(const uint8_t *from) {
    return (uint32_t)from[0] << 24 | (uint32_t)from[1] << 16 | (uint32_t)from[2] << 8 | from[3];
}

static void drop(Connection *c) {
    if (c->dead) return;
    c->dead = 1;
    closed += 1;
    close(c->fd);
}

static void send_frame(Connection *c, uint8_t type, const uint8_t payload[8]) {
    uint8_t frame[10] = {type, 8};
    memcpy(frame + 2, payload, 8);
    if (write(c->fd, frame, sizeof frame) != (ssize_t)sizeof frame) drop(c);  // 10 octets fit any socket buffer here
}

static void send_ping(Connection *c, int index, int64_t now) {
    if (c->sequence != 0 && recording) missed += 1;
    static uint32_t next_sequence = 1;
    c->sequence = next_sequence++ | 1u;
    uint8_t payload[8];
    put32(payload, c->sequence);
    put32(payload + 4, (uint32_t)index);
    c->sent_ns = now;
    if (recording) pings += 1;
    send_frame(c, 0x01, payload);
}

/// Reads a QUIC varint from `bytes` (length `available`); returns its length, 0 if incomplete.
static int varint(const uint8_t *bytes, size_t available, uint64_t *value) {
    if (available == 0) return 0;
    int length = 1 << (bytes[0] >> 6);
    if ((size_t)length > available) return 0;
    uint64_t v = bytes[0] & 0x3f;
    for (int i = 1; i < length; i++) v = v << 8 | bytes[i];
    *value = v;
    return length;
}

/// One complete frame header + 8-octet payload (PING, PONG) or a header whose payload we skip.
static void on_frame(Connection *c, uint64_t type, const uint8_t *payload) {
    if (type == 0x01) {
        server_pings += 1;
        send_frame(c, 0x02, payload);
    } else if (type == 0x02) {
        uint32_t sequence = get32(payload);
        if (sequence == c->sequence) {
            c->sequence = 0;
            if (recording) {
                pongs += 1;
                if (sample_count < sample_capacity) samples[sample_count++] = (uint32_t)((now_ns() - c->sent_ns) / 1000);
            }
        } else if (recording) {
            late += 1;
        }
    }
}

/// Consumes `bytes` of connection `c`'s stream.
static void consume(Connection *c, const uint8_t *bytes, size_t length) {
    while (length > 0) {
        if (c->preface_seen < PREFACE) {
            if (bytes[0] != preface[c->preface_seen]) { drop(c); return; }
            c->preface_seen += 1; bytes += 1; length -= 1;
            continue;
        }
        if (c->skip > 0) {
            size_t n = length < c->skip ? length : c->skip;
            c->skip -= n; bytes += n; length -= n;
            continue;
        }
        // Gather into hold until a header (and, for PING/PONG, its payload) is complete.
        size_t room = (size_t)(HOLD - c->held);
        size_t take = room < length ? room : length;
        memcpy(c->hold + c->held, bytes, take);
        size_t available = c->held + take;
        uint64_t type, size;
        int a = varint(c->hold, available, &type);
        int b = a ? varint(c->hold + a, available - a, &size) : 0;
        if (!a || !b) { c->held = (uint8_t)available; bytes += take; length -= take; continue; }
        size_t header = (size_t)(a + b);
        if ((type == 0x01 || type == 0x02) && size == 8) {
            if (available < header + 8) { c->held = (uint8_t)available; bytes += take; length -= take; continue; }
            on_frame(c, type, c->hold + header);
            size_t used = header + 8 - c->held;  // of this chunk
            c->held = 0; bytes += used; length -= used;
        } else {
            if (type == 0x03) goaways += 1;
            size_t used = header - c->held;
            c->held = 0; bytes += used; length -= used;
            c->skip = size;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: loadgen HOST PORT SOURCE_IP CONNECTIONS [INTERVAL_MS] [DEADLINE_S] [SAMPLES_FILE]\n");
        return 2;
    }
    struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    struct sockaddr_in source = {.sin_family = AF_INET};
    inet_pton(AF_INET, argv[1], &server.sin_addr);
    inet_pton(AF_INET, argv[3], &source.sin_addr);
    count = atoi(argv[4]);
    int64_t interval = (argc > 5 ? atoll(argv[5]) : 1000) * 1000000LL;
    int64_t deadline = now_ns() + (argc > 6 ? atoll(argv[6]) : 120) * 1000000000LL;
    const char *samples_file = argc > 7 ? argv[7] : NULL;
    sample_capacity = (size_t)count * 600;
    samples = malloc(sample_capacity * sizeof *samples);
    connections = calloc((size_t)count, sizeof *connections);
    signal(SIGUSR1, on_signal);
    signal(SIGUSR2, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int epoll = epoll_create1(0);
    static uint8_t buffer[65536];
    struct epoll_event events[1024];

    // Connections are opened at most MAX_PENDING_CONNECTS at a time (the server's backlog is
    // finite); each starts pinging as soon as it is up, at its phase of the schedule, so that a
    // server's idle timeout never sees a connection that waits for the others.
    int started = 0, up = 0, pending = 0, cursor = 0;
    int64_t start = now_ns();
    for (int i = 0; i < count; i++) connections[i].due_ns = start + interval * i / count;
    while (!finished && now_ns() < deadline) {
        while (started < count && pending < MAX_PENDING_CONNECTS) {
            Connection *c = &connections[started];
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&source, sizeof source) != 0) {
                printf("failed socket/bind at %d: %s\n", started, strerror(errno)); return 1;
            }
            if (connect(c->fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS) {
                printf("failed connect at %d: %s\n", started, strerror(errno)); return 1;
            }
            struct epoll_event event = {.events = EPOLLOUT, .data.u32 = (uint32_t)started};
            epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
            started += 1; pending += 1;
        }
        int64_t now = now_ns();
        while (connections[cursor].due_ns <= now) {
            Connection *c = &connections[cursor];
            if (c->up && !c->dead) send_ping(c, cursor, now);
            c->due_ns += interval;
            cursor = (cursor + 1) % count;
        }
        int64_t wait = (connections[cursor].due_ns - now + 999999) / 1000000;
        int ready = epoll_wait(epoll, events, 1024, (int)(wait > 1000 ? 1000 : wait));
        for (int i = 0; i < ready; i++) {
            Connection *c = &connections[events[i].data.u32];
            if (c->dead) continue;
            if (!c->up) {
                int error = 0; socklen_t size = sizeof error;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &size);
                if (error != 0 || (events[i].events & (EPOLLERR | EPOLLHUP))) {
                    printf("failed connect %u: %s\n", events[i].data.u32, strerror(error)); return 1;
                }
                c->up = 1; pending -= 1; up += 1;
                if (write(c->fd, preface, PREFACE) != PREFACE) { printf("failed preface\n"); return 1; }
                struct epoll_event event = {.events = EPOLLIN, .data.u32 = events[i].data.u32};
                epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
                if (up == count) { printf("ready %d\n", up); fflush(stdout); }
                continue;
            }
            for (;;) {
                ssize_t n = read(c->fd, buffer, sizeof buffer);
                if (n > 0) { consume(c, buffer, (size_t)n); if (c->dead || n < (ssize_t)sizeof buffer) break; continue; }
                if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
                drop(c);  // end of stream or error: the server closed a live connection
                break;
            }
        }
    }
    if (up < count) { printf("failed: %d of %d connected before the deadline\n", up, count); return 1; }
    for (int i = 0; i < count; i++) if (!connections[i].dead && connections[i].sequence != 0 && now_ns() - connections[i].sent_ns > interval) missed += 1;
    if (samples_file) {
        FILE *out = fopen(samples_file, "w");
        for (size_t i = 0; i < sample_count; i++) fprintf(out, "%u\n", samples[i]);
        fclose(out);
    }
    printf("result conns=%d pings=%llu pongs=%llu missed=%llu late=%llu closed=%llu goaways=%llu server_pings=%llu\n", count,
           (unsigned long long)pings, (unsigned long long)pongs, (unsigned long long)missed, (unsigned long long)late,
           (unsigned long long)closed, (unsigned long long)goaways, (unsigned long long)server_pings);
    fflush(stdout);
    return 0;
}
