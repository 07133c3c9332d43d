package draincontrol_test

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// The shared vectors, produced by running the original Python module. The acceptance
// logic is the one of tests/vectors.rs, so that every binding is held to the same bar.
const vectorsPath = "../tests/vectors/contract-vectors.json"

// outcome is one acceptable result of a vector: `expect` or `also_allowed`.
type outcome struct {
	hasRead    bool // `also_allowed` may leave `read` out: then only the verdict counts
	read       any
	active     bool
	suppressed bool
}

func outcomeFrom(t *testing.T, name string, raw any) outcome {
	t.Helper()
	m, ok := raw.(map[string]any)
	if !ok {
		t.Fatalf("%s: outcome is %T, not an object", name, raw)
	}
	active, ok1 := m["active"].(bool)
	suppressed, ok2 := m["suppressed"].(bool)
	if !ok1 || !ok2 {
		t.Fatalf("%s: outcome without boolean active/suppressed: %v", name, m)
	}
	read, hasRead := m["read"]
	return outcome{hasRead: hasRead, read: read, active: active, suppressed: suppressed}
}

func (o outcome) matches(read any, active, suppressed bool) bool {
	readOK := !o.hasRead || jsonEqual(o.read, read)
	return readOK && o.active == active && o.suppressed == suppressed
}

func loadVectors(t *testing.T) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("reading the shared vectors: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var document map[string]any
	if err := dec.Decode(&document); err != nil {
		t.Fatalf("decoding %s: %v", vectorsPath, err)
	}
	if got := document["max_age_seconds"]; !jsonEqual(got, json.Number("3600.0")) {
		t.Fatalf("max_age_seconds = %v, want 3600.0", got)
	}
	list, _ := document["vectors"].([]any)
	if len(list) < 90 {
		t.Fatalf("the vector file looks truncated: %d vectors", len(list))
	}
	vectors := make([]map[string]any, 0, len(list))
	for _, v := range list {
		vectors = append(vectors, v.(map[string]any))
	}
	return vectors
}

func TestEverySharedVectorClassifiesAsTheOriginalDid(t *testing.T) {
	for _, vector := range loadVectors(t) {
		name := vector["name"].(string)
		t.Run(name, func(t *testing.T) {
			raw, err := base64.StdEncoding.DecodeString(vector["marker_b64"].(string))
			if err != nil {
				t.Fatalf("marker_b64: %v", err)
			}
			now, err := time.Parse(time.RFC3339Nano, vector["now"].(string))
			if err != nil {
				t.Fatalf("now: %v", err)
			}
			verdict, err := draincontrol.Classify(raw, vector["current_epoch"].(string), now)
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			body, err := draincontrol.ClassifyRead(raw)
			if err != nil {
				t.Fatalf("ClassifyRead: %v", err)
			}
			if body == nil || !verdict.Present {
				t.Fatalf("bytes always make a present marker: read=%v verdict=%+v", body, verdict)
			}
			var read any = body

			expect := vector["expect"].(map[string]any)
			expected := outcomeFrom(t, name, expect)
			// Where Python read something strict JSON cannot express, every binding
			// reads contentless instead: only `also_allowed` can match.
			_, pythonOnly := expect["read_python_json"]
			ok := !pythonOnly && expected.matches(read, verdict.Active, verdict.Suppressed)
			if alt, given := vector["also_allowed"]; given {
				ok = ok || outcomeFrom(t, name, alt).matches(read, verdict.Active, verdict.Suppressed)
			}
			if _, raises := vector["reference_raises"]; raises {
				// The original raised on these bytes; the contract reads them as contentless.
				ok = ok && len(body) == 0
			}
			if !ok {
				t.Errorf("got read=%s active=%v suppressed=%v; expect=%v also_allowed=%v",
					mustJSON(read), verdict.Active, verdict.Suppressed, expect, vector["also_allowed"])
			}
			checkVerdictIsConsistent(t, verdict)
		})
	}
}

// checkVerdictIsConsistent pins the definitions of active and suppressed.
func checkVerdictIsConsistent(t *testing.T, v draincontrol.Verdict) {
	t.Helper()
	if v.Active != (v.Present && !v.EpochStale && !v.Expired) {
		t.Errorf("active must be present and neither epoch-stale nor expired: %+v", v)
	}
	if v.Suppressed && !v.Active {
		t.Errorf("a marker that is not active can never suppress: %+v", v)
	}
	if !v.Present && (v.EpochStale || v.Expired) {
		t.Errorf("an absent marker can be neither stale nor expired: %+v", v)
	}
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(data)
}

// jsonEqual compares two decoded JSON values (numbers as json.Number) the way
// serde_json compares its values, which is what tests/vectors.rs does: an integer that
// fits 64 bits is an integer, any other number a double, and the two never equal.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numbersEqual(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for key, value := range x {
			other, ok := y[key]
			if !ok || !jsonEqual(value, other) {
				return false
			}
		}
		return true
	}
	return false
}

func numbersEqual(a, b json.Number) bool {
	ai, aIsInt := integer(a)
	bi, bIsInt := integer(b)
	if aIsInt || bIsInt {
		return aIsInt && bIsInt && ai.Cmp(bi) == 0
	}
	af, errA := strconv.ParseFloat(string(a), 64)
	bf, errB := strconv.ParseFloat(string(b), 64)
	return errA == nil && errB == nil && af == bf
}

func integer(n json.Number) (*big.Int, bool) {
	if strings.ContainsAny(string(n), ".eE") {
		return nil, false
	}
	if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
		if _, err := strconv.ParseUint(string(n), 10, 64); err != nil {
			return nil, false // beyond 64 bits: serde_json reads it as a double
		}
	}
	value, ok := new(big.Int).SetString(string(n), 10)
	return value, ok
}

func TestJSONComparisonDistinguishesWhatSerdeJSONDistinguishes(t *testing.T) {
	// The comparison above must be able to fail, or the vector test could not.
	cases := []struct {
		a, b any
		want bool
	}{
		{json.Number("1"), json.Number("1"), true},
		{json.Number("1"), json.Number("1.0"), false},
		{json.Number("1.0"), json.Number("1e0"), true},
		{json.Number("18446744073709551615"), json.Number("18446744073709551614"), false},
		{map[string]any{"a": []any{true, nil}}, map[string]any{"a": []any{true, nil}}, true},
		{map[string]any{"a": []any{true, nil}}, map[string]any{"a": []any{true}}, false},
		{map[string]any{}, map[string]any{"a": nil}, false},
		{"false", false, false},
		{nil, map[string]any{}, false},
	}
	for _, c := range cases {
		if got := jsonEqual(c.a, c.b); got != c.want {
			t.Errorf("jsonEqual(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
