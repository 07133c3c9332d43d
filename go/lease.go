package draincontrol

/*
#include "drain_control_go.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Leases: drains that belong to someone (CONTRACT.md). [Begin] takes a drain only when
// no drain is active and returns a [*Lease]; its [Lease.KeepAlive] and [Lease.Release]
// act only while the marker carries the lease's token, and [Lease.Hold] keeps it alive
// in the background (the library's keep-alive thread, every quarter of [MaxAge]) until
// a context ends or the lease is released or closed. A plain [Write] or [Clear] still
// replaces or removes any drain; the lease then finds itself lost.
//
// Every rule is the library's: this file converts arguments, results and errors.

// ErrLeaseClosed is returned by the methods of a [*Lease] after [Lease.Close].
var ErrLeaseClosed = errors.New("draincontrol: the lease is closed")

// Holder says who holds a drain: carried by the [*LeaseError] of a refused begin
// ([StatusHeld]) and of a lost lease ([StatusLost]).
type Holder struct {
	// Principal is the marker's principal as JSON text, verbatim (a string comes
	// quoted: `"dashboard"`); `null` when the marker has none. Decode it with
	// json.Unmarshal. Nil when it was longer than the library passes on (see Cut).
	Principal json.RawMessage
	// RequestedAt is the marker's requested_at as written ("" when it has none).
	RequestedAt string
	// Owned: the drain is leased (its marker carries an owner_token); false for a
	// plain Write's drain.
	Owned bool
	// State is the marker's drain state.
	State State
	// Cut: the principal or requested_at was over 1023 bytes, which the library's
	// drain_holder does not carry; that field is left empty.
	Cut bool
}

// LeaseError is a lease operation that did not do what was asked, without an I/O
// failure (those are a [*MarkerError], Step "lock" when taking the lock failed).
// Status says which; it unwraps to it, so errors.Is(err, StatusHeld) tells it:
//
//   - [StatusHeld] ([Begin]): another drain is active; Holder says whose. Nothing was
//     written.
//   - [StatusLost] ([Lease.KeepAlive], [Lease.Lost]): the marker no longer carries the
//     lease's token (a plain Write or Clear, a restart, another lease after it
//     expired); Holder says who holds the drain now, nil when the marker is gone.
//     Nothing was written.
//   - [StatusBusy]: other writers kept the lock beside the marker taken for the library's
//     whole wait (5 s). Nothing was written.
//   - [StatusInvalidToken] ([Resume]): the token is not 32 lower-case hexadecimal
//     digits.
type LeaseError struct {
	// Op is the operation: "begin", "resume", "keep_alive", "release" or "hold".
	Op string
	// Status is the library's status: StatusHeld, StatusLost, StatusBusy or
	// StatusInvalidToken.
	Status Status
	// Marker is the marker path the operation was for.
	Marker string
	// Holder is who holds the drain (StatusHeld, StatusLost), else nil.
	Holder *Holder
	// Message is the library's description, the same text in every binding.
	Message string
}

// Error returns "draincontrol: <op>: " followed by [LeaseError.Message].
func (e *LeaseError) Error() string {
	return "draincontrol: " + e.Op + ": " + e.Message
}

// Unwrap returns [LeaseError.Status], so errors.Is(err, StatusLost) works.
func (e *LeaseError) Unwrap() error {
	return e.Status
}

// Lease is a drain this process began exclusively ([Begin], [BeginWait]) or whose
// token it was given ([Resume]). It holds a handle of the library: [Lease.Close] frees
// it, and nothing else does (there is no finalizer). Closing a lease that is not held
// leaves its drain in place, so that its token can be handed on; closing a held one
// ([Lease.Hold]) releases the drain first.
//
// Its methods are safe for concurrent use; Close waits for calls in progress.
type Lease struct {
	home  string
	token string

	mu     sync.RWMutex   // read: a call on handle; write: Close
	handle *C.drain_lease // nil once closed

	hold struct {
		sync.Mutex
		done    chan struct{} // made by Hold, closed once the held lease is released
		stop    func() bool   // stops the release when Hold's context ends
		removed bool          // the result of that release, once done is closed
		err     error
	}
}

// waitSlice bounds one waiting call into the library, so that a [BeginWait] notices
// its context ending within this much.
const waitSlice = 200 * time.Millisecond

// Begin begins a drain of home only if no drain is active there (an absent,
// epoch-stale or expired marker is replaced; a contentless one counts as active), as
// a lease whose marker carries a new random owner_token. home, principal and
// suppressNotification are as for [Write].
//
// It fails with a [*LeaseError] matching [StatusHeld] naming the holder when another
// drain is active, [StatusBusy] when the lock stayed taken for 5 s, a [*MarkerError]
// (Op "begin") for an I/O failure or a principal too long, as [Write] says, and an
// error wrapping [ErrNUL] or a [*StatusError] with [StatusInvalidUTF8] for a
// principal that cannot be passed.
func Begin(home, principal string, suppressNotification bool) (*Lease, error) {
	return begin(context.Background(), home, principal, suppressNotification, 0, -1)
}

// BeginWait is [Begin], waiting up to wait for the active drain to end (a negative
// wait: for as long as ctx allows). The library waits event-driven, woken by each
// change of the marker and by its expiry. When ctx ends first, the error wraps
// ctx.Err() and, after a refused attempt, the [*LeaseError] of that attempt. Because
// a call into the library cannot be interrupted, a cancellable ctx is honoured
// between calls of at most 200 ms (and a lock held by another writer can hold one
// attempt for 5 s); with a ctx that is never done, the whole wait is one call.
func BeginWait(ctx context.Context, home, principal string, suppressNotification bool, wait time.Duration) (*Lease, error) {
	return begin(ctx, home, principal, suppressNotification, wait, -1)
}

// begin is BeginWait; a maxAge of 0 or more judges (and holds) against it instead of
// the contract's hour (for tests only: see export_test.go).
func begin(ctx context.Context, home, principal string, suppress bool, wait, maxAge time.Duration) (*Lease, error) {
	h, p, free, err := cHomeAnd("begin", home, "principal", principal)
	if err != nil {
		return nil, err
	}
	defer free()
	started := time.Now()
	var refused error
	for {
		if err := ctx.Err(); err != nil {
			if refused != nil {
				return nil, fmt.Errorf("draincontrol: begin: %w, after %w", err, refused)
			}
			return nil, fmt.Errorf("draincontrol: begin: %w", err)
		}
		ms := uint64(math.MaxUint64) // UINT64_MAX: as long as it takes
		if wait >= 0 {
			ms = waitMillis(wait - time.Since(started))
		}
		if ctx.Done() != nil {
			ms = min(ms, waitMillis(waitSlice))
		}
		var handle *C.drain_lease
		var holder C.drain_holder
		var failure C.drain_error
		var st C.drain_status
		if maxAge >= 0 {
			st = beginLeaseWithMaxAge(h, p, C.bool(suppress), C.uint64_t(ms), C.int64_t(maxAge/time.Microsecond),
				&handle, &holder, &failure)
		} else {
			st = C.drain_lease_begin(h, p, C.bool(suppress), C.uint64_t(ms), &handle, &holder, &failure)
		}
		if st == C.DRAIN_STATUS_OK {
			return newLease(home, handle)
		}
		err := leaseError("begin", home, st, &holder, &failure)
		if Status(st) != StatusHeld || (wait >= 0 && time.Since(started) >= wait) {
			return nil, err
		}
		refused = err
	}
}

// waitMillis is d in whole milliseconds, rounded up so that a positive wait waits.
func waitMillis(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64((d + time.Millisecond - 1) / time.Millisecond)
}

// Resume returns the lease whose token is token (as [Lease.Token] gave it, perhaps in
// another process), to keep alive or release it. Only the token's form is checked: a
// [*LeaseError] matching [StatusInvalidToken] unless it is 32 lower-case hexadecimal
// digits. Whether the marker still carries it, the operations say.
func Resume(home, token string) (*Lease, error) {
	h, t, free, err := cHomeAnd("resume", home, "token", token)
	if err != nil {
		return nil, err
	}
	defer free()
	var handle *C.drain_lease
	switch st := C.drain_lease_resume(h, t, &handle); Status(st) {
	case StatusOK:
		return newLease(home, handle)
	case StatusInvalidToken:
		s := Status(st)
		return nil, &LeaseError{Op: "resume", Status: s, Marker: MarkerPath(home), Message: s.Error()}
	default:
		return nil, statusError("resume", st)
	}
}

// newLease wraps a handle the library just returned, with its token.
func newLease(home string, handle *C.drain_lease) (*Lease, error) {
	token, err := fetchText("token", func(buf *C.char, n C.size_t, outLen *C.size_t) C.drain_status {
		return C.drain_lease_token(handle, buf, n, outLen)
	})
	if err != nil { // not seen in practice: give the drain back rather than orphan it
		C.drain_lease_release(handle, nil, nil)
		C.drain_lease_free(handle)
		return nil, err
	}
	return &Lease{home: home, token: token, handle: handle}, nil
}

// Token returns the lease's token, the marker's owner_token: 32 lower-case
// hexadecimal digits. Another process can [Resume] the lease with it.
func (l *Lease) Token() string {
	return l.token
}

// KeepAlive re-writes the lease's marker with a new requested_at (and this
// instantiation's epoch), only while it carries the lease's token. Otherwise it
// writes nothing and fails with a [*LeaseError] matching [StatusLost], naming who
// holds the drain now. A busy lock and an I/O failure fail as in [Begin] (Op
// "keep_alive").
func (l *Lease) KeepAlive() error {
	return l.call("keep_alive", func(h *C.drain_lease) error {
		var holder C.drain_holder
		var failure C.drain_error
		st := C.drain_lease_keep_alive(h, &holder, &failure)
		return leaseError("keep_alive", l.home, st, &holder, &failure)
	})
}

// Release removes the lease's marker only while it carries the lease's token
// (compare-and-clear), and says whether it did: false when the lease was lost. It
// never removes another's drain. A held lease stops being kept alive first; once a
// held lease was released (by its context, Release or Close), Release returns what
// that release returned. A busy lock and an I/O failure fail as in [Begin] (Op
// "release").
func (l *Lease) Release() (removed bool, err error) {
	err = l.call("release", func(*C.drain_lease) error {
		removed, err = l.release()
		return err
	})
	return removed, err
}

// release is Release; the caller holds l.mu and the lease is open.
func (l *Lease) release() (bool, error) {
	l.hold.Lock()
	defer l.hold.Unlock()
	held := l.hold.done != nil
	if held && isClosed(l.hold.done) {
		return l.hold.removed, l.hold.err
	}
	var removed C.bool
	var failure C.drain_error
	st := C.drain_lease_release(l.handle, &removed, &failure)
	err := leaseError("release", l.home, st, nil, &failure)
	if held {
		l.hold.stop()
		l.hold.removed, l.hold.err = bool(removed), err
		close(l.hold.done)
	}
	return bool(removed), err
}

// Hold keeps the drain alive in the background (the library's keep-alive thread,
// every quarter of [MaxAge]: 15 minutes) until ctx is done, [Lease.Release] or
// [Lease.Close], and then releases it. A ctx already done releases it at once.
// With defer, the drain is released however the caller's function ends, a panic
// included:
//
//	lease, err := draincontrol.Begin(home, "migration", false)
//	if err != nil {
//		return err
//	}
//	defer lease.Close() // releases the held drain, also on a panic
//	if err := lease.Hold(ctx); err != nil {
//		return err
//	}
//
// A keep-alive that finds the lease lost stops ([Lease.Lost] then says so, and the
// release removes nothing); one that fails otherwise (busy, I/O) is retried after a
// second. [Lease.Done] is closed once the held lease is released. A lease is held
// once: a second Hold fails.
func (l *Lease) Hold(ctx context.Context) error {
	return l.call("hold", func(h *C.drain_lease) error {
		l.hold.Lock()
		defer l.hold.Unlock()
		if l.hold.done != nil {
			return errors.New("draincontrol: hold: the lease is held already")
		}
		if st := C.drain_lease_hold(h, 0); st != C.DRAIN_STATUS_OK {
			return statusError("hold", st)
		}
		l.hold.done = make(chan struct{})
		l.hold.stop = context.AfterFunc(ctx, func() {
			_ = l.call("release", func(*C.drain_lease) error { // closed: Close released it
				_, err := l.release()
				return err
			})
		})
		return nil
	})
}

// Done returns a channel closed once the held lease is released (by the end of the
// context given to [Lease.Hold], [Lease.Release] or [Lease.Close]); [Lease.Release]
// then returns what that release returned. Nil (never ready) for a lease not held.
func (l *Lease) Done() <-chan struct{} {
	l.hold.Lock()
	defer l.hold.Unlock()
	return l.hold.done
}

// Lost reports whether the background keep-alive of a held lease found it lost: nil
// while it keeps the drain alive, else a [*LeaseError] matching [StatusLost] naming
// who holds the drain now (Holder nil when the marker was removed). A lease not held,
// already released or closed gives nil ([Lease.KeepAlive] tells a lease not held).
func (l *Lease) Lost() error {
	var lost error
	err := l.call("lost", func(h *C.drain_lease) error {
		var isLost C.bool
		var holder C.drain_holder
		if st := C.drain_lease_lost(h, &isLost, &holder); st != C.DRAIN_STATUS_OK {
			return statusError("lost", st)
		}
		if isLost {
			s := StatusLost
			lost = &LeaseError{Op: "hold", Status: s, Marker: MarkerPath(l.home),
				Holder: goHolder(&holder), Message: s.Error()}
		}
		return nil
	})
	if errors.Is(err, ErrLeaseClosed) {
		return nil
	}
	if err != nil {
		return err
	}
	return lost
}

// Close frees the lease's handle. A held lease not released yet is released first
// (its drain removed, if still its own), and Close returns the error of that release
// (or of the release its context ended it with); a lease not held leaves its drain in
// place. Idempotent; later calls of other methods return [ErrLeaseClosed].
func (l *Lease) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.handle == nil {
		return nil
	}
	var err error
	if l.Done() != nil {
		_, err = l.release()
	}
	C.drain_lease_free(l.handle)
	l.handle = nil
	return err
}

// call runs f with the open handle, holding l.mu for reading so that Close waits.
func (l *Lease) call(op string, f func(*C.drain_lease) error) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.handle == nil {
		return fmt.Errorf("draincontrol: %s: %w", op, ErrLeaseClosed)
	}
	return f(l.handle)
}

func isClosed(done chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// leaseError turns the status of a lease operation into an error: a *LeaseError for
// held, lost and busy, else as markerError (a *MarkerError for an I/O failure).
func leaseError(op, home string, st C.drain_status, holder *C.drain_holder, failure *C.drain_error) error {
	s := Status(st)
	switch s {
	case StatusHeld, StatusLost, StatusBusy:
	default:
		return markerError(op, home, st, failure)
	}
	marker, message := failureTexts(home, failure)
	err := &LeaseError{Op: op, Status: s, Marker: marker, Message: message}
	if s != StatusBusy {
		err.Holder = goHolder(holder)
	}
	return err
}

// goHolder converts a drain_holder; nil for a marker that is gone.
func goHolder(h *C.drain_holder) *Holder {
	if State(h.state) == StateAbsent {
		return nil
	}
	out := &Holder{Owned: bool(h.owned), State: State(h.state)}
	if uint64(h.principal_len) < C.DRAIN_HOLDER_TEXT_CAPACITY {
		out.Principal = json.RawMessage(C.GoStringN(&h.principal[0], C.int(h.principal_len)))
	} else {
		out.Cut = true
	}
	if h.has_requested_at && uint64(h.requested_at_len) < C.DRAIN_HOLDER_TEXT_CAPACITY {
		out.RequestedAt = C.GoStringN(&h.requested_at[0], C.int(h.requested_at_len))
	} else if h.has_requested_at {
		out.Cut = true
	}
	return out
}
