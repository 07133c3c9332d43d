package draincontrol_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// Leases (CONTRACT.md) against real files: what the issue asks of every binding, and
// the Go forms (errors, Hold with a context and defer, a cancellable waiting begin).

const lockName = ".drain_request.lock"

var tokenForm = regexp.MustCompile(`\A[0-9a-f]{32}\z`)

func mustBegin(t *testing.T, home, principal string) *draincontrol.Lease {
	t.Helper()
	lease, err := draincontrol.Begin(home, principal, false)
	if err != nil {
		t.Fatalf("Begin(%q, %q): %v", home, principal, err)
	}
	t.Cleanup(func() { lease.Close() })
	return lease
}

// mustBeginMaxAge begins a lease judged (and held) against maxAge (a test hook).
func mustBeginMaxAge(t *testing.T, home, principal string, maxAge time.Duration) *draincontrol.Lease {
	t.Helper()
	lease, err := draincontrol.BeginWaitWithMaxAgeForTests(context.Background(), home, principal, false, 0, maxAge)
	if err != nil {
		t.Fatalf("Begin(%q, %q) with max age %v: %v", home, principal, maxAge, err)
	}
	t.Cleanup(func() { lease.Close() })
	return lease
}

// leaseFailure checks that err is a *LeaseError for op with status, and returns it.
func leaseFailure(t *testing.T, err error, op string, status draincontrol.Status) *draincontrol.LeaseError {
	t.Helper()
	var leaseErr *draincontrol.LeaseError
	if !errors.As(err, &leaseErr) || !errors.Is(err, status) {
		t.Fatalf("%s: got %T %v, want a *draincontrol.LeaseError with %v", op, err, err, status)
	}
	if leaseErr.Op != op || leaseErr.Status != status || leaseErr.Message == "" ||
		!strings.HasPrefix(err.Error(), "draincontrol: "+op+": ") {
		t.Fatalf("%s: got %+v (%q)", op, leaseErr, err.Error())
	}
	return leaseErr
}

// expectHolder checks a holder: its principal (JSON text), whether leased, its state.
func expectHolder(t *testing.T, holder *draincontrol.Holder, principal string, owned bool, state draincontrol.State) {
	t.Helper()
	if holder == nil {
		t.Fatalf("no holder; want %s", principal)
	}
	if string(holder.Principal) != principal || holder.Owned != owned || holder.State != state || holder.Cut {
		t.Fatalf("holder %+v (principal %s); want principal %s, owned %v, state %v", holder, holder.Principal, principal, owned, state)
	}
}

func requestedAt(t *testing.T, home string) time.Time {
	t.Helper()
	body, err := draincontrol.Read(home)
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, body["requested_at"].(string))
	if err != nil {
		t.Fatalf("requested_at of %v: %v", body, err)
	}
	return at
}

func markerBytes(t *testing.T, home string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, markerName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(data)
}

func TestLeaseRoundTrip(t *testing.T) {
	home := t.TempDir()
	lease := mustBegin(t, home, "migration")
	token := lease.Token()
	if !tokenForm.MatchString(token) {
		t.Fatalf("token %q is not 32 lower-case hex digits", token)
	}
	body, err := draincontrol.Read(home)
	if err != nil || body["owner_token"] != token || body["principal"] != "migration" || !draincontrol.Requested(home) {
		t.Fatalf("after Begin: marker %v (%v), Requested %v", body, err, draincontrol.Requested(home))
	}
	before := requestedAt(t, home)
	time.Sleep(5 * time.Millisecond)
	if err := lease.KeepAlive(); err != nil {
		t.Fatalf("KeepAlive: %v", err)
	}
	if after := requestedAt(t, home); !after.After(before) {
		t.Fatalf("KeepAlive left requested_at at %v (was %v)", after, before)
	}
	if body, _ := draincontrol.Read(home); body["owner_token"] != token || body["principal"] != "migration" {
		t.Fatalf("KeepAlive wrote %v", body)
	}

	// Another handle of the same lease, by its token, as another process would have it.
	resumed, err := draincontrol.Resume(home, token)
	if err != nil || resumed.Token() != token {
		t.Fatalf("Resume: %v, %v", resumed, err)
	}
	defer resumed.Close()
	if err := resumed.KeepAlive(); err != nil {
		t.Fatalf("KeepAlive of the resumed lease: %v", err)
	}
	if removed, err := resumed.Release(); !removed || err != nil {
		t.Fatalf("Release = %v, %v; want true, nil", removed, err)
	}
	if draincontrol.Requested(home) || markerBytes(t, home) != "" {
		t.Fatal("the marker outlived its release")
	}
	if removed, err := lease.Release(); removed || err != nil {
		t.Fatalf("a second Release = %v, %v; want false, nil", removed, err)
	}
}

