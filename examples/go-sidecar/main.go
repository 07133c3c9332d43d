// Command go-sidecar prints the drain state of a gateway's home folder once a second
// until it is interrupted (SIGINT or SIGTERM), for a process that must react to a
// drain without being the gateway: a log shipper, a load-balancer hook, a watchdog.
//
// Usage:
//
//	go-sidecar [-interval 1s] [-once] [HOME]
//
// HOME defaults to $HERMES_HOME (whitespace stripped), else ~/.hermes, resolved at
// every poll. Each line is
//
//	<UTC time> state=<idle|draining|draining-quiet|ignored-stale-epoch|ignored-expired> marker=<path> [principal=.. requested_at=..]
//
// Exit status: 0 after a signal (or after one line with -once), 2 on bad arguments.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	draincontrol "drain-control/go"
)

const name = "go-sidecar"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program, apart from the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	interval := flags.Duration("interval", time.Second, "time between two reports")
	once := flags.Bool("once", false, "print one report and exit")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [-interval 1s] [-once] [HOME]\n"+
			"Prints the drain state of HOME (default: $HERMES_HOME, else ~/.hermes) every interval\n"+
			"until interrupted.\n", name)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the problem and the usage
	}
	home, err := homeArgument(flags.Args())
	if err == nil && *interval <= 0 {
		err = fmt.Errorf("-interval must be positive, got %v", *interval)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		flags.Usage()
		return 2
	}

	ticker := time.NewTicker(*interval)
	defer ticker.Stop()
	for {
		fmt.Fprintln(stdout, report(home, time.Now()))
		if *once {
			return 0
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "%s: interrupted, stopping\n", name)
			return 0
		case <-ticker.C:
		}
	}
}

// homeArgument checks the positional arguments: none (the default home) or one folder,
// which may not exist yet (no marker there then) but must not be something else.
func homeArgument(args []string) (string, error) {
	switch {
	case len(args) == 0:
		return "", nil
	case len(args) > 1:
		return "", fmt.Errorf("expected at most one HOME folder, got %d arguments: %q", len(args), args)
	case args[0] == "":
		return "", errors.New("HOME is empty; leave it out to use $HERMES_HOME or ~/.hermes")
	}
	home := args[0]
	info, err := os.Stat(home)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return home, nil
	case err != nil:
		return "", err
	case !info.IsDir():
		return "", fmt.Errorf("HOME %q is not a folder", home)
	}
	return home, nil
}

// report is one line about the marker of home, judged now.
func report(home string, now time.Time) string {
	var line strings.Builder
	fmt.Fprintf(&line, "%s ", now.UTC().Format("2006-01-02T15:04:05.000Z"))
	verdict, err := draincontrol.Inspect(home)
	if err != nil {
		fmt.Fprintf(&line, "state=error error=%q", err.Error())
		return line.String()
	}
	fmt.Fprintf(&line, "state=%s marker=%q", state(verdict), draincontrol.MarkerPath(home))
	if !verdict.Present {
		return line.String()
	}
	// A second read: the marker may have changed in between, which the next line shows.
	body, err := draincontrol.Read(home)
	if err != nil {
		fmt.Fprintf(&line, " error=%q", err.Error())
	}
	for _, field := range []string{"principal", "requested_at"} {
		if value, ok := body[field]; ok {
			fmt.Fprintf(&line, " %s=%s", field, quote(value))
		}
	}
	return line.String()
}

func state(v draincontrol.Verdict) string {
	switch {
	case !v.Present:
		return "idle"
	case v.Active && v.Suppressed:
		return "draining-quiet" // draining, without the broadcast notice
	case v.Active:
		return "draining"
	case v.EpochStale:
		return "ignored-stale-epoch"
	default:
		return "ignored-expired"
	}
}

// quote prints a marker field safely on one line: strings quoted, anything else as JSON.
func quote(value any) string {
	if text, ok := value.(string); ok {
		return strconv.Quote(text)
	}
	data, err := json.Marshal(value)
	if err != nil {
		return strconv.Quote(fmt.Sprint(value))
	}
	return string(data)
}
