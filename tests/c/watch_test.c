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
 * Ends with the line "watch_test: N passed, N failed"; exits non-zero on a failure. */

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

/* ---- the tests -------------------------------------------------------------- */

static void test_begin_and_cancel(const char *root) {
    context = "begin and cancel";
    char *home = fresh_home(root, "/begin");
    drain_watcher *watcher = watcher_for(home);
    drain_change change;
    memset(&change, 0xA5, sizeof change);

    int64_t before = now_unix_micros();
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ABSENT);
    CHECK(change.initial);
    CHECK(!change.verdict.present && !change.verdict.active && !change.verdict.suppressed &&
          !change.verdict.epoch_stale && !change.verdict.expired);
    CHECK(!change.has_expires_at && change.expires_at_unix_micros == 0);
    CHECK(change.at_unix_micros >= before && change.at_unix_micros <= now_unix_micros());
    CHECK(text_is(body_text, watcher, "null"));
    EXPECT_QUIET(watcher);

    EXPECT_WRITTEN(watcher, home, "dashboard", &change);
    CHECK(!change.initial);
    CHECK(change.verdict.present && change.verdict.active && !change.verdict.suppressed);
    CHECK(change.has_expires_at);
    /* requested_at is a moment before `at`; the marker expires an hour (and 1 us) on. */
    CHECK(change.expires_at_unix_micros <= change.at_unix_micros + DRAIN_MAX_AGE_MICROS + 1);
    CHECK(change.expires_at_unix_micros > change.at_unix_micros + DRAIN_MAX_AGE_MICROS -
                                              INT64_C(60000000));

    clear_marker(home);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ABSENT);
    CHECK(!change.initial && !change.verdict.present && !change.has_expires_at);
    CHECK(text_is(body_text, watcher, "null"));
    EXPECT_QUIET(watcher);

    /* A suppressed drain, and a contentless marker written by hand (present, active). */
    write_marker(home, "dashboard", true);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_SUPPRESSED);
    CHECK(change.verdict.active && change.verdict.suppressed);
    char *marker = marker_in(home);
    CHECK(put_file(marker, "", 0) == 0);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ACTIVE);
    CHECK(!change.has_expires_at); /* no requested_at: never expires */
    CHECK(text_is(body_text, watcher, "{}"));
    free(marker);
    drain_watcher_free(watcher);
    free(home);
}

static void test_rewrite(const char *root) {
    context = "re-write";
    char *home = fresh_home(root, "/rewrite");
    write_marker(home, "dashboard", false);
    drain_watcher *quiet = watcher_for(home);
    drain_watcher *every = watcher_with(home, true);
    drain_change change;
    CHECK(EXPECT_CHANGE(quiet, &change) == DRAIN_STATE_ACTIVE && change.initial);
    CHECK(EXPECT_CHANGE(every, &change) == DRAIN_STATE_ACTIVE && change.initial);
    int64_t first_expiry = change.expires_at_unix_micros;

    sleep_ms(2); /* a different requested_at */
    write_marker(home, "dashboard", false);
    EXPECT_QUIET(quiet); /* a keep-alive changes nothing but requested_at */
    CHECK(EXPECT_CHANGE(every, &change) == DRAIN_STATE_ACTIVE);
    CHECK(!change.initial);
    CHECK(change.expires_at_unix_micros > first_expiry); /* the keep-alive moved it */

    /* Anything else in the body is a change, even with the same verdict. */
    EXPECT_WRITTEN(quiet, home, "someone-else", &change);
    CHECK(EXPECT_CHANGE(every, &change) == DRAIN_STATE_ACTIVE);
    drain_watcher_free(quiet);
    drain_watcher_free(every);
    free(home);
}

