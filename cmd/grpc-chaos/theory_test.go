package main

import (
	"bytes"
	"context"
	"math"
	"testing"
)

// Shares of the default plan's faults.
const (
	planUnavailable = 0.20 // UNAVAILABLE before the handler, every method
	planPartial     = 0.02 // INTERNAL after the first message, stream methods
	planAttempts    = 5    // of the manual, a6-retry and a6-hedge policies
)

// attemptOdds returns the odds that one attempt of kind fails after commit
// (never retried), fails UNAVAILABLE before the handler (retried), or
// succeeds. Of the plan's aborts the partial-stream rule is drawn first.
func attemptOdds(kind string) (partial, unavailable, ok float64) {
	if kind != "unary" {
		partial = planPartial
	}
	unavailable = (1 - partial) * planUnavailable
	return partial, unavailable, 1 - partial - unavailable
}

// theory returns the success rate and the mean attempts per call that the
// default plan predicts for kind under a policy of n attempts: a call
// succeeds if some attempt succeeds before a partial failure ends it and
// before n attempts failed UNAVAILABLE, so
//
//	success  = ok · (1 + u + … + u^(n-1))
//	attempts = 1 + u + … + u^(n-1)
func theory(kind string, n int) (success, attempts float64) {
	_, u, ok := attemptOdds(kind)
	for k := range n {
		attempts += math.Pow(u, float64(k))
	}
	return ok * attempts, attempts
}

// TestDefaultPlanAgreesWithTheory runs the default plan in process and
// checks every row against the theory above: success without retries ≈
// 1 − fault share, with 5 attempts ≈ 1 − share⁵ (less the partial-stream
// failures no client may retry), within 4.5 standard deviations of the
// binomial (about one false alarm in 150,000 per figure).
func TestDefaultPlanAgreesWithTheory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole default plan")
	}
	calls := 1000
	var stdout, stderr bytes.Buffer
	args := []string{"--json"}
	if err := run(context.Background(), args, &stdout, &stderr, nil); err != nil {
		t.Fatalf("run(%q) = %v; stderr:\n%s", args, err, stderr.String())
	}
	rep := decodeReport(t, stdout.String())
	if got, want := len(rep.Rows), len(kinds)*len(policyNames); got != want {
		t.Fatalf("run(%q) reported %d rows, want %d", args, got, want)
	}
	for _, k := range kinds {
		for _, pol := range policyNames {
			row := rowOf(t, rep, k.name, pol)
			n := planAttempts
			if pol == "none" {
				n = 1
			}
			wantSuccess, wantAttempts := theory(k.name, n)
			t.Logf("%-13s %-8s success %.4f (theory %.4f), attempts/call %.3f (theory %.3f), server %.3f, reran %d, wrong data %d",
				k.name, pol, row.SuccessRate, wantSuccess, row.AttemptsPerCall, wantAttempts, deref(row.ServerAttemptsPerCall), derefInt(row.Reran), row.WrongData)

			if row.Calls != calls {
				t.Errorf("%s/%s: Calls = %d, want %d", k.name, pol, row.Calls, calls)
			}
			sd := math.Sqrt(wantSuccess * (1 - wantSuccess) / float64(calls))
			if math.Abs(row.SuccessRate-wantSuccess) > 4.5*sd+0.5/float64(calls) {
				t.Errorf("%s/%s: success rate = %.4f, want %.4f ± %.4f (4.5σ)", k.name, pol, row.SuccessRate, wantSuccess, 4.5*sd)
			}
			// No policy may show the caller a duplicated or missing
			// message. Hedging runs a call's handler twice when two
			// hedges get past the faults side by side (more often on a
			// loaded machine); RouteChat stores every note, so the
			// winner may then answer with the loser's notes too. That
			// is the server's doing and is counted apart; any other
			// wrong data is the library's fault.
			if row.Reran == nil || row.WrongDataReran == nil {
				t.Fatalf("%s/%s: Reran = %v, WrongDataReran = %v; want the embedded server's counts", k.name, pol, row.Reran, row.WrongDataReran)
			}
			if row.WrongData != *row.WrongDataReran {
				t.Errorf("%s/%s: WrongData = %d, of which %d after the server reran the call; want every wrong answer explained by a rerun",
					k.name, pol, row.WrongData, *row.WrongDataReran)
			}
			if pol != "a6-hedge" && *row.Reran != 0 {
				t.Errorf("%s/%s: the server ran %d calls' handlers more than once, want 0: the plan's aborts come before the handler or after commit, so no retry reruns one",
					k.name, pol, *row.Reran)
			}
			if row.ServerAttempts == nil {
				t.Fatalf("%s/%s: ServerAttempts = nil, want the embedded server's count", k.name, pol)
			}
			switch pol {
			case "a6-hedge":
				// Hedges also go out on the hedging delay, so the server
				// sees more attempts than the retry theory says; every
				// one the client started reaches it, or was cancelled
				// first.
				if *row.ServerAttempts > row.Attempts || row.AttemptsPerCall < wantAttempts-0.1 {
					t.Errorf("%s/%s: attempts = %d client, %d server; want server ≤ client and ≥ %.3f per call",
						k.name, pol, row.Attempts, *row.ServerAttempts, wantAttempts)
				}
			default:
				// Variance of the attempts of one call is at most
				// u/(1−u)² ≈ 0.31.
				_, u, _ := attemptOdds(k.name)
				sdA := math.Sqrt(u / ((1 - u) * (1 - u)) / float64(calls))
				if math.Abs(row.AttemptsPerCall-wantAttempts) > 4.5*sdA {
					t.Errorf("%s/%s: attempts per call = %.3f, want %.3f ± %.3f", k.name, pol, row.AttemptsPerCall, wantAttempts, 4.5*sdA)
				}
				if *row.ServerAttempts != row.Attempts {
					t.Errorf("%s/%s: server saw %d attempts, client made %d; want equal (no hedges to cancel)", k.name, pol, *row.ServerAttempts, row.Attempts)
				}
			}
			sum := 0
			for _, c := range row.Codes {
				sum += c
			}
			if sum != row.Calls {
				t.Errorf("%s/%s: final codes %v add up to %d, want %d calls", k.name, pol, row.Codes, sum, row.Calls)
			}
			hist := 0
			for i, c := range row.AttemptsHistogram {
				hist += c
				if i >= n && c > 0 {
					t.Errorf("%s/%s: %d calls made %d attempts, want at most %d", k.name, pol, c, i+1, n)
				}
			}
			if hist != row.Calls {
				t.Errorf("%s/%s: attempts histogram %v adds up to %d, want %d calls", k.name, pol, row.AttemptsHistogram, hist, row.Calls)
			}
			attemptCodes := 0
			for _, c := range row.AttemptCodes {
				attemptCodes += c
			}
			if attemptCodes != row.Attempts {
				t.Errorf("%s/%s: attempt codes %v add up to %d, want %d attempts", k.name, pol, row.AttemptCodes, attemptCodes, row.Attempts)
			}
			if k.name != "unary" && pol != "none" && row.Codes["INTERNAL"] != row.Stops["committed"] {
				t.Errorf("%s/%s: %d calls failed INTERNAL but %d stopped as committed; want every partial-stream failure to stop the policy as committed",
					k.name, pol, row.Codes["INTERNAL"], row.Stops["committed"])
			}
		}
	}
}

func derefInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
