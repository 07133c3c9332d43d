package draincontrol_test

import (
	"fmt"
	"os"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// A sidecar reacting to drains as they happen. The first change is the state when
// watching began; a gateway passes "" as home: $HERMES_HOME, else ~/.hermes.
func ExampleNewWatcher() {
	home, _ := os.MkdirTemp("", "hermes-home")
	defer os.RemoveAll(home)
	w, err := draincontrol.NewWatcher(home, draincontrol.WatchOptions{})
	if err != nil {
		panic(err)
	}
	defer w.Close()
	fmt.Println((<-w.Changes()).State)
	draincontrol.Write(home, "dashboard", false) // the dashboard, elsewhere
	change := <-w.Changes()
	fmt.Println(change.State, change.State.Draining(), change.Body["principal"])
	// Output:
	// absent
	// active true dashboard
}
