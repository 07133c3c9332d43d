package draincontrol

import (
	"context"
	"time"
)

// NewWatcherWithMaxAgeForTests is NewWatcher judging expiry against maxAge instead of
// the contract's hour (drain_watcher_new_with_max_age_for_tests), so that a test can
// watch a marker expire without waiting an hour. It exists only in this package's
// test binary.
func NewWatcherWithMaxAgeForTests(home string, opts WatchOptions, maxAge time.Duration) (*Watcher, error) {
	return newWatcher(home, opts, maxAge)
}

// BeginWaitWithMaxAgeForTests is BeginWait judging (and holding: a quarter of it
// between keep-alives) against maxAge instead of the contract's hour
// (drain_lease_begin_with_max_age_for_tests). It exists only in this package's test
// binary.
func BeginWaitWithMaxAgeForTests(ctx context.Context, home, principal string, suppress bool, wait, maxAge time.Duration) (*Lease, error) {
	return begin(ctx, home, principal, suppress, wait, maxAge)
}
