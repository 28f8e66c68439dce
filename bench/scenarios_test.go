package bench

import (
	"math"
	"slices"
	"testing"
	"time"
)

// The fault scenarios. Each is a benchmark run once (-benchtime 1x) whose
// figures are reported as metrics, named
// Benchmark<Scenario>/kind=<Kind>/client=<peer>; a client named
// "<peer>+throttle" or "<peer>+hedge" is the peer with throttling or
// hedging. A peer that cannot run a row (see peer.supports and
// peer.options) is skipped with the reason; BENCHMARKS.md shows it as such.

var (
	// flaky: 30% of attempts fail UNAVAILABLE before the handler; three
	// attempts per call. Theory: success 1 − 0.3^n for n attempts.
	flaky = scenario{
		spec:   "unavailable=30%",
		policy: policy{attempts: 3, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond},
		calls:  1000, concurrency: 8, timeout: 10 * time.Second,
	}
	flakyShare = 0.30

	// outage: every attempt fails UNAVAILABLE; five attempts per call
	// (grpc-go's cap), with or without A6 throttling.
	outage = scenario{
		spec:   "unavailable=100%",
		policy: policy{attempts: 5, backoff: time.Millisecond, maxBackoff: 4 * time.Millisecond},
		calls:  1000, concurrency: 8, timeout: 10 * time.Second,
	}

	// pushback: 30% of attempts fail UNAVAILABLE asking for a 200 ms wait
	// (grpc-retry-pushback-ms); the policy's own backoff is 1 ms.
	pushback = scenario{
		spec:   "unavailable=30%+pushback=200ms",
		policy: policy{attempts: 3, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond},
		calls:  100, concurrency: 8, timeout: 10 * time.Second,
	}
	pushbackWait = 200 * time.Millisecond

	// tail: 5% of attempts are held 50 ms before the handler; calls are
	// made one at a time. Hedging sends another attempt every 5 ms, up to
	// three.
	tail = scenario{
		spec:   "delay=50ms@5%",
		policy: policy{attempts: 3, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond},
		calls:  1000, concurrency: 1, timeout: 10 * time.Second,
	}
	tailHedge = 5 * time.Millisecond

	// replay: the first attempt of every client-streaming and bidi call
	// fails UNAVAILABLE before the server has answered anything, after its
	// handler received three of the call's five messages; the client must
	// send all five again.
	replay = scenario{
		spec: "/routeguide.RouteGuide/RecordRoute:first=1:unavailable+recv=3," +
			"/routeguide.RouteGuide/RouteChat:first=1:unavailable+recv=3",
		policy: policy{attempts: 3, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond},
		calls:  500, concurrency: 8, timeout: 10 * time.Second, msgs: 5,
	}

	// partial: every server-streaming and bidi call fails UNAVAILABLE after
	// the server sent its first response (after the request and that
	// response for ListFeatures; the five notes and the first echo for
	// RouteChat): the call is committed, and a correct client returns the
	// error after that message, without retry.
	partial = scenario{
		spec: "/routeguide.RouteGuide/ListFeatures:unavailable+after=2," +
			"/routeguide.RouteGuide/RouteChat:unavailable+after=6",
		policy: policy{attempts: 3, backoff: time.Millisecond, maxBackoff: 10 * time.Millisecond},
		calls:  500, concurrency: 8, timeout: 10 * time.Second, msgs: 5,
	}
)

// variant is a peer with a policy change, named "<peer><suffix>".
type variant struct {
	peer   peer
	suffix string
	change func(policy) policy
}

// policy returns base with v's change.
func (v variant) policy(base policy) policy {
	if v.change != nil {
		return v.change(base)
	}
	return base
}

// skipUnsupported skips b, with the reason, when v cannot make calls of
// kind k or cannot express p.
func (v variant) skipUnsupported(b *testing.B, k kind, p policy) {
	b.Helper()
	if ok, why := v.peer.supports(k); !ok {
		b.Skipf("%s: %s", v.peer.name, why)
	}
	if _, why := v.peer.options(b, p); why != "" {
		b.Skipf("%s: %s", v.peer.name, why)
	}
}

func plainVariants() []variant {
	vs := make([]variant, len(peers))
	for i, pr := range peers {
		vs[i] = variant{peer: pr}
	}
	return vs
}

func withThrottle(p policy) policy { p.throttle = true; return p }
func withHedge(p policy) policy    { p.hedge = tailHedge; return p }

// outageVariants are every peer, then every peer with throttling.
func outageVariants() []variant {
	vs := plainVariants()
	for _, pr := range peers[1:] { // plain never retries
		vs = append(vs, variant{peer: pr, suffix: "+throttle", change: withThrottle})
	}
	return vs
}

