package main

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// wrongDataCode is the name under which Row.Codes counts calls that ended
// OK with the wrong data.
const wrongDataCode = "WRONG_DATA"

// maxLatencySamples bounds the latencies a row keeps: up to this many, every
// call's latency is kept and the quantiles are exact; past it, a uniform
// sample of this size is kept (reservoir sampling), so that a long --duration
// run needs no more memory than a short one.
const maxLatencySamples = 1 << 20

// rowStats gathers a row's figures call by call, in memory bounded by
// maxLatencySamples whatever the number of calls. It is safe for concurrent
// use.
type rowStats struct {
	mu    sync.Mutex
	row   report.Row
	lat   []time.Duration // all latencies, or a uniform sample of them
	sum   time.Duration
	seen  int // latencies offered to the sample
	limit int // the sample's size: maxLatencySamples
	rng   *rand.Rand
	// reran and wrongReran count calls whose handler ran more than once,
	// and those of them with wrong data; known tells that the server's
	// counts were read.
	reran, wrongReran int
	known             bool
}

// newRowStats starts a row; seed makes the latency sample repeatable.
func newRowStats(k kind, policy string, seed uint64) *rowStats {
	return &rowStats{
		row: report.Row{
			Kind: k.name, Method: k.method, Policy: policy,
			Codes: map[string]int{}, AttemptCodes: map[string]int{}, Stops: map[string]int{},
			AttemptsHistogram: []int{},
		},
		limit: maxLatencySamples,
		rng:   rand.New(rand.NewPCG(seed, 0x6772706363686173)),
	}
}

// add counts one call; runs is how often the server ran its handler, or -1
// when unknown.
func (s *rowStats) add(r callResult, runs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	row := &s.row
	row.Calls++
	s.sum += r.latency
	s.sample(r.latency)
	row.Attempts += r.attempts
	for len(row.AttemptsHistogram) < r.attempts {
		row.AttemptsHistogram = append(row.AttemptsHistogram, 0)
	}
	row.AttemptsHistogram[r.attempts-1]++
	for _, c := range r.attemptCodes {
		row.AttemptCodes[rstatus.Name(c)]++
	}
	switch {
	case r.wrong:
		row.WrongData++
		row.Codes[wrongDataCode]++
	case r.code == codes.OK:
		row.OK++
		row.Codes[rstatus.Name(codes.OK)]++
	default:
		row.Codes[rstatus.Name(r.code)]++
		if r.stop != "" {
			row.Stops[r.stop]++
		}
	}
	if runs >= 0 {
		s.known = true
		if runs > 1 {
			s.reran++
			if r.wrong {
				s.wrongReran++
			}
		}
	}
}

// sample keeps d: always while there is room, then with the probability
// that keeps the sample uniform (Vitter's algorithm R).
func (s *rowStats) sample(d time.Duration) {
	s.seen++
	if len(s.lat) < s.limit {
		s.lat = append(s.lat, d)
		return
	}
	if i := s.rng.IntN(s.seen); i < s.limit {
		s.lat[i] = d
	}
}

// result returns the row's figures.
func (s *rowStats) result() report.Row {
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.row
	if row.Calls > 0 {
		row.SuccessRate = float64(row.OK) / float64(row.Calls)
		row.AttemptsPerCall = float64(row.Attempts) / float64(row.Calls)
		row.LatencyMs.Mean = ms(s.sum) / float64(row.Calls)
	}
	if s.known {
		reran, wrong := s.reran, s.wrongReran
		row.Reran, row.WrongDataReran = &reran, &wrong
	}
	lat := slices.Clone(s.lat)
	slices.Sort(lat)
	row.LatencyQuantilesMs = make([]float64, 101)
	for i := range row.LatencyQuantilesMs {
		row.LatencyQuantilesMs[i] = ms(quantile(lat, float64(i)/100))
	}
	row.LatencyMs.P50 = row.LatencyQuantilesMs[50]
	row.LatencyMs.P95 = row.LatencyQuantilesMs[95]
	row.LatencyMs.P99 = row.LatencyQuantilesMs[99]
	row.LatencyMs.Max = row.LatencyQuantilesMs[100]
	return row
}

// quantile returns the q-quantile of sorted by nearest rank: the smallest
// value with at least q of the values at or below it; 0 for no values.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999) // ceil, forgiving float error
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// countList renders counts as "OK 801, UNAVAILABLE 199": largest first,
// then by name; "-" when empty.
func countList(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	if len(kvs) == 0 {
		return "-"
	}
	slices.SortFunc(kvs, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		return strings.Compare(a.k, b.k)
	})
	parts := make([]string, len(kvs))
	for i, e := range kvs {
		parts[i] = e.k + " " + strconv.Itoa(e.v)
	}
	return strings.Join(parts, ", ")
}
