/* The C ABI of leases (CONTRACT.md), against real files in temporary homes: begin,
 * keep-alive and release; a second begin refused naming the holder; a lease lost to a
 * plain write and to a plain clear, which then writes and removes nothing; a release
 * after another lease replaced an expired drain; a held lease kept alive past a short
 * test-only max age and released by drain_lease_free; a waiting begin; a busy lock;
 * tokens; NULL arguments. Built by scripts/test-c like watch_test.c.
 *
 * Usage: lease_test
 * Ends with the line "lease_test: N passed, N failed"; exits non-zero on a failure. */

#define _XOPEN_SOURCE 700

#include "check.h"
#include "test_hooks.h" /* drain_lease_begin_with_max_age_for_tests: cargo feature test-hooks */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <unistd.h>

_Static_assert(DRAIN_STATUS_HELD == 10, "HELD is 10");
_Static_assert(DRAIN_STATUS_LOST == 11, "LOST is 11");
_Static_assert(DRAIN_STATUS_BUSY == 12, "BUSY is 12");
_Static_assert(DRAIN_STATUS_INVALID_TOKEN == 13, "INVALID_TOKEN is 13");
_Static_assert(DRAIN_STEP_LOCK == 11, "STEP_LOCK is 11");

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *new_home(void) {
    char *tmpl = join(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "/lease_test.XXXXXX");
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return tmpl;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The marker's text, malloc'd ("" when absent). */
static char *marker_text(const char *home) {
    char *path = marker_in(home);
    FILE *file = fopen(path, "rb");
    free(path);
    if (file == NULL) {
        return join("", "");
    }
    char *buf = must_malloc(65536);
    size_t len = fread(buf, 1, 65535, file);
    buf[len] = '\0';
    fclose(file);
    return buf;
}

static drain_status token_of(const void *lease, char *buf, size_t len, size_t *out_len) {
    return drain_lease_token((const drain_lease *)lease, buf, len, out_len);
}

static drain_lease *begin_ok(const char *home, const char *principal) {
    drain_lease *lease = NULL;
    CHECK_STATUS(drain_lease_begin(home, principal, false, 0, &lease, NULL, NULL),
                 DRAIN_STATUS_OK);
    if (lease == NULL) {
        printf("FAIL %s: no lease; giving up\n", context);
        exit(1);
    }
    return lease;
}

static void round_trip(void) {
    context = "round trip";
    char *home = new_home();
    drain_lease *lease = begin_ok(home, "migration");
    char *token = fetch_text(token_of, lease);
    CHECK(strlen(token) == 32);
    CHECK(strspn(token, "0123456789abcdef") == 32);
    char *text = marker_text(home);
    CHECK(strstr(text, token) != NULL);
    CHECK(strstr(text, "\"principal\": \"migration\"") != NULL);
    CHECK(drain_requested(home));
    free(text);

    sleep_ms(2);
    CHECK_STATUS(drain_lease_keep_alive(lease, NULL, NULL), DRAIN_STATUS_OK);
    char *after = marker_text(home);
    CHECK(strstr(after, token) != NULL);
    free(after);

    bool removed = false;
    CHECK_STATUS(drain_lease_release(lease, &removed, NULL), DRAIN_STATUS_OK);
    CHECK(removed);
    CHECK(!drain_requested(home));
    removed = true;
    CHECK_STATUS(drain_lease_release(lease, &removed, NULL), DRAIN_STATUS_OK);
    CHECK(!removed); /* nothing of the lease's left */
    drain_lease_free(lease);
    free(token);
    remove_tree(home);
    free(home);
}

static void second_begin_is_refused(void) {
    context = "a second begin is refused naming the holder";
    char *home = new_home();
    drain_lease *first = begin_ok(home, "operator-a");
    drain_lease *second = NULL;
    drain_holder holder;
    drain_error err;
    memset(&holder, 0, sizeof holder);
    CHECK_STATUS(drain_lease_begin(home, "operator-b", false, 0, &second, &holder, &err),
                 DRAIN_STATUS_HELD);
    CHECK(second == NULL);
    CHECK(holder.state == DRAIN_STATE_ACTIVE);
    CHECK(holder.owned);
    CHECK(strcmp(holder.principal, "\"operator-a\"") == 0);
    CHECK(holder.principal_len == strlen("\"operator-a\""));
    CHECK(holder.has_requested_at && holder.requested_at_len > 0);
    CHECK(strstr(err.message, "a drain is already active") != NULL);
    CHECK(err.step == DRAIN_STEP_NONE);

    /* A plain drain refuses a begin too, reported as not leased. */
    bool removed = false;
    CHECK_STATUS(drain_lease_release(first, &removed, NULL), DRAIN_STATUS_OK);
    CHECK_STATUS(drain_write(home, "dashboard", false, NULL), DRAIN_STATUS_OK);
    CHECK_STATUS(drain_lease_begin(home, "operator-b", false, 0, &second, &holder, NULL),
                 DRAIN_STATUS_HELD);
    CHECK(!holder.owned);
    CHECK(strcmp(holder.principal, "\"dashboard\"") == 0);
    drain_lease_free(first);
    remove_tree(home);
    free(home);
}

static void lost_to_plain_writers(void) {
    context = "a lease lost to a plain write or clear writes and removes nothing";
    char *home = new_home();
    drain_lease *lease = begin_ok(home, "lease");
    CHECK_STATUS(drain_write(home, "dashboard", false, NULL), DRAIN_STATUS_OK);
    char *before = marker_text(home);
    drain_holder holder;
    CHECK_STATUS(drain_lease_keep_alive(lease, &holder, NULL), DRAIN_STATUS_LOST);
    CHECK(!holder.owned && strcmp(holder.principal, "\"dashboard\"") == 0);
    bool removed = true;
    CHECK_STATUS(drain_lease_release(lease, &removed, NULL), DRAIN_STATUS_OK);
    CHECK(!removed);
    char *after = marker_text(home);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);

    bool existed = false;
    CHECK_STATUS(drain_clear(home, &existed, NULL), DRAIN_STATUS_OK);
    CHECK_STATUS(drain_lease_keep_alive(lease, &holder, NULL), DRAIN_STATUS_LOST);
    CHECK(holder.state == DRAIN_STATE_ABSENT);
    CHECK(!drain_requested(home)); /* not resurrected */
    drain_lease_free(lease);
    remove_tree(home);
    free(home);
}

