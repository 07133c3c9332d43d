// Package draincontrol speaks the drain-marker contract from Go: the same answers as
// the Python gateway, the Rust core and the C ABI, because it is a thin layer over the
// C ABI of the Rust core (linked statically through cgo).
//
// A dashboard asks a running gateway to drain (stop taking new turns) by writing the
// marker file <home>/.drain_request.json with [Write], and cancels with [Clear]. The
// gateway asks [Requested], or learns of each change within milliseconds from a
// [Watcher] ([NewWatcher]). A marker written by another instantiation of the machine
// (a reboot, a `docker restart`) or older than [MaxAge] is ignored.
//
// Wherever a function takes a home folder, the empty string means the default
// resolution, done at every call: the environment variable HERMES_HOME with
// surrounding whitespace stripped, else ~/.hermes. Paths are bytes and need not be
// UTF-8. A path or string holding a NUL byte cannot cross into C; it is rejected
// (an error wrapping [ErrNUL], or false), never truncated.
//
// A failed [Write] or [Clear] is a [*MarkerError]: it names the marker, the step that
// failed and the path that step acted on, and unwraps to an [*fs.PathError] (Op the
// step, Err the [syscall.Errno]) for an I/O failure, or to [StatusInvalidPayload] for a
// payload refused before anything was written. Other failures of the library are a
// [*StatusError].
//
// Every function is safe for concurrent use by multiple goroutines. The library
// keeps no per-thread state, so no call needs runtime.LockOSThread. One caveat comes
// from C: with home "", the library reads HERMES_HOME through the C environment, and
// in a cgo program os.Setenv writes that same environment without a lock the C side
// honours; do not change HERMES_HOME while another goroutine calls with home "".
//
// Building needs the static library: run `cargo build --release --locked` in the
// repository root first (scripts/test-go does). Go's build cache does not notice when
// that library or its header changes: after rebuilding them, build with -a, or change
// CGO_CPPFLAGS as scripts/test-go does, so that no binary links a stale library.
package draincontrol

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#cgo LDFLAGS: ${SRCDIR}/../target/release/libdrain_control.a -lm -ldl -lpthread
#cgo noescape drain_requested
#cgo nocallback drain_requested
#cgo noescape drain_notification_suppressed
#cgo nocallback drain_notification_suppressed
#include <stdlib.h>
#include "drain_control.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// MaxAge is how long a marker is honoured after its requested_at: one hour. A long
// drain keeps itself alive by calling [Write] again before it runs out.
const MaxAge = time.Hour

// MaxAge is DRAIN_MAX_AGE_MICROS, checked when compiling: a negative constant does
// not convert to uint64, so both differences must be zero.
const (
	_ = uint64(MaxAge/time.Microsecond - C.DRAIN_MAX_AGE_MICROS)
	_ = uint64(C.DRAIN_MAX_AGE_MICROS - MaxAge/time.Microsecond)
)

// Verdict is the decision about one marker (the C drain_verdict).
type Verdict struct {
	// Present: a marker is there (a contentless one counts).
	Present bool
	// Active: present, and neither epoch-stale nor expired. The gateway must drain.
	Active bool
	// Suppressed: active, and suppress_notification is truthy. The gateway skips its
	// broadcast "shutting down" notice.
	Suppressed bool
	// EpochStale: the marker was written by another instantiation of this machine.
	EpochStale bool
	// Expired: the marker's requested_at is more than [MaxAge] ago.
	Expired bool
}

// Requested reports whether the gateway of home must drain now: a marker is present,
// from this instantiation, and not expired. It never fails: an unreadable marker, or a
// home holding a NUL byte, gives false.
func Requested(home string) bool {
	var buf [stackHome]byte
	if homeOnStack(&buf, home) {
		return bool(C.drain_requested((*C.char)(unsafe.Pointer(&buf[0]))))
	}
	return askHome(home, func(h *C.char) C.bool { return C.drain_requested(h) })
}

// NotificationSuppressed reports whether an active drain of home asks the gateway to
// skip its "shutting down" notice. A stale, expired or absent marker gives false, and
// so does a home holding a NUL byte.
func NotificationSuppressed(home string) bool {
	var buf [stackHome]byte
	if homeOnStack(&buf, home) {
		return bool(C.drain_notification_suppressed((*C.char)(unsafe.Pointer(&buf[0]))))
	}
	return askHome(home, func(h *C.char) C.bool { return C.drain_notification_suppressed(h) })
}

