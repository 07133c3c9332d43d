package draincontrol_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// The watcher against real files. Most watchers here re-read on a fallback interval
// of 30 s and every wait is at most a few seconds, so a pass proves the event-driven
// path (inotify, the expiry timer, the re-arm), not the safety-net re-read.

const (
	eventDriven = 30 * time.Second       // the fallback interval of the tests
	patience    = 5 * time.Second        // how long a change may take to arrive
	quiet       = 300 * time.Millisecond // how long "nothing happens" is watched for
)

func newTestWatcher(t *testing.T, home string, everyChange bool) *draincontrol.Watcher {
	t.Helper()
	w, err := draincontrol.NewWatcher(home, draincontrol.WatchOptions{
		FallbackInterval: eventDriven,
		EveryChange:      everyChange,
	})
	if err != nil {
		t.Fatalf("NewWatcher(%q): %v", home, err)
	}
	t.Cleanup(func() { closeWatcher(t, w) })
	return w
}

func closeWatcher(t *testing.T, w *draincontrol.Watcher) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// expectChange returns the next change, which must come within patience.
func expectChange(t *testing.T, w *draincontrol.Watcher) draincontrol.Change {
	t.Helper()
	select {
	case change, ok := <-w.Changes():
		if !ok {
			t.Fatalf("the channel closed (Err: %v)", w.Err())
		}
		return change
	case <-time.After(patience):
		t.Fatalf("no change within %v", patience)
	}
	panic("unreachable")
}

// expectState returns the next change, which must have this state.
func expectState(t *testing.T, w *draincontrol.Watcher, want draincontrol.State) draincontrol.Change {
	t.Helper()
	change := expectChange(t, w)
	if change.State != want {
		t.Fatalf("state %v, want %v (change %+v)", change.State, want, change)
	}
	return change
}

// expectQuiet checks that no change comes within quiet.
func expectQuiet(t *testing.T, w *draincontrol.Watcher) {
	t.Helper()
	select {
	case change, ok := <-w.Changes():
		if ok {
			t.Fatalf("unexpected change: %+v", change)
		}
		t.Fatalf("the channel closed (Err: %v)", w.Err())
	case <-time.After(quiet):
	}
}

func principalOf(change draincontrol.Change) any {
	return change.Body["principal"]
}

// expectWritten writes a marker by principal to home and expects w to report it:
// active, with that principal in the body.
func expectWritten(t *testing.T, w *draincontrol.Watcher, home, principal string) draincontrol.Change {
	t.Helper()
	mustWrite(t, home, principal, false)
	change := expectState(t, w, draincontrol.StateActive)
	if principalOf(change) != principal {
		t.Fatalf("after a write by %q: %+v", principal, change)
	}
	return change
}

func mustClear(t *testing.T, home string) {
	t.Helper()
	if _, err := draincontrol.Clear(home); err != nil {
		t.Fatalf("Clear(%q): %v", home, err)
	}
}

func TestWatcherReportsBeginAndCancel(t *testing.T) {
	home := t.TempDir()
	before := time.Now()
	w := newTestWatcher(t, home, false)

	first := expectState(t, w, draincontrol.StateAbsent)
	if !first.Initial || first.Body != nil || first.Verdict != (draincontrol.Verdict{}) || !first.ExpiresAt.IsZero() {
		t.Fatalf("initial change %+v: want initial, no body, the zero verdict, no expiry", first)
	}
	if first.At.Before(before.Truncate(time.Microsecond)) || first.At.After(time.Now()) {
		t.Fatalf("At %v is not the moment of the reading", first.At)
	}
	expectQuiet(t, w)

	begun := expectWritten(t, w, home, "dashboard")
	if begun.Initial || !begun.State.Draining() || principalOf(begun) != "dashboard" {
		t.Fatalf("begin: %+v", begun)
	}
	if begun.Verdict != (draincontrol.Verdict{Present: true, Active: true}) {
		t.Fatalf("begin verdict %+v", begun.Verdict)
	}
	// requested_at is a moment before At; the marker expires an hour (and 1 µs) on.
	if d := begun.ExpiresAt.Sub(begun.At); d > draincontrol.MaxAge+time.Microsecond || d < draincontrol.MaxAge-time.Minute {
		t.Fatalf("ExpiresAt is %v after At, want about %v", d, draincontrol.MaxAge)
	}

	mustClear(t, home)
	cancelled := expectState(t, w, draincontrol.StateAbsent)
	if cancelled.State.Draining() || cancelled.Body != nil || !cancelled.ExpiresAt.IsZero() {
		t.Fatalf("cancel: %+v", cancelled)
	}
	expectQuiet(t, w)

	// A suppressed drain, and a contentless marker written by hand.
	mustWrite(t, home, "dashboard", true)
	if c := expectState(t, w, draincontrol.StateSuppressed); !c.Verdict.Suppressed || !c.State.Draining() {
		t.Fatalf("suppressed: %+v", c)
	}
	putMarker(t, home, "")
	contentless := expectState(t, w, draincontrol.StateActive)
	if contentless.Body == nil || len(contentless.Body) != 0 || !contentless.ExpiresAt.IsZero() {
		t.Fatalf("contentless marker: %+v; want an empty body that never expires", contentless)
	}
}

