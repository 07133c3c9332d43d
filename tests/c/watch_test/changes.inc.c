/* watch_test: the changes a watcher reports: begin and cancel, a re-write (no change
 * unless every_change), expiry with a short test-only max age, a burst of changes (the
 * final state is reported), a marker from another instantiation. Part of watch_test.c,
 * which #includes it (see there); not compiled on its own. */

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
