//go:build !(drain_dev && drain_testhooks)

package draincontrol

/*
#include "drain_control_go.h"
*/
import "C"

// newWatcherWithMaxAge and beginLeaseWithMaxAge: the shipped library has no test-only
// entry points (they need -tags drain_dev,drain_testhooks and a library built with the
// cargo feature test-hooks), so a watcher or a lease with another maximum age cannot
// be made.
func newWatcherWithMaxAge(_ *C.char, _ C.uint32_t, _ C.bool, _ C.int64_t,
	_ **C.drain_watcher, _ *C.int) C.drain_status {
	return C.DRAIN_STATUS_INVALID_ARGUMENT
}

func beginLeaseWithMaxAge(_, _ *C.char, _ C.bool, _ C.uint64_t, _ C.int64_t,
	_ **C.drain_lease, _ *C.drain_holder, _ *C.drain_error) C.drain_status {
	return C.DRAIN_STATUS_INVALID_ARGUMENT
}
