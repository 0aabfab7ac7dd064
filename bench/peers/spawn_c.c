/*
 * The posix_spawn + waitpid limit, for forkd's spawn benchmarks. Compiled by the harness with
 * `cc -O2 -pthread`.
 *
 *   spawn_c seq THREADS N     N spawn+wait of /bin/true, split over THREADS threads each doing them
 *                             in a row: spawns_per_s, p50_us, p99_us
 *   spawn_c burst 1 N         N spawns at once, then waitpid each: wall_ms
 *
 * Prints one JSON object per figure and line, like the Python peers.
 */
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static char *const TRUE_ARGV[] = {"/bin/true", NULL};

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static pid_t spawn_true(void) {
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/true", NULL, NULL, TRUE_ARGV, environ);
    if (rc != 0) {
        fprintf(stderr, "posix_spawn: %s\n", strerror(rc));
        exit(1);
    }
    return pid;
}

static void wait_ok(pid_t pid) {
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "waitpid %d: bad status %d\n", (int)pid, status);
        exit(1);
    }
}

struct worker {
    pthread_t thread;
    int n;
    double *lat;
};

static void *seq_worker(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < w->n; i++) {
        double t = now_us();
        wait_ok(spawn_true());
        w->lat[i] = now_us() - t;
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *xs, int n, double p) {
    int rank = (int)ceil(p * n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return xs[rank - 1];
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s seq|burst THREADS N\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[2]), n = atoi(argv[3]);
    if (threads < 1 || n < threads) {
        fprintf(stderr, "need THREADS >= 1 and N >= THREADS\n");
        return 2;
    }
    if (strcmp(argv[1], "seq") == 0) {
        double *lat = calloc(n, sizeof *lat);
        struct worker *ws = calloc(threads, sizeof *ws);
        int per = n / threads, total = per * threads;
        double t0 = now_us();
        for (int i = 0; i < threads; i++) {
            ws[i].n = per;
            ws[i].lat = lat + i * per;
            pthread_create(&ws[i].thread, NULL, seq_worker, &ws[i]);
        }
        for (int i = 0; i < threads; i++) pthread_join(ws[i].thread, NULL);
        double secs = (now_us() - t0) / 1e6;
        qsort(lat, total, sizeof *lat, cmp);
        printf("{\"figure\": \"spawns_per_s\", \"value\": %.1f}\n", total / secs);
        printf("{\"figure\": \"p50_us\", \"value\": %.1f}\n", pct(lat, total, 0.50));
        printf("{\"figure\": \"p99_us\", \"value\": %.1f}\n", pct(lat, total, 0.99));
    } else if (strcmp(argv[1], "burst") == 0) {
        pid_t *pids = calloc(n, sizeof *pids);
        double t0 = now_us();
        for (int i = 0; i < n; i++) pids[i] = spawn_true();
        for (int i = 0; i < n; i++) wait_ok(pids[i]);
        printf("{\"figure\": \"wall_ms\", \"value\": %.3f}\n", (now_us() - t0) / 1e3);
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    }
    return 0;
}
