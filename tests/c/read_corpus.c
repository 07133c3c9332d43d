/* The C side of the JSON differential (tests/c/json_oracle.py check-c): reads marker
 * bytes, one case a line, and prints the JSON text the C ABI gives for each, through a
 * marker file (drain_read) and through the pure reading (drain_classify_read). The
 * oracle compares the values that text carries with what the original Python module
 * reads from the same bytes; this program makes no judgement of its own beyond the
 * buffer convention and the two readings agreeing.
 *
 * Usage: read_corpus HOME < CASES > TEXTS
 *   CASES: "<name> x<marker bytes in hex>" per line
 *   TEXTS: "<name> x<drain_read text in hex> x<drain_classify_read text in hex>" per line
 * HOME is an existing folder; its marker file is rewritten for every case and removed
 * at the end. Ends with "read_corpus: N passed, N failed" on stderr; exits non-zero on
 * a failure. */

#define _XOPEN_SOURCE 700

#include "check.h"

#include <stdio.h>
#include <unistd.h>

static drain_status read_text(const void *home, char *buf, size_t buf_len, size_t *out_len) {
    return drain_read(home, buf, buf_len, out_len);
}

struct bytes {
    const uint8_t *data;
    size_t len;
};

static drain_status classify_read_text(const void *arg, char *buf, size_t buf_len,
                                       size_t *out_len) {
    const struct bytes *marker = arg;
    return drain_classify_read(marker->data, marker->len, buf, buf_len, out_len);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* "x<hex>" into malloc'd bytes; NULL when malformed. */
static uint8_t *unhex(const char *field, size_t *len) {
    size_t digits = strlen(field);
    if (field[0] != 'x' || (digits - 1) % 2 != 0) {
        return NULL;
    }
    size_t n = (digits - 1) / 2;
    uint8_t *out = must_malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        int high = hex_value(field[1 + 2 * i]), low = hex_value(field[2 + 2 * i]);
        if (high < 0 || low < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(high * 16 + low);
    }
    *len = n;
    return out;
}

static void print_hex(const char *text) {
    putchar('x');
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        printf("%02x", *p);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s HOME < CASES > TEXTS\n", argv[0]);
        return 2;
    }
    const char *home = argv[1];
    char *marker_file = marker_in(home);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int cases = 0;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        if (line[got - 1] == '\n') {
            line[got - 1] = '\0';
        }
        char *space = strchr(line, ' ');
        size_t len = 0;
        uint8_t *marker = space == NULL ? NULL : unhex(space + 1, &len);
        CHECK(marker != NULL); /* the line parses */
        if (marker == NULL) {
            continue;
        }
        *space = '\0';
        context = line;
        cases++;
        CHECK(put_file(marker_file, marker, len) == 0);
        char *from_file = fetch_text(read_text, home);
        struct bytes bytes = {marker, len};
        char *from_bytes = fetch_text(classify_read_text, &bytes);
        CHECK(strcmp(from_file, from_bytes) == 0); /* a file reads as its bytes */
        printf("%s ", line);
        print_hex(from_file);
        putchar(' ');
        print_hex(from_bytes);
        putchar('\n');
        free(from_bytes);
        free(from_file);
        free(marker);
    }
    free(line);
    unlink(marker_file);
    free(marker_file);
    CHECK(cases > 0);
    fflush(stdout);
    fprintf(stderr, "read_corpus: %d cases, %d passed, %d failed\n", cases, passed, failed);
    return failed == 0 ? 0 : 1;
}