static void release_after_another_took_an_expired_drain(void) {
    context = "release after another lease replaced an expired drain removes nothing";
    char *home = new_home();
    drain_lease *old = NULL;
    drain_lease *newer = NULL;
    CHECK_STATUS(drain_lease_begin_with_max_age_for_tests(home, "old", false, 0, 50000, &old,
                                                          NULL, NULL),
                 DRAIN_STATUS_OK);
    sleep_ms(80);
    CHECK_STATUS(drain_lease_begin_with_max_age_for_tests(home, "new", false, 0, 50000,
                                                          &newer, NULL, NULL),
                 DRAIN_STATUS_OK);
    char *before = marker_text(home);
    drain_holder holder;
    CHECK_STATUS(drain_lease_keep_alive(old, &holder, NULL), DRAIN_STATUS_LOST);
    CHECK(holder.owned && strcmp(holder.principal, "\"new\"") == 0);
    bool removed = true;
    CHECK_STATUS(drain_lease_release(old, &removed, NULL), DRAIN_STATUS_OK);
    CHECK(!removed);
    char *after = marker_text(home);
    CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    drain_lease_free(old);
    drain_lease_free(newer); /* not held: the drain stays */
    CHECK(drain_requested(home));
    remove_tree(home);
    free(home);
}

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void held_lease_outlives_a_short_max_age(void) {
    context = "a held lease stays active past a short max age; free releases it";
    char *home = new_home();
    drain_lease *lease = NULL;
    /* A max age of 400 ms: held, the lease re-writes its marker every 100 ms. */
    CHECK_STATUS(drain_lease_begin_with_max_age_for_tests(home, "held", false, 0, 400000,
                                                          &lease, NULL, NULL),
                 DRAIN_STATUS_OK);
    CHECK_STATUS(drain_lease_hold(lease, 0), DRAIN_STATUS_OK);
    CHECK_STATUS(drain_lease_hold(lease, 0), DRAIN_STATUS_OK); /* twice is once */
    /* Never older than the max age: the longest time without a re-write stays under
     * it, over three max ages. */
    char *last = marker_text(home);
    int64_t changed = monotonic_ms(), longest = 0, started = changed, rewrites = 0;
    while (monotonic_ms() - started < 1200) {
        sleep_ms(10);
        char *now = marker_text(home);
        CHECK(strlen(now) > 0);
        if (strcmp(now, last) != 0) {
            int64_t at = monotonic_ms();
            longest = at - changed > longest ? at - changed : longest;
            changed = at;
            rewrites++;
        }
        free(last);
        last = now;
    }
    free(last);
    longest = monotonic_ms() - changed > longest ? monotonic_ms() - changed : longest;
    CHECK(rewrites >= 3);
    CHECK(longest < 400);
    if (longest >= 400) {
        printf("     %" PRId64 " ms without a keep-alive\n", longest);
    }
    bool lost = true;
    CHECK_STATUS(drain_lease_lost(lease, &lost, NULL), DRAIN_STATUS_OK);
    CHECK(!lost);
    drain_lease_free(lease);
    CHECK(!drain_requested(home));
    char *marker = marker_in(home);
    CHECK(!exists(marker));
    free(marker);
    remove_tree(home);
    free(home);
}