static void test_expiry(const char *root) {
    context = "expiry with a short test-only max age";
    char *home = fresh_home(root, "/expiry");
    drain_watcher *watcher = NULL;
    CHECK_STATUS(drain_watcher_new_with_max_age_for_tests(home, FALLBACK_MS, false, -1, &watcher,
                                                          NULL),
                 DRAIN_STATUS_INVALID_ARGUMENT);
    CHECK(watcher == NULL);
    CHECK_STATUS(drain_watcher_new_with_max_age_for_tests(home, FALLBACK_MS, false, 300000,
                                                          &watcher, NULL),
                 DRAIN_STATUS_OK);
    if (watcher == NULL) {
        free(home);
        return;
    }
    drain_change change;
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ABSENT);

    int64_t written = monotonic_ms();
    EXPECT_WRITTEN(watcher, home, "dashboard", &change);
    CHECK(change.has_expires_at);
    int64_t expires_at = change.expires_at_unix_micros;
    CHECK(expires_at > change.at_unix_micros && expires_at <= change.at_unix_micros + 300001);

    /* No file event announces this one: the watcher's timer does. */
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_EXPIRED);
    int64_t waited = monotonic_ms() - written;
    CHECK(change.verdict.present && change.verdict.expired && !change.verdict.active);
    CHECK(!change.has_expires_at);
    CHECK(change.at_unix_micros >= expires_at);
    CHECK(waited >= 290);
    CHECK(waited < 3000); /* the timer did it, not the 30 s fallback */
    if (waited < 290 || waited >= 3000) {
        printf("     expired after %" PRId64 " ms\n", waited);
    }
    CHECK(body_has_principal(watcher, "dashboard")); /* the body of an expired marker */

    /* A keep-alive revives it, and it expires again. */
    write_marker(home, "dashboard", false);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ACTIVE);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_EXPIRED);
    drain_watcher_free(watcher);
    free(home);
}

static void test_home_created_late(const char *root) {
    context = "home created late";
    char *base = fresh_home(root, "/late");
    char *not = join(base, "/not");
    char *yet = join(not, "/yet");
    char *home = join(yet, "/home");
    drain_change change;
    drain_watcher *watcher = WATCH_FROM(home, DRAIN_STATE_ABSENT, &change);

    /* One level at a time, with pauses, so that the watch climbs down. */
    CHECK(mkdir(not, 0755) == 0);
    sleep_ms(20);
    CHECK(mkdir(yet, 0755) == 0);
    sleep_ms(20);
    CHECK(mkdir(home, 0755) == 0);
    sleep_ms(20);
    EXPECT_QUIET(watcher);
    EXPECT_WRITTEN(watcher, home, "dashboard", &change);

    /* A home created together with its marker by one write. */
    char *other = join(base, "/a/b");
    drain_watcher *together = WATCH_FROM(other, DRAIN_STATE_ABSENT, &change);
    EXPECT_WRITTEN(together, other, "together", &change);
    drain_watcher_free(together);
    drain_watcher_free(watcher);
    free(other);
    free(home);
    free(yet);
    free(not);
    free(base);
}

static void test_home_deleted_and_recreated(const char *root) {
    context = "home deleted and recreated";
    char *base = fresh_home(root, "/deleted");
    char *home = join(base, "/home");
    write_marker(home, "dashboard", false);
    drain_change change;
    drain_watcher *watcher = WATCH_FROM(home, DRAIN_STATE_ACTIVE, &change);

    remove_tree(home);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ABSENT);
    EXPECT_WRITTEN(watcher, home, "again", &change); /* recreates the folder */

    /* Replaced by a rename: the new folder must be the one watched. */
    char *staged = join(base, "/staged");
    char *old = join(base, "/old");
    write_marker(staged, "renamed-in", true);
    CHECK(rename(home, old) == 0);
    CHECK(rename(staged, home) == 0);
    int64_t state = EXPECT_CHANGE(watcher, &change);
    while (state == DRAIN_STATE_ABSENT || state == DRAIN_STATE_ACTIVE) {
        state = EXPECT_CHANGE(watcher, &change); /* an absent moment may be seen */
    }
    CHECK(state == DRAIN_STATE_SUPPRESSED);
    CHECK(body_has_principal(watcher, "renamed-in"));
    clear_marker(home);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ABSENT);
    drain_watcher_free(watcher);
    free(old);
    free(staged);
    free(home);
    free(base);
}

