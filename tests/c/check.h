/* The check harness and helpers shared by the C test programs (drain_test.c,
 * watch_test.c): the ABI's fixed values, checked when compiling; CHECK and
 * CHECK_STATUS, which count passes and failures and print each failure with the test's
 * context and line; and fetch_text, which drives the buffer convention of every text
 * output.
 *
 * Each test program is one translation unit that includes this header once, after
 * defining _XOPEN_SOURCE 700 (for nftw): the counters are that program's own. Every
 * function is static inline, so a program that uses only some of them still builds
 * with -Wall -Wextra -Werror. */

#ifndef DRAIN_TEST_CHECK_H
#define DRAIN_TEST_CHECK_H

#include "drain_control.h"

#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- the ABI's values ---------------------------------------------------------- */

/* The status and state values are part of the ABI: they never change. Checked when
 * compiling each test program. */
_Static_assert(DRAIN_STATUS_OK == 0, "OK is 0");
_Static_assert(DRAIN_STATUS_NULL_ARGUMENT == 1, "NULL_ARGUMENT is 1");
_Static_assert(DRAIN_STATUS_INVALID_UTF8 == 2, "INVALID_UTF8 is 2");
_Static_assert(DRAIN_STATUS_BUFFER_TOO_SMALL == 3, "BUFFER_TOO_SMALL is 3");
_Static_assert(DRAIN_STATUS_IO_ERROR == 4, "IO_ERROR is 4");
_Static_assert(DRAIN_STATUS_PANIC == 5, "PANIC is 5");
_Static_assert(DRAIN_STATUS_INVALID_ARGUMENT == 6, "INVALID_ARGUMENT is 6");
_Static_assert(DRAIN_STATUS_TIMED_OUT == 7, "TIMED_OUT is 7");
_Static_assert(DRAIN_STATUS_STOPPED == 8, "STOPPED is 8");
_Static_assert(DRAIN_STATUS_INVALID_PAYLOAD == 9, "INVALID_PAYLOAD is 9");
_Static_assert(sizeof(drain_status) == sizeof(uint32_t), "drain_status is a uint32_t");
_Static_assert(DRAIN_STEP_NONE == 0, "STEP_NONE is 0");
_Static_assert(DRAIN_STEP_CHECK_PAYLOAD == 1, "CHECK_PAYLOAD is 1");
_Static_assert(DRAIN_STEP_CREATE_HOME == 2, "CREATE_HOME is 2");
_Static_assert(DRAIN_STEP_FOLLOW_LINK == 3, "FOLLOW_LINK is 3");
_Static_assert(DRAIN_STEP_CREATE_TEMP == 4, "CREATE_TEMP is 4");
_Static_assert(DRAIN_STEP_KEEP_MODE == 5, "KEEP_MODE is 5");
_Static_assert(DRAIN_STEP_WRITE_TEMP == 6, "WRITE_TEMP is 6");
_Static_assert(DRAIN_STEP_SYNC_TEMP == 7, "SYNC_TEMP is 7");
_Static_assert(DRAIN_STEP_RENAME == 8, "RENAME is 8");
_Static_assert(DRAIN_STEP_SYNC_FOLDER == 9, "SYNC_FOLDER is 9");
_Static_assert(DRAIN_STEP_REMOVE == 10, "REMOVE is 10");
_Static_assert(sizeof(drain_step) == sizeof(uint32_t), "drain_step is a uint32_t");
_Static_assert(DRAIN_ERROR_PATH_CAPACITY == 4096, "paths up to PATH_MAX");
_Static_assert(sizeof(((drain_error *)0)->path) == DRAIN_ERROR_PATH_CAPACITY, "path array");
_Static_assert(sizeof(((drain_error *)0)->marker) == DRAIN_ERROR_PATH_CAPACITY, "marker array");
_Static_assert(sizeof(((drain_error *)0)->message) == DRAIN_ERROR_MESSAGE_CAPACITY,
               "message array");
_Static_assert(DRAIN_STATE_ABSENT == 0, "ABSENT is 0");
_Static_assert(DRAIN_STATE_ACTIVE == 1, "ACTIVE is 1");
_Static_assert(DRAIN_STATE_SUPPRESSED == 2, "SUPPRESSED is 2");
_Static_assert(DRAIN_STATE_EPOCH_STALE == 3, "EPOCH_STALE is 3");
_Static_assert(DRAIN_STATE_EXPIRED == 4, "EXPIRED is 4");
_Static_assert(sizeof(drain_state) == sizeof(uint32_t), "drain_state is a uint32_t");
_Static_assert(sizeof(drain_verdict) == 5, "drain_verdict is five bools");
_Static_assert(DRAIN_MAX_AGE_MICROS == INT64_C(3600000000), "one hour in microseconds");

