package draincontrol

/*
#include "drain_control.h"
*/
import "C"

import (
	"errors"
	"strconv"
)

// ErrNUL is wrapped by the error returned when a home, principal or epoch argument
// holds a NUL byte, which a C string cannot carry. Test with errors.Is.
var ErrNUL = errors.New("contains a NUL byte")

// Status is a status code of the C ABI (drain_status). Values are never reused: a
// retired status keeps its number. A Status is an error, so
// errors.Is(err, StatusInvalidUTF8) tells what a [*StatusError] carries.
type Status uint32

// The status codes of the C ABI.
const (
	// StatusOK: success. Never carried by an error.
	StatusOK Status = 0
	// StatusNullArgument: a required pointer was NULL (a bug in this package if seen).
	StatusNullArgument Status = 1
	// StatusInvalidUTF8: a principal or epoch argument is not UTF-8; nothing was written.
	StatusInvalidUTF8 Status = 2
	// StatusBufferTooSmall: a text result did not fit (handled inside this package).
	StatusBufferTooSmall Status = 3
	// StatusIOError: the operating system refused; surfaces as an *fs.PathError.
	StatusIOError Status = 4
	// StatusPanic: the library caught a panic of its own; the call did nothing useful.
	StatusPanic Status = 5
	// StatusInvalidArgument: an argument had a value the library does not accept.
	StatusInvalidArgument Status = 6
	// StatusTimedOut: a watcher's wait ended without a change (handled inside this
	// package).
	StatusTimedOut Status = 7
	// StatusStopped: the watcher was stopped (handled inside this package: a closed
	// [Watcher] closes its channel).
	StatusStopped Status = 8
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

// StatusError is a failure of a library call other than an I/O error (those are
// *fs.PathError): the operation, the status and the library's message for it.
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
