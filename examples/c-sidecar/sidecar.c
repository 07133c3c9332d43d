/* A drain-control sidecar in C: prints the drain state of a gateway's home once a
 * second, or at each change as it happens (--watch), until SIGINT or SIGTERM.
 *
 *   sidecar [HOME]          HOME defaults to $HERMES_HOME, else ~/.hermes (resolved each tick)
 *   sidecar --watch [HOME]  one line per change of the state, within milliseconds
 *                           (HOME resolved once, at the start)
 *   sidecar --help
 *
 * Build: cc -std=c11 -Iinclude examples/c-sidecar/sidecar.c \
 *            target/release/libdrain_control.a -lm -ldl -lpthread -o sidecar
 *
 * Each line: "<UTC time> <state> <marker path>", where state is one of "draining",
 * "draining (notification suppressed)", "idle", "ignored (stale epoch)" or
 * "ignored (expired)". Exits 0 when stopped by a signal, 2 on bad arguments, 1 when
 * the library fails. */

#define _POSIX_C_SOURCE 200809L

#include "drain_control.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_signal = 0;

static void on_signal(int signal_number) {
    stop_signal = signal_number;
}

static void usage(FILE *to, const char *program) {
    fprintf(to,
            "usage: %s [--watch] [HOME]\n"
            "Prints the drain state of HOME once a second until interrupted; with --watch,\n"
            "once at the start and then at each change, as it happens.\n"
            "HOME defaults to $HERMES_HOME, else ~/.hermes. Use '--' before a HOME that\n"
            "starts with '-'.\n",
            program);
}

static const char *state_of(const drain_verdict *verdict) {
    if (verdict->active) {
        return verdict->suppressed ? "draining (notification suppressed)" : "draining";
    }
    if (!verdict->present) {
        return "idle";
    }
    return verdict->epoch_stale ? "ignored (stale epoch)" : "ignored (expired)";
}

/* The marker path, sized by the library; NULL on failure. The caller frees it. */
static char *marker_path(const char *home) {
    size_t len = 0;
    char *buf = NULL;
    drain_status status;
    /* Sizing call first; repeat if the answer changed (HERMES_HOME may change). */
    while ((status = drain_marker_path(home, buf, buf ? len + 1 : 0, &len)) ==
           DRAIN_STATUS_BUFFER_TOO_SMALL) {
        char *bigger = realloc(buf, len + 1);
        if (bigger == NULL) {
            free(buf);
            return NULL;
        }
        buf = bigger;
    }
    if (status != DRAIN_STATUS_OK) {
        fprintf(stderr, "sidecar: drain_marker_path: %s\n", drain_status_message(status));
        free(buf);
        return NULL;
    }
    return buf;
}

/* A change's moment as UTC text with milliseconds. */
static void format_micros(char *out, size_t len, int64_t unix_micros) {
    time_t seconds = (time_t)(unix_micros / 1000000);
    struct tm utc;
    char whole[24];
    strftime(whole, sizeof whole, "%Y-%m-%dT%H:%M:%S", gmtime_r(&seconds, &utc));
    snprintf(out, len, "%s.%03dZ", whole, (int)(unix_micros % 1000000 / 1000));
}

/* --watch: an event loop around the watcher's descriptor. poll() wakes when the
 * watcher may have a change (or a signal interrupts it); drain_watcher_next with a
 * timeout of 0 then takes the change without blocking. The 1 s poll timeout bounds the
 * delay of a signal that lands just before poll(), and is the re-read that platforms
 * without inotify need (there the descriptor wakes only on a stop). */
static int watch(const char *home) {
    drain_watcher *watcher = NULL;
    int err = 0;
    drain_status status = drain_watcher_new(home, 0, false, &watcher, &err);
    if (status != DRAIN_STATUS_OK) {
        fprintf(stderr, "sidecar: drain_watcher_new: %s (errno %d)\n",
                drain_status_message(status), err);
        return 1;
    }
    int fd = -1;
    char *path = marker_path(home);
    status = drain_watcher_fd(watcher, &fd);
    if (status != DRAIN_STATUS_OK || path == NULL) {
        fprintf(stderr, "sidecar: drain_watcher_fd: %s\n", drain_status_message(status));
        drain_watcher_free(watcher);
        free(path);
        return 1;
    }
    int rc = 0;
    while (!stop_signal) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 1000) < 0 && errno != EINTR) {
            perror("sidecar: poll");
            rc = 1;
            break;
        }
        drain_change change;
        while ((status = drain_watcher_next(watcher, 0, &change)) == DRAIN_STATUS_OK) {
            char stamp[40];
            format_micros(stamp, sizeof stamp, change.at_unix_micros);
            printf("%s %s %s\n", stamp, state_of(&change.verdict), path);
        }
        fflush(stdout);
        if (status != DRAIN_STATUS_TIMED_OUT) {
            fprintf(stderr, "sidecar: drain_watcher_next: %s\n", drain_status_message(status));
            rc = 1;
            break;
        }
    }
    drain_watcher_free(watcher);
    free(path);
    if (rc == 0) {
        printf("sidecar: stopped by signal %d\n", (int)stop_signal);
    }
    return rc;
}

int main(int argc, char **argv) {
    const char *program = argc > 0 ? argv[0] : "sidecar";
    const char *home = NULL;
    int positional = 0;
    int watching = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout, program);
            return 0;
        }
        if (strcmp(arg, "--watch") == 0) {
            watching = 1;
            continue;
        }
        if (strcmp(arg, "--") == 0 && i + 1 < argc && home == NULL) {
            arg = argv[++i];
        } else if (arg[0] == '-') {
            fprintf(stderr, "%s: unknown option '%s'\n", program, arg);
            usage(stderr, program);
            return 2;
        }
        if (++positional > 1 || arg[0] == '\0') {
            fprintf(stderr, "%s: %s\n", program,
                    arg[0] == '\0' ? "HOME must not be empty" : "too many arguments");
            usage(stderr, program);
            return 2;
        }
        home = arg;
    }

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) {
        perror("sidecar: sigaction");
        return 1;
    }

    printf("sidecar: drain-control %s, watching %s\n", drain_version(),
           home ? home : "the default home ($HERMES_HOME, else ~/.hermes)");
    fflush(stdout);
    if (watching) {
        return watch(home);
    }
    while (!stop_signal) {
        drain_verdict verdict;
        drain_status status = drain_inspect(home, &verdict);
        char *path = marker_path(home);
        if (status != DRAIN_STATUS_OK || path == NULL) {
            fprintf(stderr, "sidecar: drain_inspect: %s\n", drain_status_message(status));
            free(path);
            return 1;
        }
        char stamp[32];
        time_t now = time(NULL);
        struct tm utc;
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &utc));
        printf("%s %s %s\n", stamp, state_of(&verdict), path);
        fflush(stdout);
        free(path);
        /* Sleep a second; a signal cuts the sleep short (EINTR) and ends the loop. */
        struct timespec pause = {1, 0};
        while (!stop_signal && nanosleep(&pause, &pause) != 0 && errno == EINTR) {
        }
    }
    printf("sidecar: stopped by signal %d\n", (int)stop_signal);
    return 0;
}
