package report_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/resilience-go/grpc-resilience/cmd/grpc-chaos/internal/report"
)

// fixtureCalls is the number of calls per row of a synthetic report.
const fixtureCalls = 2000

var fixtureMethods = map[string]string{
	"unary":         "/routeguide.RouteGuide/GetFeature",
	"server-stream": "/routeguide.RouteGuide/ListFeatures",
	"client-stream": "/routeguide.RouteGuide/RecordRoute",
	"bidi":          "/routeguide.RouteGuide/RouteChat",
}

var fixturePolicies = map[string]report.PolicyInfo{
	"none":     {Name: "none", Description: "no retries"},
	"manual":   {Name: "manual", Description: "4 retries, 10ms apart"},
	"a6-retry": {Name: "a6-retry", Description: "A6 retryPolicy: 5 attempts, backoff 10ms×2 up to 100ms", ServiceConfig: `{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],"retryPolicy":{"maxAttempts":5,"initialBackoff":"0.01s","maxBackoff":"0.1s","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]}`},
	"a6-hedge": {Name: "a6-hedge", Description: "A6 hedgingPolicy: 3 attempts, 20ms apart", ServiceConfig: `{"methodConfig":[{"name":[{"service":"routeguide.RouteGuide"}],"hedgingPolicy":{"maxAttempts":3,"hedgingDelay":"0.02s"}}]}`},
}

// syntheticReport returns a deterministic report over kinds and policies
// whose figures look like a run against a server failing 20% of attempts
// with UNAVAILABLE.
func syntheticReport(kinds, policies []string) *report.Report {
	rng := rand.New(rand.NewPCG(1, 2))
	r := &report.Report{
		Tool:      "grpc-chaos",
		Started:   time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		ElapsedMs: 12345.6,
		Plan: report.PlanInfo{
			Target:      "embedded",
			Faults:      "abort=UNAVAILABLE:20%;delay=5ms:10%",
			Seed:        ptr(uint64(42)),
			Calls:       fixtureCalls,
			Concurrency: 8,
			Timeout:     "1s",
			Kinds:       kinds,
		},
	}
	for _, p := range policies {
		r.Plan.Policies = append(r.Plan.Policies, fixturePolicies[p])
	}
	for ki, k := range kinds {
		base := 1.5 + float64(ki)*1.2
		for _, p := range policies {
			r.Rows = append(r.Rows, syntheticRow(rng, k, p, base))
		}
	}
	return r
}

func syntheticRow(rng *rand.Rand, kind, policy string, base float64) report.Row {
	const failRate = 0.2
	maxAttempts := map[string]int{"none": 1, "manual": 5, "a6-retry": 5, "a6-hedge": 3}[policy]
	row := report.Row{
		Kind:         kind,
		Method:       fixtureMethods[kind],
		Policy:       policy,
		Calls:        fixtureCalls,
		Codes:        map[string]int{},
		AttemptCodes: map[string]int{},
		Stops:        map[string]int{},
	}
	latencies := make([]float64, fixtureCalls)
	hist := make([]int, maxAttempts)
	for c := range fixtureCalls {
		lat := 0.0
		attempts := 0
		ok := false
		for attempts < maxAttempts {
			attempts++
			lat += base * math.Exp(rng.NormFloat64()*0.4)
			if rng.Float64() > failRate {
				ok = true
				row.AttemptCodes["OK"]++
				break
			}
			row.AttemptCodes["UNAVAILABLE"]++
			switch policy {
			case "manual":
				lat += 10
			case "a6-retry":
				lat += math.Min(10*math.Pow(2, float64(attempts-1)), 100) * (0.8 + 0.4*rng.Float64())
			}
		}
		if policy == "a6-hedge" && attempts > 1 {
			lat = base*math.Exp(rng.NormFloat64()*0.4) + 20*float64(attempts-1)
			row.AttemptCodes["CANCELLED"] += attempts - 1
		}
		latencies[c] = lat
		hist[attempts-1]++
		row.Attempts += attempts
		if ok {
			row.OK++
			row.Codes["OK"]++
		} else {
			row.Codes["UNAVAILABLE"]++
			if policy != "none" {
				row.Stops["exhausted"]++
			}
		}
	}
	row.SuccessRate = float64(row.OK) / float64(row.Calls)
	row.AttemptsPerCall = float64(row.Attempts) / float64(row.Calls)
	if kind != "bidi" { // one kind without server counters, as against a --target
		server := row.Attempts
		perCall := float64(server) / float64(row.Calls)
		row.ServerAttempts, row.ServerAttemptsPerCall = &server, &perCall
	}
	row.AttemptsHistogram = hist
	row.LatencyQuantilesMs = quantiles(latencies)
	q := row.LatencyQuantilesMs
	row.LatencyMs = report.Latency{P50: q[50], P95: q[95], P99: q[99], Max: q[100], Mean: mean(latencies)}
	row.ElapsedMs = 1000
	return row
}

// quantiles returns the 0th to 100th percentiles of xs by nearest rank.
func quantiles(xs []float64) []float64 {
	s := slices.Sorted(slices.Values(xs))
	q := make([]float64, 101)
	for i := range q {
		rank := int(math.Ceil(float64(i) / 100 * float64(len(s))))
		q[i] = s[max(rank-1, 0)]
	}
	return q
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
