package draincontrol_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// A migration drains the gateway while it runs, only if no one else drains it, and
// cannot forget to cancel: the drain is released when the function returns, panics
// or its context ends. A gateway's host passes "" as home: $HERMES_HOME, else
// ~/.hermes.
func ExampleLease_Hold() {
	home, _ := os.MkdirTemp("", "hermes-home")
	defer os.RemoveAll(home)
	ctx := context.Background()

	lease, err := draincontrol.Begin(home, "migration", false)
	if err != nil {
		panic(err) // errors.Is(err, draincontrol.StatusHeld): another drain is active
	}
	defer lease.Close() // releases the held drain, also on a panic
	// Kept alive in the background (every 15 min) until ctx ends, Release or Close.
	if err := lease.Hold(ctx); err != nil {
		panic(err)
	}
	// ... the disruptive step ...
	_, err = draincontrol.Begin(home, "dashboard", false)
	var refused *draincontrol.LeaseError
	if errors.As(err, &refused) && errors.Is(err, draincontrol.StatusHeld) {
		fmt.Println("refused, held by", string(refused.Holder.Principal), "leased:", refused.Holder.Owned)
	}
	removed, err := lease.Release()
	fmt.Println("released:", removed, err, "draining:", draincontrol.Requested(home))
	// Output:
	// refused, held by "migration" leased: true
	// released: true <nil> draining: false
}
