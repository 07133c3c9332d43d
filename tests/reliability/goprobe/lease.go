// The lease commands of the probe command line (../README.md): begin, keep-alive,
// release and loop-lease, over the package's lease API (go/lease.go), answering as the
// C and Rust probes do.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

// holderJSON is who holds the drain, as JSON: the principal verbatim, the state's
// stable name; nil (null) when there is no marker.
func holderJSON(h *draincontrol.Holder) any {
	if h == nil {
		return nil
	}
	var principal any = h.Principal // json.RawMessage: verbatim; null when cut
	if h.Principal == nil {
		principal = nil
	}
	return map[string]any{"principal": principal, "requested_at": h.RequestedAt, "owned": h.Owned,
		"state": h.State.String()}
}

// leaseStatus is the stable name of a lease failure's status.
func leaseStatus(s draincontrol.Status) string {
	switch s {
	case draincontrol.StatusHeld:
		return "held"
	case draincontrol.StatusLost:
		return "lost"
	case draincontrol.StatusBusy:
		return "busy"
	case draincontrol.StatusInvalidToken:
		return "invalid_token"
	}
	return "unknown"
}

// leaseFailure describes a failed lease operation: a *LeaseError gives the status and
// the holder (held, lost; the lock file's path when busy); a *MarkerError what a failed
// write's does (the step "lock" when taking the lock failed).
func leaseFailure(op string, err error, us int64) map[string]any {
	out := failure(op, err, us)
	out["holder"] = nil
	var leaseErr *draincontrol.LeaseError
	if errors.As(err, &leaseErr) {
		out["status"] = leaseStatus(leaseErr.Status)
		out["holder"] = holderJSON(leaseErr.Holder)
		if leaseErr.Status == draincontrol.StatusBusy {
			out["path"] = filepath.Join(filepath.Dir(leaseErr.Marker), ".drain_request.lock")
		}
	}
	return out
}

// beginLease begins a lease of home for principal, waiting up to waitMs for an active
// drain to end (0: no wait); it returns the microseconds the call took.
func beginLease(home, principal string, waitMs int64) (*draincontrol.Lease, int64, error) {
	start := time.Now()
	var lease *draincontrol.Lease
	var err error
	if waitMs > 0 {
		lease, err = draincontrol.BeginWait(context.Background(), home, principal, false,
			time.Duration(waitMs)*time.Millisecond)
	} else {
		lease, err = draincontrol.Begin(home, principal, false)
	}
	return lease, time.Since(start).Microseconds(), err
}

// leaseCommand runs a lease command; false for a command that is not one.
func leaseCommand(cmd, home string, args []string) bool {
	switch {
	case cmd == "begin" && len(args) >= 1:
		principal := arg(args[0])
		var waitMs int64
		if len(args) >= 2 {
			waitMs, _ = strconv.ParseInt(args[1], 10, 64)
		}
		sentinel("/drain-probe-begin")
		lease, us, err := beginLease(home, principal, waitMs)
		sentinel("/drain-probe-end")
		if err != nil {
			emit(leaseFailure("begin", err, us))
			os.Exit(1)
		}
		emit(map[string]any{"ok": true, "op": "begin", "token": lease.Token(), "us": us})
		_ = lease.Close() // not held: the drain stays
	case (cmd == "keep-alive" || cmd == "release") && len(args) >= 1:
		lease, err := draincontrol.Resume(home, args[0])
		if err != nil {
			emit(leaseFailure(cmd, err, 0))
			os.Exit(1)
		}
		var removed bool
		sentinel("/drain-probe-begin")
		start := time.Now()
		if cmd == "keep-alive" {
			err = lease.KeepAlive()
		} else {
			removed, err = lease.Release()
		}
		us := time.Since(start).Microseconds()
		sentinel("/drain-probe-end")
		_ = lease.Close()
		if err != nil {
			emit(leaseFailure(cmd, err, us))
			os.Exit(1)
		}
		out := map[string]any{"ok": true, "op": cmd, "us": us}
		if cmd == "release" {
			out["removed"] = removed
		}
		emit(out)
	case cmd == "loop-lease" && len(args) >= 3:
		pause := ""
		if len(args) >= 4 {
			pause = args[3]
		}
		loopLease(home, args[0], args[1], args[2], pause)
	default:
		return false
	}
	return true
}

