//go:build drain_dev && drain_testhooks

package draincontrol

/*
#include "drain_control_go.h"
#include "test_hooks.h"
*/
import "C"

// newWatcherWithMaxAge calls the test-only drain_watcher_new_with_max_age_for_tests of
// a library built with the cargo feature test-hooks (see export_test.go), with
// -tags drain_dev,drain_testhooks (scripts/test-go). cgo cannot be used in _test.go
// files, hence this build-tagged file.
func newWatcherWithMaxAge(home *C.char, fallbackMS C.uint32_t, everyChange C.bool, maxAgeMicros C.int64_t,
	out **C.drain_watcher, outErrno *C.int) C.drain_status {
	return C.drain_watcher_new_with_max_age_for_tests(home, fallbackMS, everyChange, maxAgeMicros, out, outErrno)
}

// beginLeaseWithMaxAge calls the test-only drain_lease_begin_with_max_age_for_tests, as
// newWatcherWithMaxAge does its sibling.
func beginLeaseWithMaxAge(home, principal *C.char, suppress C.bool, waitMS C.uint64_t, maxAgeMicros C.int64_t,
	out **C.drain_lease, outHolder *C.drain_holder, outErr *C.drain_error) C.drain_status {
	return C.drain_lease_begin_with_max_age_for_tests(home, principal, suppress, waitMS, maxAgeMicros, out, outHolder, outErr)
}
