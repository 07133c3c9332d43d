/* The C ABI test: every shared contract vector through drain_classify and
 * drain_classify_read, the write/read/clear round trip in a temporary home, and every
 * error path. Built by scripts/test-c with -std=c11 -Wall -Wextra -Wpedantic -Werror,
 * linked statically and dynamically, under valgrind and with ASan/UBSan.
 *
 * Usage: drain_test VECTORS_TXT RESULTS_JSONL
 *   VECTORS_TXT    the vectors' inputs, written by tests/c/vectors_to_txt.py
 *   RESULTS_JSONL  written here: one JSON line per vector, what the library made of it,
 *                  which scripts/test-c hands to tests/vectors/match.py (the one
 *                  matcher of every binding) to compare with the vectors' expectations
 * Ends with the line "drain_test: N passed, N failed"; exits non-zero on a failure. */

#define _XOPEN_SOURCE 700

#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DRAIN_EXPECTED_VERSION
#error "build with -DDRAIN_EXPECTED_VERSION='\"x.y.z\"' (Cargo.toml's version)"
#endif

/* ---- helpers ---------------------------------------------------------------- */

/* The whole content of a file (NUL-terminated for convenience), or NULL. */
static char *slurp(const char *path, size_t *len) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    size_t cap = 256, used = 0;
    char *data = malloc(cap);
    size_t got;
    while (data != NULL && (got = fread(data + used, 1, cap - used - 1, file)) > 0) {
        used += got;
        if (cap - used - 1 == 0) {
            char *bigger = realloc(data, cap * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose(file);
    if (data != NULL) {
        data[used] = '\0';
        *len = used;
    }
    return data;
}

static int starts_with(const char *text, const char *prefix) {
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static int exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

static int count_entries(const char *folder) {
    DIR *dir = opendir(folder);
    if (dir == NULL) {
        return -1;
    }
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
            count++;
        }
    }
    closedir(dir);
    return count;
}

/* The text outputs, in the shape of check.h's text_fn, for fetch_text. */

static drain_status read_text(const void *home, char *buf, size_t buf_len, size_t *out_len) {
    return drain_read(home, buf, buf_len, out_len);
}

static drain_status epoch_text(const void *unused, char *buf, size_t buf_len, size_t *out_len) {
    (void)unused;
    return drain_epoch(buf, buf_len, out_len);
}

static drain_status path_text(const void *home, char *buf, size_t buf_len, size_t *out_len) {
    return drain_marker_path(home, buf, buf_len, out_len);
}

/* Marker bytes, the argument of classify_read_text. */
struct bytes {
    const uint8_t *data;
    size_t len;
};

static drain_status classify_read_text(const void *arg, char *buf, size_t buf_len,
                                       size_t *out_len) {
    const struct bytes *marker = arg;
    return drain_classify_read(marker->data, marker->len, buf, buf_len, out_len);
}

/* ---- the shared vectors ------------------------------------------------------ */

static uint8_t *unhex(const char *field, size_t *len) {
    if (field == NULL || field[0] != 'x' || strlen(field + 1) % 2 != 0) {
        return NULL;
    }
    size_t n = strlen(field + 1) / 2;
    uint8_t *out = malloc(n + 1);
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned int byte;
        if (sscanf(field + 1 + 2 * i, "%2x", &byte) != 1) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)byte;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static const char *json_bool(bool value) {
    return value ? "true" : "false";
}

/* One vector through drain_classify and drain_classify_read: its result goes to
 * `results` as one JSON line, for tests/vectors/match.py to compare with what the
 * vector expects. Here only what needs no expectation is checked: the line parses,
 * and the same bytes in a marker file read the same through drain_read. Returns 1
 * when those checks passed. */
static int run_vector(char *fields[4], const char *home, const char *marker_file,
                      FILE *results) {
    size_t marker_len = 0, epoch_len = 0;
    uint8_t *marker = unhex(fields[1], &marker_len);
    uint8_t *epoch = unhex(fields[2], &epoch_len);
    char *end = NULL;
    errno = 0;
    int64_t now = (int64_t)strtoll(fields[3], &end, 10);
    int ok = fields[0][0] == '"' && marker && epoch && errno == 0 && *end == '\0' &&
             strlen((char *)epoch) == epoch_len;
    CHECK(ok); /* the line parses */
    if (ok) {
        drain_verdict got;
        memset(&got, 0, sizeof got);
        CHECK_STATUS(drain_classify(marker, marker_len, (const char *)epoch, now, &got),
                     DRAIN_STATUS_OK);
        struct bytes bytes = {marker, marker_len};
        char *read = fetch_text(classify_read_text, &bytes);
        /* The name is a JSON string already, the read JSON text (vectors_to_txt.py). */
        fprintf(results,
                "{\"name\":%s,\"read\":%s,\"present\":%s,\"active\":%s,\"suppressed\":%s,"
                "\"epoch_stale\":%s,\"expired\":%s}\n",
                fields[0], read, json_bool(got.present), json_bool(got.active),
                json_bool(got.suppressed), json_bool(got.epoch_stale), json_bool(got.expired));

        /* The same bytes in a marker file read the same through drain_read. */
        if (put_file(marker_file, marker, marker_len) == 0) {
            ok = text_is(read_text, home, read);
            CHECK(ok);
        } else {
            ok = 0;
            CHECK(!"cannot write the marker file");
        }
        free(read);
    }
    free(marker);
    free(epoch);
    return ok;
}

static void test_vectors(const char *vectors_path, const char *results_path,
                         const char *root) {
    context = "vectors";
    char *home = join(root, "/vectors");
    CHECK(mkdir(home, 0755) == 0);
    char *marker_file = marker_in(home);
    FILE *file = fopen(vectors_path, "r");
    CHECK(file != NULL);
    FILE *results = fopen(results_path, "w");
    CHECK(results != NULL);
    int count = 0, bad = 0;
    if (file != NULL && results != NULL) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        while ((got = getline(&line, &cap, file)) > 0) {
            if (line[got - 1] == '\n') {
                line[got - 1] = '\0';
            }
            char *fields[4] = {0};
            int n = 0;
            char *save = NULL;
            for (char *tok = strtok_r(line, " ", &save); tok != NULL && n < 4;
                 tok = strtok_r(NULL, " ", &save)) {
                fields[n++] = tok;
            }
            CHECK(n == 4 && strtok_r(NULL, " ", &save) == NULL);
            if (n != 4) {
                bad++;
                continue;
            }
            context = fields[0];
            count++;
            if (!run_vector(fields, home, marker_file, results)) {
                bad++;
            }
            context = "vectors";
        }
        free(line);
    }
    if (file != NULL) {
        fclose(file);
    }
    if (results != NULL) {
        CHECK(fclose(results) == 0);
    }
    CHECK(count > 0);
    CHECK(bad == 0);
    printf("vectors: %d run, %d failed here; the results (%s) go to tests/vectors/match.py\n",
           count, bad, results_path);
    unlink(marker_file);
    free(marker_file);
    free(home);
}