// now is CLOCK_REALTIME as <seconds>.<microseconds>, the loops' log time.
func now() string {
	t := time.Now().UnixMicro()
	return fmt.Sprintf("%d.%06d", t/1_000_000, t%1_000_000)
}

// loopLease is loop-lease HOME TAG SECONDS LOG [PAUSE_MS]: begin (no wait) TAG-1,
// TAG-2, ...; each lease kept alive once and released (the release retried while
// busy), with a pause after each call (a lease is held across two). A line per event
// (../README.md): "begun TOKEN US", "kept TOKEN", "lost TOKEN HOLDER", "keep-busy TOKEN
// US", "release-busy TOKEN US", "released TOKEN REMOVED" (its time taken before the
// call: every time of a lease's lines falls while its marker exists), "held US",
// "busy US", "!error ...".
func loopLease(home, tag, seconds, logPath, pauseArg string) {
	log, err := os.Create(logPath)
	if err != nil {
		panic(err)
	}
	until := deadline(seconds)
	pauseMs, _ := strconv.ParseInt(pauseArg, 10, 64)
	pause := time.Duration(pauseMs) * time.Millisecond
	var ops, begun, held, busy, failures int
	for time.Now().Before(until) {
		if ops > 0 {
			time.Sleep(pause)
		}
		ops++
		lease, us, err := beginLease(home, tag+"-"+strconv.Itoa(ops), 0)
		if err != nil {
			var line string
			switch {
			case errors.Is(err, draincontrol.StatusHeld):
				held++
				line = fmt.Sprintf("held %d", us)
			case errors.Is(err, draincontrol.StatusBusy):
				busy++
				line = fmt.Sprintf("busy %d", us)
			default:
				failures++
				line = fmt.Sprintf("!error begin %s %v", leaseFailure("begin", err, us)["status"], err)
			}
			fmt.Fprintf(log, "%s %s\n", now(), line)
			continue
		}
		begun++
		token := lease.Token()
		fmt.Fprintf(log, "%s begun %s %d\n", now(), token, us)
		time.Sleep(pause)
		start := time.Now()
		var line string
		var leaseErr *draincontrol.LeaseError
		switch err := lease.KeepAlive(); {
		case err == nil:
			line = "kept " + token
		case errors.As(err, &leaseErr) && leaseErr.Status == draincontrol.StatusLost:
			holder, _ := json.Marshal(holderJSON(leaseErr.Holder))
			line = fmt.Sprintf("lost %s %s", token, holder)
		case errors.Is(err, draincontrol.StatusBusy):
			line = fmt.Sprintf("keep-busy %s %d", token, time.Since(start).Microseconds())
		default:
			failures++
			line = fmt.Sprintf("!error keep-alive %s %v", token, err)
		}
		fmt.Fprintf(log, "%s %s\n", now(), line)
		time.Sleep(pause)
		for {
			before, start := now(), time.Now()
			removed, err := lease.Release()
			if errors.Is(err, draincontrol.StatusBusy) {
				fmt.Fprintf(log, "%s release-busy %s %d\n", before, token, time.Since(start).Microseconds())
				continue
			}
			if err != nil {
				failures++
				fmt.Fprintf(log, "%s !error release %s %v\n", before, token, err)
			} else {
				fmt.Fprintf(log, "%s released %s %t\n", before, token, removed)
			}
			break
		}
		_ = lease.Close()
	}
	log.Close()
	emit(map[string]any{"ops": ops, "begun": begun, "held": held, "busy": busy, "failures": failures})
	if failures > 0 {
		os.Exit(1)
	}
}
