#!/usr/bin/env bash
# Runs the whole benchmark suite against the peers and regenerates
# ../BENCHMARKS.md: the success-path benchmarks (Go's harness, compared
# with benchstat), then the fault scenarios (each run once, seeded), then
# cmd/benchmd, which writes the tables and checks the targets. About 6
# minutes on 2 cores with the defaults.
#
# Environment:
#   COUNT      runs of each success-path benchmark (default 10)
#   BENCHTIME  calls per success-path run (default 10000x)
#   OUT_DIR    directory for the raw outputs (default: a new temp
#              directory, kept and printed)
#   DOC        the document to write (default ../BENCHMARKS.md)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

count=${COUNT:-10}
benchtime=${BENCHTIME:-10000x}
out=${OUT_DIR:-$(mktemp -d -t grpc-resilience-bench.XXXXXX)}
doc=${DOC:-../BENCHMARKS.md}
mkdir -p "$out"

if command -v benchstat >/dev/null 2>&1; then
	benchstat=$(command -v benchstat)
else
	gobin=$(mktemp -d)
	trap 'rm -rf "$gobin"' EXIT
	echo "installing benchstat into $gobin" >&2
	GOBIN=$gobin go install golang.org/x/perf/cmd/benchstat@latest
	benchstat=$gobin/benchstat
fi

# The machine, the toolchain, the library's commit and the peers' versions.
{
	echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "go: $(go version)"
	if rev=$(git -C .. rev-parse --short HEAD 2>/dev/null); then
		# The replace directive builds the working tree, committed or not.
		git -C .. diff --quiet HEAD -- . 2>/dev/null || rev="$rev + uncommitted changes"
		echo "library: $rev"
	fi
	echo "os: $(go env GOOS)/$(go env GOARCH), kernel $(uname -r)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)"
	echo "cores: $(nproc)"
	echo "memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null)"
	echo "settings: success path -count $count -benchtime $benchtime; scenarios -benchtime 1x"
	go list -m -f 'module: {{.Path}} {{.Version}}' \
		google.golang.org/grpc \
		github.com/grpc-ecosystem/go-grpc-middleware/v2 \
		github.com/failsafe-go/failsafe-go
} >"$out/env.txt"
cat "$out/env.txt"

success='^Benchmark(Unary|ServerStream|ClientStream|Bidi)$'
echo "== success path: go test -bench '$success' -benchmem -count $count -benchtime $benchtime"
go test -run '^$' -bench "$success" -benchmem -count "$count" -benchtime "$benchtime" | tee "$out/success.txt"

scenarios='^Benchmark(Flaky|Outage|Pushback|Tail|Replay|Partial|LargeStream)$'
echo "== fault scenarios: go test -v -bench '$scenarios' -benchtime 1x"
go test -v -run '^$' -bench "$scenarios" -benchtime 1x | tee "$out/scenarios.txt"

echo "== benchstat -col /client"
"$benchstat" -col /client "$out/success.txt" | tee "$out/benchstat.txt"

go run ./cmd/benchmd -env "$out/env.txt" -success "$out/success.txt" \
	-scenarios "$out/scenarios.txt" -benchstat "$out/benchstat.txt" -out "$doc"
echo "wrote $doc; raw outputs in $out"
