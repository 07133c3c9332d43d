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
 * Ends with the line "drain_test: N passed, N failed"; exits non-zero on a failure.
 *
 * This file holds the helpers and main(); the tests are in drain_test/<topic>.inc.c, one
 * file a topic, #included below. */

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

/* ---- the tests, one file a topic ------------------------------------------------ */

/* Each drain_test/<topic>.inc.c is part of this program, #included here rather than
 * compiled on its own: the program stays one translation unit (check.h's counters and
 * the helpers above are its own, and every function can stay static), and
 * scripts/test-c and scripts/test-packaging build it from this file alone. The error
 * topics use the checks of error_checks.inc.c, included before them. */
#include "drain_test/vectors.inc.c"
#include "drain_test/round_trip.inc.c"
#include "drain_test/error_checks.inc.c"
#include "drain_test/error_paths.inc.c"
#include "drain_test/error_details.inc.c"
#include "drain_test/threads.inc.c"
#include "drain_test/static_strings.inc.c"

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