// tailVariants are every peer with its retry policy (retries do nothing
// for a slow answer), then every peer with hedging.
func tailVariants() []variant {
	vs := plainVariants()
	for _, pr := range peers[1:] {
		vs = append(vs, variant{peer: pr, suffix: "+hedge", change: withHedge})
	}
	return vs
}

// benchScenario runs sc for kinds with every variant, once per b.N, and
// reports the figures of the last run through report.
func benchScenario(b *testing.B, sc scenario, ks []kind, vs []variant, report func(b *testing.B, sc scenario, pr peer, res scenarioResult)) {
	for _, k := range ks {
		for _, v := range vs {
			b.Run("kind="+k.name+"/client="+v.peer.name+v.suffix, func(b *testing.B) {
				s := sc
				s.policy = v.policy(sc.policy)
				v.skipUnsupported(b, k, s.policy)
				var res scenarioResult
				for range b.N {
					res = runScenario(b, s, k, v.peer)
				}
				reportCommon(b, res)
				if report != nil {
					report(b, s, v.peer, res)
				}
			})
		}
	}
}

// reportCommon reports the figures of every scenario.
func reportCommon(b *testing.B, res scenarioResult) {
	b.ReportMetric(float64(res.calls), "calls")
	b.ReportMetric(pct(res.ok, res.calls), "success-%")
	b.ReportMetric(float64(res.serverAttempts)/float64(res.calls), "server-attempts/call")
	b.ReportMetric(float64(res.wrong), "wrong-calls")
	b.ReportMetric(float64(res.dup), "dup-calls")
	b.ReportMetric(quantileMs(res.latencies, 0.50), "p50-ms")
	b.ReportMetric(quantileMs(res.latencies, 0.99), "p99-ms")
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// BenchmarkFlaky: success rate and attempts under 30% UNAVAILABLE, with the
// binomial theory for the peer's attempts and its standard deviation.
func BenchmarkFlaky(b *testing.B) {
	benchScenario(b, flaky, kinds, plainVariants(), func(b *testing.B, sc scenario, pr peer, res scenarioResult) {
		n := sc.policy.attempts
		if pr.name == "plain" {
			n = 1
		}
		theory := 1 - math.Pow(flakyShare, float64(n))
		b.ReportMetric(100*theory, "theory-%")
		b.ReportMetric(100*math.Sqrt(theory*(1-theory)/float64(res.calls)), "sigma-%")
		b.ReportMetric(float64(n), "max-attempts")
	})
}

// BenchmarkOutage: retry amplification when every attempt fails.
func BenchmarkOutage(b *testing.B) {
	benchScenario(b, outage, kinds, outageVariants(), nil)
}

// BenchmarkPushback: whether the 200 ms the server asks for are waited.
func BenchmarkPushback(b *testing.B) {
	benchScenario(b, pushback, kinds, plainVariants(), func(b *testing.B, _ scenario, _ peer, res scenarioResult) {
		honoured := 0
		for _, w := range res.waits {
			if w >= pushbackWait {
				honoured++
			}
		}
		b.ReportMetric(float64(len(res.waits)), "retries")
		b.ReportMetric(pct(honoured, len(res.waits)), "honoured-%")
		if len(res.waits) > 0 {
			b.ReportMetric(float64(slices.Min(res.waits))/float64(time.Millisecond), "min-wait-ms")
		}
	})
}

// BenchmarkTail: p50 and p99 when 5% of attempts are slow, with retries
// and with hedging. Calls are made one at a time.
func BenchmarkTail(b *testing.B) {
	benchScenario(b, tail, kinds, tailVariants(), nil)
}

// BenchmarkReplay: client-streaming and bidi calls whose first attempt
// fails before commit: success, and the messages sent again.
func BenchmarkReplay(b *testing.B) {
	benchScenario(b, replay, []kind{clientStream, bidi}, plainVariants(), func(b *testing.B, _ scenario, _ peer, res scenarioResult) {
		b.ReportMetric(float64(res.replayed)/float64(res.calls), "replayed-msgs/call")
	})
}

// BenchmarkPartial: server-streaming and bidi calls that fail after their
// first response: no retry, no duplicate.
func BenchmarkPartial(b *testing.B) {
	benchScenario(b, partial, []kind{serverStream, bidi}, plainVariants(), func(b *testing.B, _ scenario, _ peer, res scenarioResult) {
		b.ReportMetric(pct(res.delivered, res.calls), "delivered-%")
	})
}

// quantileMs returns the q-quantile of lat in milliseconds (nearest rank).
func quantileMs(lat []time.Duration, q float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i]) / float64(time.Millisecond)
}
