package draincontrol_test

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// Comparing decoded JSON values, for the tests that check what Read and ClassifyRead
// return (the shared vectors are compared by tests/vectors/match.py instead).

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(data)
}

// jsonEqual compares two decoded JSON values (numbers as json.Number) the way
// serde_json compares its values: an integer that fits 64 bits is an integer, any other
// number a double, and the two never equal.
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
	// The comparison above must be able to fail, or the tests that use it could not.
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
