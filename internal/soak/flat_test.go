package soak

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// sample is one reading of the process during the soak.
type sample struct {
	at time.Duration // since the workers started
	// heap is runtime.MemStats.HeapAlloc right after a runtime.GC: the
	// live heap, plus what the running calls allocated since the GC ended.
	heap uint64
	// inuse is HeapInuse at the same time: spans holding objects, which
	// also shows fragmentation.
	inuse      uint64
	goroutines int
	calls      int64         // calls finished by then
	gc         time.Duration // how long the forced GC and the reading took
}

// takeSample collects garbage and reads the heap and goroutine counts.
func takeSample(start time.Time, calls int64) sample {
	t0 := time.Now()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	now := time.Now()
	return sample{at: now.Sub(start), heap: ms.HeapAlloc, inuse: ms.HeapInuse, goroutines: runtime.NumGoroutine(), calls: calls, gc: now.Sub(t0)}
}

// sampleInterval spreads about 24 samples over the soak, but never samples
// more often than every 250ms (a forced GC each time would slow the calls
// it measures) nor less often than every 5s.
func sampleInterval(d time.Duration) time.Duration {
	return min(max(d/24, 250*time.Millisecond), 5*time.Second)
}

// sampler takes a sample every interval from the start, up to the soak's
// end (stopAt): after it the workers run down, and samples of that would
// show a fall that hides a rise. A sample that comes late (a slow forced GC
// on a busy machine) does not cost the next one, which is then taken at
// once: every soak gets all its samples.
type sampler struct {
	stop, done chan struct{}
	samples    []sample
}

func startSampler(start, stopAt time.Time, every time.Duration, finished *atomic.Int64) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		timer := time.NewTimer(every)
		defer timer.Stop()
		for k := 1; ; k++ {
			next := start.Add(time.Duration(k) * every)
			if next.After(stopAt) {
				return
			}
			timer.Reset(time.Until(next))
			select {
			case <-s.stop:
				return
			case <-timer.C:
				s.samples = append(s.samples, takeSample(start, finished.Load()))
			}
		}
	}()
	return s
}

// finish stops sampling and returns the samples.
func (s *sampler) finish() []sample {
	close(s.stop)
	<-s.done
	return s.samples
}

// limits say how flat is flat.
type limits struct {
	// warmup is the share of samples, from the start, left out: connection
	// set-up, pools and caches filling, the throttle settling.
	warmup float64
	// minSamples is how many samples after the warm-up a verdict needs.
	minSamples int
	// The median of the last third of the samples after the warm-up may
	// exceed the median of the first third by share of the latter, or by
	// floor, whichever is larger.
	heapShare, heapFloor           float64
	goroutineShare, goroutineFloor float64
	// idleSlack is how many goroutines more than before the workers
	// started may still run once they stopped and every call ended.
	idleSlack int
}

// soakLimits are the soak's thresholds, chosen to hold on a busy 2-core
// machine under -race while still catching a per-call leak. The figures
// quoted are from runs of this soak on such a machine.
//
//   - Heap, 25% or 2 MiB. After a GC the soak's heap is about 1.2 MiB
//     without -race and 2–3.5 MiB with it, so the floor is what applies.
//     Single samples swing by up to about 0.8 MiB: the connections up at
//     that instant (grpc-go's transport buffers, both ends in this
//     process), the calls in flight, sync.Pool contents that survive one
//     GC, and what the workers allocate between the sampler's GC and its
//     ReadMemStats. Medians of a third of the samples move by at most
//     about 0.5 MiB between the first and last third. A leak of 1 KiB per
//     call is caught once about 2,000 calls (2 MiB / 1 KiB) finish between
//     the two thirds; a 2-minute soak finishes tens of thousands there, and
//     the report prints the smallest per-call leak each run would have
//     caught. A 3-second smoke run catches a few KiB per call: enough to
//     prove the machinery in CI, which TestLeakIsCaught does.
//   - Goroutines, 25% or 32. The count, about 55 during the soak, moves
//     with the calls in flight (up to 8, each with up to three hedged
//     attempts and a server handler, a few goroutines apiece) and with the
//     connections up (a few goroutines per transport, client and server):
//     single samples by about ±8, medians by about ±3. A leak of one
//     goroutine per call adds thousands; one per 100 calls, tens per
//     second.
//   - Idle, 40 goroutines: once the workers stopped and every call ended,
//     only the connections' goroutines remain (33–37 in all, before and
//     after), and each of the 4 connections may be up where it was idle
//     before the run, or the reverse, a handful of goroutines each with
//     both ends in this process.
var soakLimits = limits{
	warmup:         1.0 / 6,
	minSamples:     6,
	heapShare:      0.25,
	heapFloor:      2 << 20,
	goroutineShare: 0.25,
	goroutineFloor: 32,
	idleSlack:      40,
}

