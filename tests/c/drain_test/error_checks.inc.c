/* drain_test: how a failure is checked: the drain_error that drain_write_ex and
 * drain_clear_ex fill (CHECK_ERROR), and a failed call's status and errno
 * (CHECK_IO_ERROR). Part of drain_test.c, which #includes it (see there); not compiled
 * on its own. */

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
