package draincontrol_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/quick"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// Issue 11's differential for Go: the JSON objects Read and ClassifyRead return carry
// the values the original Python module reads from the same marker bytes: big and
// negative integers exact, -0, exponents, long fractions, escapes, nesting, duplicate
// keys. The oracle is tests/c/json_oracle.py, which runs the original module
// (../shared/reference/upstream from the repository) on every case and gives its
// reading in a tagged form that keeps int and float apart and floats to the bit. The
// cases are the oracle's (a fixed corpus and objects generated from a seed) and this
// test's own: objects testing/quick generates and encoding/json writes, in Go's
// spelling (\u003c escapes, 1e+21 exponents, doubles near the largest).

const (
	oracleScript   = "../tests/c/json_oracle.py"
	referenceDir   = "../../shared/reference/upstream"
	oracleSkipCode = 77
)

// quickSample is the shape of the objects testing/quick fills with random values.
type quickSample struct {
	Int     int64
	Uint    uint64
	Float   float64
	Small   float32
	Text    string
	Raw     []byte
	Flag    bool
	List    []int32
	Floats  map[string]float64
	Strings [][]string
	Inner   struct {
		Key string `json:"é<key>&"`
		N   int8
	}
}

type oracleCase struct {
	Name      string `json:"name"`
	MarkerB64 string `json:"marker_b64"`
	Expect    any    `json:"expect,omitempty"`
}

func TestReadCarriesTheValuesTheOriginalPythonModuleReads(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to run the original module with")
	}
	if _, err := os.Stat(filepath.Join(referenceDir, "gateway", "drain_control.py")); err != nil {
		t.Skipf("the original module is not at %s (../shared/reference/upstream from the repository): %v", referenceDir, err)
	}
	seed := int64(11)
	if text := os.Getenv("DRAIN_DIFF_SEED"); text != "" {
		if seed, err = strconv.ParseInt(text, 10, 64); err != nil {
			t.Fatalf("DRAIN_DIFF_SEED=%q: %v", text, err)
		}
	}
	t.Logf("seed %d (set DRAIN_DIFF_SEED to change it)", seed)

	// This test's own cases: random values from testing/quick, written by encoding/json.
	rng := rand.New(rand.NewSource(seed))
	var extra bytes.Buffer
	for i := 0; i < 200; i++ {
		value, ok := quick.Value(reflect.TypeOf(quickSample{}), rng)
		if !ok {
			t.Fatal("testing/quick cannot generate the sample type")
		}
		marker, err := json.Marshal(value.Interface())
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(oracleCase{Name: fmt.Sprintf("go-quick-%d-%d", seed, i), MarkerB64: base64.StdEncoding.EncodeToString(marker)})
		extra.Write(append(line, '\n'))
	}
	extraFile := filepath.Join(t.TempDir(), "extra.jsonl")
	if err := os.WriteFile(extraFile, extra.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(python, oracleScript, "--reference", referenceDir, "corpus",
		"--seed", strconv.FormatInt(seed, 10), "--count", "800", "--extra", extraFile)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == oracleSkipCode {
			t.Skipf("the oracle skipped: %s", stderr.String())
		}
		t.Fatalf("%s: %v\n%s", oracleScript, err, stderr.String())
	}

	home := t.TempDir()
	cases := 0
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var c oracleCase
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("the oracle printed %q: %v", line, err)
		}
		marker, err := base64.StdEncoding.DecodeString(c.MarkerB64)
		if err != nil {
			t.Fatal(err)
		}
		cases++
		putMarker(t, home, string(marker))
		fromFile, err := draincontrol.Read(home)
		if err != nil {
			t.Fatalf("%s: Read: %v", c.Name, err)
		}
		fromBytes, err := draincontrol.ClassifyRead(marker)
		if err != nil {
			t.Fatalf("%s: ClassifyRead: %v", c.Name, err)
		}
		for _, got := range []struct {
			function string
			body     map[string]any
		}{{"Read", fromFile}, {"ClassifyRead", fromBytes}} {
			if difference := compareTagged(got.body, c.Expect, "$"); difference != "" {
				shown := marker
				if len(shown) > 300 {
					shown = shown[:300]
				}
				t.Errorf("%s: %s: %s\n     marker: %q", c.Name, got.function, difference, shown)
			}
		}
	}
	if cases < 1000 {
		t.Fatalf("only %d cases came back from the oracle", cases)
	}
	t.Logf("%d cases through Read and ClassifyRead", cases)
}

