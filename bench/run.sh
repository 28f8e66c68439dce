#!/usr/bin/env bash
# Runs the success-path benchmarks and compares every client flavour with
# plain grpc-go: a benchstat table, then ns/op ratios and allocs/op deltas.
#
# Environment:
#   COUNT      runs of each benchmark (default 10)
#   BENCHTIME  calls per run (default 10000x; about 2 minutes on 2 cores)
#   BENCH      benchmark regexp (default .)
#   OUT        file for the raw results (default: a new temp file, kept)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

count=${COUNT:-10}
benchtime=${BENCHTIME:-10000x}
bench=${BENCH:-.}
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
"$benchstat" -col /client "$out"

echo
echo "== medians vs plain (x plain = ns/op ratio; Δallocs = allocs/op difference) =="
go run ./cmd/ratios -base plain "$out"
