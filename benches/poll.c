/* drain_requested() through the C ABI, from a program linking the static library,
 * timed in alternation with the floor (floor.c) on the same marker.
 *
 *   cpoll BUDGET_MS REPS NAME=DIR...   prints "NAME ns", "floor:NAME ns", "ratio:NAME r"
 */
#define _GNU_SOURCE
#include <stdbool.h>

#define FLOOR_LIBRARY
#include "floor.c"

#include "drain_control.h"

static volatile bool sink;

static double poll_once(const bench_case *c) {
    sink = drain_requested(c->dir);
    return -1;
}

static double floor_once(const bench_case *c) {
    floor_poll(c->marker);
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: cpoll BUDGET_MS REPS NAME=DIR...\n");
        return 2;
    }
    bench_case cases[MAX_CASES];
    int n = parse_cases(argc, argv, 3, cases);
    run_paired(poll_once, floor_once, cases, n, atof(argv[1]), atoi(argv[2]), 64);
    return 0;
}