static void test_burst(const char *root) {
    context = "a burst of changes";
    char *home = fresh_home(root, "/burst");
    drain_change change;
    drain_watcher *watcher = WATCH_FROM(home, DRAIN_STATE_ABSENT, &change);
    char principal[32];
    for (int round = 0; round < 200; round++) {
        snprintf(principal, sizeof principal, "writer-%d", round);
        switch (round % 3) {
        case 0:
            write_marker(home, principal, false);
            break;
        case 1:
            write_marker(home, principal, true);
            break;
        default:
            clear_marker(home);
        }
    }
    write_marker(home, "final", true);
    int count = 0;
    int64_t last = -1;
    drain_status status;
    while ((status = drain_watcher_next(watcher, QUIET_MS, &change)) == DRAIN_STATUS_OK) {
        count++;
        last = change.state;
    }
    CHECK_STATUS(status, DRAIN_STATUS_TIMED_OUT);
    CHECK(count >= 1 && count <= 202);
    CHECK(last == DRAIN_STATE_SUPPRESSED);
    CHECK(body_has_principal(watcher, "final"));
    drain_watcher_free(watcher);
    free(home);
}

struct waiter {
    drain_watcher *watcher;
    drain_status status;
    int64_t took_ms;
};

static void *wait_forever(void *arg) {
    struct waiter *waiter = arg;
    drain_change change;
    int64_t start = monotonic_ms();
    waiter->status = drain_watcher_next(waiter->watcher, -1, &change);
    waiter->took_ms = monotonic_ms() - start;
    return NULL;
}

static void *stop_soon(void *arg) {
    sleep_ms(100);
    drain_watcher_stop(arg);
    return NULL;
}

static void test_stop_while_waiting(const char *root) {
    context = "stop while waiting";
    char *home = fresh_home(root, "/stop");
    drain_change change;
    drain_watcher *watcher = WATCH_FROM(home, DRAIN_STATE_ABSENT, &change);

    /* Another thread is blocked for ever; this one stops the watcher. The descriptor
     * and the body stay usable meanwhile (they do not wait for the blocked call). */
    struct waiter waiter = {watcher, DRAIN_STATUS_OK, -1};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, wait_forever, &waiter) == 0);
    sleep_ms(100);
    int fd = -1;
    CHECK_STATUS(drain_watcher_fd(watcher, &fd), DRAIN_STATUS_OK);
    char *body = body_of(watcher);
    free(body);
    int64_t stopped_at = monotonic_ms();
    CHECK_STATUS(drain_watcher_stop(watcher), DRAIN_STATUS_OK);
    CHECK(pthread_join(thread, NULL) == 0);
    int64_t wake = monotonic_ms() - stopped_at;
    CHECK_STATUS(waiter.status, DRAIN_STATUS_STOPPED);
    CHECK(waiter.took_ms >= 90);
    CHECK(wake < 2000);

    /* Stopped for good, even with a change waiting; stopping twice is harmless. */
    write_marker(home, "dashboard", false);
    CHECK_STATUS(drain_watcher_next(watcher, 50, &change), DRAIN_STATUS_STOPPED);
    CHECK_STATUS(drain_watcher_next(watcher, -1, &change), DRAIN_STATUS_STOPPED);
    CHECK_STATUS(drain_watcher_stop(watcher), DRAIN_STATUS_OK);
    drain_watcher_free(watcher);

    /* The other way round: this thread waits, another stops. */
    watcher = WATCH_FROM(home, DRAIN_STATE_ACTIVE, &change);
    CHECK(pthread_create(&thread, NULL, stop_soon, watcher) == 0);
    int64_t start = monotonic_ms();
    CHECK_STATUS(drain_watcher_next(watcher, -1, &change), DRAIN_STATUS_STOPPED);
    CHECK(monotonic_ms() - start < 2000);
    CHECK(pthread_join(thread, NULL) == 0);
    drain_watcher_free(watcher);
    free(home);
}

