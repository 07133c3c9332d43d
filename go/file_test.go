package draincontrol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

const markerName = ".drain_request.json"

// markerLayout is Python's json.dump(payload, indent=2, ensure_ascii=False): this key
// order, two spaces, `": "`, no trailing newline.
var markerLayout = regexp.MustCompile(`\A\{
  "action": "drain",
  "requested_at": "([^"]*)",
  "principal": (".*"),
  "epoch": "([^"]*)",
  "suppress_notification": (true|false)
\}\z`)

// isoformatUTC is datetime.isoformat() of an aware UTC time: microseconds as six
// digits, left out when zero, offset +00:00.
var isoformatUTC = regexp.MustCompile(`\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00\z`)

func readMarkerFile(t *testing.T, home string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, markerName))
	if err != nil {
		t.Fatalf("reading the marker file: %v", err)
	}
	return data
}

func mustWrite(t *testing.T, home, principal string, suppress bool) {
	t.Helper()
	if err := draincontrol.Write(home, principal, suppress); err != nil {
		t.Fatalf("Write(%q, %q, %v): %v", home, principal, suppress, err)
	}
}

func TestWrittenMarkerIsActiveUntilCleared(t *testing.T) {
	home := filepath.Join(t.TempDir(), "missing", "parents")
	if draincontrol.Requested(home) {
		t.Fatal("Requested before any write")
	}
	mustWrite(t, home, "dashboard", false) // creates the home and its parents
	if !draincontrol.Requested(home) {
		t.Fatal("Requested is false right after Write")
	}
	if draincontrol.NotificationSuppressed(home) {
		t.Fatal("NotificationSuppressed without suppress_notification")
	}
	verdict, err := draincontrol.Inspect(home)
	if err != nil || verdict != (draincontrol.Verdict{Present: true, Active: true}) {
		t.Fatalf("Inspect = %+v, %v; want present and active only", verdict, err)
	}
	existed, err := draincontrol.Clear(home)
	if err != nil || !existed {
		t.Fatalf("first Clear = %v, %v; want true, nil", existed, err)
	}
	if draincontrol.Requested(home) {
		t.Fatal("Requested after Clear")
	}
	existed, err = draincontrol.Clear(home)
	if err != nil || existed {
		t.Fatalf("second Clear = %v, %v; want false, nil (clearing is idempotent)", existed, err)
	}
	if body, err := draincontrol.Read(home); err != nil || body != nil {
		t.Fatalf("Read after Clear = %v, %v; want nil, nil", body, err)
	}
	verdict, err = draincontrol.Inspect(home)
	if err != nil || verdict != (draincontrol.Verdict{}) {
		t.Fatalf("Inspect after Clear = %+v, %v; want the zero verdict", verdict, err)
	}
}

func TestMarkerFileIsPythonJSONDumpWithIsoformatTimestamp(t *testing.T) {
	home := t.TempDir()
	principal := `dash "böard" ✓`
	before := time.Now().UTC().Truncate(time.Microsecond)
	mustWrite(t, home, principal, false)
	after := time.Now().UTC()

	data := readMarkerFile(t, home)
	m := markerLayout.FindSubmatch(data)
	if m == nil {
		t.Fatalf("marker file does not have the contract's layout:\n%s", data)
	}
	requestedAt, epoch := string(m[1]), string(m[3])
	var gotPrincipal string
	if err := json.Unmarshal(m[2], &gotPrincipal); err != nil || gotPrincipal != principal {
		t.Fatalf("principal field %s = %q, %v; want %q", m[2], gotPrincipal, err, principal)
	}
	if !strings.Contains(string(data), `"dash \"böard\" ✓"`) {
		t.Errorf("non-ASCII must be written as UTF-8, not \\u escapes:\n%s", data)
	}
	if epoch != draincontrol.Epoch() {
		t.Errorf("marker epoch %q, want this instantiation's %q", epoch, draincontrol.Epoch())
	}
	if string(m[4]) != "false" {
		t.Errorf("suppress_notification = %s, want false", m[4])
	}
	if !isoformatUTC.MatchString(requestedAt) || strings.HasSuffix(requestedAt, ".000000+00:00") {
		t.Fatalf("requested_at %q is not isoformat() of an aware UTC time", requestedAt)
	}
	stamp, err := time.Parse("2006-01-02T15:04:05.999999-07:00", requestedAt)
	if err != nil {
		t.Fatalf("requested_at %q: %v", requestedAt, err)
	}
	if stamp.Before(before) || stamp.After(after) {
		t.Errorf("requested_at %s is not the write's UTC wall clock (between %s and %s)", stamp, before, after)
	}

	body, err := draincontrol.Read(home)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := map[string]any{
		"action": "drain", "requested_at": requestedAt, "principal": principal,
		"epoch": epoch, "suppress_notification": false,
	}
	if !jsonEqual(any(body), any(want)) {
		t.Errorf("Read = %v, want %v", body, want)
	}
}

