package faultinject

import (
	"fmt"
	"time"

	"google.golang.org/grpc/codes"

	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// Kind says what an [Event] reports.
type Kind int

// The kinds of events.
const (
	// KindAbort: a call was failed with Event.Code before its handler ran.
	KindAbort Kind = iota + 1
	// KindDelay: a call was held for Event.Delay before its handler ran.
	KindDelay
	// KindStreamAbort: a call was failed with Event.Code after
	// Event.Messages messages had passed (for a unary call: after its
	// handler ran).
	KindStreamAbort
	// KindSkipped: a fault was not injected because the cap of
	// WithMaxActiveFaults was reached.
	KindSkipped
	// KindHeaderRejected: a fault-control header had a malformed value,
	// quoted in Event.Detail; it was ignored.
	KindHeaderRejected
	// KindConnRefuse: a Listener closed a connection as soon as it was
	// accepted.
	KindConnRefuse
	// KindConnReset: a Listener reset a connection as soon as it was
	// accepted.
	KindConnReset
	// KindConnDelay: a Listener held a connection's first bytes for
	// Event.Delay.
	KindConnDelay
	// KindConnCut: a Listener closed a connection after Event.Bytes bytes.
	KindConnCut
)

var kindNames = [...]string{
	KindAbort:          "abort",
	KindDelay:          "delay",
	KindStreamAbort:    "stream-abort",
	KindSkipped:        "skipped",
	KindHeaderRejected: "header-rejected",
	KindConnRefuse:     "conn-refuse",
	KindConnReset:      "conn-reset",
	KindConnDelay:      "conn-delay",
	KindConnCut:        "conn-cut",
}

// String returns the kind's name, such as "abort" or "conn-cut".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event reports one fault injected, skipped or rejected. Fields that do not
// apply to the kind are zero.
type Event struct {
	Kind Kind
	// Method is the full method name of the call ("/pkg.Service/Method");
	// empty for connection faults.
	Method string
	// Seq is the sequence number of the call (or connection) in the
	// Injector (or Listener), from 1: the number a seed's decisions are
	// keyed on.
	Seq uint64
	// Attempt is the call's attempt number: 1 plus the
	// grpc-previous-rpc-attempts header a retrying client sends.
	Attempt int
	// Rule is the index of the rule that caused the fault, or -1 for a
	// fault asked for by request headers or a connection fault.
	Rule int
	// Code is the status code of an abort.
	Code codes.Code
	// Delay is the length of a delay.
	Delay time.Duration
	// Messages is how many messages passed before a stream abort.
	Messages int
	// Bytes is how many bytes passed before a connection was cut.
	Bytes int64
	// Detail is a human-readable note: the rejected header and value, or the
	// connection's remote address.
	Detail string
}

// String formats the event in one line for logs, such as
// "abort UNAVAILABLE /routeguide.RouteGuide/GetFeature seq=7 attempt=1 rule=0".
func (e Event) String() string {
	s := e.Kind.String()
	switch e.Kind {
	case KindAbort, KindStreamAbort:
		s += " " + rstatus.Name(e.Code)
	case KindDelay, KindConnDelay:
		s += " " + e.Delay.String()
	}
	if e.Method != "" {
		s += " " + e.Method
	}
	s += fmt.Sprintf(" seq=%d", e.Seq)
	if e.Attempt > 0 {
		s += fmt.Sprintf(" attempt=%d", e.Attempt)
	}
	if e.Kind == KindStreamAbort {
		s += fmt.Sprintf(" messages=%d", e.Messages)
	}
	if e.Kind == KindConnCut {
		s += fmt.Sprintf(" bytes=%d", e.Bytes)
	}
	if e.Rule >= 0 && e.Kind != KindHeaderRejected && e.Method != "" {
		s += fmt.Sprintf(" rule=%d", e.Rule)
	}
	if e.Detail != "" {
		s += " " + e.Detail
	}
	return s
}
