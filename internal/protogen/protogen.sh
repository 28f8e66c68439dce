#!/usr/bin/env bash
# protogen.sh regenerates the Go code of one .proto file: FILE.pb.go and
# FILE_grpc.pb.go next to it. Each package with generated code runs it from
# its gen.go, through `go generate`:
#
#	//go:generate bash ../../internal/protogen/protogen.sh ROOT FILE
#
# ROOT is protoc's --proto_path, relative to the package directory, and FILE
# the .proto file relative to ROOT: the name the file registers under in the
# global protobuf registry (protobuf-go panics at init when two packages
# register the same name, so a common name such as "admin.proto" should be
# given with its directory, from the module root).
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
	echo "protogen.sh: $*" >&2
	exit 1
}

[[ $# == 2 ]] || die "usage: protogen.sh ROOT FILE (see the comment at the top)"
readonly root="$1" file="$2"
[[ -f "${root}/${file}" ]] || die "${root}/${file}: no such file (run from the package directory)"

command -v go >/dev/null 2>&1 || die "the go command is not on PATH"

if ! command -v protoc >/dev/null 2>&1; then
	if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
		echo "protogen.sh: protoc not found; installing Debian's protobuf-compiler" >&2
		apt-get update -qq || die "apt-get update failed; install protoc by hand"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null ||
			die "apt-get install protobuf-compiler failed; install protoc by hand"
	else
		die "protoc not found on PATH; install it (Debian/Ubuntu: apt-get install protobuf-compiler) and rerun"
	fi
fi

protoc_version="$(protoc --version)"
if [[ "${protoc_version}" != "${EXPECTED_PROTOC}" ]]; then
	echo "protogen.sh: warning: found ${protoc_version}, the committed files were made with ${EXPECTED_PROTOC}" >&2
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

protoc \
	--proto_path="${root}" \
	--plugin=protoc-gen-go="${gobin}/protoc-gen-go" \
	--plugin=protoc-gen-go-grpc="${gobin}/protoc-gen-go-grpc" \
	--go_out="${root}" --go_opt=paths=source_relative \
	--go-grpc_out="${root}" --go-grpc_opt=paths=source_relative \
	"${file}"