func TestRewritingTheMarkerRefreshesRequestedAt(t *testing.T) {
	home := t.TempDir()
	mustWrite(t, home, "dashboard", false)
	first, _ := draincontrol.Read(home)
	time.Sleep(2 * time.Millisecond)
	mustWrite(t, home, "dashboard", false)
	second, _ := draincontrol.Read(home)
	if first["requested_at"] == second["requested_at"] {
		t.Fatalf("keep-alive did not refresh requested_at: %v", second["requested_at"])
	}
}

func TestSuppressNotificationIsHonouredOnlyWhileActive(t *testing.T) {
	home := t.TempDir()
	mustWrite(t, home, "dashboard", true)
	if !draincontrol.Requested(home) || !draincontrol.NotificationSuppressed(home) {
		t.Fatal("a fresh marker with suppress_notification must be active and suppressed")
	}
	data := readMarkerFile(t, home)
	if m := markerLayout.FindSubmatch(data); m == nil || string(m[4]) != "true" {
		t.Fatalf("suppress_notification not written as true:\n%s", data)
	}
	// The same bytes from another instantiation, or an hour and a bit later, suppress nothing.
	stale, err := draincontrol.Classify(data, "another-boot:1", time.Now())
	if err != nil || stale.Active || stale.Suppressed || !stale.EpochStale {
		t.Errorf("epoch-stale marker: %+v, %v", stale, err)
	}
	late, err := draincontrol.Classify(data, draincontrol.Epoch(), time.Now().Add(draincontrol.MaxAge+time.Second))
	if err != nil || late.Active || late.Suppressed || !late.Expired {
		t.Errorf("expired marker: %+v, %v", late, err)
	}
}

func TestExpiryIsDecidedToTheMicrosecond(t *testing.T) {
	marker := []byte(`{"requested_at": "2026-11-27T12:00:00.250000+00:00"}`)
	requested := time.Date(2026, 11, 27, 12, 0, 0, 250_000_000, time.UTC)
	atLimit, _ := draincontrol.Classify(marker, "", requested.Add(draincontrol.MaxAge))
	justOver, _ := draincontrol.Classify(marker, "", requested.Add(draincontrol.MaxAge+time.Microsecond))
	if !atLimit.Active || atLimit.Expired {
		t.Errorf("exactly MaxAge old must still be active: %+v", atLimit)
	}
	if justOver.Active || !justOver.Expired {
		t.Errorf("one microsecond over MaxAge must be expired: %+v", justOver)
	}
}