func TestASecondBeginIsRefusedNamingTheHolder(t *testing.T) {
	home := t.TempDir()
	first := mustBegin(t, home, "operator-a")
	before := markerBytes(t, home)
	second, err := draincontrol.Begin(home, "operator-b", false)
	if second != nil {
		t.Fatal("a second lease was begun")
	}
	held := leaseFailure(t, err, "begin", draincontrol.StatusHeld)
	expectHolder(t, held.Holder, `"operator-a"`, true, draincontrol.StateActive)
	if want := requestedAt(t, home).Format("2006-01-02T15:04:05"); !strings.HasPrefix(held.Holder.RequestedAt, want) {
		t.Errorf("holder requested_at %q, the marker's begins %q", held.Holder.RequestedAt, want)
	}
	if held.Marker != filepath.Join(home, markerName) || !strings.Contains(held.Message, "a drain is already active") ||
		!strings.Contains(held.Message, `"operator-a"`) {
		t.Errorf("the error does not say whose drain: %+v", held)
	}
	if markerBytes(t, home) != before {
		t.Fatal("a refused begin touched the marker")
	}

	// A plain drain refuses a begin too, reported as not leased; a principal that is
	// not a string comes as its JSON.
	if _, err := first.Release(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, home, "dashboard", false)
	_, err = draincontrol.Begin(home, "operator-b", false)
	expectHolder(t, leaseFailure(t, err, "begin", draincontrol.StatusHeld).Holder, `"dashboard"`, false, draincontrol.StateActive)
	putMarker(t, home, `{"principal": {"team": "ops"}, "suppress_notification": true}`)
	_, err = draincontrol.Begin(home, "operator-b", false)
	holder := leaseFailure(t, err, "begin", draincontrol.StatusHeld).Holder
	var principal map[string]string
	if err := json.Unmarshal(holder.Principal, &principal); err != nil || principal["team"] != "ops" ||
		holder.RequestedAt != "" || holder.State != draincontrol.StateSuppressed {
		t.Fatalf("holder %+v (principal %s: %v)", holder, holder.Principal, err)
	}
}

func TestALeaseLostToAPlainWriteOrClearWritesAndRemovesNothing(t *testing.T) {
	home := t.TempDir()
	lease := mustBegin(t, home, "lease")
	mustWrite(t, home, "dashboard", false)
	before := markerBytes(t, home)
	lost := leaseFailure(t, lease.KeepAlive(), "keep_alive", draincontrol.StatusLost)
	expectHolder(t, lost.Holder, `"dashboard"`, false, draincontrol.StateActive)
	if removed, err := lease.Release(); removed || err != nil {
		t.Fatalf("Release of a lost lease = %v, %v; want false, nil", removed, err)
	}
	if markerBytes(t, home) != before {
		t.Fatal("a lost lease touched the plain writer's marker")
	}

	mustClear(t, home)
	if lost := leaseFailure(t, lease.KeepAlive(), "keep_alive", draincontrol.StatusLost); lost.Holder != nil {
		t.Fatalf("a removed marker has no holder, got %+v", lost.Holder)
	}
	if draincontrol.Requested(home) || markerBytes(t, home) != "" {
		t.Fatal("a lost lease re-created the marker a plain clear removed")
	}
}

