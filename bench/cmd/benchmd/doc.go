// Command benchmd turns the raw output of the bench module's benchmarks into
// BENCHMARKS.md: the targets, met or missed, one section per scenario, and
// the machine and versions that produced the figures. bench/run.sh runs it;
// it replaces cmd/ratios.
//
// Usage:
//
//	benchmd -success FILE -scenarios FILE -benchstat FILE -env FILE [-out FILE]
//
// # Inputs
//
// All four are required; -out defaults to standard output.
//
//   - -success: the output of `go test -run '^$' -bench
//     '^Benchmark(Unary|ServerStream|ClientStream|Bidi)$' -benchmem -count N`,
//     results named Benchmark<Kind>/callers=<n>/client=<peer>. Each needs
//     ns/op, B/op and allocs/op.
//   - -scenarios: the output of `go test -v -run '^$' -bench
//     '^Benchmark(Flaky|Outage|Pushback|Tail|Replay|Partial|LargeStream)$'
//     -benchtime 1x`, results named
//     Benchmark<Scenario>/kind=<Kind>/client=<variant> with the scenario's
//     custom metrics. The -v matters: it prints why a row was skipped, the
//     messages logged before `--- SKIP: <name>`. Those reasons also explain
//     the success path's missing rows (a peer that cannot make a kind of
//     call), which a run without -v does not print.
//   - -benchstat: `benchstat -col /client` of the success file, embedded
//     verbatim in a <details> block.
//   - -env: `key: value` lines describing the run, printed in order. The
//     key date is required; `module: <path> <version>` lines name the
//     peers' versions.
//
// # Figures
//
// A figure is the median over a benchmark's runs (benchmath, from
// golang.org/x/perf, as benchstat computes it). On the success path a
// client's time is compared with plain's by the Mann-Whitney U test, and
// the difference called significant when p < 0.05. Every figure comes from
// the inputs; only the scenario descriptions (what the benchmark code does)
// and the targets' thresholds are written here.
//
// # Targets
//
// "Ours" are the clients manual and a6. Each target is met when every check
// is; a row with no result (skipped or failed) misses its check.
//
//   - Success path, time: ours' median ns/op ≤ 1.03 × plain's, for each kind
//     and number of callers, whether or not the difference is significant
//     (shown beside it).
//   - Success path, allocations: ours' median allocs/op − plain's ≤ 2 for
//     each kind, the worst over the numbers of callers.
//   - Flaky: ours' success % within 3σ of the binomial theory (theory-% ±
//     3·sigma-%), and ≥ grpcbuiltin's − 3·√2·σ, for each kind.
//   - Outage: a6+throttle's server attempts per call ≤ 1.2 for each kind.
//   - Slow tail: the lower p99 of manual+hedge and a6+hedge ≤ 0.3 × the
//     lowest p99 of any other client variant, hedging or not, for each kind.
//   - Pushback: ours honour 100 % of pushbacks, for each kind.
//   - Replay: ours succeed on 100 % of calls with no wrong call.
//   - Partial stream: ours make 1.000 server attempts per call with no dup
//     and no wrong call; peers' rows with dup or wrong calls are listed.
//   - Large stream: ours' peak heap − plain's ≤ the replay limit + 128 KiB,
//     for each limit.
//
// # Errors
//
// benchmd writes nothing unless every input is good. A malformed result
// line is an error naming its file and line; a benchmark the targets need
// that has no result, no skip and no failure is an error naming the file
// and the benchmark. It never writes half a document.
package main
