#!/usr/bin/env bash
# ghz.sh: a ghz load run against the fault-injecting route guide server,
# first without grpc-resilience on the client side, then with it.
#
# Usage (from anywhere in the repository):
#
#   examples/routeguide/ghz.sh [server flags]
#
# It builds examples/routeguide/cmd/routeguide-server and
# examples/routeguide/cmd/retry-proxy, starts the server on a free port of
# 127.0.0.1 with the flags given (default: --faults 'unavailable=30%' --seed 1),
# and runs the same bounded ghz load on routeguide.RouteGuide.GetFeature
# twice, finding the method through the server's reflection:
#
#   1. without the library: ghz calls the server directly, and sees every
#      injected fault;
#   2. with the library: ghz calls retry-proxy, a local sidecar that forwards
#      each call to the server through grpc-resilience's client interceptors
#      (ghz takes no interceptors of its own), which retry the faults away.
#
# It prints both ghz summaries, the proxy's and the server's counters, and a
# last line that compares the two runs:
#
#   comparison: without-library errors=566/2000 (28.30%) with-library errors=2/2000 (0.10%)
#
# It stops the processes it started, by their pids, however it ends.
#
# Settings, from the environment:
#
#   GHZ_TOTAL          calls per run (default 2000)
#   GHZ_CONCURRENCY    ghz workers (default 8)
#   GHZ_MAX_DURATION   bound on each run, for coreutils' timeout: a run
#                      still going then is killed and the script fails
#                      (default 120s)
#   PROXY_FLAGS        retry-proxy's retry flags
#                      (default: --retry-times 5 --retry-interval 10ms;
#                      --service-config FILE for an A6 policy)
#   GHZ                the ghz binary (default: ghz on PATH, then
#                      $(go env GOPATH)/bin/ghz, installed there if missing)
#
# Installing ghz, when it is missing, runs:
#
#   go install github.com/bojand/ghz/cmd/ghz@v0.120.0
set -euo pipefail
cd "$(dirname "$0")/../.."

ghz_module=github.com/bojand/ghz/cmd/ghz@v0.120.0
total=${GHZ_TOTAL:-2000}
concurrency=${GHZ_CONCURRENCY:-8}
max_duration=${GHZ_MAX_DURATION:-120s}
read -r -a proxy_flags <<<"${PROXY_FLAGS:---retry-times 5 --retry-interval 10ms}"
if [ "$#" -eq 0 ]; then
  set -- --faults 'unavailable=30%' --seed 1
fi
# A point of the embedded database: Harbour Lighthouse.
point='{"latitude":101203450,"longitude":-398765430}'

for v in "GHZ_TOTAL=$total" "GHZ_CONCURRENCY=$concurrency"; do
  case "${v#*=}" in
    '' | *[!0-9]* | 0*)
      echo "ghz.sh: $v: want a whole number above 0" >&2
      exit 2
      ;;
  esac
done

# The prefixes that stop ghz's runs and its install in time, where
# coreutils' timeout is there to do it (it passes a SIGTERM on to the
# command); env, the stand-in, runs the command as it is.
if command -v timeout >/dev/null; then
  run_limit=(timeout "$max_duration")
  install_limit=(timeout 10m)
else
  run_limit=(env)
  install_limit=(env)
fi

ghz=${GHZ:-$(command -v ghz || true)}
if [ -z "$ghz" ]; then
  ghz="$(go env GOPATH | cut -d: -f1)/bin/ghz"
fi
if [ ! -x "$ghz" ]; then
  echo "== install ghz: go install $ghz_module"
  start=$SECONDS
  GOBIN="$(dirname "$ghz")" "${install_limit[@]}" go install "$ghz_module"
  echo "installed $ghz in $((SECONDS - start)) s"
fi

work=$(mktemp -d)
server_pid=""
proxy_pid=""
ghz_pid=""

# stop_pid PID waits up to 10 s for PID to stop after SIGTERM, then kills it.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  if [ -n "$ghz_pid" ]; then
    stop_pid "$ghz_pid"
    ghz_pid=""
  fi
  if [ -n "$proxy_pid" ]; then
    stop_pid "$proxy_pid"
    proxy_pid=""
    echo "== retry-proxy log (stopped early)"
    cat "$work/retry-proxy.out"
    tail -n 20 "$work/retry-proxy.err"
  fi
  if [ -n "$server_pid" ]; then
    stop_pid "$server_pid"
    server_pid=""
    echo "== routeguide-server log (stopped early)"
    cat "$work/routeguide-server.out"
    tail -n 20 "$work/routeguide-server.err"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# listening NAME PID sets addr from the first stdout line of the command
# NAME, "NAME: listening on ADDR ...", waiting up to 10 s for it.
listening() {
  addr=""
  for _ in $(seq 100); do
    addr=$(sed -n "1s/^$1: listening on \\([^ ]*\\).*/\\1/p" "$work/$1.out")
    [ -n "$addr" ] && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      echo "$1 exited:" >&2
      cat "$work/$1.err" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$1 printed no address within 10 s" >&2
  return 1
}

# load LABEL ADDR runs the ghz load against ADDR, prints its summary and
# keeps it in $work/LABEL.ghz.
load() {
  echo "== ghz, $1: $2"
  # ghz's own --max-duration would stop the run but also ignore --total.
  # ghz runs in the background so that a signal to this script is handled
  # at once (wait returns), not once ghz is done.
  "${run_limit[@]}" "$ghz" --insecure --call routeguide.RouteGuide.GetFeature -d "$point" \
    --total "$total" --concurrency "$concurrency" --timeout 10s --connect-timeout 10s \
    "$2" >"$work/$1.ghz" &
  ghz_pid=$!
  status=0
  wait "$ghz_pid" || status=$?
  ghz_pid=""
  cat "$work/$1.ghz"
  if [ "$status" -ne 0 ]; then
    echo "ghz exited with status $status" >&2
    return 1
  fi
}

# errors LABEL prints "FAILED/COUNT (PERCENT%)" from ghz's summary: the
# calls counted and those whose status was not OK.
errors() {
  awk '
    /^ *Count:/ { count = $2 }
    /^Status code distribution:/ { codes = 1; next }
    codes && /^ *\[/ { if ($1 != "[OK]") failed += $2; next }
    codes { codes = 0 }
    END {
      if (count == "") { print "no ghz summary" > "/dev/stderr"; exit 1 }
      printf "%d/%d (%.2f%%)\n", failed, count, 100 * failed / count
    }' "$work/$1.ghz"
}

echo "== build"
go build -o "$work/" ./examples/routeguide/cmd/routeguide-server ./examples/routeguide/cmd/retry-proxy

"$work/routeguide-server" --port 0 "$@" >"$work/routeguide-server.out" 2>"$work/routeguide-server.err" &
server_pid=$!
listening routeguide-server "$server_pid"
server_addr=$addr
head -n1 "$work/routeguide-server.out"

load without-library "$server_addr"

"$work/retry-proxy" --port 0 --upstream "$server_addr" "${proxy_flags[@]}" >"$work/retry-proxy.out" 2>"$work/retry-proxy.err" &
proxy_pid=$!
listening retry-proxy "$proxy_pid"
proxy_addr=$addr
head -n1 "$work/retry-proxy.out"

load with-library "$proxy_addr"

echo "== stop"
stop_pid "$proxy_pid"
proxy_pid=""
tail -n +2 "$work/retry-proxy.out"
stop_pid "$server_pid"
server_pid=""
tail -n +2 "$work/routeguide-server.out"

echo "comparison: without-library errors=$(errors without-library) with-library errors=$(errors with-library)"
