package draincontrol_test

import (
	"fmt"
	"testing"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// The verdict on marker bytes and on markers from disk: expiry to the microsecond,
// epoch-staleness, contentless markers.

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
			putMarker(t, home, c.body)
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