// Inspect reads the marker of home and judges it now, against this instantiation's
// epoch, returning the whole [Verdict]. An unreadable marker reads as absent, as in
// [Requested]; the error is only for a home holding a NUL byte or a library failure
// (a [*StatusError]).
func Inspect(home string) (Verdict, error) {
	h, err := cHome("inspect", home)
	if err != nil {
		return Verdict{}, err
	}
	defer C.free(unsafe.Pointer(h))
	var out C.drain_verdict
	if st := C.drain_inspect(h, &out); st != 0 {
		return Verdict{}, statusError("inspect", st)
	}
	return goVerdict(&out), nil
}

// Write begins (or keeps alive) a drain: it writes the marker of home, stamped with
// this instantiation's epoch and the current UTC time, atomically and durably. The
// home folder is created if missing. Writing again refreshes requested_at.
//
// A failure is a [*MarkerError] naming the marker, the step that failed and the path it
// acted on:
//
//   - an I/O failure unwraps to an [*fs.PathError] whose Op is the step ("create_home",
//     "create_temp", "write_temp", "sync_temp", "rename", "sync_folder", ...), whose
//     Path is the path the failing call acted on (the home folder, the temporary file
//     beside the marker, the marker, its folder), and whose Err is the [syscall.Errno],
//     so errors.As(err, &pathErr) and errors.Is(err, fs.ErrPermission) work;
//   - a principal so long that the marker would be over the 1 MiB a reader reads (it
//     would read back as contentless, a drain nothing could age out) is refused before
//     anything is touched: errors.Is(err, [StatusInvalidPayload]), with a message naming
//     the argument and the limit.
//
// A failed write leaves no temporary file. A failure before the rename leaves the old
// marker (or its absence) untouched; only the last step, "sync_folder" (flushing the
// folder after the rename), can fail with the new marker already in place
// ([MarkerError.MarkerUntouched] says which). A principal that is not UTF-8 writes
// nothing and gives a [*StatusError] with [StatusInvalidUTF8]; one holding a NUL byte,
// an error wrapping [ErrNUL].
func Write(home, principal string, suppressNotification bool) error {
	h, err := cHome("write", home)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(h))
	p, err := cString("write", "principal", principal)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	var failure C.drain_error
	st := C.drain_write_ex(h, p, C.bool(suppressNotification), &failure)
	return markerError("write", home, st, &failure)
}

// Clear cancels a drain: it removes the marker of home and reports whether there was
// one. A missing marker is not an error (Clear is idempotent). Any other failure is a
// [*MarkerError] that unwraps to an [*fs.PathError]: Op "remove" (Path the marker; the
// marker is untouched) or "sync_folder" (Path its folder; the marker is already gone),
// and the [syscall.Errno].
func Clear(home string) (existed bool, err error) {
	h, err := cHome("clear", home)
	if err != nil {
		return false, err
	}
	defer C.free(unsafe.Pointer(h))
	var out C.bool
	var failure C.drain_error
	st := C.drain_clear_ex(h, &out, &failure)
	if err := markerError("clear", home, st, &failure); err != nil {
		return false, err
	}
	return bool(out), nil
}

// Read returns the marker of home as the original's read_drain_request does: a nil
// map when there is no marker (or it cannot be read), an empty map when the marker is
// contentless (empty, torn, not UTF-8, not a JSON object, over 1 MiB), else its JSON
// object. The error is only for a home holding a NUL byte or a library failure.
//
// The values are those Python's json.loads reads from the marker, in these types:
// strings are string, true and false bool, null nil, objects map[string]any (a
// duplicate key: the last one wins) and arrays []any. Numbers are [json.Number],
// holding the marker's own digits (only an exponent's spelling may change: 1E5 comes
// back as 1e+5), so nothing is rounded: an integer of any size keeps its exact digits
// (read it with Int64, or math/big's SetString when it may not fit), and "-0" is the
// integer 0. A number is a float for Python when its text holds a '.', an 'e' or an
// 'E' (Float64 then gives the same double as Python's float(), 0 for an underflow such
// as 1e-400, -0 for -0.0); otherwise it is an integer.
func Read(home string) (map[string]any, error) {
	h, err := cHome("read", home)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(h))
	text, err := fetchText("read", func(buf *C.char, n C.size_t, outLen *C.size_t) C.drain_status {
		return C.drain_read(h, buf, n, outLen)
	})
	if err != nil {
		return nil, err
	}
	return decodeRead("read", text)
}

