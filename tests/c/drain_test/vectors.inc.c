/* drain_test: every shared vector through drain_classify and drain_classify_read, its
 * result written for tests/vectors/match.py. Part of drain_test.c, which #includes it
 * (see there); not compiled on its own. */

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
