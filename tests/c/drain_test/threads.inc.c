/* drain_test: threads: writers, readers and clearers racing on one home. Part of
 * drain_test.c, which #includes it (see there); not compiled on its own. */

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