func TestReleaseAfterAnotherLeaseReplacedAnExpiredDrainRemovesNothing(t *testing.T) {
	home := t.TempDir()
	old := mustBeginMaxAge(t, home, "old", 50*time.Millisecond)
	time.Sleep(80 * time.Millisecond)
	mustBeginMaxAge(t, home, "new", 50*time.Millisecond) // the old drain expired
	before := markerBytes(t, home)
	lost := leaseFailure(t, old.KeepAlive(), "keep_alive", draincontrol.StatusLost)
	if lost.Holder == nil || string(lost.Holder.Principal) != `"new"` || !lost.Holder.Owned {
		t.Fatalf("holder %+v; want the new lease", lost.Holder)
	}
	if removed, err := old.Release(); removed || err != nil {
		t.Fatalf("Release = %v, %v; want false, nil", removed, err)
	}
	if markerBytes(t, home) != before {
		t.Fatal("the old lease touched the new lease's marker")
	}
}

// expectNoChange checks that w reports nothing for d.
func expectNoChange(t *testing.T, w *draincontrol.Watcher, d time.Duration) {
	t.Helper()
	select {
	case change := <-w.Changes():
		t.Fatalf("within %v: %+v", d, change)
	case <-time.After(d):
	}
}

func TestHoldKeepsTheDrainAlivePastAShortMaxAgeAndReleasesWhenTheContextEnds(t *testing.T) {
	const maxAge = time.Second // held: a keep-alive every 250 ms
	home, control := t.TempDir(), t.TempDir()
	watch := func(home string) *draincontrol.Watcher {
		w, err := draincontrol.NewWatcherWithMaxAgeForTests(home, draincontrol.WatchOptions{FallbackInterval: eventDriven}, maxAge)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeWatcher(t, w) })
		return w
	}
	lease := mustBeginMaxAge(t, home, "held", maxAge)
	mustBeginMaxAge(t, control, "not held", maxAge)
	w, wControl := watch(home), watch(control)
	expectState(t, w, draincontrol.StateActive)
	expectState(t, wControl, draincontrol.StateActive)
	began := requestedAt(t, home)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := lease.Hold(ctx); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	if err := lease.Hold(ctx); err == nil {
		t.Fatal("a second Hold did not fail")
	}
	expectState(t, wControl, draincontrol.StateExpired) // what the held one escapes
	expectNoChange(t, w, 5*maxAge/2)
	if err := lease.Lost(); err != nil || !requestedAt(t, home).After(began) {
		t.Fatalf("held for %v: Lost %v, requested_at %v (began %v)", 5*maxAge/2, err, requestedAt(t, home), began)
	}
	select {
	case <-lease.Done():
		t.Fatal("Done before the context ended")
	default:
	}

	cancel()
	select {
	case <-lease.Done():
	case <-time.After(patience):
		t.Fatal("the held lease was not released when its context ended")
	}
	expectState(t, w, draincontrol.StateAbsent)
	if removed, err := lease.Release(); !removed || err != nil {
		t.Fatalf("Release after the context's = %v, %v; want that release's true, nil", removed, err)
	}
	if err := lease.Close(); err != nil || markerBytes(t, home) != "" {
		t.Fatalf("Close: %v; marker %q", err, markerBytes(t, home))
	}
}

func TestAHeldLeaseIsReleasedWhenItsCallerPanics(t *testing.T) {
	home := t.TempDir()
	var done <-chan struct{}
	func() {
		defer func() {
			if r := recover(); r != "the disruptive step failed" {
				t.Fatalf("recovered %v", r)
			}
		}()
		lease, err := draincontrol.Begin(home, "migration", false)
		if err != nil {
			t.Fatal(err)
		}
		defer lease.Close()
		if err := lease.Hold(context.Background()); err != nil {
			t.Fatal(err)
		}
		done = lease.Done()
		panic("the disruptive step failed")
	}()
	if draincontrol.Requested(home) || markerBytes(t, home) != "" {
		t.Fatal("the drain outlived its holder's panic")
	}
	select {
	case <-done:
	default:
		t.Fatal("Done is not closed after the release")
	}
}