func TestMarkersFromDiskAreJudgedAgainstThisInstantiation(t *testing.T) {
	epoch := draincontrol.Epoch()
	if epoch == "" {
		t.Skip("this machine has no instantiation epoch, so no marker can be epoch-stale")
	}
	home := t.TempDir()
	old := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04:05.000000+00:00")
	cases := []struct {
		name  string
		body  string
		check func(draincontrol.Verdict) bool
	}{
		{"epoch_from_another_instantiation_is_stale", `{"epoch": "other-boot:1"}`,
			func(v draincontrol.Verdict) bool { return v.Present && v.EpochStale && !v.Active }},
		{"two_hours_old_marker_is_expired", fmt.Sprintf(`{"epoch": %q, "requested_at": %q}`, epoch, old),
			func(v draincontrol.Verdict) bool { return v.Present && v.Expired && !v.Active }},
		{"contentless_marker_is_active", ``,
			func(v draincontrol.Verdict) bool { return v.Present && v.Active && !v.Suppressed }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(home, markerName), []byte(c.body), 0o644); err != nil {
				t.Fatal(err)
			}
			v, err := draincontrol.Inspect(home)
			if err != nil || !c.check(v) {
				t.Fatalf("Inspect = %+v, %v", v, err)
			}
			if draincontrol.Requested(home) != v.Active {
				t.Fatalf("Requested disagrees with Inspect")
			}
		})
	}
}

