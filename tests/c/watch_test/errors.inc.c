/* watch_test: the error paths, the new statuses and the state names. Part of
 * watch_test.c, which #includes it (see there); not compiled on its own. */

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
    const char *past_last = drain_status_message(DRAIN_STATUS_INVALID_TOKEN + 1);
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