func TestAHeldLeaseLostToAPlainWriteSaysSoAndIsNotReleased(t *testing.T) {
	home := t.TempDir()
	lease := mustBeginMaxAge(t, home, "held", 200*time.Millisecond) // keep-alive every 50 ms
	if err := lease.Hold(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, home, "dashboard", false)
	deadline := time.Now().Add(patience)
	for lease.Lost() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	lost := leaseFailure(t, lease.Lost(), "hold", draincontrol.StatusLost)
	expectHolder(t, lost.Holder, `"dashboard"`, false, draincontrol.StateActive)
	if err := lease.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if body, _ := draincontrol.Read(home); body["principal"] != "dashboard" {
		t.Fatalf("closing the lost lease touched the plain drain: %v", body)
	}
}

func TestAWaitingBeginTakesTheDrainOnceReleasedAndGivesUpAtItsBound(t *testing.T) {
	home := t.TempDir()
	first := mustBegin(t, home, "first")
	started := time.Now()
	_, err := draincontrol.BeginWait(context.Background(), home, "second", false, 300*time.Millisecond)
	leaseFailure(t, err, "begin", draincontrol.StatusHeld)
	if waited := time.Since(started); waited < 300*time.Millisecond || waited > patience {
		t.Fatalf("gave up after %v, want 300 ms", waited)
	}

	// A context that ends first: its error, and the refusal of the last attempt.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	started = time.Now()
	_, err = draincontrol.BeginWait(ctx, home, "second", false, -1)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, draincontrol.StatusHeld) {
		t.Fatalf("after the context ended: %v", err)
	}
	if waited := time.Since(started); waited < 300*time.Millisecond || waited > patience {
		t.Fatalf("gave up after %v, want 300 ms", waited)
	}

	// Taken once the holder releases: with a context that can end (waits in slices) and
	// one that cannot (one call into the library).
	for i, ctx := range []context.Context{context.Background(), context.Background()} {
		var cancel context.CancelFunc = func() {}
		if i == 0 {
			ctx, cancel = context.WithCancel(ctx)
		}
		holder := first
		time.AfterFunc(500*time.Millisecond, func() { holder.Release() })
		started := time.Now()
		second, err := draincontrol.BeginWait(ctx, home, "second", false, -1)
		cancel()
		if err != nil {
			t.Fatalf("waiting begin %d: %v", i, err)
		}
		if waited := time.Since(started); waited < 400*time.Millisecond {
			t.Fatalf("waiting begin %d took the drain after %v, before its release", i, waited)
		}
		if body, _ := draincontrol.Read(home); body["principal"] != "second" || body["owner_token"] != second.Token() {
			t.Fatalf("waiting begin %d: marker %v", i, body)
		}
		first = second
		t.Cleanup(func() { second.Close() })
	}
}

