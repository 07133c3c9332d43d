package draincontrol_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// What a failed write or clear reports (the step, the path, the errno), and the
// arguments refused before anything is touched (a NUL byte, a principal not UTF-8 or
// too long).

// markerFailure checks that err is a *MarkerError for op on marker, failed at step,
// and returns the *fs.PathError it wraps.
func markerFailure(t *testing.T, err error, op, marker, step string, untouched bool) *fs.PathError {
	t.Helper()
	var markerErr *draincontrol.MarkerError
	if !errors.As(err, &markerErr) {
		t.Fatalf("%s: got %T %v, want a *draincontrol.MarkerError", op, err, err)
	}
	if markerErr.Op != op || markerErr.Marker != marker || markerErr.Step != step || markerErr.MarkerUntouched != untouched {
		t.Fatalf("%s: got %+v; want Op %q, Marker %q, Step %q, MarkerUntouched %v", op, markerErr, op, marker, step, untouched)
	}
	wantMessage := fmt.Sprintf("draincontrol: %s: drain marker %q: ", op, marker)
	if !strings.HasPrefix(err.Error(), wantMessage) {
		t.Errorf("%s: the message %q does not begin with %q", op, err.Error(), wantMessage)
	}
	var pathErr *fs.PathError
	if !errors.As(err, &pathErr) {
		t.Fatalf("%s: %v does not wrap an *fs.PathError", op, err)
	}
	var errno syscall.Errno
	if pathErr.Op != step || !errors.As(err, &errno) || errno == 0 || pathErr.Err != errno {
		t.Fatalf("%s: got PathError{Op: %q, Path: %q, Err: %#v}; want Op %q and an errno", op, pathErr.Op, pathErr.Path, pathErr.Err, step)
	}
	if pathErr.Path != marker && !strings.Contains(err.Error(), fmt.Sprintf("%q", pathErr.Path)) {
		t.Errorf("%s: the message does not name the path acted on, %q: %v", op, pathErr.Path, err)
	}
	return pathErr
}

func TestHomeThatIsARegularFileFailsNamingTheStepAndThePath(t *testing.T) {
	home := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(home, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(home, markerName)
	// Write: the home folder cannot be made, and the path acted on is the home.
	pathErr := markerFailure(t, draincontrol.Write(home, "dashboard", false), "write", marker, "create_home", true)
	if pathErr.Path != home || (pathErr.Err != syscall.EEXIST && pathErr.Err != syscall.ENOTDIR) {
		t.Errorf("write: PathError %q %v; want the home and EEXIST or ENOTDIR", pathErr.Path, pathErr.Err)
	}
	// Clear: the marker cannot be removed.
	existed, err := draincontrol.Clear(home)
	pathErr = markerFailure(t, err, "clear", marker, "remove", true)
	if existed || pathErr.Path != marker || pathErr.Err != syscall.ENOTDIR {
		t.Errorf("clear: %v, PathError %q %v; want false, the marker and ENOTDIR", existed, pathErr.Path, pathErr.Err)
	}
	if data, _ := os.ReadFile(home); string(data) != "x" {
		t.Fatal("the file standing in for the home was changed")
	}
}

func TestAFailedWriteNamesTheTemporaryFileItCouldNotCreate(t *testing.T) {
	// /proc/self exists and refuses new files, to root too.
	err := draincontrol.Write("/proc/self", "dashboard", false)
	pathErr := markerFailure(t, err, "write", "/proc/self/"+markerName, "create_temp", true)
	name := filepath.Base(pathErr.Path)
	if filepath.Dir(pathErr.Path) != "/proc/self" || !strings.HasPrefix(name, "..drain_request_") || !strings.HasSuffix(name, ".tmp") {
		t.Errorf("the path acted on is %q, want a temporary file beside the marker", pathErr.Path)
	}
	if !strings.Contains(err.Error(), "creating a temporary file") {
		t.Errorf("the message does not say what failed: %v", err)
	}
}

func TestAMarkerFolderInTheWayFailsTheRenameAndLeavesNoTemporaryFile(t *testing.T) {
	home := t.TempDir()
	marker := filepath.Join(home, markerName)
	if err := os.Mkdir(marker, 0o755); err != nil {
		t.Fatal(err)
	}
	pathErr := markerFailure(t, draincontrol.Write(home, "dashboard", false), "write", marker, "rename", true)
	if pathErr.Path != marker {
		t.Errorf("rename: the path acted on is %q, want the marker", pathErr.Path)
	}
	_, err := draincontrol.Clear(home)
	markerFailure(t, err, "clear", marker, "remove", true)
	if entries, _ := os.ReadDir(home); len(entries) != 1 {
		t.Fatalf("the failed write left files behind: %v", entries)
	}
}

func TestAPrincipalTooLongToReadBackIsRefusedBeforeTouchingTheDisk(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	principal := strings.Repeat("p", 2<<20)
	err := draincontrol.Write(home, principal, false)
	var markerErr *draincontrol.MarkerError
	if !errors.Is(err, draincontrol.StatusInvalidPayload) || !errors.As(err, &markerErr) {
		t.Fatalf("Write of a 2 MiB principal = %#v; want a *MarkerError carrying StatusInvalidPayload", err)
	}
	if markerErr.Op != "write" || markerErr.Step != "check_payload" || !markerErr.MarkerUntouched ||
		markerErr.Marker != filepath.Join(home, markerName) {
		t.Errorf("got %+v", markerErr)
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		t.Errorf("a refused payload is no I/O failure, yet wraps %v", pathErr)
	}
	for _, want := range []string{"principal", "1048576"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the message does not name %q: %v", want, err)
		}
	}
	if _, err := os.Stat(home); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused payload touched the disk: the home exists (%v)", err)
	}

	// An old marker stays byte for byte, and nothing else appears.
	mustWrite(t, home, "before", false)
	old := readMarkerFile(t, home)
	if err := draincontrol.Write(home, principal, true); !errors.Is(err, draincontrol.StatusInvalidPayload) {
		t.Fatalf("second refusal: %v", err)
	}
	if now := readMarkerFile(t, home); string(now) != string(old) {
		t.Fatal("a refused payload changed the old marker")
	}
	if entries, _ := os.ReadDir(home); len(entries) != 1 {
		t.Fatalf("a refused payload left files behind: %v", entries)
	}

	// Just under the limit is written, and reads back as written.
	fits := strings.Repeat("p", 1<<20-200)
	mustWrite(t, home, fits, false)
	if body, err := draincontrol.Read(home); err != nil || body["principal"] != fits {
		t.Fatalf("a principal that fits did not read back: %v", err)
	}
}