func TestWatcherIgnoresKeepAliveRewriteUnlessEveryChange(t *testing.T) {
	home := t.TempDir()
	mustWrite(t, home, "dashboard", false)
	plain := newTestWatcher(t, home, false)
	every := newTestWatcher(t, home, true)
	expectState(t, plain, draincontrol.StateActive)
	first := expectState(t, every, draincontrol.StateActive)

	time.Sleep(2 * time.Millisecond) // a different requested_at
	mustWrite(t, home, "dashboard", false)
	expectQuiet(t, plain)
	again := expectState(t, every, draincontrol.StateActive)
	if again.Initial || !again.ExpiresAt.After(first.ExpiresAt) {
		t.Fatalf("keep-alive with EveryChange: %+v (first expiry %v)", again, first.ExpiresAt)
	}
	if again.Body["requested_at"] == first.Body["requested_at"] {
		t.Fatal("the keep-alive's body has the old requested_at")
	}

	// Anything else in the body is a change, even with the same verdict.
	expectWritten(t, plain, home, "someone-else")
	expectState(t, every, draincontrol.StateActive)
}

func TestWatcherReportsExpiryWithoutAFileEvent(t *testing.T) {
	home := t.TempDir()
	opts := draincontrol.WatchOptions{FallbackInterval: eventDriven}
	w, err := draincontrol.NewWatcherWithMaxAgeForTests(home, opts, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer closeWatcher(t, w)
	expectState(t, w, draincontrol.StateAbsent)

	written := time.Now()
	begun := expectWritten(t, w, home, "dashboard")
	if begun.ExpiresAt.IsZero() || begun.ExpiresAt.Sub(begun.At) > 300*time.Millisecond+time.Microsecond {
		t.Fatalf("expiry scheduled at %v for a change at %v", begun.ExpiresAt, begun.At)
	}
	expired := expectState(t, w, draincontrol.StateExpired)
	waited := time.Since(written)
	if !expired.Verdict.Expired || !expired.Verdict.Present || expired.Verdict.Active || expired.State.Draining() {
		t.Fatalf("expired: %+v", expired)
	}
	if expired.At.Before(begun.ExpiresAt) || !expired.ExpiresAt.IsZero() {
		t.Fatalf("expired at %v, before its expiry %v (or still scheduled: %v)", expired.At, begun.ExpiresAt, expired.ExpiresAt)
	}
	if waited < 290*time.Millisecond || waited > 3*time.Second {
		t.Fatalf("expired %v after the write; want 300 ms, by the timer (the fallback is 30 s)", waited)
	}
	if principalOf(expired) != "dashboard" {
		t.Fatalf("an expired marker keeps its body: %+v", expired.Body)
	}

	// A keep-alive revives it, and it expires again.
	mustWrite(t, home, "dashboard", false)
	expectState(t, w, draincontrol.StateActive)
	expectState(t, w, draincontrol.StateExpired)
}

func TestWatcherPicksUpHomeCreatedLate(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "not", "yet", "home")
	w := newTestWatcher(t, home, false)
	expectState(t, w, draincontrol.StateAbsent)

	// One level at a time, with pauses, so that the watch climbs down.
	for _, dir := range []string{filepath.Join(base, "not"), filepath.Join(base, "not", "yet"), home} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	expectQuiet(t, w)
	expectWritten(t, w, home, "dashboard")

	// A home created together with its marker by one write.
	other := filepath.Join(base, "a", "b")
	together := newTestWatcher(t, other, false)
	expectState(t, together, draincontrol.StateAbsent)
	expectWritten(t, together, other, "together")
}

