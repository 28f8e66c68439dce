package status

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Class says how a status code should be treated by a retrying client.
type Class int

const (
	// Success is the class of OK alone.
	Success Class = iota
	// Transient codes mean the call did not reach the server's application,
	// or failed in a way that a later attempt can fix; retrying is safe for
	// every method.
	Transient
	// Ambiguous codes mean the server may have acted on the call; retrying is
	// safe only for idempotent methods.
	Ambiguous
	// Permanent codes would repeat on retry, or mean the caller gave up.
	Permanent
)

// String returns the class name, e.g. "Transient".
func (c Class) String() string {
	switch c {
	case Success:
		return "Success"
	case Transient:
		return "Transient"
	case Ambiguous:
		return "Ambiguous"
	case Permanent:
		return "Permanent"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Info describes one gRPC status code.
type Info struct {
	// Code is the code itself.
	Code codes.Code
	// Name is the canonical upper-case name, e.g. "DEADLINE_EXCEEDED".
	Name string
	// Class is the code's retry class.
	Class Class
	// Reason says in one line why the code has its class.
	Reason string
	// GeneratedByGRPC reports whether the gRPC framework itself produces the
	// code (on the client or the server), rather than only applications.
	GeneratedByGRPC bool
}

// table holds the 17 codes in numeric order; index i describes code i.
var table = [...]Info{
	{codes.OK, "OK", Success, "the call succeeded", true},
	{codes.Canceled, "CANCELLED", Permanent, "the caller cancelled the call; retrying would override its decision", true},
	{codes.Unknown, "UNKNOWN", Ambiguous, "the server failed in an unknown way, possibly after acting on the call", true},
	{codes.InvalidArgument, "INVALID_ARGUMENT", Permanent, "the request is malformed; it fails the same way every time", false},
	{codes.DeadlineExceeded, "DEADLINE_EXCEEDED", Ambiguous, "the deadline passed, possibly after the server acted on the call", true},
	{codes.NotFound, "NOT_FOUND", Permanent, "the entity does not exist; a retry sees the same state", false},
	{codes.AlreadyExists, "ALREADY_EXISTS", Permanent, "the entity exists; a retry sees the same state", false},
	{codes.PermissionDenied, "PERMISSION_DENIED", Permanent, "the caller lacks permission; a retry is denied again", false},
	{codes.ResourceExhausted, "RESOURCE_EXHAUSTED", Ambiguous, "a quota or limit was hit, possibly after part of the work was done", true},
	{codes.FailedPrecondition, "FAILED_PRECONDITION", Permanent, "the system is not in the required state until someone changes it", false},
	{codes.Aborted, "ABORTED", Ambiguous, "a concurrency conflict aborted the call; retry at a higher level, and only if idempotent", false},
	{codes.OutOfRange, "OUT_OF_RANGE", Permanent, "the request is past the valid range; it fails the same way every time", false},
	{codes.Unimplemented, "UNIMPLEMENTED", Permanent, "the server does not implement the method", true},
	{codes.Internal, "INTERNAL", Ambiguous, "an invariant broke, possibly after the server acted on the call", true},
	{codes.Unavailable, "UNAVAILABLE", Transient, "the service could not be reached or refused the call; gRPC defines it as safe to retry", true},
	{codes.DataLoss, "DATA_LOSS", Permanent, "data was lost or corrupted; retrying cannot restore it", false},
	{codes.Unauthenticated, "UNAUTHENTICATED", Permanent, "credentials are missing or invalid; a retry presents the same ones", true},
}

// Codes returns a description of each of the 17 gRPC status codes, in
// numeric order. The slice is a fresh copy; changing it changes nothing here.
func Codes() []Info {
	out := make([]Info, len(table))
	copy(out, table[:])
	return out
}

// Lookup returns the description of c, and false when c is not one of the
// 17 defined codes.
func Lookup(c codes.Code) (Info, bool) {
	if int(c) >= len(table) {
		return Info{}, false
	}
	return table[c], true
}

// Classify returns the class of c. Codes outside 0..16 are Permanent: a code
// nobody defined gives no reason to believe a retry helps.
func Classify(c codes.Code) Class {
	if info, ok := Lookup(c); ok {
		return info.Class
	}
	return Permanent
}

// Retryable reports whether a failed call with code c may be retried by
// default: Transient codes for every method, Ambiguous codes only when the
// method is idempotent, never Success or Permanent codes.
//
// DEADLINE_EXCEEDED is Ambiguous, which is right for an attempt cut short by
// a per-attempt timeout; the caller's own expired deadline must be checked
// first and never retried.
func Retryable(c codes.Code, idempotent bool) bool {
	switch Classify(c) {
	case Transient:
		return true
	case Ambiguous:
		return idempotent
	}
	return false
}

// Name returns the canonical upper-case name of c, e.g. "UNAVAILABLE", as the
// gRPC service config spells it. A code outside 0..16 is named "CODE(n)".
func Name(c codes.Code) string {
	if info, ok := Lookup(c); ok {
		return info.Name
	}
	return "CODE(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// ParseCode parses a status code written as its name in any case
// ("UNAVAILABLE", "unavailable", "Unavailable", "deadline_exceeded"), as
// grpc-go's Code.String spelling ("DeadlineExceeded", "Canceled"), or as a
// decimal number from 0 to 16 ("14"). Case is that of ASCII letters alone,
// and underscores stand where the name has them. Anything else is an error
// that quotes the value: surrounding space, signs, leading zeros, moved or
// extra underscores ("DEADLINE_EXCEEDED_", "UN_AVAILABLE"), and non-ASCII
// letters that Unicode case mapping would turn into a name's ("unavaılable"
// with a dotless i).
func ParseCode(s string) (codes.Code, error) {
	if s == "" {
		return 0, errors.New("status code: empty value")
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil || n >= uint64(len(table)) || strconv.FormatUint(n, 10) != s {
			return 0, fmt.Errorf("status code %q: not a number from 0 to 16", s)
		}
		return codes.Code(n), nil
	}
	for _, info := range table {
		if equalFoldASCII(s, info.Name) || equalFoldASCII(s, info.Code.String()) {
			return info.Code, nil
		}
	}
	return 0, fmt.Errorf("status code %q: not a gRPC code name (such as UNAVAILABLE) or number (0 to 16)", s)
}

// equalFoldASCII reports whether s equals name with ASCII letters compared
// without regard to case; every other byte must match exactly. Unlike
// strings.EqualFold or strings.ToUpper it maps no non-ASCII letter to an
// ASCII one ("ı" and "ſ" to "I" and "S").
func equalFoldASCII(s, name string) bool {
	if len(s) != len(name) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if upperASCII(s[i]) != upperASCII(name[i]) {
			return false
		}
	}
	return true
}

func upperASCII(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - ('a' - 'A')
	}
	return b
}

// Code returns the gRPC status code carried by err: OK for nil; the code of a
// gRPC status error, also when wrapped (errors.As on GRPCStatus); DEADLINE_EXCEEDED
// or CANCELLED for context errors; UNKNOWN for anything else.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		if st := se.GRPCStatus(); st != nil {
			return st.Code()
		}
		return codes.Unknown
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Unknown
}
