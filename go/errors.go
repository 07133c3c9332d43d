package draincontrol

/*
#include "drain_control_go.h"
*/
import "C"

import (
	"errors"
	"io/fs"
	"strconv"
	"syscall"
)

// ErrNUL is wrapped by the error returned when a home, principal or epoch argument
// holds a NUL byte, which a C string cannot carry. Test with errors.Is.
var ErrNUL = errors.New("contains a NUL byte")

// Status is a status code of the C ABI (drain_status). Values are never reused: a
// retired status keeps its number. A Status is an error, so
// errors.Is(err, StatusInvalidUTF8) tells what a [*StatusError] carries.
type Status uint32

// The status codes of the C ABI, taken from its header.
const (
	// StatusOK: success. Never carried by an error.
	StatusOK Status = C.DRAIN_STATUS_OK
	// StatusNullArgument: a required pointer was NULL (a bug in this package if seen).
	StatusNullArgument Status = C.DRAIN_STATUS_NULL_ARGUMENT
	// StatusInvalidUTF8: a principal or epoch argument is not UTF-8; nothing was written.
	StatusInvalidUTF8 Status = C.DRAIN_STATUS_INVALID_UTF8
	// StatusBufferTooSmall: a text result did not fit (handled inside this package).
	StatusBufferTooSmall Status = C.DRAIN_STATUS_BUFFER_TOO_SMALL
	// StatusIOError: the operating system refused; surfaces as a [*MarkerError] around
	// an *fs.PathError.
	StatusIOError Status = C.DRAIN_STATUS_IO_ERROR
	// StatusPanic: the library caught a panic of its own; the call did nothing useful.
	StatusPanic Status = C.DRAIN_STATUS_PANIC
	// StatusInvalidArgument: an argument had a value the library does not accept.
	StatusInvalidArgument Status = C.DRAIN_STATUS_INVALID_ARGUMENT
	// StatusTimedOut: a watcher's wait ended without a change (handled inside this
	// package).
	StatusTimedOut Status = C.DRAIN_STATUS_TIMED_OUT
	// StatusStopped: the watcher was stopped (handled inside this package: a closed
	// [Watcher] closes its channel).
	StatusStopped Status = C.DRAIN_STATUS_STOPPED
	// StatusInvalidPayload: [Write] refused its payload before touching the disk, because
	// the marker would not read back as written: a principal so long that the marker
	// would be over the 1 MiB a reader reads (it would read as contentless, a drain that
	// nothing could age out). Carried by the [*MarkerError] [Write] returns, so
	// errors.Is(err, StatusInvalidPayload) tells it.
	StatusInvalidPayload Status = C.DRAIN_STATUS_INVALID_PAYLOAD
	// StatusHeld: [Begin] found another drain active; carried by a [*LeaseError] naming
	// the holder. Nothing was written.
	StatusHeld Status = C.DRAIN_STATUS_HELD
	// StatusLost: the marker no longer carries the lease's token ([Lease.KeepAlive],
	// [Lease.Lost]); carried by a [*LeaseError] naming who holds the drain now.
	StatusLost Status = C.DRAIN_STATUS_LOST
	// StatusBusy: a lease operation waited 5 s for the writers' lock beside the marker,
	// which other writers kept taken all along; carried by a [*LeaseError]. Nothing was
	// written.
	StatusBusy Status = C.DRAIN_STATUS_BUSY
	// StatusInvalidToken: [Resume] was given a token that is not 32 lower-case
	// hexadecimal digits; carried by a [*LeaseError].
	StatusInvalidToken Status = C.DRAIN_STATUS_INVALID_TOKEN
)

// Error returns the library's message for s (drain_status_message), which is static
// text; unknown values get the library's text for an unknown status.
func (s Status) Error() string {
	return C.GoString(C.drain_status_message(C.uint32_t(s)))
}

// String is the same text as [Status.Error].
func (s Status) String() string {
	return s.Error()
}

// StatusError is a failure of a library call other than a failed write or clear (those
// are a [*MarkerError]): the operation, the status and the library's message for it.
type StatusError struct {
	// Op names the operation: "write", "clear", "read", "classify", ...
	Op string
	// Status is the code the C ABI returned.
	Status Status
	// Message is drain_status_message(Status).
	Message string
}

