package main

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

func TestQuantileNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0, 7 * time.Millisecond},
		{ms(7), 1, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond}, // rank ceil(2) = 2
		{ms(1, 2, 3, 4), 0.51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 0, 1 * time.Millisecond},
		{ms(1, 2, 3, 4), 1, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Millisecond},
	} {
		if got := quantile(tc.sorted, tc.q); got != tc.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", tc.sorted, tc.q, got, tc.want)
		}
	}
}

// TestRowStatsSample: past its limit a row keeps a uniform sample of the
// latencies, so memory stays bounded and the quantiles stay close.
func TestRowStatsSample(t *testing.T) {
	s := newRowStats(kinds[0], "none", 1)
	s.limit = 1000
	const n = 100_000
	for i := range n {
		// Latencies 1..n µs, in an order that is not sorted.
		v := (i*7919)%n + 1
		s.add(callResult{latency: time.Duration(v) * time.Microsecond, code: codes.OK, attempts: 1, attemptCodes: []codes.Code{codes.OK}}, -1)
	}
	if len(s.lat) != 1000 {
		t.Fatalf("kept %d latencies, want the limit, 1000", len(s.lat))
	}
	row := s.result()
	if row.Calls != n || row.OK != n || row.Reran != nil {
		t.Errorf("row: %d calls, %d OK, reran %v; want %d, %d, nil (unknown)", row.Calls, row.OK, row.Reran, n, n)
	}
	// A uniform sample of 1000: the median is within 5% of the range of
	// the true one (about 3 standard deviations).
	if p50, want := row.LatencyMs.P50, 50.0; p50 < want-5 || p50 > want+5 {
		t.Errorf("p50 = %.2fms, want %.0fms ± 5ms", p50, want)
	}
	if mean, want := row.LatencyMs.Mean, (n+1)/2.0/1000; mean < want-0.001 || mean > want+0.001 {
		t.Errorf("mean = %.4fms, want %.4fms: the mean counts every call", mean, want)
	}
}
