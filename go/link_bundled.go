//go:build !drain_pkgconfig && !drain_dev

package draincontrol

// The default: the static library bundled in this module (lib/, written by
// scripts/gen-go-lib and shipped in the released module). drain_control_go.h stops the
// build with what to run when it is missing.

/*
#cgo CFLAGS: -I${SRCDIR} -I${SRCDIR}/lib -DDRAIN_GO_BUNDLED
#cgo linux,amd64 LDFLAGS: ${SRCDIR}/lib/linux_amd64/libdrain_control.a -lm -ldl -lpthread
#include "drain_control_go.h"
*/
import "C"