// Error describes the failure, e.g. "draincontrol: write: <message> (status 2)".
func (e *StatusError) Error() string {
	return "draincontrol: " + e.Op + ": " + e.Message + " (status " + strconv.FormatUint(uint64(e.Status), 10) + ")"
}

// Unwrap returns the [Status], so errors.Is(err, StatusInvalidUTF8) works.
func (e *StatusError) Unwrap() error {
	return e.Status
}

func statusError(op string, st C.drain_status) *StatusError {
	s := Status(st)
	return &StatusError{Op: op, Status: s, Message: s.Error()}
}

// MarkerError is the error of a [Write], a [Clear] or a lease operation ([Begin],
// [Lease.KeepAlive], [Lease.Release]) that failed at one of its steps: which marker,
// which step, on which path, and why. Unwrap gives what failed:
//
//   - for an I/O failure, an [*fs.PathError] whose Op is the step ("create_home",
//     "follow_link", "create_temp", "keep_mode", "write_temp", "sync_temp", "rename",
//     "sync_folder", "remove", or "lock" for the writers' lock file a lease operation
//     takes first), whose Path is the path the failing call acted on (the home folder,
//     the temporary file beside the marker, the marker or the file its link points to,
//     the marker's folder, or the lock file), and whose Err is the [syscall.Errno]
//     (EIO when the OS gave none); so errors.As(err, &pathErr) and errors.Is(err,
//     fs.ErrPermission) work as for any file operation;
//   - for a payload [Write] refused before touching the disk, [StatusInvalidPayload]
//     (Step "check_payload"); the message names the argument and the limit.
type MarkerError struct {
	// Op is the operation: "write", "clear", "begin", "keep_alive" or "release".
	Op string
	// Marker is the marker path the call was for: <home>/.drain_request.json.
	Marker string
	// Step is the step that failed, by its stable name (the same in every binding):
	// "check_payload" for a refused payload, else the Op of the *fs.PathError.
	Step string
	// MarkerUntouched tells whether the old marker (or its absence) is as it was: true
	// for a failure at any step before the rename (or the removal); false only for
	// "sync_folder", when the new marker is already in place (or the marker already
	// gone) and only flushing the folder failed. No temporary file is left either way.
	MarkerUntouched bool
	// Message is the library's description, the same text in every binding, such as
	// `drain marker "/h/.drain_request.json": creating a temporary file
	// "/h/..drain_request_0.tmp": Permission denied (os error 13)`.
	Message string
	// Err is the *fs.PathError of an I/O failure, or [StatusInvalidPayload].
	Err error
}

// Error returns "draincontrol: <op>: " followed by [MarkerError.Message].
func (e *MarkerError) Error() string {
	return "draincontrol: " + e.Op + ": " + e.Message
}

// Unwrap returns [MarkerError.Err]: the *fs.PathError, or [StatusInvalidPayload].
func (e *MarkerError) Unwrap() error {
	return e.Err
}

// markerError turns the status of a write, a clear or a lease operation into an error:
// a failure at one of its steps becomes a *MarkerError, from what the library wrote to
// failure.
func markerError(op, home string, st C.drain_status, failure *C.drain_error) error {
	switch Status(st) {
	case StatusOK:
		return nil
	case StatusIOError, StatusInvalidPayload:
	default:
		return statusError(op, st)
	}
	step := C.GoString(C.drain_step_name(C.uint32_t(failure.step)))
	marker, message := failureTexts(home, failure)
	err := &MarkerError{
		Op:              op,
		Marker:          marker,
		Step:            step,
		MarkerUntouched: bool(failure.marker_untouched),
		Message:         message,
		Err:             StatusInvalidPayload,
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

// failureTexts returns the marker path and the message of a drain_error, whole: a
// marker path cut to fit is resolved again, a cut message ends in "...".
func failureTexts(home string, failure *C.drain_error) (marker, message string) {
	marker = errorText(&failure.marker[0], failure.marker_len, C.DRAIN_ERROR_PATH_CAPACITY)
	if uint64(failure.marker_len) >= C.DRAIN_ERROR_PATH_CAPACITY {
		marker = MarkerPath(home) // cut to fit; this gives it whole
	}
	message = errorText(&failure.message[0], failure.message_len, C.DRAIN_ERROR_MESSAGE_CAPACITY)
	if uint64(failure.message_len) >= C.DRAIN_ERROR_MESSAGE_CAPACITY {
		message += "..."
	}
	return marker, message
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
