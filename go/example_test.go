package draincontrol_test

import (
	"fmt"
	"os"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// The README's Go example: a dashboard begins a drain, the gateway sees it, the
// dashboard cancels it. A gateway passes "" as home: $HERMES_HOME, else ~/.hermes.
func Example() {
	home, _ := os.MkdirTemp("", "hermes-home")
	defer os.RemoveAll(home)
	if err := draincontrol.Write(home, "dashboard", false); err != nil {
		panic(err) // an *fs.PathError: errors.Is(err, fs.ErrPermission) etc.
	}
	fmt.Println("draining:", draincontrol.Requested(home))
	existed, err := draincontrol.Clear(home)
	fmt.Println("cancelled:", existed, err, "draining:", draincontrol.Requested(home))
	// Output:
	// draining: true
	// cancelled: true <nil> draining: false
}
