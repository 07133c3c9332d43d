package draincontrol_test

import (
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

func TestVersionMatchesCargoToml(t *testing.T) {
	data, err := os.ReadFile("../Cargo.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The first `version` of the [package] table, which opens the file.
	m := regexp.MustCompile(`(?m)^\[package\][^\[]*?^version\s*=\s*"([^"]+)"`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no [package] version in Cargo.toml")
	}
	if got := draincontrol.Version(); got != string(m[1]) {
		t.Fatalf("Version() = %q, Cargo.toml says %q", got, m[1])
	}
}

// epochFromProc computes the Linux epoch independently of the library: boot_id
// stripped, then field 22 of /proc/1/stat (split on the last ")", index 19 of the rest).
func epochFromProc(t *testing.T) string {
	t.Helper()
	bootID, errBoot := os.ReadFile("/proc/sys/kernel/random/boot_id")
	stat, errStat := os.ReadFile("/proc/1/stat")
	id := strings.TrimSpace(string(bootID))
	start := ""
	if i := strings.LastIndexByte(string(stat), ')'); errStat == nil && i >= 0 {
		if fields := strings.Fields(string(stat)[i+1:]); len(fields) > 19 {
			start = fields[19]
		}
	}
	if errBoot != nil && errStat != nil {
		t.Skipf("no /proc here (%v); the epoch comes from elsewhere", errBoot)
	}
	if id == "" && start == "" {
		return ""
	}
	return id + ":" + start
}

func TestEpochIsBootIDAndPID1StartTime(t *testing.T) {
	want := epochFromProc(t)
	if got := draincontrol.Epoch(); got != want {
		t.Fatalf("Epoch() = %q, computed from /proc: %q", got, want)
	}
	if draincontrol.Epoch() != want {
		t.Fatal("Epoch() is not constant")
	}
}

func TestMaxAgeIsOneHour(t *testing.T) {
	if draincontrol.MaxAge != time.Hour {
		t.Fatalf("MaxAge = %v, want 1h", draincontrol.MaxAge)
	}
}

func TestStatusMessagesAreDistinctAndStatic(t *testing.T) {
	known := []draincontrol.Status{
		draincontrol.StatusOK, draincontrol.StatusNullArgument, draincontrol.StatusInvalidUTF8,
		draincontrol.StatusBufferTooSmall, draincontrol.StatusIOError, draincontrol.StatusPanic,
		draincontrol.StatusInvalidArgument, draincontrol.StatusTimedOut, draincontrol.StatusStopped,
		draincontrol.StatusInvalidPayload, draincontrol.StatusHeld, draincontrol.StatusLost, draincontrol.StatusBusy,
		draincontrol.StatusInvalidToken,
	}
	seen := map[string]draincontrol.Status{}
	for i, s := range known {
		if uint32(s) != uint32(i) {
			t.Errorf("status %v has value %d, the ABI fixes %d", s, uint32(s), i)
		}
		msg := s.Error()
		if msg == "" {
			t.Errorf("status %d has no message", uint32(s))
		}
		if other, dup := seen[msg]; dup {
			t.Errorf("statuses %d and %d share the message %q", uint32(other), uint32(s), msg)
		}
		seen[msg] = s
		if s.String() != msg || s.Error() != msg {
			t.Errorf("status %d: message is not stable", uint32(s))
		}
	}
	unknown := draincontrol.Status(4_000_000_000).Error()
	if unknown == "" {
		t.Error("an unknown status must still have a message")
	}
	if _, dup := seen[unknown]; dup {
		t.Errorf("an unknown status reads like a known one: %q", unknown)
	}
}

func TestStatusErrorUnwrapsToItsStatus(t *testing.T) {
	err := error(&draincontrol.StatusError{Op: "write", Status: draincontrol.StatusPanic, Message: "m"})
	if !errors.Is(err, draincontrol.StatusPanic) || errors.Is(err, draincontrol.StatusInvalidUTF8) {
		t.Fatal("errors.Is must match exactly the carried status")
	}
	if got := err.Error(); got != "draincontrol: write: m (status 5)" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestMarkerErrorSaysItAllAndUnwrapsToWhatFailed(t *testing.T) {
	pathErr := &fs.PathError{Op: "create_temp", Path: "/h/..drain_request_0.tmp", Err: syscall.EACCES}
	err := error(&draincontrol.MarkerError{
		Op: "write", Marker: "/h/.drain_request.json", Step: "create_temp", MarkerUntouched: true,
		Message: `drain marker "/h/.drain_request.json": creating a temporary file "/h/..drain_request_0.tmp": Permission denied (os error 13)`,
		Err:     pathErr,
	})
	want := `draincontrol: write: drain marker "/h/.drain_request.json": creating a temporary file "/h/..drain_request_0.tmp": Permission denied (os error 13)`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	var got *fs.PathError
	if !errors.As(err, &got) || got != pathErr || !errors.Is(err, fs.ErrPermission) || !errors.Is(err, syscall.EACCES) {
		t.Errorf("%v does not unwrap to its *fs.PathError and errno", err)
	}
	refused := error(&draincontrol.MarkerError{Op: "write", Step: "check_payload", Err: draincontrol.StatusInvalidPayload})
	if !errors.Is(refused, draincontrol.StatusInvalidPayload) || errors.As(refused, &got) {
		t.Errorf("a refused payload must match StatusInvalidPayload and no *fs.PathError")
	}
}
