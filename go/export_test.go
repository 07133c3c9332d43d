package draincontrol

import "time"

// NewWatcherWithMaxAgeForTests is NewWatcher judging expiry against maxAge instead of
// the contract's hour (drain_watcher_new_with_max_age_for_tests), so that a test can
// watch a marker expire without waiting an hour. It exists only in this package's
// test binary.
func NewWatcherWithMaxAgeForTests(home string, opts WatchOptions, maxAge time.Duration) (*Watcher, error) {
	return newWatcher(home, opts, maxAge)
}
