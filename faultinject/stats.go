package faultinject

import (
	"sync/atomic"

	"google.golang.org/grpc/codes"
)

// Stats counts what an [Injector] did. Each counter is read atomically, but
// a snapshot taken while calls run is not one instant across counters.
type Stats struct {
	// Calls is the number of calls the injector saw, faulted or not.
	Calls uint64
	// Aborts is the number of calls failed on purpose, before or after
	// their handler ran; AbortsByCode splits it by status code (codes
	// never injected are absent).
	Aborts       uint64
	AbortsByCode map[codes.Code]uint64
	// StreamAborts is the part of Aborts that failed a call after
	// messages had passed (Abort.AfterMessages, or Abort.AfterRequests once
	// a request arrived).
	StreamAborts uint64
	// Delays is the number of calls delayed.
	Delays uint64
	// Skipped is the number of faults not injected because of the cap of
	// WithMaxActiveFaults.
	Skipped uint64
	// HeaderRejected is the number of malformed fault-control header
	// values ignored (see WithHeaderControl).
	HeaderRejected uint64
	// Active is the number of faulted calls in progress now.
	Active int64
}

// counters are the live, atomic form of Stats.
type counters struct {
	aborts         [codes.Unauthenticated + 1]atomic.Uint64
	streamAborts   atomic.Uint64
	delays         atomic.Uint64
	skipped        atomic.Uint64
	headerRejected atomic.Uint64
	active         atomic.Int64
}

// Stats returns a snapshot of the injector's counters. It is safe to call
// while the injector serves calls.
func (in *Injector) Stats() Stats {
	s := Stats{
		Calls:          in.seq.Load(),
		StreamAborts:   in.c.streamAborts.Load(),
		Delays:         in.c.delays.Load(),
		Skipped:        in.c.skipped.Load(),
		HeaderRejected: in.c.headerRejected.Load(),
		Active:         in.c.active.Load(),
		AbortsByCode:   map[codes.Code]uint64{},
	}
	for c := range in.c.aborts {
		if n := in.c.aborts[c].Load(); n > 0 {
			s.AbortsByCode[codes.Code(c)] = n
			s.Aborts += n
		}
	}
	return s
}
