// Package cli holds what the project's commands share: bad input as a
// [UsageError], which exits with status 2, the one-line report of the
// error a command ends with, and a server's life until its graceful stop
// ([Serve]) with its log lines kept whole ([LineWriter]).
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// UsageError is bad input to a command (a flag, a spec, a file it names):
// exit status 2.
type UsageError struct{ Err error }

// Error returns the message of the wrapped error.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message; %w wraps as in
// fmt.Errorf.
func Usagef(format string, args ...any) error {
	return UsageError{fmt.Errorf(format, args...)}
}

// ExitCode reports err on stderr as one line, "name: message", and returns
// the exit status: 0 for nil (nothing is printed), 2 for a UsageError, 1 for
// any other error.
func ExitCode(name string, err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, OneLine(err.Error()))
	if errors.As(err, new(UsageError)) {
		return 2
	}
	return 1
}

// OneLine joins the lines of s, and collapses its runs of white space, into
// one line.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