/* Whether fd becomes readable within timeout_ms. */
static int readable_within(int fd, int timeout_ms) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int ready;
    while ((ready = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    return ready == 1 && (pfd.revents & POLLIN);
}

/* An event loop's turn: wait for the descriptor, then take what it announces with a
 * timeout of 0, until a change comes or `timeout_ms` passes. The state, or -1. */
static int64_t poll_for_change(drain_watcher *watcher, int fd, drain_change *out,
                               int timeout_ms) {
    int64_t give_up = monotonic_ms() + timeout_ms;
    for (;;) {
        int64_t left = give_up - monotonic_ms();
        if (left <= 0 || !readable_within(fd, (int)left)) {
            return -1;
        }
        drain_status status = drain_watcher_next(watcher, 0, out);
        if (status == DRAIN_STATUS_OK) {
            return out->state;
        }
        /* Readable, yet no change (a temp file of the write, say): look again. */
        CHECK_STATUS(status, DRAIN_STATUS_TIMED_OUT);
    }
}

static void test_descriptor(const char *root) {
    context = "poll() on the descriptor";
    char *home = fresh_home(root, "/fd");
    drain_watcher *watcher = watcher_for(home);
    int fd = -1;
    CHECK_STATUS(drain_watcher_fd(watcher, &fd), DRAIN_STATUS_OK);
    CHECK(fd >= 0);
    drain_change change;
    /* Readable at once, for the initial state. */
    CHECK(poll_for_change(watcher, fd, &change, 1000) == DRAIN_STATE_ABSENT);
    CHECK(change.initial);
    /* Then quiet until something happens. */
    CHECK(!readable_within(fd, QUIET_MS));
    CHECK_STATUS(drain_watcher_next(watcher, 0, &change), DRAIN_STATUS_TIMED_OUT);

    write_marker(home, "dashboard", false);
    CHECK(poll_for_change(watcher, fd, &change, PATIENCE_MS) == DRAIN_STATE_ACTIVE);
    CHECK(body_has_principal(watcher, "dashboard"));
    clear_marker(home);
    CHECK(poll_for_change(watcher, fd, &change, PATIENCE_MS) == DRAIN_STATE_ABSENT);

    /* After a stop the descriptor stays readable, and next says why. */
    CHECK_STATUS(drain_watcher_stop(watcher), DRAIN_STATUS_OK);
    CHECK(readable_within(fd, 0));
    CHECK_STATUS(drain_watcher_next(watcher, 0, &change), DRAIN_STATUS_STOPPED);
    CHECK(readable_within(fd, 0));
    drain_watcher_free(watcher);

    /* The expiry timer wakes the descriptor too. */
    watcher = NULL;
    CHECK_STATUS(drain_watcher_new_with_max_age_for_tests(home, FALLBACK_MS, false, 200000,
                                                          &watcher, NULL),
                 DRAIN_STATUS_OK);
    if (watcher != NULL) {
        CHECK_STATUS(drain_watcher_fd(watcher, &fd), DRAIN_STATUS_OK);
        CHECK(poll_for_change(watcher, fd, &change, 1000) == DRAIN_STATE_ABSENT);
        write_marker(home, "dashboard", false);
        CHECK(poll_for_change(watcher, fd, &change, PATIENCE_MS) == DRAIN_STATE_ACTIVE);
        CHECK(poll_for_change(watcher, fd, &change, 3000) == DRAIN_STATE_EXPIRED);
        drain_watcher_free(watcher);
    }
    free(home);
}

static void test_default_and_non_utf8_home(const char *root) {
    context = "default home (HERMES_HOME) and a non-UTF-8 home";
    char *home = fresh_home(root, "/default");
    char *padded = join(" ", home);
    CHECK(setenv("HERMES_HOME", padded, 1) == 0); /* whitespace is stripped */
    drain_watcher *watcher = watcher_for(NULL);
    CHECK(unsetenv("HERMES_HOME") == 0); /* resolved once, when made */
    drain_change change;
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ABSENT);
    EXPECT_WRITTEN(watcher, home, "via-env", &change);
    drain_watcher_free(watcher);

    char *odd = join(root, "/caf\xe9-\xff");
    watcher = WATCH_FROM(odd, DRAIN_STATE_ABSENT, &change);
    EXPECT_WRITTEN(watcher, odd, "latin-1 home", &change);
    drain_watcher_free(watcher);
    free(odd);
    free(padded);
    free(home);
}