// trend compares the start and the end of a series.
type trend struct {
	first, last float64 // medians of the first and last thirds after the warm-up
	growth      float64 // last − first
	limit       float64 // the most growth allowed
	slope       float64 // least-squares slope per second, over every sample after the warm-up
}

func (t trend) ok() bool { return t.growth <= t.limit }

// flatness is the verdict on a soak's samples.
type flatness struct {
	used                           int     // samples after the warm-up
	heap, goroutines               trend   // both in their units (bytes, goroutines)
	callsBetween                   float64 // calls finished between the first and last thirds
	problems                       []string
	heapFlagged, goroutinesFlagged bool
}

// checkFlat decides whether heap and goroutines stayed flat over samples.
func checkFlat(samples []sample, lim limits) flatness {
	var f flatness
	skip := int(math.Ceil(float64(len(samples)) * lim.warmup))
	steady := samples[min(skip, len(samples)):]
	f.used = len(steady)
	if len(steady) < lim.minSamples {
		f.problems = append(f.problems, fmt.Sprintf("%d samples after the warm-up, want at least %d: the soak was too short for a verdict", len(steady), lim.minSamples))
		return f
	}
	third := len(steady) / 3
	head, tail := steady[:third], steady[len(steady)-third:]
	series := func(s []sample, v func(sample) float64) []float64 {
		out := make([]float64, len(s))
		for i := range s {
			out[i] = v(s[i])
		}
		return out
	}
	heapOf := func(s sample) float64 { return float64(s.heap) }
	gorOf := func(s sample) float64 { return float64(s.goroutines) }
	mk := func(v func(sample) float64, share, floor float64) trend {
		t := trend{first: median(series(head, v)), last: median(series(tail, v))}
		t.growth = t.last - t.first
		t.limit = max(share*t.first, floor)
		t.slope = slope(steady, v)
		return t
	}
	f.heap = mk(heapOf, lim.heapShare, lim.heapFloor)
	f.goroutines = mk(gorOf, lim.goroutineShare, lim.goroutineFloor)
	callsOf := func(s sample) float64 { return float64(s.calls) }
	f.callsBetween = mean(series(tail, callsOf)) - mean(series(head, callsOf))
	if !f.heap.ok() {
		f.heapFlagged = true
		f.problems = append(f.problems, fmt.Sprintf("heap grew from %.0f KiB to %.0f KiB (medians of the first and last thirds after the warm-up): +%.0f KiB, over the limit of %.0f KiB",
			f.heap.first/1024, f.heap.last/1024, f.heap.growth/1024, f.heap.limit/1024))
	}
	if !f.goroutines.ok() {
		f.goroutinesFlagged = true
		f.problems = append(f.problems, fmt.Sprintf("goroutines grew from %.0f to %.0f (medians of the first and last thirds after the warm-up): +%.0f, over the limit of %.0f",
			f.goroutines.first, f.goroutines.last, f.goroutines.growth, f.goroutines.limit))
	}
	return f
}