// compareTagged says where a value Read returned differs from the oracle's tagged
// reading (["int", digits], ["float", float.hex()], ["str", s], ["bool", b],
// ["null"], ["list", items], ["obj", [[key, value]...]]), or "" when it does not.
func compareTagged(got any, want any, where string) string {
	tagged, ok := want.([]any)
	if !ok || len(tagged) == 0 {
		return fmt.Sprintf("%s: the oracle gave %v", where, want)
	}
	kind, _ := tagged[0].(string)
	mismatch := func() string { return fmt.Sprintf("%s: got %T %v, Python reads %v", where, got, got, want) }
	switch kind {
	case "null":
		if got == nil || reflect.ValueOf(got).Kind() == reflect.Map && reflect.ValueOf(got).IsNil() {
			return ""
		}
		return mismatch()
	case "bool":
		if b, ok := got.(bool); !ok || b != tagged[1] {
			return mismatch()
		}
	case "str":
		if s, ok := got.(string); !ok || s != tagged[1] {
			return mismatch()
		}
	case "int":
		n, ok := got.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") {
			return mismatch() // Python reads an int: a number without '.', 'e' or 'E'
		}
		have, ok1 := new(big.Int).SetString(string(n), 10)
		wantInt, ok2 := new(big.Int).SetString(tagged[1].(string), 10)
		if !ok1 || !ok2 || have.Cmp(wantInt) != 0 {
			return mismatch()
		}
	case "float":
		n, ok := got.(json.Number)
		if !ok || !strings.ContainsAny(string(n), ".eE") {
			return mismatch() // Python reads a float: a number with '.', 'e' or 'E'
		}
		have, err := strconv.ParseFloat(string(n), 64)
		if err != nil && (math.IsInf(have, 0) || !errors.Is(err, strconv.ErrRange)) {
			return mismatch() // underflow (ErrRange with 0 or a subnormal) is Python's value too
		}
		wantFloat, err := strconv.ParseFloat(tagged[1].(string), 64)
		if err != nil || math.Float64bits(have) != math.Float64bits(wantFloat) {
			return fmt.Sprintf("%s: %s is %v (bits %x), Python reads %v (bits %x)", where, n, have,
				math.Float64bits(have), tagged[1], math.Float64bits(wantFloat))
		}
	case "list":
		items, ok := got.([]any)
		wantItems, _ := tagged[1].([]any)
		if !ok || len(items) != len(wantItems) {
			return mismatch()
		}
		for i := range items {
			if d := compareTagged(items[i], wantItems[i], fmt.Sprintf("%s[%d]", where, i)); d != "" {
				return d
			}
		}
	case "obj":
		object, ok := got.(map[string]any)
		if !ok || object == nil {
			return mismatch()
		}
		pairs, _ := tagged[1].([]any)
		if len(object) != len(pairs) {
			keys := make([]string, 0, len(object))
			for key := range object {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			return fmt.Sprintf("%s: keys %q, Python reads %d keys", where, keys, len(pairs))
		}
		for _, pair := range pairs {
			kv := pair.([]any)
			key := kv[0].(string)
			value, present := object[key]
			if !present {
				return fmt.Sprintf("%s: no key %q", where, key)
			}
			if d := compareTagged(value, kv[1], fmt.Sprintf("%s[%q]", where, key)); d != "" {
				return d
			}
		}
	default:
		return fmt.Sprintf("%s: the oracle gave the unknown kind %q", where, kind)
	}
	return ""
}

func TestCompareTaggedTellsIntFromFloatAndMinusZeroFromZero(t *testing.T) {
	// The comparison must be able to fail: the differences == would blur.
	cases := []struct {
		got  any
		want string
		same bool
	}{
		{json.Number("123456789012345678901234567890"), `["int", "123456789012345678901234567890"]`, true},
		{json.Number("123456789012345678901234567891"), `["int", "123456789012345678901234567890"]`, false},
		{json.Number("-0"), `["int", "0"]`, true},
		{json.Number("-0.0"), `["float", "-0x0.0p+0"]`, true},
		{json.Number("0.0"), `["float", "-0x0.0p+0"]`, false},
		{json.Number("1"), `["float", "0x1.0000000000000p+0"]`, false},
		{json.Number("1.0"), `["int", "1"]`, false},
		{json.Number("1e-400"), `["float", "0x0.0p+0"]`, true},
		{json.Number("1.5e+300"), `["float", "0x1.1eb2d66005835p+997"]`, true},
		{true, `["int", "1"]`, false},
		{map[string]any{"a": []any{}}, `["obj", [["a", ["list", []]]]]`, true},
		{map[string]any{"a": []any{}}, `["obj", [["b", ["list", []]]]]`, false},
		{map[string]any(nil), `["null"]`, true},
		{map[string]any{}, `["null"]`, false},
	}
	for _, c := range cases {
		var want any
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatal(err)
		}
		if same := compareTagged(c.got, want, "$") == ""; same != c.same {
			t.Errorf("compareTagged(%#v, %s) found them the same: %v, want %v", c.got, c.want, same, c.same)
		}
	}
}
