/* Timing shared by the C programs of the benchmark (floor.c, poll.c).
 *
 * Every program takes: BUDGET_MS REPS NAME=DIR... and, for each of REPS rounds, times
 * each NAME in turn (so the cases alternate and drift hits them alike) for about
 * BUDGET_MS milliseconds, then prints one line per NAME: "NAME <median ns per op>". */
#ifndef DRAIN_BENCH_TIMING_H
#define DRAIN_BENCH_TIMING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CASES 16
#define MAX_REPS 64

static inline double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

typedef struct {
    char name[64];
    char dir[4096];
    char marker[4200];
} bench_case;

/* One op on a case; returns the nanoseconds it wants counted, or a negative number to
 * have the whole call timed by the caller. */
typedef double (*bench_op)(const bench_case *c);

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ns per op over about budget_ns; `chunk` ops between clock reads. */
static inline double time_op(bench_op op, const bench_case *c, double budget_ns, int chunk) {
    double start = now_ns(), t, counted = 0;
    long n = 0;
    int self_timed = 0;
    do {
        for (int i = 0; i < chunk; i++) {
            double got = op(c);
            if (got >= 0) {
                counted += got;
                self_timed = 1;
            }
        }
        n += chunk;
        t = now_ns();
    } while (t - start < budget_ns);
    return (self_timed ? counted : t - start) / (double)n;
}

static inline int parse_cases(int argc, char **argv, int first, bench_case *cases) {
    int n = 0;
    for (int i = first; i < argc && n < MAX_CASES; i++, n++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "bad case '%s' (want NAME=DIR)\n", argv[i]);
            exit(2);
        }
        snprintf(cases[n].name, sizeof cases[n].name, "%.*s", (int)(eq - argv[i]), argv[i]);
        snprintf(cases[n].dir, sizeof cases[n].dir, "%s", eq + 1);
        snprintf(cases[n].marker, sizeof cases[n].marker, "%s/.drain_request.json", eq + 1);
    }
    return n;
}

/* Runs every case REPS times in alternation (after one warm-up pass) and prints the
 * medians. */
static inline void run_cases(bench_op op, bench_case *cases, int ncases, double budget_ms, int reps,
                      int chunk) {
    static double samples[MAX_CASES][MAX_REPS];
    if (reps > MAX_REPS) reps = MAX_REPS;
    for (int i = 0; i < ncases; i++) time_op(op, &cases[i], budget_ms * 1e6 / 4, chunk);
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < ncases; i++)
            samples[i][r] = time_op(op, &cases[i], budget_ms * 1e6, chunk);
    for (int i = 0; i < ncases; i++) {
        qsort(samples[i], (size_t)reps, sizeof(double), cmp_double);
        printf("%s %.1f\n", cases[i].name, samples[i][reps / 2]);
    }
}

/* Like run_cases, but each case is timed twice per round, first with `floor_op` and
 * then with `op`, back to back; prints "NAME ns", "floor:NAME ns" and "ratio:NAME r",
 * r being the median over rounds of op/floor within a round. */
static inline void run_paired(bench_op op, bench_op floor_op, bench_case *cases, int ncases,
                              double budget_ms, int reps, int chunk) {
    static double mine[MAX_CASES][MAX_REPS], floors[MAX_CASES][MAX_REPS],
        ratios[MAX_CASES][MAX_REPS];
    if (reps > MAX_REPS) reps = MAX_REPS;
    for (int i = 0; i < ncases; i++) {
        time_op(floor_op, &cases[i], budget_ms * 1e6 / 4, chunk);
        time_op(op, &cases[i], budget_ms * 1e6 / 4, chunk);
    }
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < ncases; i++) {
            floors[i][r] = time_op(floor_op, &cases[i], budget_ms * 1e6, chunk);
            mine[i][r] = time_op(op, &cases[i], budget_ms * 1e6, chunk);
            ratios[i][r] = mine[i][r] / floors[i][r];
        }
    for (int i = 0; i < ncases; i++) {
        qsort(mine[i], (size_t)reps, sizeof(double), cmp_double);
        qsort(floors[i], (size_t)reps, sizeof(double), cmp_double);
        qsort(ratios[i], (size_t)reps, sizeof(double), cmp_double);
        printf("%s %.1f\nfloor:%s %.1f\nratio:%s %.4f\n", cases[i].name, mine[i][reps / 2],
               cases[i].name, floors[i][reps / 2], cases[i].name, ratios[i][reps / 2]);
    }
}

#endif
