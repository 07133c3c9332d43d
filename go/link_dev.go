//go:build drain_dev && !drain_testhooks

package draincontrol

// -tags drain_dev: the repository's development build, ../target/release (cargo build
// --release --lib). (-tags drain_dev,drain_testhooks: link_testhooks.go.)

/*
#cgo CFLAGS: -I${SRCDIR} -I${SRCDIR}/../include -I${SRCDIR}/../tests/c -DDRAIN_GO_DEV
#cgo LDFLAGS: ${SRCDIR}/../target/release/libdrain_control.a -lm -ldl -lpthread
#include "drain_control_go.h"
*/
import "C"