func TestUnwritableHomeFailsWithPermissionErrorAndKeepsTheOldMarker(t *testing.T) {
	home := t.TempDir()
	mustWrite(t, home, "before", false)
	old := readMarkerFile(t, home)
	if err := os.Chmod(home, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(home, 0o755) })
	if probe, err := os.CreateTemp(home, "probe"); err == nil {
		probe.Close()
		os.Remove(probe.Name())
		t.Skipf("permissions are not enforced for uid %d (root or CAP_DAC_OVERRIDE bypasses them); "+
			"run the tests as a non-root user to cover this rule (scripts/test-go re-runs this test as nobody)", os.Geteuid())
	}
	marker := filepath.Join(home, markerName)
	err := draincontrol.Write(home, "after", false)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Write into an unwritable home: %v; want errors.Is(err, fs.ErrPermission)", err)
	}
	pathErr := markerFailure(t, err, "write", marker, "create_temp", true)
	if filepath.Dir(pathErr.Path) != home || !strings.HasPrefix(filepath.Base(pathErr.Path), "..drain_request_") ||
		pathErr.Err != syscall.EACCES {
		t.Fatalf("Write into an unwritable home: PathError %q %v; want a temporary file of the home and EACCES", pathErr.Path, pathErr.Err)
	}
	if now := readMarkerFile(t, home); string(now) != string(old) {
		t.Fatalf("a failed write changed the old marker:\n%s", now)
	}
	existed, err := draincontrol.Clear(home)
	if existed || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Clear in an unwritable home = %v, %v; want false and a permission error", existed, err)
	}
	if pathErr := markerFailure(t, err, "clear", marker, "remove", true); pathErr.Path != marker {
		t.Fatalf("Clear: the path acted on is %q, want the marker", pathErr.Path)
	}
	if !draincontrol.Requested(home) {
		t.Fatal("the marker must still be there and active")
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Fatalf("the failed write left files behind: %v", entries)
	}
}

func TestNULByteIsRejectedNeverTruncated(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "h")
	nulHome := dir + "\x00/elsewhere" // truncated, this would be dir itself

	if err := draincontrol.Write(home, "dash\x00board", false); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("principal with NUL: Write = %v, want ErrNUL", err)
	}
	if _, err := os.Stat(home); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a principal with NUL must write nothing, not even the home: %v", err)
	}
	if err := draincontrol.Write(nulHome, "dashboard", false); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("home with NUL: Write = %v, want ErrNUL", err)
	}
	if _, err := os.Stat(filepath.Join(dir, markerName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a home with a NUL byte was truncated and written to")
	}
	mustWrite(t, dir, "dashboard", false) // now the truncated home has a marker
	if draincontrol.Requested(nulHome) || draincontrol.NotificationSuppressed(nulHome) {
		t.Error("home with NUL: Requested/NotificationSuppressed must be false")
	}
	if _, err := draincontrol.Clear(nulHome); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("home with NUL: Clear = %v, want ErrNUL", err)
	}
	if _, err := draincontrol.Read(nulHome); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("home with NUL: Read = %v, want ErrNUL", err)
	}
	if _, err := draincontrol.Inspect(nulHome); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("home with NUL: Inspect = %v, want ErrNUL", err)
	}
	if got := draincontrol.MarkerPath(nulHome); got != "" {
		t.Errorf("home with NUL: MarkerPath = %q, want \"\"", got)
	}
	if _, err := draincontrol.Classify([]byte("{}"), "boot\x00:1", time.Now()); !errors.Is(err, draincontrol.ErrNUL) {
		t.Errorf("epoch with NUL: Classify = %v, want ErrNUL", err)
	}
	if _, err := draincontrol.Classify([]byte("{}"), "boot\xff:1", time.Now()); !errors.Is(err, draincontrol.StatusInvalidUTF8) {
		t.Errorf("epoch not UTF-8: Classify = %v, want StatusInvalidUTF8", err)
	}
	if !draincontrol.Requested(dir) {
		t.Fatal("the marker of the truncated home must be untouched")
	}
}

func TestPrincipalThatIsNotUTF8WritesNothing(t *testing.T) {
	home := t.TempDir()
	err := draincontrol.Write(home, "dash\xffboard", false)
	var statusErr *draincontrol.StatusError
	if !errors.As(err, &statusErr) || statusErr.Status != draincontrol.StatusInvalidUTF8 ||
		!errors.Is(err, draincontrol.StatusInvalidUTF8) || statusErr.Op != "write" {
		t.Fatalf("Write with a non-UTF-8 principal = %#v (%v); want *StatusError with StatusInvalidUTF8", err, err)
	}
	if statusErr.Message == "" || !strings.Contains(err.Error(), statusErr.Message) {
		t.Errorf("the error must carry drain_status_message: %q", err.Error())
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Fatalf("a non-UTF-8 principal wrote something: %v", entries)
	}
}