static void held_lease_lost_says_so(void) {
    context = "a held lease found lost says so, and free removes nothing";
    char *home = new_home();
    drain_lease *lease = begin_ok(home, "held");
    CHECK_STATUS(drain_lease_hold(lease, 10), DRAIN_STATUS_OK);
    CHECK_STATUS(drain_write(home, "dashboard", false, NULL), DRAIN_STATUS_OK);
    bool lost = false;
    drain_holder holder;
    for (int i = 0; i < 500 && !lost; i++) {
        CHECK_STATUS(drain_lease_lost(lease, &lost, &holder), DRAIN_STATUS_OK);
        sleep_ms(10);
    }
    CHECK(lost);
    CHECK(!holder.owned && strcmp(holder.principal, "\"dashboard\"") == 0);
    drain_lease_free(lease);
    char *text = marker_text(home);
    CHECK(strstr(text, "dashboard") != NULL);
    free(text);
    remove_tree(home);
    free(home);
}

struct releaser {
    drain_lease *lease;
};

static void *release_later(void *arg) {
    sleep_ms(200);
    bool removed = false;
    drain_lease_release(((struct releaser *)arg)->lease, &removed, NULL);
    return NULL;
}

static void waiting_begin(void) {
    context = "a waiting begin takes the drain once it is released, and gives up at its bound";
    char *home = new_home();
    drain_lease *first = begin_ok(home, "first");
    drain_lease *second = NULL;
    CHECK_STATUS(drain_lease_begin(home, "second", false, 100, &second, NULL, NULL),
                 DRAIN_STATUS_HELD);
    struct releaser releaser = {first};
    pthread_t thread;
    pthread_create(&thread, NULL, release_later, &releaser);
    CHECK_STATUS(drain_lease_begin(home, "second", false, UINT64_MAX, &second, NULL, NULL),
                 DRAIN_STATUS_OK);
    pthread_join(thread, NULL);
    char *text = marker_text(home);
    CHECK(strstr(text, "\"second\"") != NULL);
    free(text);
    drain_lease_free(first);
    drain_lease_free(second);
    remove_tree(home);
    free(home);
}

static void tokens_and_arguments(void) {
    context = "tokens, resumed leases and NULL arguments";
    char *home = new_home();
    drain_lease *lease = begin_ok(home, "cli");
    char *token = fetch_text(token_of, lease);
    drain_lease *resumed = NULL;
    CHECK_STATUS(drain_lease_resume(home, token, &resumed), DRAIN_STATUS_OK);
    CHECK_STATUS(drain_lease_keep_alive(resumed, NULL, NULL), DRAIN_STATUS_OK);
    bool removed = false;
    CHECK_STATUS(drain_lease_release(resumed, &removed, NULL), DRAIN_STATUS_OK);
    CHECK(removed);
    drain_lease *bad = NULL;
    CHECK_STATUS(drain_lease_resume(home, "NOT-A-TOKEN", &bad), DRAIN_STATUS_INVALID_TOKEN);
    CHECK(bad == NULL);
    CHECK_STATUS(drain_lease_resume(home, NULL, &bad), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_lease_resume(home, token, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_lease_begin(home, NULL, false, 0, &bad, NULL, NULL),
                 DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_lease_begin(home, "x", false, 0, NULL, NULL, NULL),
                 DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_lease_keep_alive(NULL, NULL, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_lease_release(NULL, NULL, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_lease_hold(NULL, 0), DRAIN_STATUS_NULL_ARGUMENT);
    bool lost = false;
    CHECK_STATUS(drain_lease_lost(NULL, &lost, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_lease_lost(lease, NULL, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    drain_lease_free(NULL); /* does nothing */
    drain_lease_free(lease);
    drain_lease_free(resumed);
    free(token);
    remove_tree(home);
    free(home);
}

static void busy_lock(void) {
    context = "a lock held all along: busy, and nothing written";
    char *home = new_home();
    char *lock = join(home, "/.drain_request.lock");
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
    drain_lease *lease = NULL;
    drain_error err;
    CHECK_STATUS(drain_lease_begin(home, "x", false, 0, &lease, NULL, &err), DRAIN_STATUS_BUSY);
    CHECK(lease == NULL);
    CHECK(strstr(err.message, "busy") != NULL);
    CHECK(!drain_requested(home));
    close(fd);
    free(lock);
    remove_tree(home);
    free(home);
}

int main(void) {
    round_trip();
    second_begin_is_refused();
    lost_to_plain_writers();
    release_after_another_took_an_expired_drain();
    held_lease_outlives_a_short_max_age();
    held_lease_lost_says_so();
    waiting_begin();
    tokens_and_arguments();
    busy_lock();
    printf("lease_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
