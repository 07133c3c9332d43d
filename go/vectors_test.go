package draincontrol_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// The shared vectors, produced by running the original Python module. This harness
// only runs each vector's marker bytes, epoch and "now" through Classify and
// ClassifyRead and writes what they made of it, one JSON line a vector; whether that is
// what the vector expects is decided by tests/vectors/match.py, the one matcher of
// every binding, so that every binding is held to the same bar.
const (
	vectorsPath = "../tests/vectors/contract-vectors.json"
	matcherPath = "../tests/vectors/match.py"
)

// vectorInput is what a vector gives the classifier.
type vectorInput struct {
	Name         string `json:"name"`
	MarkerB64    string `json:"marker_b64"`
	CurrentEpoch string `json:"current_epoch"`
	Now          string `json:"now"`
}

// vectorResult is one line for the matcher.
type vectorResult struct {
	Name       string         `json:"name"`
	Read       map[string]any `json:"read"`
	Present    bool           `json:"present"`
	Active     bool           `json:"active"`
	Suppressed bool           `json:"suppressed"`
	EpochStale bool           `json:"epoch_stale"`
	Expired    bool           `json:"expired"`
}

func loadVectorInputs(t *testing.T) []vectorInput {
	t.Helper()
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("reading the shared vectors: %v", err)
	}
	var document struct {
		Vectors []vectorInput `json:"vectors"`
	}
	if err := json.Unmarshal(data, &document); err != nil {
		t.Fatalf("decoding %s: %v", vectorsPath, err)
	}
	return document.Vectors
}

// classifyVector is what this binding makes of one vector; false when it could not
// classify it (the matcher then reports the vector as missing).
func classifyVector(t *testing.T, vector vectorInput) (vectorResult, bool) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(vector.MarkerB64)
	if err != nil {
		t.Errorf("%s: marker_b64: %v", vector.Name, err)
		return vectorResult{}, false
	}
	now, err := time.Parse(time.RFC3339Nano, vector.Now)
	if err != nil {
		t.Errorf("%s: now: %v", vector.Name, err)
		return vectorResult{}, false
	}
	verdict, err := draincontrol.Classify(raw, vector.CurrentEpoch, now)
	if err != nil {
		t.Errorf("%s: Classify: %v", vector.Name, err)
		return vectorResult{}, false
	}
	body, err := draincontrol.ClassifyRead(raw)
	if err != nil {
		t.Errorf("%s: ClassifyRead: %v", vector.Name, err)
		return vectorResult{}, false
	}
	return vectorResult{
		Name: vector.Name, Read: body, Present: verdict.Present, Active: verdict.Active,
		Suppressed: verdict.Suppressed, EpochStale: verdict.EpochStale, Expired: verdict.Expired,
	}, true
}

func TestEverySharedVectorClassifiesAsTheOriginalDid(t *testing.T) {
	var results bytes.Buffer
	enc := json.NewEncoder(&results)
	enc.SetEscapeHTML(false)
	for _, vector := range loadVectorInputs(t) {
		if result, ok := classifyVector(t, vector); ok {
			if err := enc.Encode(result); err != nil {
				t.Fatalf("%s: encoding the result: %v", vector.Name, err)
			}
		}
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 runs %s, the matcher of the shared vectors: %v", matcherPath, err)
	}
	// A Go map has no key order: the read's keys are compared as a set.
	cmd := exec.Command(python, matcherPath, "--unordered-keys", "go", "-")
	cmd.Stdin = &results
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", matcherPath, err, out)
	}
	t.Logf("%s", out)
}
