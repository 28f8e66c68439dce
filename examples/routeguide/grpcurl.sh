#!/usr/bin/env bash
# grpcurl.sh: try the fault-injecting route guide server by hand with grpcurl,
# through gRPC reflection only (no .proto files needed).
#
# Usage (from anywhere in the repository):
#
#   examples/routeguide/grpcurl.sh [server flags]
#
# It builds examples/routeguide/cmd/routeguide-server, starts it on a free port
# of 127.0.0.1 with the flags given (for example --faults 'unavailable=50%'
# --seed 1), then lists the services, describes routeguide.RouteGuide, calls
# Health/Check and GetFeature, and stops the server it started, by its pid.
# The server's log (the startup line, every fault injected, the final stats)
# is printed at the end.
#
# The server also runs with its fault admin service (--admin), which serves
# only callers holding a token: the script makes a fresh random token in a
# file of its own (--admin-token-file; do not pass --admin or
# --admin-token-file yourself), calls FaultAdmin/GetStats without the token
# (refused: Unauthenticated), then with it. The token reaches grpcurl
# through the environment (-expand-headers), never through a command line,
# and is never printed.
#
# Needs grpcurl on PATH or in $(go env GOPATH)/bin:
#
#   go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
#
# A call that the server fails on purpose makes grpcurl print the status
# (such as "Code: Unavailable") and exit non-zero; the script goes on.
set -euo pipefail
cd "$(dirname "$0")/../.."

grpcurl=$(command -v grpcurl || true)
if [ -z "$grpcurl" ]; then
  grpcurl="$(go env GOPATH)/bin/grpcurl"
fi
if [ ! -x "$grpcurl" ]; then
  echo "grpcurl not found; install it with:" >&2
  echo "  go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4" >&2
  exit 1
fi

work=$(mktemp -d)
pid=""
admin=grpcresilience.faultinject.v1.FaultAdmin
stop() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    # Wait up to 10 s for a graceful stop, then kill it.
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    echo "== server log"
    cat "$work/stdout" "$work/stderr"
  fi
  rm -rf "$work"
}
trap stop EXIT

echo "== build"
go build -o "$work/routeguide-server" ./examples/routeguide/cmd/routeguide-server

# 32 random bytes in hex, in a file only this user can read.
(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$work/admin-token")

"$work/routeguide-server" --port 0 --admin --admin-token-file "$work/admin-token" "$@" \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!

# The first stdout line is "routeguide-server: listening on ADDR seed=N ...";
# wait up to 10 s for it.
addr=""
for _ in $(seq 100); do
  addr=$(sed -n 's/^routeguide-server: listening on \([^ ]*\).*/\1/p' "$work/stdout")
  [ -n "$addr" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "server exited:" >&2; cat "$work/stderr" >&2; pid=""; exit 1
  fi
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "server printed no address within 10 s" >&2; exit 1
fi
head -n1 "$work/stdout"

run() {
  echo "== grpcurl $*"
  "$grpcurl" "$@" || echo "(grpcurl exit status $?)"
}
run -plaintext "$addr" list
run -plaintext "$addr" describe routeguide.RouteGuide
run -plaintext -d '{"service":"routeguide.RouteGuide"}' "$addr" grpc.health.v1.Health/Check
# A point of the embedded database (Harbour Lighthouse), then a point with no
# feature: the server answers with the point and no name.
run -plaintext -d '{"latitude":101203450,"longitude":-398765430}' "$addr" routeguide.RouteGuide/GetFeature
run -plaintext -d '{"latitude":409146138,"longitude":-746188906}' "$addr" routeguide.RouteGuide/GetFeature
# The admin service refuses a caller without the token, and answers one with
# it. -rpc-header sends the token with the call only, not with the
# reflection requests; the single quotes keep ${ADMIN_TOKEN} for grpcurl to
# expand.
run -plaintext "$addr" "$admin/GetStats"
# shellcheck disable=SC2016
ADMIN_TOKEN=$(cat "$work/admin-token") run -plaintext -expand-headers \
  -rpc-header 'authorization: Bearer ${ADMIN_TOKEN}' "$addr" "$admin/GetStats"