static void test_errors(const char *root) {
    context = "error paths";
    char *home = fresh_home(root, "/errors");
    drain_watcher *watcher = NULL;
    drain_change change;
    memset(&change, 0x5A, sizeof change);
    drain_change untouched = change;
    int fd = -7;
    size_t len = 99;
    char buf[8] = "#######";

    CHECK_STATUS(drain_watcher_new(home, 0, false, NULL, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_new_with_max_age_for_tests(home, 0, false, 1, NULL, NULL),
                 DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_next(NULL, 0, &change), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_fd(NULL, &fd), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_body(NULL, buf, sizeof buf, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_stop(NULL), DRAIN_STATUS_NULL_ARGUMENT);
    drain_watcher_free(NULL); /* does nothing */
    CHECK(fd == -7 && len == 99);

    /* 0 for the default fallback interval. */
    CHECK_STATUS(drain_watcher_new(home, 0, false, &watcher, NULL), DRAIN_STATUS_OK);
    if (watcher == NULL) {
        free(home);
        return;
    }
    CHECK_STATUS(drain_watcher_next(watcher, 0, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_next(watcher, -2, &change), DRAIN_STATUS_INVALID_ARGUMENT);
    CHECK_STATUS(drain_watcher_next(watcher, INT32_MIN, &change), DRAIN_STATUS_INVALID_ARGUMENT);
    CHECK(memcmp(&change, &untouched, sizeof change) == 0); /* outputs only on success */
    CHECK_STATUS(drain_watcher_fd(watcher, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_body(watcher, buf, sizeof buf, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_watcher_body(watcher, NULL, 1, &len), DRAIN_STATUS_NULL_ARGUMENT);

    write_marker(home, "a principal longer than eight bytes", false);
    CHECK(EXPECT_CHANGE(watcher, &change) == DRAIN_STATE_ACTIVE);
    CHECK_STATUS(drain_watcher_body(watcher, buf, sizeof buf, &len),
                 DRAIN_STATUS_BUFFER_TOO_SMALL);
    CHECK(len > sizeof buf);
    CHECK(strcmp(buf, "#######") == 0); /* nothing written but the length */
    drain_watcher_free(watcher);

    /* The new statuses and the state names. */
    CHECK(strcmp(drain_status_message(DRAIN_STATUS_TIMED_OUT), "unknown status") != 0);
    CHECK(strcmp(drain_status_message(DRAIN_STATUS_STOPPED), "unknown status") != 0);
    CHECK(strcmp(drain_status_message(DRAIN_STATUS_TIMED_OUT),
                 drain_status_message(DRAIN_STATUS_STOPPED)) != 0);
    const char *past_last = drain_status_message(DRAIN_STATUS_INVALID_PAYLOAD + 1);
    CHECK(strcmp(past_last, "unknown status") == 0);
    CHECK(strcmp(drain_state_name(DRAIN_STATE_ABSENT), "absent") == 0);
    CHECK(strcmp(drain_state_name(DRAIN_STATE_ACTIVE), "active") == 0);
    CHECK(strcmp(drain_state_name(DRAIN_STATE_SUPPRESSED), "suppressed") == 0);
    CHECK(strcmp(drain_state_name(DRAIN_STATE_EPOCH_STALE), "epoch-stale") == 0);
    CHECK(strcmp(drain_state_name(DRAIN_STATE_EXPIRED), "expired") == 0);
    CHECK(strcmp(drain_state_name(5), "unknown state") == 0);
    CHECK(strcmp(drain_state_name(UINT32_MAX), "unknown state") == 0);
    free(home);
}

static void test_epoch_stale(const char *root) {
    context = "a marker from another instantiation";
    char *home = fresh_home(root, "/stale");
    char *marker = marker_in(home);
    const char *foreign = "{\"action\": \"drain\", \"epoch\": \"another-boot:1\"}";
    drain_change change;
    drain_watcher *watcher = WATCH_FROM(home, DRAIN_STATE_ABSENT, &change);
    /* Put in place by a rename, as a writer from another instantiation would. (A
     * plain write could first be seen as the empty file it creates: contentless.) */
    char *staged = join(home, "/staged.tmp");
    CHECK(put_file(staged, foreign, strlen(foreign)) == 0);
    CHECK(rename(staged, marker) == 0);
    free(staged);
    size_t epoch_len = 0;
    drain_epoch(NULL, 0, &epoch_len);
    int64_t want = epoch_len == 0 ? DRAIN_STATE_ACTIVE : DRAIN_STATE_EPOCH_STALE;
    CHECK(EXPECT_CHANGE(watcher, &change) == want);
    CHECK(change.verdict.present && change.verdict.epoch_stale == (epoch_len != 0));
    drain_watcher_free(watcher);
    free(marker);
    free(home);
}

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