/* ---- the round trip ---------------------------------------------------------- */

static void test_round_trip(const char *root) {
    context = "round trip";
    char *home = join(root, "/home"); /* created by the first write */
    char *marker_file = marker_in(home);
    char *epoch = fetch_text(epoch_text, NULL);

    CHECK(!drain_requested(home));
    CHECK(!drain_notification_suppressed(home));
    drain_verdict verdict;
    memset(&verdict, 1, sizeof verdict);
    CHECK_STATUS(drain_inspect(home, &verdict), DRAIN_STATUS_OK);
    CHECK(!verdict.present && !verdict.active && !verdict.suppressed);
    CHECK(text_is(read_text, home, "null"));
    CHECK(text_is(path_text, home, marker_file));

    int err = -1;
    CHECK_STATUS(drain_write(home, "c-test", false, &err), DRAIN_STATUS_OK);
    CHECK(err == -1); /* out_errno is written only on IO_ERROR */
    CHECK(drain_requested(home));
    CHECK(!drain_notification_suppressed(home));
    CHECK_STATUS(drain_inspect(home, &verdict), DRAIN_STATUS_OK);
    CHECK(verdict.present && verdict.active && !verdict.suppressed && !verdict.epoch_stale &&
          !verdict.expired);

    /* The file: the contract's layout, mode 0644 less the umask, no temp files. */
    size_t len = 0;
    char *bytes = slurp(marker_file, &len);
    CHECK(bytes != NULL);
    if (bytes != NULL) {
        CHECK(starts_with(bytes, "{\n  \"action\": \"drain\",\n  \"requested_at\": \""));
        CHECK(bytes[len - 1] == '}');
        CHECK(strstr(bytes, "\"principal\": \"c-test\"") != NULL);
        CHECK(strstr(bytes, "\"suppress_notification\": false\n}") != NULL);
        char *epoch_field = join("\"epoch\": \"", epoch);
        CHECK(strstr(bytes, epoch_field) != NULL);
        free(epoch_field);

        /* requested_at is now: fresh now, expired just past the maximum age. */
        int64_t now = now_unix_micros();
        CHECK_STATUS(drain_classify((const uint8_t *)bytes, len, epoch, now, &verdict),
                     DRAIN_STATUS_OK);
        CHECK(verdict.active && !verdict.expired);
        CHECK_STATUS(drain_classify((const uint8_t *)bytes, len, epoch,
                                    now + DRAIN_MAX_AGE_MICROS + 60000000, &verdict),
                     DRAIN_STATUS_OK);
        CHECK(verdict.present && verdict.expired && !verdict.active);
        CHECK_STATUS(drain_classify((const uint8_t *)bytes, len, "another:1", now, &verdict),
                     DRAIN_STATUS_OK);
        CHECK(epoch[0] == '\0' || (verdict.epoch_stale && !verdict.active));

        /* drain_read gives what drain_classify_read makes of the file's bytes. */
        struct bytes marker = {(const uint8_t *)bytes, len};
        char *pure = fetch_text(classify_read_text, &marker);
        char *read = fetch_text(read_text, home);
        CHECK(strcmp(pure, read) == 0);
        CHECK(starts_with(read, "{\"action\":\"drain\",\"requested_at\":\""));
        CHECK(strstr(read, "\",\"principal\":\"c-test\",\"epoch\":\"") != NULL);
        CHECK(strstr(read, ",\"suppress_notification\":false}") != NULL);
        free(pure);
        free(read);
        free(bytes);
    }
    struct stat st;
    mode_t mask = umask(022);
    umask(mask);
    CHECK(stat(marker_file, &st) == 0 && (st.st_mode & 07777) == (0644 & ~mask));
    CHECK(count_entries(home) == 1);

    /* The keep-alive re-write; suppression; non-ASCII principals stay UTF-8. */
    CHECK_STATUS(drain_write(home, "Zo\xc3\xab \xe2\x9c\x93", true, NULL), DRAIN_STATUS_OK);
    CHECK(drain_requested(home));
    CHECK(drain_notification_suppressed(home));
    CHECK_STATUS(drain_inspect(home, &verdict), DRAIN_STATUS_OK);
    CHECK(verdict.active && verdict.suppressed);
    bytes = slurp(marker_file, &len);
    CHECK(bytes != NULL && strstr(bytes, "\"principal\": \"Zo\xc3\xab \xe2\x9c\x93\"") != NULL);

    /* A principal that is not UTF-8 writes nothing: the old marker stays as it was. */
    err = -1;
    CHECK_STATUS(drain_write(home, "bad" "\xff" "name", false, &err), DRAIN_STATUS_INVALID_UTF8);
    CHECK(err == -1);
    size_t len2 = 0;
    char *bytes2 = slurp(marker_file, &len2);
    CHECK(bytes != NULL && bytes2 != NULL && len == len2 && memcmp(bytes, bytes2, len) == 0);
    free(bytes);
    free(bytes2);
    CHECK(count_entries(home) == 1);

    /* Clear: reports the marker, then is idempotent. */
    bool existed = false;
    err = -1;
    CHECK_STATUS(drain_clear(home, &existed, &err), DRAIN_STATUS_OK);
    CHECK(existed);
    CHECK(err == -1);
    CHECK(!exists(marker_file));
    CHECK(!drain_requested(home));
    CHECK(text_is(read_text, home, "null"));
    existed = true;
    CHECK_STATUS(drain_clear(home, &existed, &err), DRAIN_STATUS_OK);
    CHECK(!existed);
    CHECK_STATUS(drain_clear(home, NULL, NULL), DRAIN_STATUS_OK);

    /* A principal that is not UTF-8, with no marker: still none, and no temp file. */
    CHECK_STATUS(drain_write(home, "\xc3", false, &err), DRAIN_STATUS_INVALID_UTF8);
    CHECK(!exists(marker_file));
    CHECK(count_entries(home) == 0);

    free(epoch);
    free(marker_file);
    free(home);
}

