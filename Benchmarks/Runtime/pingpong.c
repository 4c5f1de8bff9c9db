// The C baseline of the echo round trip: two threads of one process, blocking loopback TCP
// sockets with TCP_NODELAY, 8 octets each way. Prints one line of key=value figures:
//   impl=c rounds=N p50_us=.. p99_us=.. mean_us=.. csw_per_rt=.. mallocs_per_rt=0
// and, with a samples file, every round trip's microseconds one per line (for the charts).
// Context switches are the process's (getrusage RUSAGE_SELF: all threads) over the timed rounds.
// Build: gcc -O2 -pthread -o pingpong pingpong.c     Usage: pingpong [ROUNDS] [SAMPLES_FILE]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listener;

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int exactly(int fd, char *buffer, int count, int reading) {
    int done = 0;
    while (done < count) {
        ssize_t n = reading ? read(fd, buffer + done, count - done) : write(fd, buffer + done, count - done);
        if (n <= 0) return -1;
        done += (int)n;
    }
    return 0;
}

static void *serve(void *unused) {
    (void)unused;
    int fd = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buffer[8];
    while (exactly(fd, buffer, 8, 1) == 0 && exactly(fd, buffer, 8, 0) == 0) {}
    close(fd);
    return NULL;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long switches(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_nvcsw + usage.ru_nivcsw;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 20000;
    if (rounds < 10) rounds = 10;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0) { perror("listen"); return 1; }
    getsockname(listener, (struct sockaddr *)&address, &length);
    pthread_t server;
    pthread_create(&server, NULL, serve, NULL);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); return 1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char buffer[8] = "8octets";
    for (int i = 0; i < rounds / 10; i++) {  // warm-up
        if (exactly(fd, buffer, 8, 0) || exactly(fd, buffer, 8, 1)) { fprintf(stderr, "echo failed\n"); return 1; }
    }
    double *samples = malloc(sizeof(double) * rounds);
    long switchesBefore = switches();
    double total = 0;
    for (int i = 0; i < rounds; i++) {
        double start = now_us();
        if (exactly(fd, buffer, 8, 0) || exactly(fd, buffer, 8, 1)) { fprintf(stderr, "echo failed\n"); return 1; }
        samples[i] = now_us() - start;
        total += samples[i];
    }
    long switchesAfter = switches();
    if (argc > 2) {
        FILE *out = fopen(argv[2], "w");
        for (int i = 0; i < rounds; i++) fprintf(out, "%.2f\n", samples[i]);
        fclose(out);
    }
    qsort(samples, rounds, sizeof(double), compare);
    printf("impl=c rounds=%d p50_us=%.2f p99_us=%.2f mean_us=%.2f csw_per_rt=%.3f mallocs_per_rt=0\n", rounds,
           samples[rounds / 2], samples[rounds * 99 / 100], total / rounds, (double)(switchesAfter - switchesBefore) / rounds);
    close(fd);
    pthread_join(server, NULL);
    return 0;
}
