package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

func runSidecar(ctx context.Context, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	status := run(ctx, args, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

func TestBadArgumentsExitTwoWithAMessage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"two homes":          {"a", "b"},
		"empty home":         {""},
		"home is a file":     {file},
		"unknown flag":       {"-frequency", "1s"},
		"zero interval":      {"-interval", "0s", t.TempDir()},
		"malformed interval": {"-interval", "soon"},
	}
	for what, args := range cases {
		status, stdout, stderr := runSidecar(context.Background(), args...)
		if status != 2 || stdout != "" || !strings.Contains(stderr, "usage:") {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want 2, nothing, a message and the usage", what, status, stdout, stderr)
		}
	}
}

func TestOnceReportsTheStateOfTheHome(t *testing.T) {
	home := t.TempDir()
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z state=(\S+) marker="([^"]+)"(.*)\n$`)
	status, stdout, _ := runSidecar(context.Background(), "-once", home)
	m := line.FindStringSubmatch(stdout)
	if status != 0 || m == nil || m[1] != "idle" || m[2] != filepath.Join(home, ".drain_request.json") {
		t.Fatalf("no marker: status %d, output %q", status, stdout)
	}
	if err := draincontrol.Write(home, "dashboard", true); err != nil {
		t.Fatal(err)
	}
	status, stdout, _ = runSidecar(context.Background(), "-once", home)
	m = line.FindStringSubmatch(stdout)
	if status != 0 || m == nil || m[1] != "draining-quiet" || !strings.HasPrefix(m[3], ` principal="dashboard" requested_at="`) {
		t.Fatalf("suppressed drain: status %d, output %q", status, stdout)
	}
}

func TestStopsCleanlyWhenInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	status, stdout, stderr := runSidecar(ctx, "-interval", "100ms", t.TempDir())
	if status != 0 || strings.Count(stdout, "state=idle") < 2 || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}

// syncBuffer is a bytes.Buffer safe to write from run's goroutine while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the output holds n lines with state=<state>.
func waitFor(t *testing.T, out *syncBuffer, state string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "state="+state+" ") < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d lines with state=%s within 5 s; output %q", n, state, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWatchReportsEachChangeAsItHappens(t *testing.T) {
	home := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	status := make(chan int)
	go func() { status <- run(ctx, []string{"-watch", home}, &stdout, &stderr) }()

	waitFor(t, &stdout, "idle", 1) // the state at the start
	begun := time.Now()
	if err := draincontrol.Write(home, "dashboard", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &stdout, "draining", 1)
	if took := time.Since(begun); took > 900*time.Millisecond {
		t.Errorf("the drain was reported after %v: not by the watcher's events", took)
	}
	if _, err := draincontrol.Clear(home); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &stdout, "idle", 2)
	cancel()
	if got := <-status; got != 0 || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("status %d, stderr %q", got, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], `principal="dashboard" requested_at="`) {
		t.Fatalf("want three lines (idle, draining by dashboard, idle), got %q", lines)
	}
}

func TestStateNamesFollowTheVerdict(t *testing.T) {
	cases := map[draincontrol.Verdict]string{
		{}:                            "idle",
		{Present: true, Active: true}: "draining",
		{Present: true, Active: true, Suppressed: true}: "draining-quiet",
		{Present: true, EpochStale: true}:               "ignored-stale-epoch",
		{Present: true, Expired: true}:                  "ignored-expired",
	}
	for verdict, want := range cases {
		if got := state(verdict); got != want {
			t.Errorf("state(%+v) = %q, want %q", verdict, got, want)
		}
	}
}
