#include <stdio.h>
#include "drain_control.h"
int main(int argc, char **argv) {
    const char *home = argc > 1 ? argv[1] : NULL; /* NULL: $HERMES_HOME, else ~/.hermes */
    int err = 0;
    drain_status s = drain_write(home, "dashboard", false, &err); /* begin, or keep alive */
    if (s != DRAIN_STATUS_OK) { fprintf(stderr, "%s (errno %d)\n", drain_status_message(s), err); return 1; }
    printf("draining: %s\n", drain_requested(home) ? "yes" : "no");
    return drain_clear(home, NULL, NULL) == DRAIN_STATUS_OK ? 0 : 1; /* cancel */
}
