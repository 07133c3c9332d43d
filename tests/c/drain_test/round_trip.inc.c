/* drain_test: the write/read/clear round trip in a temporary home, a home that is not
 * UTF-8, and the default home (HERMES_HOME). Part of drain_test.c, which #includes it
 * (see there); not compiled on its own. */

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