/* A home whose path is not UTF-8 works like any other. */
static void test_non_utf8_home(const char *root) {
    context = "non-UTF-8 home";
    char *home = join(root, "/h\xff\xfe");
    char *marker_file = marker_in(home);
    CHECK_STATUS(drain_write(home, "c-test", false, NULL), DRAIN_STATUS_OK);
    CHECK(exists(marker_file));
    CHECK(drain_requested(home));
    CHECK(text_is(path_text, home, marker_file));
    bool existed = false;
    CHECK_STATUS(drain_clear(home, &existed, NULL), DRAIN_STATUS_OK);
    CHECK(existed && !exists(marker_file));
    CHECK(rmdir(home) == 0);
    free(marker_file);
    free(home);
}

/* home == NULL resolves HERMES_HOME (whitespace stripped) at every call. */
static void test_default_home(const char *root) {
    context = "default home";
    char *home = join(root, "/env-home");
    char *padded = join(" \t", home);
    char *padded2 = join(padded, "\n");
    char *marker_file = marker_in(home);
    CHECK(setenv("HERMES_HOME", padded2, 1) == 0);
    CHECK(text_is(path_text, NULL, marker_file));
    CHECK(!drain_requested(NULL));
    CHECK_STATUS(drain_write(NULL, "c-test", true, NULL), DRAIN_STATUS_OK);
    CHECK(exists(marker_file));
    CHECK(drain_requested(NULL));
    CHECK(drain_notification_suppressed(NULL));
    drain_verdict verdict;
    CHECK_STATUS(drain_inspect(NULL, &verdict), DRAIN_STATUS_OK);
    CHECK(verdict.active && verdict.suppressed);
    char *read = fetch_text(read_text, NULL);
    CHECK(strstr(read, "\"suppress_notification\":true}") != NULL);
    free(read);
    /* Not cached: another value is followed at the next call. */
    CHECK(setenv("HERMES_HOME", root, 1) == 0);
    CHECK(!drain_requested(NULL));
    CHECK(setenv("HERMES_HOME", home, 1) == 0);
    bool existed = false;
    CHECK_STATUS(drain_clear(NULL, &existed, NULL), DRAIN_STATUS_OK);
    CHECK(existed && !exists(marker_file));
    CHECK(unsetenv("HERMES_HOME") == 0);
    CHECK(rmdir(home) == 0);
    free(marker_file);
    free(padded2);
    free(padded);
    free(home);
}

