package soak

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/resilience-go/grpc-resilience/retry"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// String renders the report as a compact table of figures.
func (r *report) String() string {
	var b strings.Builder
	c := r.cfg
	names := make([]string, len(modes))
	for i, m := range modes {
		names[i] = m.name
	}
	fmt.Fprintf(&b, "soak: %v (%s), seed %d, %d workers on %d connections (%s), call deadline %v, ran %v",
		c.duration, c.source, c.seed, c.workers, len(modes), strings.Join(names, ", "), c.callTimeout, r.elapsed.Round(time.Millisecond))
	if c.leak != (leak{}) {
		fmt.Fprintf(&b, ", deliberate leak per call: %d goroutines, %d bytes", c.leak.goroutines, c.leak.bytes)
	}
	b.WriteString("\n")
	if r.capped {
		fmt.Fprintf(&b, "soak: stopped early at the cap of %d calls\n", c.maxCalls)
	}
	fmt.Fprintf(&b, "faults: calls %q\n        connections %q\n", callFaults, connFaults)

	t := &r.tally
	fmt.Fprintf(&b, "%-13s %8s %8s %8s %8s %9s %8s\n", "kind", "calls", "ok", "errors", "partial", "attempts", "calls/s")
	var all [5]int64
	secs := r.elapsed.Seconds()
	for k := range numKinds {
		row := [5]int64{t.calls[k], t.ok[k], t.errByKind[k], t.partial[k], t.attempts[k]}
		fmt.Fprintf(&b, "%-13s %8d %8d %8d %8d %9d %8.0f\n", k, row[0], row[1], row[2], row[3], row[4], float64(row[0])/secs)
		for i := range row {
			all[i] += row[i]
		}
	}
	fmt.Fprintf(&b, "%-13s %8d %8d %8d %8d %9d %8.0f\n", "all", all[0], all[1], all[2], all[3], all[4], float64(all[0])/secs)
	if all[0] > 0 {
		fmt.Fprintf(&b, "ok %.1f%%, errors %.1f%%, attempts per call %.2f, longest call %v, %d calls more than %v past their deadline\n",
			100*float64(all[1])/float64(all[0]), 100*float64(all[2])/float64(all[0]), float64(all[4])/float64(all[0]),
			t.maxElapsed.Round(time.Millisecond), len(t.late), lateAfter)
	}
	fmt.Fprintf(&b, "process stalls (heartbeat gaps of %v or more): %d, %v in all", minStall, r.stalls, r.stalled.Round(time.Millisecond))
	if r.stalls > 0 {
		fmt.Fprintf(&b, ", longest %v ending at %v", r.longestStall.d.Round(time.Millisecond), r.longestStallAt.Round(time.Millisecond))
	}
	b.WriteString("\n")
	for _, l := range r.late {
		fmt.Fprintf(&b, "  late: %s\n", l)
	}
	fmt.Fprintf(&b, "%-13s %8s %8s %8s  %s\n", "mode", "calls", "ok", "errors", "errors by stop reason")
	for i, m := range modes {
		mt := &r.byMode[i]
		calls, ok := mt.total()
		var errs int64
		for _, n := range mt.errByKind {
			errs += n
		}
		fmt.Fprintf(&b, "%-13s %8d %8d %8d  %s\n", m.name, calls, ok, errs, counts(mt.byReason))
	}
	fmt.Fprintf(&b, "errors by code:        %s\n", counts(codeCounts(t.byCode)))
	fmt.Fprintf(&b, "errors by stop reason: %s\n", counts(t.byReason))
	fmt.Fprintf(&b, "library observer: %d attempts finished (%d retried), hedges %d started, %d won, %d cancelled\n",
		r.events[retry.AttemptDone], r.retries, r.events[retry.HedgeStarted], r.events[retry.HedgeWon], r.events[retry.HedgeCancelled])
	s := r.server
	fmt.Fprintf(&b, "server: %d attempts seen, %d aborted (%s), %d of them mid-stream, %d delayed; guard %d calls, %d panics\n",
		s.Calls, s.Aborts, counts(codeCounts(s.AbortsByCode)), s.StreamAborts, s.Delays, r.guard.Calls, r.guard.Panics)
	fmt.Fprintf(&b, "connections: %d accepted, %d reset, %d delayed, %d cut; at most %d open at once\n",
		r.conns.Accepted, r.conns.Reset, r.conns.Delayed, r.conns.Cut, r.peak)

	skip := int(math.Ceil(float64(len(r.samples)) * c.limits.warmup))
	fmt.Fprintf(&b, "samples every %v (* = warm-up, left out):\n", c.interval.Round(time.Millisecond))
	fmt.Fprintf(&b, "%9s %10s %10s %11s %9s %8s\n", "t", "heap KiB", "inuse KiB", "goroutines", "calls", "gc ms")
	for i, sm := range r.samples {
		mark := ""
		if i < skip {
			mark = " *"
		}
		fmt.Fprintf(&b, "%9s %10d %10d %11d %9d %8d%s\n", sm.at.Round(10*time.Millisecond), sm.heap>>10, sm.inuse>>10, sm.goroutines, sm.calls, sm.gc.Milliseconds(), mark)
	}
	f := r.flat
	if f.used >= c.limits.minSamples {
		fmt.Fprintf(&b, "heap:       first third %.0f KiB, last third %.0f KiB, growth %+.0f KiB (limit %.0f KiB), slope %+.2f KiB/s\n",
			f.heap.first/1024, f.heap.last/1024, f.heap.growth/1024, f.heap.limit/1024, f.heap.slope/1024)
		fmt.Fprintf(&b, "goroutines: first third %.1f, last third %.1f, growth %+.1f (limit %.0f), slope %+.3f/s\n",
			f.goroutines.first, f.goroutines.last, f.goroutines.growth, f.goroutines.limit, f.goroutines.slope)
		fmt.Fprintf(&b, "sensitivity: %.0f calls between the thirds: a leak of %s per call or more would have been caught\n",
			f.callsBetween, bytesText(f.detectable()))
	}
	fmt.Fprintf(&b, "idle goroutines: %d before the workers, %d after (limit %d)\n", r.idle[0], r.idle[1], r.idle[0]+c.limits.idleSlack)
	problems := r.problems()
	switch {
	case len(problems) == 0 && t.nFailures == 0:
		b.WriteString("verdict: PASS\n")
	default:
		fmt.Fprintf(&b, "verdict: FAIL: %d failed calls", t.nFailures)
		for _, p := range problems {
			fmt.Fprintf(&b, "; %s", p)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// codeCounts names codes.
func codeCounts[N int64 | uint64](m map[codes.Code]N) map[string]N {
	out := make(map[string]N, len(m))
	for c, n := range m {
		out[rstatus.Name(c)] += n
	}
	return out
}

// counts renders "A 10, B 3", most first; "none" for none.
func counts[N int64 | uint64](m map[string]N) string {
	type kv struct {
		k string
		v N
	}
	var kvs []kv
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	if len(kvs) == 0 {
		return "none"
	}
	slices.SortFunc(kvs, func(a, b kv) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return strings.Compare(a.k, b.k)
	})
	parts := make([]string, len(kvs))
	for i, e := range kvs {
		parts[i] = fmt.Sprintf("%s %d", e.k, e.v)
	}
	return strings.Join(parts, ", ")
}

// bytesText renders a byte count for people.
func bytesText(n float64) string {
	switch {
	case math.IsInf(n, 1):
		return "any size (no calls)"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}
