/* watch_test: waiting: a stop from another thread while waiting, and poll() on the
 * watcher's descriptor. Part of watch_test.c, which #includes it (see there); not
 * compiled on its own. */

struct waiter {
    drain_watcher *watcher;
    drain_status status;
    int64_t took_ms;
};

static void *wait_forever(void *arg) {
    struct waiter *waiter = arg;
    drain_change change;
    int64_t start = monotonic_ms();
    waiter->status = drain_watcher_next(waiter->watcher, -1, &change);
    waiter->took_ms = monotonic_ms() - start;
    return NULL;
}

static void *stop_soon(void *arg) {
    sleep_ms(100);
    drain_watcher_stop(arg);
    return NULL;
}

static void test_stop_while_waiting(const char *root) {
    context = "stop while waiting";
    char *home = fresh_home(root, "/stop");
    drain_change change;
    drain_watcher *watcher = WATCH_FROM(home, DRAIN_STATE_ABSENT, &change);

    /* Another thread is blocked for ever; this one stops the watcher. The descriptor
     * and the body stay usable meanwhile (they do not wait for the blocked call). */
    struct waiter waiter = {watcher, DRAIN_STATUS_OK, -1};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, wait_forever, &waiter) == 0);
    sleep_ms(100);
    int fd = -1;
    CHECK_STATUS(drain_watcher_fd(watcher, &fd), DRAIN_STATUS_OK);
    char *body = body_of(watcher);
    free(body);
    int64_t stopped_at = monotonic_ms();
    CHECK_STATUS(drain_watcher_stop(watcher), DRAIN_STATUS_OK);
    CHECK(pthread_join(thread, NULL) == 0);
    int64_t wake = monotonic_ms() - stopped_at;
    CHECK_STATUS(waiter.status, DRAIN_STATUS_STOPPED);
    CHECK(waiter.took_ms >= 90);
    CHECK(wake < 2000);

    /* Stopped for good, even with a change waiting; stopping twice is harmless. */
    write_marker(home, "dashboard", false);
    CHECK_STATUS(drain_watcher_next(watcher, 50, &change), DRAIN_STATUS_STOPPED);
    CHECK_STATUS(drain_watcher_next(watcher, -1, &change), DRAIN_STATUS_STOPPED);
    CHECK_STATUS(drain_watcher_stop(watcher), DRAIN_STATUS_OK);
    drain_watcher_free(watcher);

    /* The other way round: this thread waits, another stops. */
    watcher = WATCH_FROM(home, DRAIN_STATE_ACTIVE, &change);
    CHECK(pthread_create(&thread, NULL, stop_soon, watcher) == 0);
    int64_t start = monotonic_ms();
    CHECK_STATUS(drain_watcher_next(watcher, -1, &change), DRAIN_STATUS_STOPPED);
    CHECK(monotonic_ms() - start < 2000);
    CHECK(pthread_join(thread, NULL) == 0);
    drain_watcher_free(watcher);
    free(home);
}

/* Whether fd becomes readable within timeout_ms. */
static int readable_within(int fd, int timeout_ms) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int ready;
    while ((ready = poll(&pfd, 1, timeout_ms)) < 0 && errno == EINTR) {
    }
    return ready == 1 && (pfd.revents & POLLIN);
}

/* An event loop's turn: wait for the descriptor, then take what it announces with a
 * timeout of 0, until a change comes or `timeout_ms` passes. The state, or -1. */
static int64_t poll_for_change(drain_watcher *watcher, int fd, drain_change *out,
                               int timeout_ms) {
    int64_t give_up = monotonic_ms() + timeout_ms;
    for (;;) {
        int64_t left = give_up - monotonic_ms();
        if (left <= 0 || !readable_within(fd, (int)left)) {
            return -1;
        }
        drain_status status = drain_watcher_next(watcher, 0, out);
        if (status == DRAIN_STATUS_OK) {
            return out->state;
        }
        /* Readable, yet no change (a temp file of the write, say): look again. */
        CHECK_STATUS(status, DRAIN_STATUS_TIMED_OUT);
    }
}

static void test_descriptor(const char *root) {
    context = "poll() on the descriptor";
    char *home = fresh_home(root, "/fd");
    drain_watcher *watcher = watcher_for(home);
    int fd = -1;
    CHECK_STATUS(drain_watcher_fd(watcher, &fd), DRAIN_STATUS_OK);
    CHECK(fd >= 0);
    drain_change change;
    /* Readable at once, for the initial state. */
    CHECK(poll_for_change(watcher, fd, &change, 1000) == DRAIN_STATE_ABSENT);
    CHECK(change.initial);
    /* Then quiet until something happens. */
    CHECK(!readable_within(fd, QUIET_MS));
    CHECK_STATUS(drain_watcher_next(watcher, 0, &change), DRAIN_STATUS_TIMED_OUT);

    write_marker(home, "dashboard", false);
    CHECK(poll_for_change(watcher, fd, &change, PATIENCE_MS) == DRAIN_STATE_ACTIVE);
    CHECK(body_has_principal(watcher, "dashboard"));
    clear_marker(home);
    CHECK(poll_for_change(watcher, fd, &change, PATIENCE_MS) == DRAIN_STATE_ABSENT);

    /* After a stop the descriptor stays readable, and next says why. */
    CHECK_STATUS(drain_watcher_stop(watcher), DRAIN_STATUS_OK);
    CHECK(readable_within(fd, 0));
    CHECK_STATUS(drain_watcher_next(watcher, 0, &change), DRAIN_STATUS_STOPPED);
    CHECK(readable_within(fd, 0));
    drain_watcher_free(watcher);

    /* The expiry timer wakes the descriptor too. */
    watcher = NULL;
    CHECK_STATUS(drain_watcher_new_with_max_age_for_tests(home, FALLBACK_MS, false, 200000,
                                                          &watcher, NULL),
                 DRAIN_STATUS_OK);
    if (watcher != NULL) {
        CHECK_STATUS(drain_watcher_fd(watcher, &fd), DRAIN_STATUS_OK);
        CHECK(poll_for_change(watcher, fd, &change, 1000) == DRAIN_STATE_ABSENT);
        write_marker(home, "dashboard", false);
        CHECK(poll_for_change(watcher, fd, &change, PATIENCE_MS) == DRAIN_STATE_ACTIVE);
        CHECK(poll_for_change(watcher, fd, &change, 3000) == DRAIN_STATE_EXPIRED);
        drain_watcher_free(watcher);
    }
    free(home);
}
