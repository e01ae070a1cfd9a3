#!/usr/bin/env bash
# Builds (once per source change) and runs scripts/sdkgen, the Go program
# that writes sdk/python and sdk/go from schema.json with Pulumi's own
# generators (github.com/pulumi/pulumi/pkg/v3 codegen, from the Go module
# proxy, the same version as the CLI).
#
# usage: sdkgen.sh [sdkgen flags]   e.g. -schema schema.json -out sdk
#
# The binary is cached in ${AZURE_EMAIL_INVOICING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azure-email-invoicing}/sdkgen/<hash of main.go, go.mod, go.sum>/,
# built into a throw-away folder and moved into place with one rename.
set -euo pipefail

log() { printf 'sdkgen.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v go >/dev/null 2>&1 || die "Go >= 1.25 is needed to build the SDK generator (it fetches Pulumi's codegen from the Go module proxy)"
cache_root=${AZURE_EMAIL_INVOICING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azure-email-invoicing}
hash=$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
bin="$cache_root/sdkgen/$hash/sdkgen"

if [[ ! -x $bin ]]; then
    mkdir -p "$cache_root/sdkgen"
    exec 9>"$cache_root/sdkgen/.lock"
    command -v flock >/dev/null 2>&1 && flock 9
    if [[ ! -x $bin ]]; then
        work=$(mktemp -d "$cache_root/sdkgen/.build.XXXXXX")
        trap 'rm -rf "$work"' EXIT
        log "building the SDK generator into $bin (one-off; about a minute when the Pulumi CLI's Go caches are warm)"
        (cd "$here" && GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -o "$work/sdkgen" .) >&2 ||
            die "go build scripts/sdkgen failed; check that the Go module proxy ($(go env GOPROXY)) is reachable"
        mkdir -p "$(dirname "$bin")"
        rm -rf "$(dirname "$bin")"
        mv "$work" "$(dirname "$bin")"
        trap - EXIT
    fi
fi
exec "$bin" "$@"
