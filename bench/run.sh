#!/usr/bin/env bash
# Runs the success-path benchmarks and compares every client flavour with
# plain grpc-go: a benchstat table, then ns/op ratios and allocs/op deltas.
# With AXIS=server it compares servers instead: plain grpc-go against one
# with faultinject's interceptors installed and no rule matching.
#
# Environment:
#   COUNT      runs of each benchmark (default 10)
#   BENCHTIME  calls per run (default 10000x; about 2 minutes on 2 cores)
#   AXIS       client (default): the client-side benchmarks, flavours under
#              /client=; server: the server-side ones (BenchmarkServer*),
#              flavours under /server=
#   BENCH      benchmark regexp (default: every benchmark of AXIS)
#   OUT        file for the raw results (default: a new temp file, kept)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

count=${COUNT:-10}
benchtime=${BENCHTIME:-10000x}
axis=${AXIS:-client}
case $axis in
client) bench=${BENCH:-'^Benchmark(Unary|ServerStream|ClientStream|Bidi)$'} ;;
server) bench=${BENCH:-'^BenchmarkServer(Unary|ServerStream|ClientStream|Bidi)$'} ;;
*)
	echo "run.sh: AXIS=$axis: want client or server" >&2
	exit 2
	;;
esac
out=${OUT:-$(mktemp -t grpc-resilience-bench.XXXXXX)}

if command -v benchstat >/dev/null 2>&1; then
	benchstat=$(command -v benchstat)
else
	gobin=$(mktemp -d)
	trap 'rm -rf "$gobin"' EXIT
	echo "installing benchstat into $gobin" >&2
	GOBIN=$gobin go install golang.org/x/perf/cmd/benchstat@latest
	benchstat=$gobin/benchstat
fi

# Say which library code was measured: the replace directive builds the
# working tree, committed or not.
if rev=$(git -C .. rev-parse --short HEAD 2>/dev/null); then
	git -C .. diff --quiet HEAD -- . 2>/dev/null || rev="$rev + uncommitted changes"
	echo "library: $rev"
fi
go version
echo "go test -run '^\$' -bench '$bench' -benchmem -count $count -benchtime $benchtime"
go test -run '^$' -bench "$bench" -benchmem -count "$count" -benchtime "$benchtime" | tee "$out"
echo "raw results: $out"

echo
echo "== benchstat, flavours as columns (plain is the baseline) =="
"$benchstat" -col "/$axis" "$out"

echo
echo "== medians vs plain (x plain = ns/op ratio; Δallocs = allocs/op difference) =="
go run ./cmd/ratios -axis "$axis" -base plain "$out"