/* ---- error paths --------------------------------------------------------------- */

static void test_null_arguments(const char *root) {
    context = "NULL arguments";
    char *home = join(root, "/null-args");
    int err = -1;
    CHECK_STATUS(drain_write(home, NULL, false, &err), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK(err == -1);
    CHECK(!exists(home)); /* nothing was done, not even the folder */
    CHECK_STATUS(drain_inspect(home, NULL), DRAIN_STATUS_NULL_ARGUMENT);

    /* drain_classify: every pointer; outputs untouched on failure. */
    drain_verdict verdict;
    memset(&verdict, 0, sizeof verdict);
    verdict.expired = true;
    const uint8_t marker[] = "{}";
    CHECK_STATUS(drain_classify(marker, 2, "e:1", 0, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify(marker, 2, NULL, 0, &verdict), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify(NULL, 2, "e:1", 0, &verdict), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify(marker, 2, "e" "\xff", 0, &verdict), DRAIN_STATUS_INVALID_UTF8);
    CHECK_STATUS(drain_classify(marker, (size_t)PTRDIFF_MAX + 1, "", 0, &verdict),
                 DRAIN_STATUS_INVALID_ARGUMENT);
    CHECK(verdict.expired && !verdict.present);
    /* NULL with length 0 is the empty marker: present, contentless, hence active. */
    CHECK_STATUS(drain_classify(NULL, 0, "e:1", 0, &verdict), DRAIN_STATUS_OK);
    CHECK(verdict.present && verdict.active && !verdict.expired && !verdict.suppressed);
    struct bytes empty = {NULL, 0};
    CHECK(text_is(classify_read_text, &empty, "{}"));

    /* The text outputs: out_len is required; buf only when buf_len > 0. */
    size_t len = 12345;
    char buf[8];
    CHECK_STATUS(drain_read(home, buf, sizeof buf, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_read(home, NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_epoch(buf, sizeof buf, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_epoch(NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_marker_path(home, buf, sizeof buf, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_marker_path(home, NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(marker, 2, buf, sizeof buf, NULL),
                 DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(marker, 2, NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(NULL, 2, buf, sizeof buf, &len),
                 DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(marker, (size_t)PTRDIFF_MAX + 1, buf, sizeof buf, &len),
                 DRAIN_STATUS_INVALID_ARGUMENT);
    CHECK(len == 12345); /* no output on failure */
    CHECK(!exists(home));
    free(home);
}

/* ---- what a failed write or clear reports (drain_write_ex, drain_clear_ex) ----- */

/* Fills `err` with a pattern, so that a check can tell whether a call wrote it. */
static void scribble(drain_error *err) {
    memset(err, 0x5a, sizeof *err);
}

static int scribbled(const drain_error *err) {
    const unsigned char *bytes = (const unsigned char *)err;
    for (size_t i = 0; i < sizeof *err; i++) {
        if (bytes[i] != 0x5a) {
            return 0;
        }
    }
    return 1;
}

/* Whether a text field of a drain_error is whole and NUL-terminated: its length below
 * the capacity, the array's text that long. */
static int whole_text(const char *text, size_t len, size_t capacity) {
    return len < capacity && memchr(text, '\0', capacity) == text + len;
}

/* Checks a drain_error: the step, an errno among want1/want2 (0 for none), the marker
 * path, the path acted on (exactly, or by prefix and suffix when `path_suffix` is
 * given), whether the old marker is untouched, and a whole message that names the
 * marker first. */
static void check_error(const drain_error *err, drain_step step, int want1, int want2,
                        const char *marker, const char *path, const char *path_suffix,
                        bool untouched, int line) {
    int ok = 1;
#define ERR_CHECK(cond)                                                                     \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            ok = 0;                                                                        \
            printf("FAIL %s (line %d): %s\n", context, line, #cond);                     \
        }                                                                                  \
    } while (0)
    ERR_CHECK(err->step == step);
    ERR_CHECK(err->os_error == want1 || err->os_error == want2);
    ERR_CHECK(err->marker_untouched == untouched);
    ERR_CHECK(whole_text(err->marker, err->marker_len, DRAIN_ERROR_PATH_CAPACITY));
    ERR_CHECK(whole_text(err->path, err->path_len, DRAIN_ERROR_PATH_CAPACITY));
    ERR_CHECK(whole_text(err->message, err->message_len, DRAIN_ERROR_MESSAGE_CAPACITY));
    ERR_CHECK(strcmp(err->marker, marker) == 0);
    if (path_suffix == NULL) {
        ERR_CHECK(strcmp(err->path, path) == 0);
    } else {
        size_t len = strlen(err->path), suffix = strlen(path_suffix);
        ERR_CHECK(starts_with(err->path, path));
        ERR_CHECK(len > strlen(path) + suffix &&
                  strcmp(err->path + len - suffix, path_suffix) == 0);
    }
    /* drain marker "<marker>": <step> ... */
    char *quoted = join("drain marker \"", marker);
    ERR_CHECK(starts_with(err->message, quoted));
    free(quoted);
    if (step != DRAIN_STEP_CHECK_PAYLOAD && strcmp(err->path, err->marker) != 0) {
        ERR_CHECK(strstr(err->message, err->path) != NULL);
    }
    if (want1 != 0) {
        char os[32];
        snprintf(os, sizeof os, "(os error %d)", err->os_error);
        ERR_CHECK(strstr(err->message, os) != NULL);
    }
#undef ERR_CHECK
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("     step %s, errno %d, marker \"%s\", path \"%s\"\n     message: %s\n",
               drain_step_name(err->step), err->os_error, err->marker, err->path,
               err->message);
    }
}

#define CHECK_ERROR(err, step, want1, want2, marker, path, suffix, untouched)              \
    check_error((err), (step), (want1), (want2), (marker), (path), (suffix), (untouched),  \
                __LINE__)

/* A principal so long that the marker would be over the 1 MiB a reader reads would
 * read back as contentless, a drain nothing could age out: refused before anything is
 * touched, with a status of its own and a message naming the argument and the limit. */
static void test_refused_payload(const char *root) {
    context = "refused payload";
    char *home = join(root, "/refused");
    char *marker_file = marker_in(home);
    size_t big = 2u << 20;
    char *principal = must_malloc(big + 1);
    memset(principal, 'p', big);
    principal[big] = '\0';
    drain_error err;
    int errno_out = -1;

    /* No home yet: not even the folder is made. */
    CHECK_STATUS(drain_write(home, principal, false, &errno_out),
                 DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK(errno_out == -1); /* out_errno is for IO_ERROR only */
    CHECK(!exists(home));
    CHECK_STATUS(drain_write(home, principal, false, NULL), DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK_STATUS(drain_write_ex(home, principal, false, NULL), DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK(!exists(home));

    /* An old marker stays byte for byte; no temporary file appears. */
    CHECK_STATUS(drain_write(home, "before", false, NULL), DRAIN_STATUS_OK);
    size_t before_len = 0, after_len = 0;
    char *before = slurp(marker_file, &before_len);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(home, principal, true, &err), DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK_ERROR(&err, DRAIN_STEP_CHECK_PAYLOAD, 0, 0, marker_file, marker_file, NULL, true);
    CHECK(strstr(err.message, "principal") != NULL);
    CHECK(strstr(err.message, "1048576") != NULL);
    char *after = slurp(marker_file, &after_len);
    CHECK(before != NULL && after != NULL && before_len == after_len &&
          memcmp(before, after, before_len) == 0);
    CHECK(count_entries(home) == 1);
    CHECK(drain_requested(home));
    printf("refused payload: %s\n", err.message);

    /* Just under the limit is written, and reads back as written. */
    size_t fits = (1u << 20) - 200;
    principal[fits] = '\0';
    CHECK_STATUS(drain_write_ex(home, principal, false, &err), DRAIN_STATUS_OK);
    char *read = fetch_text(read_text, home);
    CHECK(strstr(read, principal) != NULL && strlen(read) > fits);
    free(read);
    CHECK_STATUS(drain_clear(home, NULL, NULL), DRAIN_STATUS_OK);

    free(after);
    free(before);
    free(principal);
    free(marker_file);
    free(home);
}

/* Failed writes and clears name the step, the path the failing call acted on and the
 * marker; drain_error is written on every failure, and only then. */
static void test_error_details(const char *root) {
    context = "error details";
    drain_error err;

    /* /proc/self exists and refuses new files, to root too: the temporary file. */
    scribble(&err);
    CHECK_STATUS(drain_write_ex("/proc/self", "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err.os_error != 0);
    CHECK_ERROR(&err, DRAIN_STEP_CREATE_TEMP, err.os_error, err.os_error,
                "/proc/self/.drain_request.json", "/proc/self/..drain_request_", ".tmp", true);
    CHECK(strstr(err.message, "creating a temporary file") != NULL);
    printf("create_temp: %s\n", err.message);
    int errno_out = -1;
    CHECK_STATUS(drain_write("/proc/self", "c-test", false, &errno_out), DRAIN_STATUS_IO_ERROR);
    CHECK(errno_out == err.os_error); /* the same errno through the plain call */

    /* A home that is a regular file: the home folder cannot be made. */
    char *file = join(root, "/err-file");
    char *file_marker = marker_in(file);
    CHECK(put_file(file, "x", 1) == 0);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(file, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_CREATE_HOME, EEXIST, ENOTDIR, file_marker, file, NULL, true);
    bool existed = true;
    scribble(&err);
    CHECK_STATUS(drain_clear_ex(file, &existed, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_REMOVE, ENOTDIR, ENOTDIR, file_marker, file_marker, NULL,
                true);
    CHECK(existed); /* not written on failure */
    CHECK_STATUS(drain_clear_ex(file, NULL, NULL), DRAIN_STATUS_IO_ERROR);

    /* The marker path is a folder: the rename over it fails, and no temporary file
     * stays; removing it fails too. */
    char *home = join(root, "/err-dir-marker");
    char *marker_dir = marker_in(home);
    CHECK(mkdir(home, 0755) == 0 && mkdir(marker_dir, 0755) == 0);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(home, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_RENAME, EISDIR, EEXIST, marker_dir, marker_dir, NULL, true);
    CHECK(count_entries(home) == 1);
    scribble(&err);
    CHECK_STATUS(drain_clear_ex(home, NULL, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_REMOVE, EISDIR, EPERM, marker_dir, marker_dir, NULL, true);

    /* A home too long for any system call: the whole lengths are reported and the
     * texts cut to fit, NUL-terminated. */
    size_t long_len = 5000;
    char *long_home = must_malloc(long_len + 1);
    memset(long_home, 'd', long_len);
    long_home[0] = '/';
    long_home[long_len] = '\0';
    scribble(&err);
    CHECK_STATUS(drain_write_ex(long_home, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err.step == DRAIN_STEP_CREATE_HOME && err.os_error == ENAMETOOLONG);
    CHECK(err.path_len == long_len);
    CHECK(err.marker_len == long_len + strlen("/.drain_request.json"));
    CHECK(err.message_len > DRAIN_ERROR_MESSAGE_CAPACITY);
    CHECK(strlen(err.path) == DRAIN_ERROR_PATH_CAPACITY - 1);
    CHECK(strncmp(err.path, long_home, DRAIN_ERROR_PATH_CAPACITY - 1) == 0);
    CHECK(strlen(err.marker) == DRAIN_ERROR_PATH_CAPACITY - 1);
    CHECK(strlen(err.message) == DRAIN_ERROR_MESSAGE_CAPACITY - 1);
    CHECK(starts_with(err.message, "drain marker \"/ddd"));

    /* Every failure writes it: a refused argument with no step, naming the argument. */
    char *fine = join(root, "/err-fine");
    char *fine_marker = marker_in(fine);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(fine, NULL, false, &err), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_ERROR(&err, DRAIN_STEP_NONE, 0, 0, fine_marker, "", NULL, true);
    CHECK(strstr(err.message, "principal is NULL") != NULL);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(fine, "\xc3", false, &err), DRAIN_STATUS_INVALID_UTF8);
    CHECK_ERROR(&err, DRAIN_STEP_NONE, 0, 0, fine_marker, "", NULL, true);
    CHECK(strstr(err.message, "principal is not valid UTF-8") != NULL);
    CHECK(!exists(fine));

    /* Success leaves it as it was. */
    scribble(&err);
    CHECK_STATUS(drain_write_ex(fine, "c-test", false, &err), DRAIN_STATUS_OK);
    existed = false;
    CHECK_STATUS(drain_clear_ex(fine, &existed, &err), DRAIN_STATUS_OK);
    CHECK(existed);
    CHECK_STATUS(drain_clear_ex(fine, &existed, &err), DRAIN_STATUS_OK);
    CHECK(!existed);
    CHECK(scribbled(&err));
    CHECK(rmdir(fine) == 0);

    free(fine_marker);
    free(fine);
    free(long_home);
    free(marker_dir);
    free(home);
    free(file_marker);
    free(file);
}

static void check_io_error(drain_status status, const char *call, int err, int want1,
                           int want2, int line) {
    check_status(status, DRAIN_STATUS_IO_ERROR, call, line);
    if (err == want1 || err == want2) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s (line %d): errno %d (%s), expected %s or %s\n", context, line, err,
               strerror(err), strerror(want1), strerror(want2));
    }
}

/* Runs `call`, then checks it failed with IO_ERROR and set `err` to want1 or want2. */
#define CHECK_IO_ERROR(call, err, want1, want2)                                            \
    do {                                                                                   \
        drain_status status_ = (call);                                                     \
        check_io_error(status_, #call, (err), (want1), (want2), __LINE__);                 \
    } while (0)

/* A home that is a regular file, and a marker path that is a folder. */
static void test_unwritable_home(const char *root) {
    context = "unwritable home";
    char *file = join(root, "/a-file");
    CHECK(put_file(file, "x", 1) == 0);
    int err = -1;
    CHECK_IO_ERROR(drain_write(file, "c-test", false, &err), err, ENOTDIR, EEXIST);
    err = -1;
    char *below = join(file, "/sub");
    CHECK_IO_ERROR(drain_write(below, "c-test", false, &err), err, ENOTDIR, ENOTDIR);
    CHECK_STATUS(drain_write(file, "c-test", false, NULL), DRAIN_STATUS_IO_ERROR);
    bool existed = true;
    err = -1;
    CHECK_IO_ERROR(drain_clear(file, &existed, &err), err, ENOTDIR, ENOTDIR);
    CHECK(existed); /* not written on failure */
    CHECK_STATUS(drain_clear(file, NULL, NULL), DRAIN_STATUS_IO_ERROR);
    CHECK(!drain_requested(file));
    CHECK(text_is(read_text, file, "null"));
    size_t len = 0;
    char *content = slurp(file, &len);
    CHECK(content != NULL && len == 1 && content[0] == 'x'); /* untouched */
    free(content);

    /* The marker path is a folder: unreadable, so absent; a write cannot replace it. */
    char *home = join(root, "/dir-marker");
    char *marker_dir = marker_in(home);
    CHECK(mkdir(home, 0755) == 0 && mkdir(marker_dir, 0755) == 0);
    CHECK(!drain_requested(home));
    drain_verdict verdict;
    CHECK_STATUS(drain_inspect(home, &verdict), DRAIN_STATUS_OK);
    CHECK(!verdict.present);
    CHECK(text_is(read_text, home, "null"));
    err = 0;
    CHECK_STATUS(drain_write(home, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err != 0);
    CHECK(count_entries(home) == 1); /* the temp file is gone */
    err = 0;
    CHECK_STATUS(drain_clear(home, NULL, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err != 0);
    free(marker_dir);
    free(home);
    free(below);
    free(file);
}

/* A home in a folder the caller may not write: as root, the check runs in a child that
 * drops to "nobody", since root ignores permission bits. */
static void read_only_checks(const char *home, const char *marker_file) {
    int err = -1;
    CHECK_IO_ERROR(drain_write(home, "c-test", false, &err), err, EACCES, EPERM);
    CHECK(drain_requested(home)); /* the old marker is untouched */
    err = -1;
    CHECK_IO_ERROR(drain_clear(home, NULL, &err), err, EACCES, EPERM);
    CHECK(exists(marker_file));
    char *below = join(home, "/sub");
    err = -1;
    CHECK_IO_ERROR(drain_write(below, "c-test", false, &err), err, EACCES, EPERM);
    /* What failed: the temporary file could not be made, the marker not removed. */
    drain_error details;
    CHECK_STATUS(drain_write_ex(home, "c-test", false, &details), DRAIN_STATUS_IO_ERROR);
    char *temp_prefix = join(home, "/..drain_request_");
    CHECK_ERROR(&details, DRAIN_STEP_CREATE_TEMP, EACCES, EPERM, marker_file, temp_prefix,
                ".tmp", true);
    CHECK_STATUS(drain_clear_ex(home, NULL, &details), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&details, DRAIN_STEP_REMOVE, EACCES, EPERM, marker_file, marker_file, NULL,
                true);
    CHECK_STATUS(drain_write_ex(below, "c-test", false, &details), DRAIN_STATUS_IO_ERROR);
    char *below_marker = marker_in(below);
    CHECK_ERROR(&details, DRAIN_STEP_CREATE_HOME, EACCES, EPERM, below_marker, below, NULL,
                true);
    CHECK(drain_requested(home));
    free(below_marker);
    free(temp_prefix);
    free(below);
}

static void test_read_only_home(const char *root) {
    context = "read-only home";
    char *home = join(root, "/ro");
    char *marker_file = marker_in(home);
    CHECK_STATUS(drain_write(home, "c-test", false, NULL), DRAIN_STATUS_OK);
    CHECK(chmod(root, 0755) == 0 && chmod(home, 0555) == 0);
    if (geteuid() != 0) {
        read_only_checks(home, marker_file);
    } else {
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            passed = failed = 0;
            if (setgid(65534) != 0 || setuid(65534) != 0) {
                printf("read-only home: skipped (cannot drop root privileges)\n");
                fflush(stdout);
                free(marker_file);
                free(home);
                _exit(0);
            }
            read_only_checks(home, marker_file);
            printf("read-only home, as uid 65534: %d passed, %d failed checks\n", passed, failed);
            fflush(stdout);
            free(marker_file); /* so that valgrind finds the child's heap clean too */
            free(home);
            _exit(failed > 100 ? 100 : failed);
        }
        int wstatus = 0;
        CHECK(child > 0 && waitpid(child, &wstatus, 0) == child);
        CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    }
    CHECK(chmod(home, 0755) == 0 && chmod(root, 0700) == 0);
    CHECK_STATUS(drain_clear(home, NULL, NULL), DRAIN_STATUS_OK);
    free(marker_file);
    free(home);
}

/* ---- threads ----------------------------------------------------------------- */

/* Every call is documented thread-safe: writers, readers and clearers race on one
 * home, and every call succeeds; a reader sees no marker or a whole one, never a torn
 * one (the write is an atomic rename). Results are counted per thread, and checked
 * on the main thread (the check counters are not shared). */
struct race {
    const char *home;
    int calls;
    int bad;
};

static void *racer(void *arg) {
    struct race *race = arg;
    for (int i = 0; i < 20; i++) {
        int err = 0;
        drain_verdict verdict;
        char buf[512];
        size_t len = 0;
        race->bad += drain_write(race->home, "racer", i % 2 == 0, &err) != DRAIN_STATUS_OK;
        race->bad += drain_inspect(race->home, &verdict) != DRAIN_STATUS_OK;
        race->bad += drain_read(race->home, buf, sizeof buf, &len) != DRAIN_STATUS_OK;
        race->bad += strcmp(buf, "null") != 0 && !starts_with(buf, "{\"action\":\"drain\",");
        race->bad += drain_clear(race->home, NULL, &err) != DRAIN_STATUS_OK;
        race->calls += 4;
    }
    return NULL;
}

static void test_threads(const char *root) {
    context = "threads";
    char *home = join(root, "/threads");
    struct race races[4];
    pthread_t threads[4];
    int started = 0;
    for (int i = 0; i < 4; i++) {
        races[i] = (struct race){home, 0, 0};
        if (pthread_create(&threads[i], NULL, racer, &races[i]) == 0) {
            started++;
        }
    }
    CHECK(started == 4);
    for (int i = 0; i < started; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(races[i].calls == 80 && races[i].bad == 0);
    }
    CHECK(count_entries(home) == 0); /* no marker left, no temp file left */
    free(home);
}

/* ---- static strings and constants ------------------------------------------- */

static void test_static_strings(void) {
    context = "static strings";
    const char *messages[10];
    for (uint32_t status = 0; status < 10; status++) {
        messages[status] = drain_status_message(status);
        CHECK(messages[status] != NULL && messages[status][0] != '\0');
        CHECK(strcmp(messages[status], "unknown status") != 0);
        for (uint32_t other = 0; other < status; other++) {
            CHECK(strcmp(messages[status], messages[other]) != 0);
        }
    }
    CHECK(strcmp(drain_status_message(10), "unknown status") == 0);
    CHECK(strcmp(drain_status_message(1000), "unknown status") == 0);
    CHECK(strcmp(drain_status_message(UINT32_MAX), "unknown status") == 0);
    CHECK(drain_status_message(DRAIN_STATUS_OK) == drain_status_message(0)); /* static */

    /* The steps' stable names, the same in every binding. */
    const char *steps[] = {"none", "check_payload", "create_home", "follow_link",
                           "create_temp", "keep_mode", "write_temp", "sync_temp",
                           "rename", "sync_folder", "remove"};
    for (uint32_t step = 0; step < sizeof steps / sizeof steps[0]; step++) {
        CHECK(strcmp(drain_step_name(step), steps[step]) == 0);
    }
    CHECK(strcmp(drain_step_name(DRAIN_STEP_CREATE_TEMP), "create_temp") == 0);
    CHECK(strcmp(drain_step_name(11), "unknown step") == 0);
    CHECK(strcmp(drain_step_name(UINT32_MAX), "unknown step") == 0);
    CHECK(drain_step_name(DRAIN_STEP_RENAME) == drain_step_name(8)); /* static */

    const char *version = drain_version();
    CHECK(version != NULL && strcmp(version, DRAIN_EXPECTED_VERSION) == 0);
    /* The header's version macros (checked against Cargo.toml when the crate compiles)
       agree with the library's. */
    CHECK(strcmp(version, DRAIN_CONTROL_VERSION) == 0);
    {
        char parts[64];
        snprintf(parts, sizeof parts, "%d.%d.%d", DRAIN_CONTROL_VERSION_MAJOR,
                 DRAIN_CONTROL_VERSION_MINOR, DRAIN_CONTROL_VERSION_PATCH);
        CHECK(strcmp(version, parts) == 0);
    }
    CHECK(drain_version() == version);

    /* The constants are the ones the classifier applies, to the microsecond. */
    CHECK(DRAIN_MAX_AGE_SECONDS == 3600.0);
    CHECK((int64_t)(DRAIN_MAX_AGE_SECONDS * 1e6) == DRAIN_MAX_AGE_MICROS);
    const char *old = "{\"requested_at\": \"1970-01-01T00:00:00+00:00\"}";
    drain_verdict verdict;
    CHECK_STATUS(drain_classify((const uint8_t *)old, strlen(old), "", DRAIN_MAX_AGE_MICROS,
                                &verdict),
                 DRAIN_STATUS_OK);
    CHECK(verdict.active && !verdict.expired);
    CHECK_STATUS(drain_classify((const uint8_t *)old, strlen(old), "", DRAIN_MAX_AGE_MICROS + 1,
                                &verdict),
                 DRAIN_STATUS_OK);
    CHECK(!verdict.active && verdict.expired);

    char *epoch = fetch_text(epoch_text, NULL);
    char *again = fetch_text(epoch_text, NULL);
    CHECK(strcmp(epoch, again) == 0); /* constant for the process */
    printf("epoch: \"%s\"\n", epoch);
    free(epoch);
    free(again);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s VECTORS_TXT RESULTS_JSONL\n", argv[0]);
        return 2;
    }
    char template[] = "/tmp/drain-c-test-XXXXXX";
    const char *root = mkdtemp(template);
    if (root == NULL) {
        perror("mkdtemp");
        return 2;
    }
    test_static_strings();
    test_vectors(argv[1], argv[2], root);
    test_round_trip(root);
    test_non_utf8_home(root);
    test_default_home(root);
    test_threads(root);
    test_null_arguments(root);
    test_unwritable_home(root);
    test_read_only_home(root);
    test_refused_payload(root);
    test_error_details(root);
    if (remove_tree(root) != 0) {
        perror("removing the temporary folder");
        failed++;
    }
    printf("drain_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
