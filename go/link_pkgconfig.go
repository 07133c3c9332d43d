//go:build drain_pkgconfig && !drain_dev

package draincontrol

// -tags drain_pkgconfig: the C library installed with scripts/install-c (or unpacked
// from the release's tarball), found through PKG_CONFIG_PATH.

/*
#cgo CFLAGS: -I${SRCDIR}
#cgo pkg-config: drain_control
#include "drain_control_go.h"
*/
import "C"
