package draincontrol

/*
#include <stdlib.h>
#include "drain_control_go.h"
*/
import "C"

import (
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// State is the drain state in one word (the C drain_state): what a gateway does
// about the marker.
type State uint32

// The drain states, taken from the C header. Values are never reused.
const (
	// StateAbsent: no marker (or an unreadable one, which reads as absent). Serve.
	StateAbsent State = C.DRAIN_STATE_ABSENT
	// StateActive: an active marker. Drain.
	StateActive State = C.DRAIN_STATE_ACTIVE
	// StateSuppressed: an active marker that asks to skip the "shutting down"
	// notice. Drain quietly.
	StateSuppressed State = C.DRAIN_STATE_SUPPRESSED
	// StateEpochStale: a marker written by another instantiation of this machine.
	// Ignored: serve.
	StateEpochStale State = C.DRAIN_STATE_EPOCH_STALE
	// StateExpired: a marker older than [MaxAge]. Ignored: serve.
	StateExpired State = C.DRAIN_STATE_EXPIRED
)

// String returns the state's stable name, the same in every binding and in
// `drainctl --json`: "absent", "active", "suppressed", "epoch-stale" or "expired"
// ("unknown state" for a value this version does not know).
func (s State) String() string {
	return C.GoString(C.drain_state_name(C.uint32_t(s)))
}

// Draining reports whether the gateway must drain: [StateActive] or
// [StateSuppressed].
func (s State) Draining() bool {
	return s == StateActive || s == StateSuppressed
}

// WatchOptions tunes a [Watcher]. The zero value is the default.
type WatchOptions struct {
	// FallbackInterval is how often the marker is re-read even when no file event
	// arrived: the safety net under inotify on Linux, and the mechanism elsewhere. 0
	// means the default, one second; the library clamps it to 10 ms .. 24 h.
	FallbackInterval time.Duration
	// EveryChange also reports a re-write that changes nothing but requested_at (a
	// keep-alive). By default such a re-write is not a change.
	EveryChange bool
}

// Change is one change of the drain state, as a [Watcher] reports it.
type Change struct {
	// State is the verdict in one word.
	State State
	// Verdict is the whole verdict, as [Inspect] would have given it at At.
	Verdict Verdict
	// Body is the marker as [Read] returns it, read together with the verdict: nil
	// when there is no marker, empty when it is contentless, else its JSON object.
	Body map[string]any
	// At is the wall-clock reading the verdict was judged at.
	At time.Time
	// ExpiresAt is when the marker will count as expired; the watcher reports that
	// change by itself. The zero Time when it never will: no marker, a marker already
	// expired, or one without a parseable requested_at.
	ExpiresAt time.Time
	// Initial is true for the first change a watcher reports: the state when
	// watching began.
	Initial bool
}

// Watcher reports each change of the drain state of one home as it happens: on Linux
// through inotify on the home folder within milliseconds, and everywhere through a
// wake-up at the instant a marker expires and a slow fallback re-read. It survives
// the home not existing yet, or being deleted and recreated.
//
// The first value on [Watcher.Changes] is the state when watching began
// ([Change.Initial]). After that, one value per real change of the state: the
// verdict, or the marker's body other than requested_at (including it with
// [WatchOptions.EveryChange]). Changes that happen faster than the receiver takes
// them are coalesced, so the receiver always sees the latest state, not necessarily
// every intermediate one.
//
// A Watcher runs a goroutine, which holds an OS thread while it waits in the
// library. Always [Watcher.Close] it: that stops the goroutine and frees the
// library's handle. Its methods are safe for concurrent use.
type Watcher struct {
	handle   *C.drain_watcher
	changes  chan Change
	stopping chan struct{} // closed by Close: the goroutine stops sending
	done     chan struct{} // closed by the goroutine when it has ended
	err      error         // why the goroutine ended, if not by Close; set before done
	close    sync.Once
}

// NewWatcher starts watching home ("" for the default: HERMES_HOME, else ~/.hermes,
// resolved once, now). The folder need not exist yet.
//
// It fails when opts is invalid (a negative FallbackInterval), when home holds a NUL
// byte ([ErrNUL]), or when the OS refuses the watcher's descriptors (an
// [*fs.PathError] naming the home, with the [syscall.Errno], e.g. EMFILE). A folder
// that cannot be watched is not an error: it is re-read on the fallback interval.
func NewWatcher(home string, opts WatchOptions) (*Watcher, error) {
	return newWatcher(home, opts, -1)
}

// newWatcher is NewWatcher; a maxAge of 0 or more judges expiry against it instead of
// the contract's hour (for tests only: see export_test.go).
func newWatcher(home string, opts WatchOptions, maxAge time.Duration) (*Watcher, error) {
	if opts.FallbackInterval < 0 {
		return nil, fmt.Errorf("draincontrol: watch: negative FallbackInterval %v", opts.FallbackInterval)
	}
	// Whole milliseconds, rounded up so that a positive interval never becomes the
	// default; anything above the C range is above the library's cap anyway.
	fallbackMS := uint32(math.MaxUint32)
	if ms := (opts.FallbackInterval + time.Millisecond - 1) / time.Millisecond; ms < math.MaxUint32 {
		fallbackMS = uint32(ms)
	}
	h, err := cHome("watch", home)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(h))
	var handle *C.drain_watcher
	var errno C.int
	var st C.drain_status
	if maxAge >= 0 {
		st = newWatcherWithMaxAge(h, C.uint32_t(fallbackMS), C.bool(opts.EveryChange),
			C.int64_t(maxAge/time.Microsecond), &handle, &errno)
	} else {
		st = C.drain_watcher_new(h, C.uint32_t(fallbackMS), C.bool(opts.EveryChange), &handle, &errno)
	}
	switch Status(st) {
	case StatusOK:
	case StatusIOError:
		path := home
		if path == "" {
			path = filepath.Dir(MarkerPath(""))
		}
		return nil, &fs.PathError{Op: "watch", Path: path, Err: syscall.Errno(errno)}
	default:
		return nil, statusError("watch", st)
	}
	w := &Watcher{
		handle:   handle,
		changes:  make(chan Change),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// Changes returns the channel of changes. It is closed when the watcher is closed, or
// if the library fails (then [Watcher.Err] tells why). Unbuffered: a change is
// delivered when the receiver takes it, and the next one is the latest state then.
func (w *Watcher) Changes() <-chan Change {
	return w.changes
}

// Err returns why [Watcher.Changes] was closed other than by [Watcher.Close]: a
// library failure, which does not happen in practice. It is nil while the watcher
// runs and after a Close.
func (w *Watcher) Err() error {
	select {
	case <-w.done:
		return w.err
	default:
		return nil
	}
}

// Close stops the watcher: it wakes the goroutine waiting in the library, waits for
// it to end (which closes the channel), and frees the library's handle. It is
// idempotent, safe to call from any goroutine (also concurrently, and while another
// goroutine receives from [Watcher.Changes]), and returns what [Watcher.Err] returns.
func (w *Watcher) Close() error {
	w.close.Do(func() {
		close(w.stopping)
		C.drain_watcher_stop(w.handle) // wakes drain_watcher_next; thread-safe
		<-w.done
		C.drain_watcher_free(w.handle) // nothing else uses it any more
		w.handle = nil
	})
	return w.err
}

// run is the watcher's goroutine: it waits in the library for ever (Close wakes it)
// and hands each change to the channel.
func (w *Watcher) run() {
	defer close(w.done)
	defer close(w.changes)
	for {
		var out C.drain_change
		st := C.drain_watcher_next(w.handle, -1, &out)
		switch Status(st) {
		case StatusOK:
		case StatusStopped:
			return
		default:
			w.err = statusError("watch", st)
			return
		}
		change, err := w.change(&out)
		if err != nil {
			w.err = err
			return
		}
		select {
		case w.changes <- change:
		case <-w.stopping:
			return
		}
	}
}

// change converts the C change just returned, with its body.
func (w *Watcher) change(out *C.drain_change) (Change, error) {
	text, err := fetchText("watch", func(buf *C.char, n C.size_t, outLen *C.size_t) C.drain_status {
		return C.drain_watcher_body(w.handle, buf, n, outLen)
	})
	if err != nil {
		return Change{}, err
	}
	body, err := decodeRead("watch", text)
	if err != nil {
		return Change{}, err
	}
	change := Change{
		State:   State(out.state),
		Verdict: goVerdict(&out.verdict),
		Body:    body,
		At:      time.UnixMicro(int64(out.at_unix_micros)),
		Initial: bool(out.initial),
	}
	if out.has_expires_at {
		change.ExpiresAt = time.UnixMicro(int64(out.expires_at_unix_micros))
	}
	return change, nil
}
