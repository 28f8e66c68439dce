package main

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
	rstatus "github.com/resilience-go/grpc-resilience/status"
)

// wrongDataCode is the name under which Row.Codes counts calls that ended
// OK with the wrong data.
const wrongDataCode = "WRONG_DATA"

// summarise turns a row's call results into its report row.
func summarise(k kind, policy string, rs []callResult) report.Row {
	row := report.Row{
		Kind: k.name, Method: k.method, Policy: policy, Calls: len(rs),
		Codes: map[string]int{}, AttemptCodes: map[string]int{}, Stops: map[string]int{},
	}
	lat := make([]time.Duration, 0, len(rs))
	var sum time.Duration
	for _, r := range rs {
		lat = append(lat, r.latency)
		sum += r.latency
		row.Attempts += r.attempts
		for len(row.AttemptsHistogram) < r.attempts {
			row.AttemptsHistogram = append(row.AttemptsHistogram, 0)
		}
		row.AttemptsHistogram[r.attempts-1]++
		for _, c := range r.attemptCodes {
			row.AttemptCodes[codeName(c)]++
		}
		switch {
		case r.wrong:
			row.WrongData++
			row.Codes[wrongDataCode]++
		case r.code == codes.OK:
			row.OK++
			row.Codes[codeName(codes.OK)]++
		default:
			row.Codes[codeName(r.code)]++
			if r.stop != "" {
				row.Stops[r.stop]++
			}
		}
	}
	if row.Calls > 0 {
		row.SuccessRate = float64(row.OK) / float64(row.Calls)
		row.AttemptsPerCall = float64(row.Attempts) / float64(row.Calls)
		row.LatencyMs.Mean = ms(sum) / float64(row.Calls)
	}
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

// codeName is a code's canonical upper-case name, "UNAVAILABLE".
func codeName(c codes.Code) string { return rstatus.Name(c) }

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