func TestWatcherRearmsWhenHomeDeletedAndRecreated(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	mustWrite(t, home, "dashboard", false)
	w := newTestWatcher(t, home, false)
	expectState(t, w, draincontrol.StateActive)

	if err := os.RemoveAll(home); err != nil {
		t.Fatal(err)
	}
	expectState(t, w, draincontrol.StateAbsent)
	expectWritten(t, w, home, "again") // recreates the folder

	// Replaced by a rename: the new folder must be the one watched.
	staged := filepath.Join(base, "staged")
	mustWrite(t, staged, "renamed-in", true)
	if err := os.Rename(home, filepath.Join(base, "old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(staged, home); err != nil {
		t.Fatal(err)
	}
	last := expectChange(t, w)
	for last.State == draincontrol.StateAbsent || last.State == draincontrol.StateActive {
		last = expectChange(t, w) // an absent moment may be seen
	}
	if last.State != draincontrol.StateSuppressed || principalOf(last) != "renamed-in" {
		t.Fatalf("renamed in: %+v", last)
	}
	mustClear(t, home)
	expectState(t, w, draincontrol.StateAbsent)
}

func TestWatcherBurstEndsOnTheFinalState(t *testing.T) {
	home := t.TempDir()
	w := newTestWatcher(t, home, false)
	expectState(t, w, draincontrol.StateAbsent)
	for round := 0; round < 200; round++ {
		principal := "writer-" + string(rune('a'+round%26))
		switch round % 3 {
		case 0:
			mustWrite(t, home, principal, false)
		case 1:
			mustWrite(t, home, principal, true)
		default:
			mustClear(t, home)
		}
	}
	mustWrite(t, home, "final", true)
	var last *draincontrol.Change
	count := 0
	for {
		select {
		case change, ok := <-w.Changes():
			if !ok {
				t.Fatalf("the channel closed (Err: %v)", w.Err())
			}
			count++
			last = &change
			continue
		case <-time.After(quiet):
		}
		break
	}
	if last == nil || last.State != draincontrol.StateSuppressed || principalOf(*last) != "final" {
		t.Fatalf("after the burst: %+v; want suppressed by \"final\"", last)
	}
	if count > 202 {
		t.Fatalf("%d reports for 201 changes", count)
	}
}

func TestWatcherCloseWhileWaiting(t *testing.T) {
	home := t.TempDir()
	w, err := draincontrol.NewWatcher(home, draincontrol.WatchOptions{FallbackInterval: eventDriven})
	if err != nil {
		t.Fatal(err)
	}
	expectState(t, w, draincontrol.StateAbsent)

	// Another goroutine ranges over the changes, blocked: nothing happens in the home.
	received := make(chan []draincontrol.State)
	go func() {
		var states []draincontrol.State
		for change := range w.Changes() {
			states = append(states, change.State)
		}
		received <- states
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Close took %v", took)
	}
	select {
	case states := <-received:
		if len(states) != 0 {
			t.Fatalf("received %v while nothing happened", states)
		}
	case <-time.After(patience):
		t.Fatal("the range over Changes did not end after Close")
	}
	// Closed for good: the channel stays closed, even with a change in the home, and
	// closing again (also concurrently) is harmless.
	mustWrite(t, home, "dashboard", false)
	if _, ok := <-w.Changes(); ok {
		t.Fatal("a change after Close")
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Close(); err != nil {
				t.Errorf("Close again: %v", err)
			}
		}()
	}
	wg.Wait()
	if w.Err() != nil {
		t.Fatalf("Err after Close: %v", w.Err())
	}
}

