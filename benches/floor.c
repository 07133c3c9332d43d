/* The floor: only the system calls that any reader or writer of the marker must make,
 * on the same files, with nothing else. Our rows are divided by these.
 *
 *   floor poll  BUDGET_MS REPS NAME=DIR...   open+fstat+read+close of DIR's marker
 *                                            (a failing open when there is none)
 *   floor write BUDGET_MS REPS NAME=DIR...   open temp, write, fsync, close, rename,
 *                                            open folder, fsync, close
 *   floor clear BUDGET_MS REPS NAME=DIR...   unlink, open folder, fsync, close (the
 *                                            marker is re-written untimed each time,
 *                                            durably, as a writer leaves it)
 *
 * Built with -DFLOOR_LIBRARY (no main) it is linked into, or loaded by, each language's
 * bench, so that every row is timed next to the floor in the same process, in
 * alternation: drain_floor_poll_ns() below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timing.h"

/* The read floor for one marker path. */
static inline void floor_poll(const char *marker) {
    int fd = open(marker, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    char buf[4097];
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        size_t want = (size_t)st.st_size + 1;
        if (read(fd, buf, want < sizeof buf ? want : sizeof buf) < 0) abort();
    }
    close(fd);
}

/* `n` read floors of `marker`; the nanoseconds they took. */
double drain_floor_poll_ns(const char *marker, long n) {
    double start = now_ns();
    for (long i = 0; i < n; i++) floor_poll(marker);
    return now_ns() - start;
}

/* A marker as the writers make it (the size matters, not the text). */
static const char MARKER[] =
    "{\n  \"action\": \"drain\",\n  \"requested_at\": \"2026-11-27T12:00:00.250000+00:00\",\n"
    "  \"principal\": \"drain-control\",\n  \"epoch\": "
    "\"0d7f6c1e-8a3b-4c2d-9e5f-1a2b3c4d5e6f:123456\",\n  \"suppress_notification\": false\n}";

static void sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) abort();
    close(fd);
}

static double write_once(const bench_case *c) {
    char temp[4200];
    snprintf(temp, sizeof temp, "%s/..drain_request_floor.tmp", c->dir);
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) abort();
    if (write(fd, MARKER, sizeof MARKER - 1) != (ssize_t)(sizeof MARKER - 1)) abort();
    if (fsync(fd) != 0) abort();
    close(fd);
    if (rename(temp, c->marker) != 0) abort();
    sync_dir(c->dir);
    return -1;
}

static double clear_once(const bench_case *c) {
    write_once(c);
    double start = now_ns();
    if (unlink(c->marker) != 0) abort();
    sync_dir(c->dir);
    return now_ns() - start;
}

/* One write floor in `dir`; the nanoseconds it took. */
double drain_floor_write_ns(const char *dir) {
    bench_case c;
    snprintf(c.dir, sizeof c.dir, "%s", dir);
    snprintf(c.marker, sizeof c.marker, "%s/.drain_request.json", dir);
    double start = now_ns();
    write_once(&c);
    return now_ns() - start;
}

/* One clear floor in `dir` (after an untimed write floor); the nanoseconds it took. */
double drain_floor_clear_ns(const char *dir) {
    bench_case c;
    snprintf(c.dir, sizeof c.dir, "%s", dir);
    snprintf(c.marker, sizeof c.marker, "%s/.drain_request.json", dir);
    return clear_once(&c);
}

#ifndef FLOOR_LIBRARY
static double poll_once(const bench_case *c) {
    floor_poll(c->marker);
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: floor poll|write|clear BUDGET_MS REPS NAME=DIR...\n");
        return 2;
    }
    bench_case cases[MAX_CASES];
    int n = parse_cases(argc, argv, 4, cases);
    double budget = atof(argv[2]);
    int reps = atoi(argv[3]);
    if (strcmp(argv[1], "poll") == 0) {
        run_cases(poll_once, cases, n, budget, reps, 64);
    } else if (strcmp(argv[1], "write") == 0) {
        run_cases(write_once, cases, n, budget, reps, 1);
    } else if (strcmp(argv[1], "clear") == 0) {
        run_cases(clear_once, cases, n, budget, reps, 1);
    } else {
        fprintf(stderr, "floor: unknown mode '%s'\n", argv[1]);
        return 2;
    }
    return 0;
}
#endif
