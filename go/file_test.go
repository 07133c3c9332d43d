package draincontrol_test

import (
	"encoding/json"
	"errors"
	"fmt"
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

// The marker file: the write, read and clear round trip in a real home, the file's
// layout, the default home and what a reader sees of a marker on disk.

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

// putMarker writes content as the marker file of home, as any writer might.
func putMarker(t *testing.T, home, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(home, markerName), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
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

func TestContentlessMarkerReadsAsEmptyMapAndAbsentAsNil(t *testing.T) {
	home := t.TempDir()
	if body, err := draincontrol.Read(home); err != nil || body != nil {
		t.Fatalf("no marker: Read = %#v, %v; want nil map", body, err)
	}
	for _, content := range []string{"", "{torn", "[1, 2]", "\xff\xfe", "null"} {
		putMarker(t, home, content)
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
	putMarker(t, home, content)
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
