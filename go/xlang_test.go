package draincontrol_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// Cross-language agreement: a marker written through one binding reads identically
// through every other, and all report the same epoch on this machine.
//
// The other participants are programs speaking the xlang command line (see
// examples/xlang.rs):
//
//	PROGRAM write HOME [PRINCIPAL [true|false]]
//	PROGRAM read HOME      -> the read result as JSON text: null, {} or the object
//	PROGRAM clear HOME     -> true or false
//	PROGRAM epoch          -> the epoch
//
// DRAIN_XLANG_PEERS lists them (separated like PATH). When it is unset, the Rust
// participant built by `cargo build --release --example xlang` is used if present;
// when it is set, every listed program must exist.
const peersEnv = "DRAIN_XLANG_PEERS"

type participant struct {
	name  string
	write func(home, principal string, suppress bool) error
	read  func(home string) (any, error)
	clear func(home string) (bool, error)
	epoch func() (string, error)
}

func goParticipant() participant {
	return participant{
		name:  "go",
		write: draincontrol.Write,
		read: func(home string) (any, error) {
			body, err := draincontrol.Read(home)
			if body == nil {
				return nil, err // a nil map is JSON null, not an empty object
			}
			return body, err
		},
		clear: draincontrol.Clear,
		epoch: func() (string, error) { return draincontrol.Epoch(), nil },
	}
}

func programParticipant(program string) participant {
	run := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(program, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s %s: %v: %s", program, strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSuffix(stdout.String(), "\n"), nil
	}
	return participant{
		name: filepath.Base(filepath.Dir(program)) + "/" + filepath.Base(program),
		write: func(home, principal string, suppress bool) error {
			_, err := run("write", home, principal, strconv.FormatBool(suppress))
			return err
		},
		read: func(home string) (any, error) {
			text, err := run("read", home)
			if err != nil {
				return nil, err
			}
			dec := json.NewDecoder(strings.NewReader(text))
			dec.UseNumber()
			var value any
			if err := dec.Decode(&value); err != nil {
				return nil, fmt.Errorf("%s read printed %q: %v", program, text, err)
			}
			return value, nil
		},
		clear: func(home string) (bool, error) {
			text, err := run("clear", home)
			if err != nil {
				return false, err
			}
			return strconv.ParseBool(text)
		},
		epoch: func() (string, error) { return run("epoch") },
	}
}

func participants(t *testing.T) []participant {
	t.Helper()
	list := os.Getenv(peersEnv)
	if list == "" {
		rust, err := filepath.Abs("../target/release/examples/xlang")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(rust); err != nil {
			t.Skipf("no other participant: set %s or build the Rust one with "+
				"`cargo build --release --locked --example xlang` (scripts/test-go does)", peersEnv)
		}
		list = rust
	}
	all := []participant{goParticipant()}
	for _, program := range filepath.SplitList(list) {
		if program == "" {
			continue
		}
		info, err := os.Stat(program)
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			t.Fatalf("%s names %q, which is not an executable program: %v", peersEnv, program, err)
		}
		all = append(all, programParticipant(program))
	}
	return all
}

func TestEveryBindingReadsAMarkerWrittenByAnyOtherIdentically(t *testing.T) {
	all := participants(t)
	principal := `dash "böard" ✓ \ end`
	for _, writer := range all {
		for _, suppress := range []bool{false, true} {
			t.Run(fmt.Sprintf("written_by_%s_suppress_%v", writer.name, suppress), func(t *testing.T) {
				home := filepath.Join(t.TempDir(), "home")
				if err := writer.write(home, principal, suppress); err != nil {
					t.Fatalf("write: %v", err)
				}
				data := readMarkerFile(t, home)
				m := markerLayout.FindSubmatch(data)
				if m == nil || string(m[4]) != strconv.FormatBool(suppress) {
					t.Fatalf("%s wrote a marker without the contract's layout:\n%s", writer.name, data)
				}
				want, err := draincontrol.ClassifyRead(data)
				if err != nil {
					t.Fatal(err)
				}
				if want["principal"] != principal || want["suppress_notification"] != suppress {
					t.Fatalf("%s wrote %v", writer.name, want)
				}
				for _, reader := range all {
					got, err := reader.read(home)
					if err != nil {
						t.Fatalf("%s read: %v", reader.name, err)
					}
					if !jsonEqual(got, any(want)) {
						t.Errorf("%s reads %s, the marker holds %s", reader.name, mustJSON(got), mustJSON(want))
					}
				}
				if !draincontrol.Requested(home) || draincontrol.NotificationSuppressed(home) != suppress {
					t.Errorf("Go's verdict on %s's marker: requested=%v suppressed=%v", writer.name,
						draincontrol.Requested(home), draincontrol.NotificationSuppressed(home))
				}
			})
		}
	}
}

func TestEveryBindingClearsAMarkerWrittenByAnyOther(t *testing.T) {
	all := participants(t)
	for _, writer := range all {
		for _, clearer := range all {
			home := t.TempDir()
			if err := writer.write(home, "xlang", false); err != nil {
				t.Fatalf("%s write: %v", writer.name, err)
			}
			existed, err := clearer.clear(home)
			if err != nil || !existed {
				t.Errorf("%s clearing %s's marker = %v, %v; want true", clearer.name, writer.name, existed, err)
			}
			for _, reader := range all {
				if got, err := reader.read(home); err != nil || got != nil {
					t.Errorf("%s reads %v, %v after %s cleared; want null", reader.name, got, err, clearer.name)
				}
			}
			if existed, err := clearer.clear(home); err != nil || existed {
				t.Errorf("%s clearing twice = %v, %v; want false", clearer.name, existed, err)
			}
		}
	}
}

func TestEveryBindingReportsTheSameEpoch(t *testing.T) {
	all := participants(t)
	want := draincontrol.Epoch()
	if fromProc := epochFromProc(t); want != fromProc {
		t.Fatalf("Go's epoch %q differs from /proc's %q", want, fromProc)
	}
	for _, p := range all {
		got, err := p.epoch()
		if err != nil || got != want {
			t.Errorf("%s reports epoch %q (%v), Go %q", p.name, got, err, want)
		}
	}
}

func TestAMarkerOnDiskReadsTheSameInEveryBinding(t *testing.T) {
	// Files no binding writes: contentless, odd-but-valid JSON, big numbers, nesting.
	all := participants(t)
	contents := []string{
		"",
		"{torn",
		`{"epoch": NaN}`,
		`{"n": 18446744073709551615, "f": 1.5e300, "neg": -0.0, "s": "\u00e9\n", "a": [{}, [], null]}`,
		`{"k": 1, "k": 2}`,
	}
	for i, content := range contents {
		home := t.TempDir()
		putMarker(t, home, content)
		want, err := draincontrol.ClassifyRead([]byte(content))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range all {
			got, err := p.read(home)
			if err != nil || !jsonEqual(got, any(want)) {
				t.Errorf("content %d %q: %s reads %s (%v), want %s", i, content, p.name, mustJSON(got), err, mustJSON(want))
			}
		}
	}
}
