#!/usr/bin/env bash
# gen.sh regenerates admin.pb.go and admin_grpc.pb.go from
# admin.proto. Run it through `go generate ./faultinject/...`.
#
# The plugins are pinned and installed into a throwaway GOBIN, so the output
# depends only on these versions and on protoc's, never on whatever
# protoc-gen-go happens to be on PATH. Running it twice gives identical files.
set -euo pipefail

readonly PROTOC_GEN_GO_VERSION=v1.36.12     # google.golang.org/protobuf/cmd/protoc-gen-go
readonly PROTOC_GEN_GO_GRPC_VERSION=v1.6.2  # google.golang.org/grpc/cmd/protoc-gen-go-grpc
# The committed files name the protoc that made them; another version works
# but rewrites that header line.
readonly EXPECTED_PROTOC="libprotoc 3.21.12"

die() {
	echo "gen.sh: $*" >&2
	exit 1
}

cd "$(dirname "${BASH_SOURCE[0]}")"

command -v go >/dev/null 2>&1 || die "the go command is not on PATH"

if ! command -v protoc >/dev/null 2>&1; then
	if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
		echo "gen.sh: protoc not found; installing Debian's protobuf-compiler" >&2
		apt-get update -qq || die "apt-get update failed; install protoc by hand"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null ||
			die "apt-get install protobuf-compiler failed; install protoc by hand"
	else
		die "protoc not found on PATH; install it (Debian/Ubuntu: apt-get install protobuf-compiler) and rerun"
	fi
fi

protoc_version="$(protoc --version)"
if [[ "${protoc_version}" != "${EXPECTED_PROTOC}" ]]; then
	echo "gen.sh: warning: found ${protoc_version}, the committed files were made with ${EXPECTED_PROTOC}" >&2
fi

gobin="$(mktemp -d)"
trap 'rm -rf "${gobin}"' EXIT

# An empty GOFLAGS and GOWORK=off keep the caller's settings (-mod=vendor, a
# workspace) from changing how the pinned plugin versions are resolved.
GOBIN="${gobin}" GOFLAGS= GOWORK=off go install \
	"google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}" ||
	die "cannot install protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
GOBIN="${gobin}" GOFLAGS= GOWORK=off go install \
	"google.golang.org/grpc/cmd/protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}" ||
	die "cannot install protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"

# protoc runs from the module root so that the file registers in the global
# protobuf registry as "faultinject/adminpb/admin.proto": a bare
# "admin.proto" could clash with another package's file of that name, and
# protobuf-go panics at init on such a clash.
protoc \
	--proto_path=../.. \
	--plugin=protoc-gen-go="${gobin}/protoc-gen-go" \
	--plugin=protoc-gen-go-grpc="${gobin}/protoc-gen-go-grpc" \
	--go_out=../.. --go_opt=paths=source_relative \
	--go-grpc_out=../.. --go-grpc_opt=paths=source_relative \
	faultinject/adminpb/admin.proto