// detectable is the smallest leak per call, in bytes, that would have
// grown the heap past its limit in this run; +Inf without calls.
func (f flatness) detectable() float64 {
	if f.callsBetween <= 0 {
		return math.Inf(1)
	}
	return f.heap.limit / f.callsBetween
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func mean(v []float64) float64 {
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// slope is the least-squares slope of v over the samples' times, per
// second; 0 with fewer than two distinct times.
func slope(s []sample, v func(sample) float64) float64 {
	n := float64(len(s))
	var sx, sy, sxx, sxy float64
	for _, p := range s {
		x, y := p.at.Seconds(), v(p)
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	d := n*sxx - sx*sx
	if n < 2 || d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// series builds n synthetic samples one second apart, with calls at
// 1000/s, from functions of the sample's index.
func synthetic(n int, heap func(i int) float64, goroutines func(i int) int) []sample {
	out := make([]sample, n)
	for i := range out {
		out[i] = sample{at: time.Duration(i+1) * time.Second, heap: uint64(heap(i)), goroutines: goroutines(i), calls: int64(i+1) * 1000}
	}
	return out
}

func TestCheckFlat(t *testing.T) {
	const mib = 1 << 20
	flatHeap := func(int) float64 { return 10 * mib }
	flatG := func(int) int { return 80 }
	tests := []struct {
		name                  string
		samples               []sample
		heapFlagged, gFlagged bool
		tooFew                bool
	}{
		{name: "flat", samples: synthetic(24, flatHeap, flatG)},
		{
			name: "noisy but flat",
			samples: synthetic(24,
				func(i int) float64 { return 10*mib + float64(i%3-1)*1.5*mib },
				func(i int) int { return 80 + (i%5-2)*12 }),
		},
		{
			name: "warm-up growth, then flat",
			samples: synthetic(24,
				func(i int) float64 { return float64(min(i, 3)+1) * 3 * mib },
				func(i int) int { return 20 + 20*min(i, 3) }),
		},
		{
			name: "spikes in the last third",
			samples: synthetic(24,
				func(i int) float64 { return 10*mib + float64(i/23)*30*mib },
				func(i int) int { return 80 + (i/22)*500 }),
		},
		{name: "shrinking", samples: synthetic(24, func(i int) float64 { return float64(40-i) * mib }, func(i int) int { return 200 - 5*i })},
		{
			// 1 KiB per call at 1000 calls/s.
			name:        "1 KiB kept per call",
			samples:     synthetic(24, func(i int) float64 { return 10*mib + float64((i+1)*1000*1024) }, flatG),
			heapFlagged: true,
		},
		{
			// One goroutine per 100 calls, 10 per second.
			name:     "goroutines leaking slowly",
			samples:  synthetic(24, flatHeap, func(i int) int { return 80 + 10*i }),
			gFlagged: true,
		},
		{name: "too few samples", samples: synthetic(6, flatHeap, flatG), tooFew: true},
		{name: "no samples", tooFew: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := checkFlat(tt.samples, soakLimits)
			if f.heapFlagged != tt.heapFlagged || f.goroutinesFlagged != tt.gFlagged {
				t.Errorf("checkFlat() heap flagged, goroutines flagged = %v, %v, want %v, %v (problems %q)", f.heapFlagged, f.goroutinesFlagged, tt.heapFlagged, tt.gFlagged, f.problems)
			}
			if tooFew := len(f.problems) > 0 && !f.heapFlagged && !f.goroutinesFlagged; tooFew != tt.tooFew {
				t.Errorf("checkFlat() problems = %q, want a too-few-samples problem: %v", f.problems, tt.tooFew)
			}
		})
	}
}

func TestSlope(t *testing.T) {
	tests := []struct {
		name string
		v    func(i int) float64
		want float64
	}{
		{"flat", func(int) float64 { return 7 }, 0},
		{"1 KiB per second", func(i int) float64 { return 5000 + 1024*float64(i) }, 1024},
		{"falling", func(i int) float64 { return 100 - 2*float64(i) }, -2},
	}
	for _, tt := range tests {
		s := synthetic(10, tt.v, func(int) int { return 0 })
		if got := slope(s, func(s sample) float64 { return float64(s.heap) }); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("slope(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSampleInterval(t *testing.T) {
	tests := []struct{ d, want time.Duration }{
		{3 * time.Second, 250 * time.Millisecond},
		{20 * time.Second, 833333333 * time.Nanosecond},
		{2 * time.Minute, 5 * time.Second},
		{30 * time.Minute, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := sampleInterval(tt.d); got != tt.want {
			t.Errorf("sampleInterval(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}