func TestWatcherCloseWithAChangeUntaken(t *testing.T) {
	home := t.TempDir()
	mustWrite(t, home, "dashboard", false)
	w, err := draincontrol.NewWatcher(home, draincontrol.WatchOptions{FallbackInterval: eventDriven})
	if err != nil {
		t.Fatal(err)
	}
	// Nobody receives the initial change: the goroutine waits to send it, and Close
	// must still end it promptly.
	time.Sleep(50 * time.Millisecond)
	done := make(chan error)
	go func() { done <- w.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Close hung with a change nobody took")
	}
}

func TestWatcherOfTheDefaultHomeResolvesItOnce(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HERMES_HOME", " "+home+"\n") // whitespace is stripped
	w := newTestWatcher(t, "", false)
	os.Unsetenv("HERMES_HOME") // resolved when made: the watch does not move
	expectState(t, w, draincontrol.StateAbsent)
	expectWritten(t, w, home, "via-env")
}

func TestWatcherJudgesAForeignEpochStale(t *testing.T) {
	home := t.TempDir()
	w := newTestWatcher(t, home, false)
	expectState(t, w, draincontrol.StateAbsent)
	// Put in place by a rename, as a writer from another instantiation would. (A
	// plain write could first be seen as the empty file it creates: contentless.)
	marker := []byte(`{"action": "drain", "epoch": "another-boot:1"}`)
	staged := filepath.Join(home, "staged.tmp")
	if err := os.WriteFile(staged, marker, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(staged, filepath.Join(home, markerName)); err != nil {
		t.Fatal(err)
	}
	want := draincontrol.StateEpochStale
	if draincontrol.Epoch() == "" {
		want = draincontrol.StateActive // an empty epoch disables the check
	}
	if c := expectState(t, w, want); c.State.Draining() != (want == draincontrol.StateActive) {
		t.Fatalf("foreign epoch: %+v", c)
	}
}

func TestNewWatcherRejectsBadArguments(t *testing.T) {
	_, err := draincontrol.NewWatcher("a\x00b", draincontrol.WatchOptions{})
	if !errors.Is(err, draincontrol.ErrNUL) {
		t.Fatalf("a home with NUL: %v, want ErrNUL", err)
	}
	_, err = draincontrol.NewWatcher(t.TempDir(), draincontrol.WatchOptions{FallbackInterval: -time.Second})
	if err == nil || !strings.Contains(err.Error(), "negative FallbackInterval") {
		t.Fatalf("a negative interval: %v", err)
	}
}

func TestWatcherFallbackIntervalCatchesWhatNoEventAnnounces(t *testing.T) {
	// The marker is a symbolic link into another folder: a write there makes no
	// event in the home, so only the fallback re-read (here 50 ms) sees it.
	base := t.TempDir()
	home, elsewhere := filepath.Join(base, "home"), filepath.Join(base, "elsewhere")
	for _, dir := range []string{home, elsewhere} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(elsewhere, "target.json"), filepath.Join(home, markerName)); err != nil {
		t.Fatal(err)
	}
	w, err := draincontrol.NewWatcher(home, draincontrol.WatchOptions{FallbackInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer closeWatcher(t, w)
	expectState(t, w, draincontrol.StateAbsent) // a dangling link reads as absent
	if err := os.WriteFile(filepath.Join(elsewhere, "target.json"), []byte(`{"principal": "linked"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := expectState(t, w, draincontrol.StateActive); principalOf(c) != "linked" {
		t.Fatalf("through the link: %+v", c)
	}
}

func TestStateNamesAreTheContractNames(t *testing.T) {
	want := map[draincontrol.State]string{
		draincontrol.StateAbsent:     "absent",
		draincontrol.StateActive:     "active",
		draincontrol.StateSuppressed: "suppressed",
		draincontrol.StateEpochStale: "epoch-stale",
		draincontrol.StateExpired:    "expired",
	}
	for state, name := range want {
		if uint32(state) > 4 || state.String() != name {
			t.Errorf("State(%d) = %q, want %q", uint32(state), state.String(), name)
		}
		if state.Draining() != (state == draincontrol.StateActive || state == draincontrol.StateSuppressed) {
			t.Errorf("%v.Draining() = %v", state, state.Draining())
		}
	}
	if got := draincontrol.State(5).String(); got != "unknown state" {
		t.Errorf("State(5) = %q", got)
	}
}