func TestABusyLockFailsAfterTheLibrarysWaitAndWritesNothing(t *testing.T) {
	t.Parallel() // the library waits 5 s
	home := t.TempDir()
	lock, err := os.OpenFile(filepath.Join(home, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	lease, err := draincontrol.Begin(home, "x", false)
	busy := leaseFailure(t, err, "begin", draincontrol.StatusBusy)
	if lease != nil || busy.Holder != nil || !strings.Contains(busy.Message, "busy") {
		t.Fatalf("busy: lease %v, %+v", lease, busy)
	}
	if waited := time.Since(started); waited < 4*time.Second {
		t.Fatalf("busy after %v; the library waits 5 s", waited)
	}
	if draincontrol.Requested(home) || markerBytes(t, home) != "" {
		t.Fatal("a busy begin wrote the marker")
	}
}

func TestALockFileThatCannotBeOpenedFailsAtStepLock(t *testing.T) {
	home := t.TempDir()
	marker, lockPath := filepath.Join(home, markerName), filepath.Join(home, lockName)
	lease := mustBegin(t, home, "x")
	if err := os.Remove(lockPath); err != nil { // the lock file Begin made
		t.Fatal(err)
	}
	if err := os.Mkdir(lockPath, 0o755); err != nil {
		t.Fatal(err)
	}
	before := markerBytes(t, home)
	for op, err := range map[string]error{
		"keep_alive": lease.KeepAlive(),
		"release":    func() error { _, err := lease.Release(); return err }(),
		"begin":      func() error { _, err := draincontrol.Begin(home, "y", false); return err }(),
	} {
		pathErr := markerFailure(t, err, op, marker, "lock", true)
		if pathErr.Path != lockPath || !errors.Is(err, syscall.EISDIR) {
			t.Errorf("%s: %#v; want the lock file and EISDIR", op, pathErr)
		}
	}
	if markerBytes(t, home) != before {
		t.Fatal("a failure to lock touched the marker")
	}
}

func TestTokensArgumentsAndClosedLeases(t *testing.T) {
	home := t.TempDir()
	for _, token := range []string{"NOT-A-TOKEN", "", strings.Repeat("A", 32), strings.Repeat("a", 31), strings.Repeat("a", 33)} {
		lease, err := draincontrol.Resume(home, token)
		if lease != nil {
			t.Fatalf("Resume(%q) gave a lease", token)
		}
		if resume := leaseFailure(t, err, "resume", draincontrol.StatusInvalidToken); resume.Marker != filepath.Join(home, markerName) {
			t.Errorf("Resume(%q): marker %q", token, resume.Marker)
		}
	}
	if _, err := draincontrol.Resume(home, "\x00"+strings.Repeat("a", 31)); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("a token with a NUL byte: %v", err)
	}
	if _, err := draincontrol.Begin(home, "a\x00b", false); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("a principal with a NUL byte: %v", err)
	}
	if _, err := draincontrol.Begin(home, "\xff", false); !errors.Is(err, draincontrol.StatusInvalidUTF8) {
		t.Errorf("a principal not UTF-8: %v", err)
	}

	// A well-formed token no marker carries is a lease already lost.
	stranger, err := draincontrol.Resume(home, strings.Repeat("0", 32))
	if err != nil {
		t.Fatal(err)
	}
	if lost := leaseFailure(t, stranger.KeepAlive(), "keep_alive", draincontrol.StatusLost); lost.Holder != nil {
		t.Errorf("no marker, yet a holder: %+v", lost.Holder)
	}
	stranger.Close()

	// Closing a lease not held leaves its drain, to be resumed by its token.
	lease := mustBegin(t, home, "cli")
	if err := lease.Close(); err != nil || !draincontrol.Requested(home) {
		t.Fatalf("Close of a lease not held: %v, Requested %v", err, draincontrol.Requested(home))
	}
	if err := lease.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	if err := lease.KeepAlive(); !errors.Is(err, draincontrol.ErrLeaseClosed) {
		t.Fatalf("KeepAlive after Close: %v", err)
	}
	if _, err := lease.Release(); !errors.Is(err, draincontrol.ErrLeaseClosed) {
		t.Fatalf("Release after Close: %v", err)
	}
	if err := lease.Hold(context.Background()); !errors.Is(err, draincontrol.ErrLeaseClosed) || lease.Lost() != nil {
		t.Fatalf("Hold after Close: %v", err)
	}
	resumed, err := draincontrol.Resume(home, lease.Token())
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	if removed, err := resumed.Release(); !removed || err != nil {
		t.Fatalf("Release of the resumed lease = %v, %v", removed, err)
	}
}
