/* The C ABI of the watcher, against real files in temporary homes: begin, cancel, a
 * re-write (no change unless every_change), expiry with a short test-only max age, a
 * home created late, deleted and recreated, a burst of changes (the final state is
 * reported), a stop from another thread while waiting, the pollable descriptor, and
 * the error paths. Built by scripts/test-c like drain_test.c: -std=c11 -Wall -Wextra
 * -Wpedantic -Werror, linked statically and dynamically, under valgrind and with
 * ASan/UBSan.
 *
 * Most watchers here re-read on a fallback interval of 30 s and every wait is at most
 * a few seconds, so a pass proves the event-driven path (inotify, the expiry timer,
 * the re-arm), not the safety-net re-read.
 *
 * Usage: watch_test
 * Ends with the line "watch_test: N passed, N failed"; exits non-zero on a failure.
 *
 * This file holds the helpers and main(); the tests are in watch_test/<topic>.inc.c, one
 * file a topic, #included below, as drain_test.c does. */

#define _XOPEN_SOURCE 700

#include "check.h"
#include "test_hooks.h" /* drain_watcher_new_with_max_age_for_tests: cargo feature test-hooks */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

/* Long enough that a pass proves the event path; see the top of the file. */
#define FALLBACK_MS 30000u
/* How long a change may take to be reported (generous: valgrind is slow). */
#define PATIENCE_MS 5000
/* How long "nothing happens" is watched for. */
#define QUIET_MS 300

/* ---- helpers ---------------------------------------------------------------- */

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static drain_watcher *watcher_with(const char *home, bool every_change) {
    drain_watcher *watcher = NULL;
    int err = 0;
    CHECK_STATUS(drain_watcher_new(home, FALLBACK_MS, every_change, &watcher, &err),
                 DRAIN_STATUS_OK);
    if (watcher == NULL) {
        printf("FAIL %s: no watcher (errno %d); giving up\n", context, err);
        exit(1);
    }
    return watcher;
}

static drain_watcher *watcher_for(const char *home) {
    return watcher_with(home, false);
}

/* The next change, which must come within PATIENCE_MS; its state, or -1. */
static int64_t expect_change_line(drain_watcher *watcher, drain_change *out, int line) {
    drain_status status = drain_watcher_next(watcher, PATIENCE_MS, out);
    check_status(status, DRAIN_STATUS_OK, "drain_watcher_next (a change expected)", line);
    return status == DRAIN_STATUS_OK ? (int64_t)out->state : -1;
}

#define EXPECT_CHANGE(watcher, out) expect_change_line((watcher), (out), __LINE__)

/* A new watcher of `home` (as watcher_for) whose first change, which goes to *out,
 * must be the initial one, in the state `initial`. */
static drain_watcher *watch_from_line(const char *home, int64_t initial, drain_change *out,
                                      int line) {
    drain_watcher *watcher = watcher_for(home);
    check(expect_change_line(watcher, out, line) == initial, "the initial state", line);
    check(out->initial, "the first change is the initial one", line);
    return watcher;
}

#define WATCH_FROM(home, initial, out) watch_from_line((home), (initial), (out), __LINE__)

/* No change within QUIET_MS. */
static void expect_quiet_line(drain_watcher *watcher, int line) {
    drain_change change;
    drain_status status = drain_watcher_next(watcher, QUIET_MS, &change);
    check_status(status, DRAIN_STATUS_TIMED_OUT, "drain_watcher_next (quiet expected)", line);
    if (status == DRAIN_STATUS_OK) {
        printf("     unexpected change to %s\n", drain_state_name(change.state));
    }
}

#define EXPECT_QUIET(watcher) expect_quiet_line((watcher), __LINE__)

/* drain_watcher_body in the shape of check.h's text_fn, for fetch_text and text_is. */
static drain_status body_text(const void *watcher, char *buf, size_t buf_len,
                              size_t *out_len) {
    return drain_watcher_body(watcher, buf, buf_len, out_len);
}

/* The body of the last change, fetched the way a caller should (fetch_text checks the
 * whole buffer convention). Malloc'd, never NULL. */
static char *body_of(const drain_watcher *watcher) {
    return fetch_text(body_text, watcher);
}

/* Whether the body of the last change names this principal. */
static int body_has_principal(const drain_watcher *watcher, const char *principal) {
    char *body = body_of(watcher);
    char *needle = join("\"principal\":\"", principal);
    char *quoted = join(needle, "\"");
    int found = strstr(body, quoted) != NULL;
    if (!found) {
        printf("     body %s lacks principal %s\n", body, principal);
    }
    free(quoted);
    free(needle);
    free(body);
    return found;
}

static void write_marker(const char *home, const char *principal, bool suppress) {
    int err = 0;
    CHECK_STATUS(drain_write(home, principal, suppress, &err), DRAIN_STATUS_OK);
}

static void clear_marker(const char *home) {
    bool existed = false;
    CHECK_STATUS(drain_clear(home, &existed, NULL), DRAIN_STATUS_OK);
}

/* Writes a marker by `principal` and expects the watcher to report it within
 * PATIENCE_MS: active, with that principal in the body. The change goes to *out. */
static void expect_written_line(drain_watcher *watcher, const char *home,
                                const char *principal, drain_change *out, int line) {
    write_marker(home, principal, false);
    check(expect_change_line(watcher, out, line) == DRAIN_STATE_ACTIVE,
          "the write is reported as active", line);
    check(body_has_principal(watcher, principal), "the body names the principal", line);
}

#define EXPECT_WRITTEN(watcher, home, principal, out)                                       \
    expect_written_line((watcher), (home), (principal), (out), __LINE__)

/* A fresh folder under root for one test; the caller frees the name. */
static char *fresh_home(const char *root, const char *name) {
    char *home = join(root, name);
    if (mkdir(home, 0755) != 0) {
        perror(home);
        exit(2);
    }
    return home;
}

/* ---- the tests, one file a topic ------------------------------------------------ */

/* Each watch_test/<topic>.inc.c is part of this program, #included here rather than
 * compiled on its own: the program stays one translation unit (check.h's counters and
 * the helpers above are its own), and scripts/test-c builds it from this file alone. */
#include "watch_test/changes.inc.c"
#include "watch_test/homes.inc.c"
#include "watch_test/waiting.inc.c"
#include "watch_test/errors.inc.c"

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char template[] = "/tmp/drain-watch-test-XXXXXX";
    const char *base = getenv("TMPDIR");
    char *root_template = join(base != NULL && base[0] != '\0' ? base : "/tmp",
                               "/drain-watch-test-XXXXXX");
    char *root = mkdtemp(root_template);
    if (root == NULL) {
        root = mkdtemp(template);
    }
    if (root == NULL) {
        perror("mkdtemp");
        return 2;
    }
    int64_t start = monotonic_ms();
    test_errors(root);
    test_begin_and_cancel(root);
    test_rewrite(root);
    test_expiry(root);
    test_home_created_late(root);
    test_home_deleted_and_recreated(root);
    test_burst(root);
    test_stop_while_waiting(root);
    test_descriptor(root);
    test_default_and_non_utf8_home(root);
    test_epoch_stale(root);
    remove_tree(root);
    free(root_template);
    printf("watch_test: %d passed, %d failed (%" PRId64 " ms)\n", passed, failed,
           monotonic_ms() - start);
    return failed == 0 ? 0 : 1;
}
