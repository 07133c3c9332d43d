/* watch_test: the home: created late, deleted and recreated, the default home
 * (HERMES_HOME) and a home that is not UTF-8. Part of watch_test.c, which #includes it
 * (see there); not compiled on its own. */

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
