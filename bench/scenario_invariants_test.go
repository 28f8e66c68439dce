package bench

import (
	"math"
	"testing"
)

// The scenarios' invariants, checked on few calls so that `go test` (and
// CI) proves what BENCHMARKS.md reports without running the benchmarks:
// what a correct client must show, and the peers' documented failures.

// small returns sc with n calls.
func small(sc scenario, n int) scenario {
	sc.calls = n
	return sc
}

// ourPeers are this library's clients.
func ourPeers(t *testing.T) []peer {
	return []peer{peerByName(t, "manual"), peerByName(t, "a6")}
}

// TestFlakyRetries: under 30% UNAVAILABLE with three attempts, this
// library's calls succeed as often as the binomial theory says (within
// 4.5σ), never with wrong data, and the server sees at most three attempts
// per call.
func TestFlakyRetries(t *testing.T) {
	const calls = 400
	theory := 1 - math.Pow(flakyShare, 3)
	sigma := math.Sqrt(theory * (1 - theory) / calls)
	for _, k := range kinds {
		for _, pr := range ourPeers(t) {
			t.Run(k.name+"/"+pr.name, func(t *testing.T) {
				res := runScenario(t, small(flaky, calls), k, pr)
				if got := float64(res.ok) / calls; got < theory-4.5*sigma {
					t.Errorf("success = %.4f, want ≥ %.4f (theory %.4f − 4.5σ)", got, theory-4.5*sigma, theory)
				}
				if res.wrong != 0 || res.serverAttempts > 3*calls {
					t.Errorf("wrong calls = %d, server attempts = %d; want 0 and ≤ %d", res.wrong, res.serverAttempts, 3*calls)
				}
			})
		}
	}
}

// TestOutageThrottled: under a full outage, A6 throttling (maxTokens 10)
// lets through at most maxTokens/2 retries in all, for this library as for
// grpc-go; without it, every call makes all five attempts.
func TestOutageThrottled(t *testing.T) {
	const calls = 50
	sc := small(outage, calls)
	sc.concurrency = 1
	throttled := sc
	throttled.policy.throttle = true
	for _, name := range []string{"grpcbuiltin", "a6"} {
		t.Run(name, func(t *testing.T) {
			pr := peerByName(t, name)
			if res := runScenario(t, throttled, unary, pr); res.serverAttempts > calls+throttleMaxTokens/2 {
				t.Errorf("throttled: server attempts = %d for %d calls, want ≤ %d", res.serverAttempts, calls, calls+throttleMaxTokens/2)
			}
			if res := runScenario(t, sc, unary, pr); res.serverAttempts != 5*calls {
				t.Errorf("unthrottled: server attempts = %d for %d calls, want %d", res.serverAttempts, calls, 5*calls)
			}
		})
	}
}

// TestPushbackHonoured: every retry after a 200 ms pushback waits at least
// that long, in this library and in grpc-go; go-grpc-middleware does not
// read pushback, and retries after its own 1 ms backoff.
func TestPushbackHonoured(t *testing.T) {
	sc := small(pushback, 24)
	for _, name := range []string{"grpcbuiltin", "manual", "a6", "middleware"} {
		t.Run(name, func(t *testing.T) {
			res := runScenario(t, sc, unary, peerByName(t, name))
			if len(res.waits) == 0 {
				t.Fatalf("no retries in %d calls with 30%% failing: the faults did not fire", sc.calls)
			}
			short := 0
			for _, w := range res.waits {
				if w < pushbackWait {
					short++
				}
			}
			switch name {
			case "middleware":
				if short != len(res.waits) {
					t.Errorf("%d of %d retries waited ≥ %v; go-grpc-middleware ignores pushback: update BENCHMARKS.md's notes", len(res.waits)-short, len(res.waits), pushbackWait)
				}
			default:
				if short != 0 {
					t.Errorf("%d of %d retries waited less than %v", short, len(res.waits), pushbackWait)
				}
			}
		})
	}
}

// TestReplayBeforeCommit: a client-streaming or bidi call whose first
// attempt is cut off before any answer succeeds, with every message sent
// again and none lost or doubled.
func TestReplayBeforeCommit(t *testing.T) {
	const calls = 20
	for _, k := range []kind{clientStream, bidi} {
		for _, pr := range append(ourPeers(t), peerByName(t, "grpcbuiltin")) {
			t.Run(k.name+"/"+pr.name, func(t *testing.T) {
				res := runScenario(t, small(replay, calls), k, pr)
				if res.ok != calls || res.wrong != 0 || res.serverAttempts != 2*calls || res.replayed != replay.msgs*calls {
					t.Errorf("ok %d, wrong %d, server attempts %d, replayed %d; want %d, 0, %d, %d",
						res.ok, res.wrong, res.serverAttempts, res.replayed, calls, 2*calls, replay.msgs*calls)
				}
			})
		}
	}
}

// TestPartialNotRetried: a stream that failed after its first response is
// not retried by this library, and its caller sees that response once.
// go-grpc-middleware retries such a server stream from the start, and its
// caller sees the first response again.
func TestPartialNotRetried(t *testing.T) {
	const calls = 20
	for _, k := range []kind{serverStream, bidi} {
		for _, pr := range ourPeers(t) {
			t.Run(k.name+"/"+pr.name, func(t *testing.T) {
				res := runScenario(t, small(partial, calls), k, pr)
				if res.serverAttempts != calls || res.dup != 0 || res.wrong != 0 || res.delivered != calls {
					t.Errorf("server attempts %d, dup %d, wrong %d, delivered %d; want %d, 0, 0, %d",
						res.serverAttempts, res.dup, res.wrong, res.delivered, calls, calls)
				}
			})
		}
	}
	t.Run("ServerStream/middleware", func(t *testing.T) {
		res := runScenario(t, small(partial, calls), serverStream, peerByName(t, "middleware"))
		if res.dup != calls {
			t.Errorf("go-grpc-middleware: %d of %d calls saw a duplicate; BENCHMARKS.md reports that all do: update it", res.dup, calls)
		}
	})
}

// TestLargeStreamHeap: a 10,000-message client stream keeps no more heap
// for replay, over plain grpc-go's, than this library's replay limit plus
// largeStreamSlack.
func TestLargeStreamHeap(t *testing.T) {
	plainPeak, err := largeStream(t, peerByName(t, "plain"), defaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{0, 64 << 10} {
		for _, pr := range ourPeers(t) {
			p := defaultPolicy
			p.replayLimit = limit
			want := uint64(256<<10) + largeStreamSlack
			if limit > 0 {
				want = uint64(limit) + largeStreamSlack
			}
			peak, err := largeStream(t, pr, p)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s, replay limit %d: peak heap %d KiB, plain %d KiB", pr.name, limit, peak>>10, plainPeak>>10)
			if peak > plainPeak && peak-plainPeak > want {
				t.Errorf("%s, replay limit %d: peak heap %d KiB over plain's %d KiB, want ≤ %d KiB more",
					pr.name, limit, peak>>10, plainPeak>>10, want>>10)
			}
		}
	}
}