/* ---- the checks ---------------------------------------------------------------- */

static int passed;
static int failed;
/* What is being tested, printed with each failure. */
static const char *context = "";

static inline void check(int ok, const char *what, int line) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s (line %d): %s\n", context, line, what);
    }
}

#define CHECK(cond) check((cond) ? 1 : 0, #cond, __LINE__)

static inline void check_status(drain_status got, drain_status want, const char *call,
                                int line) {
    if (got == want) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s (line %d): %s gave %" PRIu32 " (%s), expected %" PRIu32 " (%s)\n",
           context, line, call, (uint32_t)got, drain_status_message(got), (uint32_t)want,
           drain_status_message(want));
}

#define CHECK_STATUS(call, want) check_status((call), (want), #call, __LINE__)

/* ---- helpers ------------------------------------------------------------------- */

/* malloc, or the end of the test program. */
static inline void *must_malloc(size_t size) {
    void *out = malloc(size);
    if (out == NULL) {
        perror("malloc");
        exit(2);
    }
    return out;
}

/* a followed by b, malloc'd. */
static inline char *join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *out = must_malloc(la + lb + 1);
    memcpy(out, a, la);
    memcpy(out + la, b, lb + 1);
    return out;
}

/* The marker file of `home`, malloc'd. */
static inline char *marker_in(const char *home) {
    return join(home, "/.drain_request.json");
}

/* Writes `len` bytes to a new (or truncated) file; 0 on success, else -1. */
static inline int put_file(const char *path, const void *data, size_t len) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return -1;
    }
    size_t wrote = len == 0 ? 0 : fwrite(data, 1, len, file);
    return (fclose(file) == 0 && wrote == len) ? 0 : -1;
}

static inline int64_t now_unix_micros(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int remove_entry(const char *path, const struct stat *st, int flag,
                               struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes a folder and everything in it; 0 on success, as nftw. */
static inline int remove_tree(const char *path) {
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- text outputs -------------------------------------------------------------- */

/* A text output function, adapted to one shape so that one helper can drive the
 * buffer convention for all of them. */
typedef drain_status (*text_fn)(const void *arg, char *buf, size_t buf_len, size_t *out_len);

/* Fetches a text output the way a caller should: a sizing call, then a call with a
 * buffer one byte too small (only the length may change), then the fill. Checks the
 * whole buffer convention on the way. Returns malloc'd text, never NULL. */
static inline char *fetch_text(text_fn fn, const void *arg) {
    size_t len = (size_t)-1;
    CHECK_STATUS(fn(arg, NULL, 0, &len), DRAIN_STATUS_BUFFER_TOO_SMALL);
    CHECK(len != (size_t)-1);
    if (len == (size_t)-1) {
        return join("", "");
    }
    char *buf = must_malloc(len + 2);
    memset(buf, '#', len + 2);
    size_t len2 = 0;
    CHECK_STATUS(fn(arg, buf, len, &len2), DRAIN_STATUS_BUFFER_TOO_SMALL);
    CHECK(len2 == len);
    int untouched = 1;
    for (size_t i = 0; i < len + 2; i++) {
        untouched &= buf[i] == '#';
    }
    CHECK(untouched); /* nothing is written to a buffer that is too small */
    size_t len3 = 0;
    CHECK_STATUS(fn(arg, buf, len + 2, &len3), DRAIN_STATUS_OK);
    CHECK(len3 == len);
    CHECK(buf[len] == '\0');
    CHECK(strlen(buf) == len); /* no NUL inside the text */
    CHECK(buf[len + 1] == '#'); /* nothing past the NUL */
    return buf;
}

/* Whether a text output (fetched and checked by fetch_text) is `want`; says what it
 * was when not. */
static inline int text_is(text_fn fn, const void *arg, const char *want) {
    char *text = fetch_text(fn, arg);
    int same = strcmp(text, want) == 0;
    if (!same) {
        printf("     got \"%s\", expected \"%s\"\n", text, want);
    }
    free(text);
    return same;
}

#endif
