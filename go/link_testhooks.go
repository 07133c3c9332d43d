//go:build drain_dev && drain_testhooks

package draincontrol

// -tags drain_dev,drain_testhooks (scripts/test-go): the development build with the
// test-only entry points (cargo feature test-hooks; testhooks_on.go), as a copy in
// ../target/testhooks that scripts/test-go takes right after building target/release,
// so that another script rebuilding target/release without the feature meanwhile
// cannot break the link.

/*
#cgo CFLAGS: -I${SRCDIR} -I${SRCDIR}/../include -I${SRCDIR}/../tests/c -DDRAIN_GO_TESTHOOKS
#cgo LDFLAGS: ${SRCDIR}/../target/testhooks/libdrain_control.a -lm -ldl -lpthread
#include "drain_control_go.h"
*/
import "C"