// Classify judges marker bytes without touching any file: the pure classifier every
// binding shares. currentEpoch is the instantiation epoch to compare with ("" disables
// the epoch check) and now the clock reading, used to the microsecond. The error is
// only for a currentEpoch holding a NUL byte ([ErrNUL]) or not UTF-8
// ([StatusInvalidUTF8]), or a library failure.
func Classify(marker []byte, currentEpoch string, now time.Time) (Verdict, error) {
	e, err := cString("classify", "current epoch", currentEpoch)
	if err != nil {
		return Verdict{}, err
	}
	defer C.free(unsafe.Pointer(e))
	ptr, n := cBytes(marker)
	var out C.drain_verdict
	if st := C.drain_classify(ptr, n, e, C.int64_t(now.UnixMicro()), &out); st != 0 {
		return Verdict{}, statusError("classify", st)
	}
	return goVerdict(&out), nil
}

// ClassifyRead returns the read result of marker bytes, as [Read] would return it for
// a marker file holding them: never nil (bytes always make a present marker), empty
// when contentless, else the JSON object.
func ClassifyRead(marker []byte) (map[string]any, error) {
	ptr, n := cBytes(marker)
	text, err := fetchText("classify read", func(buf *C.char, bufLen C.size_t, outLen *C.size_t) C.drain_status {
		return C.drain_classify_read(ptr, n, buf, bufLen, outLen)
	})
	if err != nil {
		return nil, err
	}
	return decodeRead("classify read", text)
}

// Epoch returns this instantiation's epoch: on Linux "<boot_id>:<starttime of PID 1>",
// on macOS the kernel boot time in seconds, and "" where nothing identifies the
// instantiation (an empty epoch never makes a marker stale). It is computed once per
// process. Epoch returns "" also in the unexpected case of a library failure.
func Epoch() string {
	text, err := fetchText("epoch", func(buf *C.char, n C.size_t, outLen *C.size_t) C.drain_status {
		return C.drain_epoch(buf, n, outLen)
	})
	if err != nil {
		return ""
	}
	return text
}

// MarkerPath returns the marker file's path for home: <home>/.drain_request.json,
// with the default resolution for "" done now. It returns "" for a home holding a
// NUL byte (or in the unexpected case of a library failure).
func MarkerPath(home string) string {
	path, err := markerPath(home)
	if err != nil {
		return ""
	}
	return path
}

// Version returns the version of the linked library, as in its Cargo.toml.
func Version() string {
	return C.GoString(C.drain_version())
}

func markerPath(home string) (string, error) {
	h, err := cHome("marker path", home)
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(h))
	return fetchText("marker path", func(buf *C.char, n C.size_t, outLen *C.size_t) C.drain_status {
		return C.drain_marker_path(h, buf, n, outLen)
	})
}

// cHome turns a home argument into a C string: NULL for "" (the default resolution).
// The caller frees it; C.free(NULL) does nothing.
func cHome(op, home string) (*C.char, error) {
	if home == "" {
		return nil, nil
	}
	return cString(op, "home", home)
}

// stackHome is the room for a home that a poll passes to C from the caller's stack.
const stackHome = 256

// homeOnStack copies home, NUL-terminated, into buf when it fits and is neither the
// default home ("") nor holding a NUL byte; otherwise the caller takes the general
// path ([askHome]). A poll runs on every turn, and a home in C memory costs two more
// cgo calls (malloc and free) each time. buf stays on the caller's stack because the
// C functions it is passed to are declared noescape (they keep no pointer past the
// call) in the preamble.
func homeOnStack(buf *[stackHome]byte, home string) bool {
	if home == "" || len(home) >= len(buf) || strings.IndexByte(home, 0) >= 0 {
		return false
	}
	buf[copy(buf[:], home)] = 0
	return true
}

// askHome asks a yes-or-no question of the C ABI about home, which never fails: a home
// holding a NUL byte gives false.
func askHome(home string, ask func(h *C.char) C.bool) bool {
	h, err := cHome("", home)
	if err != nil {
		return false
	}
	defer C.free(unsafe.Pointer(h))
	return bool(ask(h))
}

// cString copies s into C memory, refusing a NUL byte rather than letting C see a
// shorter string. The caller frees it.
func cString(op, what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, fmt.Errorf("draincontrol: %s: %s %q: %w", op, what, s, ErrNUL)
	}
	return C.CString(s), nil
}

// noBytes gives an empty marker a valid address: the C side NULL-checks every pointer,
// even with a length of zero.
var noBytes [1]byte

