#include <stdio.h>
#include "drain_control.h"
int main(int argc, char **argv) { /* waits until the gateway must drain */
    drain_watcher *w;
    drain_change c;
    if (drain_watcher_new(argc > 1 ? argv[1] : NULL, 0, false, &w, NULL) != DRAIN_STATUS_OK) return 1;
    while (drain_watcher_next(w, -1, &c) == DRAIN_STATUS_OK) { /* -1: no timeout */
        printf("%s\n", drain_state_name(c.state)); /* first: the state when watching began */
        if (c.verdict.active) break;
    }
    drain_watcher_free(w);
    return 0;
}
