//go:build drain_dev

package draincontrol

// -tags drain_dev: the repository's development build, ../target/release (cargo build
// --release --lib). With drain_testhooks as well, the test-only entry points too
// (testhooks_on.go; the library then needs the cargo feature test-hooks), as
// scripts/test-go builds it.

/*
#cgo CFLAGS: -I${SRCDIR} -I${SRCDIR}/../include -I${SRCDIR}/../tests/c -DDRAIN_GO_DEV
#cgo LDFLAGS: ${SRCDIR}/../target/release/libdrain_control.a -lm -ldl -lpthread
#include "drain_control_go.h"
*/
import "C"
