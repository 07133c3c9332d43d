// The Go participant of the reliability suites: the probe command line (see
// ../README.md) over the Go package. HOME and PRINCIPAL may be given as hex:<digits>
// to pass bytes a shell argument cannot (NUL, non-UTF-8, control characters), or as
// file:<path> for the bytes of a file.
package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	draincontrol "github.com/hermes-agent/drain-control/go"
)

func init() {
	// The main goroutine stays on the main thread, so that an strace of the probe
	// finds every system call of a library call on one thread (the fault suite counts
	// a thread's calls to aim an injected failure).
	runtime.LockOSThread()
}

// sentinel makes a system call naming path: it marks where a library call begins and
// ends in an strace of the probe.
func sentinel(path string) { _ = syscall.Access(path, 0) }

func arg(s string) string {
	if rest, ok := strings.CutPrefix(s, "file:"); ok {
		b, err := os.ReadFile(rest)
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(2)
		}
		return string(b)
	}
	if rest, ok := strings.CutPrefix(s, "hex:"); ok {
		b, err := hex.DecodeString(rest)
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe: bad hex argument:", err)
			os.Exit(2)
		}
		return string(b)
	}
	return s
}

func emit(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
}

// failure describes an error: a *MarkerError (a failed write or clear) gives the
// marker, the step and whether the old marker is untouched, and unwraps to an
// *fs.PathError (errno, Op, the path acted on) or to StatusInvalidPayload; anything
// else is a status error (or an argument refused before C, such as a NUL byte).
func failure(op string, err error, us int64) map[string]any {
	out := map[string]any{"ok": false, "op": op, "errno": nil, "path": nil, "us": us, "message": err.Error()}
	var markerErr *draincontrol.MarkerError
	var pathErr *fs.PathError
	var errno syscall.Errno
	var st *draincontrol.StatusError
	if errors.As(err, &markerErr) {
		out["marker"] = markerErr.Marker
		out["step"] = markerErr.Step
		out["marker_untouched"] = markerErr.MarkerUntouched
		out["marker_op"] = markerErr.Op
	}
	switch {
	case errors.As(err, &pathErr):
		out["path"] = pathErr.Path
		out["path_op"] = pathErr.Op
		out["status"] = "io_error"
		if errors.As(err, &errno) {
			out["errno"] = int(errno)
		}
	case markerErr != nil && errors.Is(err, draincontrol.StatusInvalidPayload):
		out["status"] = "invalid_payload"
	case errors.Is(err, draincontrol.ErrNUL):
		out["status"] = "nul"
	case errors.As(err, &st):
		out["status"] = map[draincontrol.Status]string{
			draincontrol.StatusInvalidUTF8:     "invalid_utf8",
			draincontrol.StatusNullArgument:    "null_argument",
			draincontrol.StatusInvalidArgument: "invalid_argument",
			draincontrol.StatusPanic:           "panic",
		}[st.Status]
	default:
		out["status"] = "other"
	}
	return out
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: goprobe write|clear|read|inspect|loop-write|loop-clear|loop-read|begin|keep-alive|release|loop-lease HOME ...")
		os.Exit(2)
	}
	cmd, home := os.Args[1], arg(os.Args[2])
	if leaseCommand(cmd, home, os.Args[3:]) {
		return
	}
	start := time.Now()
	us := func() int64 { return time.Since(start).Microseconds() }
	switch {
	case cmd == "write" && len(os.Args) >= 4:
		principal := arg(os.Args[3])
		suppress := len(os.Args) >= 5 && os.Args[4] == "true"
		sentinel("/drain-probe-begin")
		start = time.Now()
		err := draincontrol.Write(home, principal, suppress)
		sentinel("/drain-probe-end")
		if err != nil {
			emit(failure("write", err, us()))
			os.Exit(1)
		}
		emit(map[string]any{"ok": true, "op": "write", "us": us()})
	case cmd == "clear":
		sentinel("/drain-probe-begin")
		start = time.Now()
		existed, err := draincontrol.Clear(home)
		sentinel("/drain-probe-end")
		if err != nil {
			emit(failure("clear", err, us()))
			os.Exit(1)
		}
		emit(map[string]any{"ok": true, "op": "clear", "existed": existed, "us": us()})
	case cmd == "read":
		start = time.Now()
		body, err := draincontrol.Read(home)
		if err != nil {
			emit(failure("read", err, us()))
			os.Exit(1)
		}
		var read any
		if body != nil {
			read = body
		}
		emit(map[string]any{"ok": true, "op": "read", "read": read, "us": us()})
	case cmd == "inspect":
		start = time.Now()
		v, err := draincontrol.Inspect(home)
		if err != nil {
			emit(failure("inspect", err, us()))
			os.Exit(1)
		}
		emit(map[string]any{"ok": true, "op": "inspect", "present": v.Present, "active": v.Active, "suppressed": v.Suppressed, "us": us()})
	case cmd == "loop-write" && len(os.Args) >= 6:
		// loop-write HOME TAG SECONDS LOG: writes principals TAG-1, TAG-2, ... and logs
		// "<unix seconds> <principal>" after each successful write.
		loop(os.Args[4], os.Args[5], func(n int) (string, error) {
			principal := os.Args[3] + "-" + strconv.Itoa(n)
			return principal, draincontrol.Write(home, principal, n%2 == 0)
		})
	case cmd == "loop-clear" && len(os.Args) >= 5:
		loop(os.Args[3], os.Args[4], func(int) (string, error) {
			_, err := draincontrol.Clear(home)
			return "clear", err
		})
	case cmd == "loop-read" && len(os.Args) >= 5:
		out, err := os.Create(os.Args[4])
		if err != nil {
			panic(err)
		}
		until := deadline(os.Args[3])
		var last map[string]any
		first := true
		reads, failures := 0, 0
		for time.Now().Before(until) {
			body, err := draincontrol.Read(home)
			reads++
			if err != nil {
				failures++
				fmt.Fprintf(out, "!error %v\n", err)
				continue
			}
			if first || !reflect.DeepEqual(body, last) {
				b, _ := json.Marshal(body)
				fmt.Fprintf(out, "%s\n", b)
				last, first = body, false
			}
		}
		out.Close()
		emit(map[string]any{"reads": reads, "failures": failures})
		if failures > 0 {
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "goprobe: unknown command or missing arguments")
		os.Exit(2)
	}
}

// deadline reads SECONDS: a duration from now, or @<unix time> for an instant shared
// by several processes (which then stop together however long each took to start).
func deadline(arg string) time.Time {
	if rest, ok := strings.CutPrefix(arg, "@"); ok {
		at, _ := strconv.ParseFloat(rest, 64)
		return time.Unix(0, int64(at*1e9))
	}
	seconds, _ := strconv.ParseFloat(arg, 64)
	return time.Now().Add(time.Duration(seconds * float64(time.Second)))
}

// loop runs op until SECONDS have passed, logging each success with its wall time.
func loop(secondsArg, logPath string, op func(n int) (string, error)) {
	log, err := os.Create(logPath)
	if err != nil {
		panic(err)
	}
	defer log.Close()
	until := deadline(secondsArg)
	ops, failures := 0, 0
	for n := 1; time.Now().Before(until); n++ {
		what, err := op(n)
		done := float64(time.Now().UnixNano()) / 1e9
		ops++
		if err != nil {
			failures++
			fmt.Fprintf(log, "%.6f !error %v\n", done, err)
			continue
		}
		fmt.Fprintf(log, "%.6f %s\n", done, what)
	}
	emit(map[string]any{"ops": ops, "failures": failures})
	if failures > 0 {
		os.Exit(1)
	}
}