func TestContentlessMarkerReadsAsEmptyMapAndAbsentAsNil(t *testing.T) {
	home := t.TempDir()
	if body, err := draincontrol.Read(home); err != nil || body != nil {
		t.Fatalf("no marker: Read = %#v, %v; want nil map", body, err)
	}
	for _, content := range []string{"", "{torn", "[1, 2]", "\xff\xfe", "null"} {
		if err := os.WriteFile(filepath.Join(home, markerName), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		body, err := draincontrol.Read(home)
		if err != nil || body == nil || len(body) != 0 {
			t.Errorf("marker %q: Read = %#v, %v; want an empty, non-nil map", content, body, err)
		}
		if !draincontrol.Requested(home) {
			t.Errorf("marker %q: a contentless marker must count as an active drain", content)
		}
	}
}

func TestBigIntegersInAMarkerStayExact(t *testing.T) {
	home := t.TempDir()
	content := `{"max": 18446744073709551615, "min": -9223372036854775808, "nested": [{"x": 9007199254740993}]}`
	if err := os.WriteFile(filepath.Join(home, markerName), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	body, err := draincontrol.Read(home)
	if err != nil {
		t.Fatal(err)
	}
	if body["max"] != json.Number("18446744073709551615") || body["min"] != json.Number("-9223372036854775808") {
		t.Errorf("integers lost precision: %#v", body)
	}
	nested := body["nested"].([]any)[0].(map[string]any)
	if nested["x"] != json.Number("9007199254740993") {
		t.Errorf("nested integer lost precision: %#v", nested)
	}
}

func TestFIFOAtMarkerPathReadsAsAbsentWithoutBlocking(t *testing.T) {
	home := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(home, markerName), 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	done := make(chan bool, 1)
	go func() { done <- draincontrol.Requested(home) }()
	select {
	case requested := <-done:
		if requested {
			t.Fatal("a FIFO is not a regular file, so not a marker")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO at the marker path blocked")
	}
}

func TestResultsLongerThanTheFirstBufferAreFetchedWhole(t *testing.T) {
	deep := t.TempDir()
	for len(deep) < 700 {
		deep = filepath.Join(deep, strings.Repeat("d", 60))
	}
	principal := strings.Repeat("p", 5000) + "✓"
	mustWrite(t, deep, principal, false)
	if got, want := draincontrol.MarkerPath(deep), filepath.Join(deep, markerName); got != want {
		t.Errorf("MarkerPath of a long home = %q, want %q", got, want)
	}
	body, err := draincontrol.Read(deep)
	if err != nil || body["principal"] != principal {
		t.Fatalf("Read of a long marker lost text: %v (principal length %d)", err, len(fmt.Sprint(body["principal"])))
	}
	big, err := draincontrol.ClassifyRead(readMarkerFile(t, deep))
	if err != nil || !jsonEqual(any(big), any(body)) {
		t.Fatalf("ClassifyRead of the same bytes differs from Read: %v", err)
	}
}

func TestPollsSeeTheMarkerOfAHomeOfAnyLength(t *testing.T) {
	// A home under 256 bytes is handed to C from the Go stack, a longer one in C memory.
	base := t.TempDir()
	for _, length := range []int{254, 255, 256, 257, 700} {
		home := base
		for len(home) < length {
			home += "/" + strings.Repeat("h", min(60, length-len(home)-1))
		}
		if len(home) != length {
			t.Fatalf("test setup: home of %d bytes, want %d", len(home), length)
		}
		if draincontrol.Requested(home) {
			t.Errorf("%d-byte home without a marker: Requested = true", length)
		}
		mustWrite(t, home, "dashboard", true)
		if !draincontrol.Requested(home) || !draincontrol.NotificationSuppressed(home) {
			t.Errorf("%d-byte home with a marker: Requested/NotificationSuppressed = false", length)
		}
	}
}

func TestEmptyHomeFollowsHermesHomeStrippedAtEveryCall(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	t.Setenv("HERMES_HOME", " \t"+first+"\n ")
	if got, want := draincontrol.MarkerPath(""), filepath.Join(first, markerName); got != want {
		t.Fatalf("MarkerPath(\"\") = %q, want %q (HERMES_HOME, whitespace stripped)", got, want)
	}
	mustWrite(t, "", "env", false)
	readMarkerFile(t, first) // the marker landed in HERMES_HOME
	if !draincontrol.Requested("") || !draincontrol.Requested(first) {
		t.Fatal("the default home and the explicit one disagree")
	}
	// Changing the variable moves the default home at the very next call.
	t.Setenv("HERMES_HOME", second)
	if draincontrol.Requested("") {
		t.Fatal("the default home was cached: still sees the first HERMES_HOME")
	}
	if existed, err := draincontrol.Clear(""); err != nil || existed {
		t.Fatalf("Clear(\"\") in the second home = %v, %v; want false, nil", existed, err)
	}
	if !draincontrol.Requested(first) {
		t.Fatal("clearing the second home touched the first")
	}
}

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

func TestHomePathNeedNotBeUTF8(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h\xff\xfe")
	mustWrite(t, home, "dashboard", false)
	if _, err := os.Stat(filepath.Join(home, markerName)); err != nil {
		t.Fatalf("the marker is not at the byte-exact path: %v", err)
	}
	if got := draincontrol.MarkerPath(home); got != filepath.Join(home, markerName) {
		t.Fatalf("MarkerPath = %q", got)
	}
	if !draincontrol.Requested(home) {
		t.Fatal("not requested")
	}
}

func TestConcurrentWritesNeverExposeATornMarker(t *testing.T) {
	home := t.TempDir()
	mustWrite(t, home, "seed", false)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := draincontrol.Write(home, fmt.Sprintf("writer-%d", w), i%2 == 0); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	var readers sync.WaitGroup
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				body, err := draincontrol.Read(home)
				if err != nil || body["action"] != "drain" {
					errs <- fmt.Errorf("a reader saw %v, %v: the write is not atomic", body, err)
					return
				}
				if !draincontrol.Requested(home) {
					errs <- errors.New("a reader saw no active drain during keep-alive writes")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Errorf("temp files left beside the marker: %v", entries)
	}
}

func TestEmptyMarkerBytesClassifyAsContentlessAndActive(t *testing.T) {
	for _, marker := range [][]byte{nil, {}} {
		v, err := draincontrol.Classify(marker, "boot:1", time.Now())
		if err != nil || v != (draincontrol.Verdict{Present: true, Active: true}) {
			t.Errorf("Classify(%#v) = %+v, %v; want present and active", marker, v, err)
		}
		body, err := draincontrol.ClassifyRead(marker)
		if err != nil || body == nil || len(body) != 0 {
			t.Errorf("ClassifyRead(%#v) = %#v, %v; want an empty map", marker, body, err)
		}
	}
}
