// Command go-sidecar prints the drain state of a gateway's home folder once a second
// until it is interrupted (SIGINT or SIGTERM), for a process that must react to a
// drain without being the gateway: a log shipper, a load-balancer hook, a watchdog.
// With -watch it prints a line at the start and then one per change of the state,
// within milliseconds of the change (a [draincontrol.Watcher]).
//
// Usage:
//
//	go-sidecar [-interval 1s] [-once] [-watch] [HOME]
//
// HOME defaults to $HERMES_HOME (whitespace stripped), else ~/.hermes, resolved at
// every poll (with -watch: once, at the start). Each line is
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

	draincontrol "github.com/hermes-agent/drain-control/go"
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
	watch := flags.Bool("watch", false, "print a report at each change of the drain state, as it happens")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s [-interval 1s] [-once] [-watch] [HOME]\n"+
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

	if *watch && !*once {
		return watchHome(ctx, home, stdout, stderr)
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

// watchHome is -watch: a line per change of the drain state until ctx ends.
func watchHome(ctx context.Context, home string, stdout, stderr io.Writer) int {
	w, err := draincontrol.NewWatcher(home, draincontrol.WatchOptions{})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	defer w.Close()
	marker := draincontrol.MarkerPath(home)
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "%s: interrupted, stopping\n", name)
			return 0
		case change, ok := <-w.Changes():
			if !ok {
				fmt.Fprintf(stderr, "%s: the watcher failed: %v\n", name, w.Err())
				return 1
			}
			fmt.Fprintln(stdout, line(change.At, change.Verdict, marker, change.Body))
		}
	}
}

// report is one line about the marker of home, judged now.
func report(home string, now time.Time) string {
	verdict, err := draincontrol.Inspect(home)
	if err != nil {
		return fmt.Sprintf("%s state=error error=%q", stamp(now), err.Error())
	}
	if !verdict.Present {
		return line(now, verdict, draincontrol.MarkerPath(home), nil)
	}
	// A second read: the marker may have changed in between, which the next line shows.
	body, err := draincontrol.Read(home)
	text := line(now, verdict, draincontrol.MarkerPath(home), body)
	if err != nil {
		text += fmt.Sprintf(" error=%q", err.Error())
	}
	return text
}

func stamp(at time.Time) string {
	return at.UTC().Format("2006-01-02T15:04:05.000Z")
}

// line is one report: the moment, the state, the marker path, and the principal and
// requested_at of a marker's body when it has them.
func line(at time.Time, verdict draincontrol.Verdict, marker string, body map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s state=%s marker=%q", stamp(at), state(verdict), marker)
	for _, field := range []string{"principal", "requested_at"} {
		if value, ok := body[field]; ok {
			fmt.Fprintf(&b, " %s=%s", field, quote(value))
		}
	}
	return b.String()
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