// cBytes points C at the bytes of marker without copying them. Passing the address of
// a []byte is allowed by the cgo pointer rules (the memory holds no Go pointers), and
// C does not keep it past the call.
func cBytes(marker []byte) (*C.uint8_t, C.size_t) {
	if len(marker) == 0 {
		return (*C.uint8_t)(unsafe.Pointer(&noBytes[0])), 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&marker[0])), C.size_t(len(marker))
}

// guessLen is the first buffer size tried for text results; marker paths, epochs and
// ordinary markers fit, so the common case is a single call.
const guessLen = 512

// maxAttempts bounds the size-then-fill loop: a marker may grow between two calls
// (another process re-writes it), but not forever.
const maxAttempts = 8

// fetchText calls a C function that fills a caller buffer with text, growing the
// buffer as long as the function answers BUFFER_TOO_SMALL with the needed length.
func fetchText(op string, call func(buf *C.char, n C.size_t, outLen *C.size_t) C.drain_status) (string, error) {
	var first [guessLen]byte
	buf := first[:]
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var outLen C.size_t
		st := call((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &outLen)
		switch Status(st) {
		case StatusOK:
			if uint64(outLen) >= uint64(len(buf)) {
				return "", fmt.Errorf("draincontrol: %s: the library reported %d bytes for a buffer of %d", op, uint64(outLen), len(buf))
			}
			return string(buf[:outLen]), nil
		case StatusBufferTooSmall:
			if uint64(outLen) < uint64(len(buf)) || uint64(outLen) > 1<<31 {
				return "", fmt.Errorf("draincontrol: %s: the library asked for %d bytes with a buffer of %d", op, uint64(outLen), len(buf))
			}
			buf = make([]byte, int(outLen)+1)
		default:
			return "", statusError(op, st)
		}
	}
	return "", fmt.Errorf("draincontrol: %s: the result kept growing over %d attempts", op, maxAttempts)
}

// decodeRead turns a read result in JSON text into Go: nil for null, else the object.
func decodeRead(op, text string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return nil, fmt.Errorf("draincontrol: %s: the library returned malformed JSON: %w", op, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("draincontrol: %s: the library returned trailing data after the JSON value", op)
	}
	switch body := value.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return body, nil
	default:
		return nil, fmt.Errorf("draincontrol: %s: the library returned a JSON %T, not an object or null", op, value)
	}
}

func goVerdict(v *C.drain_verdict) Verdict {
	return Verdict{
		Present:    bool(v.present),
		Active:     bool(v.active),
		Suppressed: bool(v.suppressed),
		EpochStale: bool(v.epoch_stale),
		Expired:    bool(v.expired),
	}
}

// markerError turns the status of a write or clear into an error: a failure at one of
// its steps becomes a *MarkerError, from what the library wrote to failure.
func markerError(op, home string, st C.drain_status, failure *C.drain_error) error {
	switch Status(st) {
	case StatusOK:
		return nil
	case StatusIOError, StatusInvalidPayload:
	default:
		return statusError(op, st)
	}
	step := C.GoString(C.drain_step_name(C.uint32_t(failure.step)))
	err := &MarkerError{
		Op:              op,
		Marker:          errorText(&failure.marker[0], failure.marker_len, C.DRAIN_ERROR_PATH_CAPACITY),
		Step:            step,
		MarkerUntouched: bool(failure.marker_untouched),
		Message:         errorText(&failure.message[0], failure.message_len, C.DRAIN_ERROR_MESSAGE_CAPACITY),
		Err:             StatusInvalidPayload,
	}
	if uint64(failure.marker_len) >= C.DRAIN_ERROR_PATH_CAPACITY {
		err.Marker = MarkerPath(home) // cut to fit; this gives it whole
	}
	if uint64(failure.message_len) >= C.DRAIN_ERROR_MESSAGE_CAPACITY {
		err.Message += "..."
	}
	if Status(st) == StatusIOError {
		errno := syscall.Errno(failure.os_error)
		if errno == 0 {
			errno = syscall.EIO
		}
		path := errorText(&failure.path[0], failure.path_len, C.DRAIN_ERROR_PATH_CAPACITY)
		err.Err = &fs.PathError{Op: step, Path: path, Err: errno}
	}
	return err
}

// errorText is a text of a drain_error: length bytes, or the capacity - 1 bytes kept
// when the text was cut to fit.
func errorText(text *C.char, length C.size_t, capacity uint64) string {
	n := uint64(length)
	if n >= capacity {
		n = capacity - 1
	}
	return C.GoStringN(text, C.int(n))
}
