#!/usr/bin/env bash
# Makes the Pulumi CLI that matches our @pulumi/pulumi pin, plus a Node.js
# language host, available on machines that can reach package registries but
# not Pulumi's download site. See scripts/pulumi/README.md.
#
# usage: ensure-pulumi.sh          print the directory holding `pulumi`,
#                                  `pulumi-language-nodejs` and
#                                  `pulumi-resource-pulumi-nodejs`
#        ensure-pulumi.sh --env    print KEY=VALUE lines: the environment to
#                                  run that CLI with (read by pulumi.sh and
#                                  dev/pulumi-toolchain.ts; values the caller
#                                  already set are left out, PATH excepted;
#                                  nothing is created by printing them)
#
# Resolution order:
#   1. a `pulumi` on PATH whose `pulumi version` is the pinned version;
#   2. the per-user cache, ${AZURE_EMAIL_INVOICING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azure-email-invoicing}/pulumi/v<version>/bin;
#   3. a build from the Go module proxy into that cache (a few minutes cold).
# In every case a language host must be next to the CLI: upstream's if it came
# with the CLI (or could be built from the proxy), otherwise our own
# scripts/pulumi/language-host/pulumi-language-nodejs.js behind a shell wrapper.
# The YAML language host, pulumi-language-yaml, comes with a normal install;
# otherwise it is built from the Go module proxy into its own cache folder,
# ${cache}/pulumi-language-yaml/v<version>/bin, and linked next to the CLI.
#
# Logs go to stderr; stdout carries only the answer. Exits non-zero with a
# message saying what to do when Go is missing or the build fails.
set -euo pipefail

log() { printf 'ensure-pulumi: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

mode=dir
case "${1:-}" in
    "") ;;
    --env) mode=env ;;
    -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
host_js="$here/language-host/pulumi-language-nodejs.js"

command -v node >/dev/null 2>&1 || die "node is not on PATH; install Node.js >= 20."

# One source of truth for the version: the @pulumi/pulumi package we run
# programs with. AZURE_EMAIL_INVOICING_PULUMI_VERSION overrides it: the Node 24
# leg runs a newer SDK with the CLI the main leg built.
if [[ -n ${AZURE_EMAIL_INVOICING_PULUMI_VERSION:-} ]]; then
    version=$AZURE_EMAIL_INVOICING_PULUMI_VERSION
else
    sdk_pkg="$repo/node_modules/@pulumi/pulumi/package.json"
    [[ -f $sdk_pkg ]] || die "$sdk_pkg is missing; run 'npm ci' in $repo first."
    version=$(node -p 'require(process.argv[1]).version' "$sdk_pkg")
fi
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "unexpected Pulumi version '$version'"

cache_root=${AZURE_EMAIL_INVOICING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azure-email-invoicing}
cache_dir="$cache_root/pulumi/v$version"
bin_dir="$cache_dir/bin"

# The upstream language host's Go module is tagged only through pseudo-versions;
# this is the one for the v3.248.0 release commit. For another pin, set
# AZURE_EMAIL_INVOICING_LANGUAGE_HOST_MODULE_VERSION, or our own host is used.
lh_module=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
lh_module_version=${AZURE_EMAIL_INVOICING_LANGUAGE_HOST_MODULE_VERSION:-}
if [[ -z $lh_module_version && $version == 3.248.0 ]]; then
    lh_module_version=v3.0.0-20260624120734-a88168d865b7
fi
version_ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"

# pulumi-language-yaml: v1.25.0 is the newest release the Go module proxy
# serves, and it runs YAML programs with the 3.248.0 CLI (the language host
# protocol is the same). Built with its own go.mod, as `go install` does.
yaml_version=${AZURE_EMAIL_INVOICING_PULUMI_YAML_VERSION:-1.25.0}
[[ $yaml_version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "AZURE_EMAIL_INVOICING_PULUMI_YAML_VERSION must be x.y.z, got '$yaml_version'"
yaml_module=github.com/pulumi/pulumi-yaml
yaml_cache_dir="$cache_root/pulumi-language-yaml/v$yaml_version"
yaml_bin_dir="$yaml_cache_dir/bin"

# Writes an executable file only when its content changed, by renaming a
# complete temporary file over it, so a concurrent reader never sees half a file.
write_executable() {
    local path=$1 content=$2 tmp
    if [[ -f $path && -x $path && "$(cat "$path")" == "$content" ]]; then return 0; fi
    tmp=$(mktemp "$path.XXXXXX")
    printf '%s\n' "$content" >"$tmp"
    chmod 755 "$tmp"
    mv -f "$tmp" "$path"
}

is_script() { [[ -f $1 && $(head -c 2 "$1") == '#!' ]]; }

# Installs the dynamic-provider plugin wrapper, and our language host wrapper
# unless an upstream (binary) language host is already there.
install_wrappers() {
    local dir=$1
    # Same behaviour as @pulumi/pulumi/pulumi-resource-pulumi-nodejs: the engine
    # starts it in the program directory, and it runs the dynamic-provider host
    # of the @pulumi/pulumi that directory resolves, so providers deserialize
    # with the SDK version the program used.
    write_executable "$dir/pulumi-resource-pulumi-nodejs" '#!/bin/sh
# Pulumi dynamic-provider plugin (written by azure-email-invoicing scripts/pulumi/ensure-pulumi.sh).
script=$(node -e "console.log(require.resolve(\"@pulumi/pulumi/cmd/dynamic-provider\"))") || {
    echo "pulumi-resource-pulumi-nodejs: cannot resolve @pulumi/pulumi from $(pwd); install it in the program directory" >&2
    exit 1
}
exec node "$script" "$@"'
    if [[ -e $dir/pulumi-language-nodejs ]] && ! is_script "$dir/pulumi-language-nodejs"; then
        return 0
    fi
    # The host lives in a checkout, the cache is per user: pulumi.sh names the
    # checkout's host in AZURE_EMAIL_INVOICING_LANGUAGE_HOST; the baked-in path
    # (the last checkout that ran this script) serves a bare `pulumi` call.
    write_executable "$dir/pulumi-language-nodejs" "#!/bin/sh
# azure-email-invoicing offline Node.js language host (see scripts/pulumi/README.md).
exec node \"\${AZURE_EMAIL_INVOICING_LANGUAGE_HOST:-$host_js}\" \"\$@\""
}

# One lock per cache folder (the CLI's, the YAML host's): parallel runs wait
# for one build instead of starting a second.
lock_held=
lock_dir=
acquire_lock() {
    lock_dir=$1
    mkdir -p "$lock_dir"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$lock_dir/.lock"
        if ! flock -n 9; then
            log "another ensure-pulumi run holds $lock_dir/.lock; waiting for it to finish"
            flock 9
        fi
        lock_held=flock
    else
        # No flock (macOS): a lock directory holding the owner's pid; a dead owner's lock is stale.
        local said=
        until mkdir "$lock_dir/.lock.d" 2>/dev/null; do
            local owner
            owner=$(cat "$lock_dir/.lock.d/pid" 2>/dev/null || true)
            if [[ -n $owner ]] && ! kill -0 "$owner" 2>/dev/null; then
                log "removing stale lock of dead process $owner"
                rm -rf "$lock_dir/.lock.d"
                continue
            fi
            [[ -n $said ]] || { log "another ensure-pulumi run holds $lock_dir/.lock.d; waiting"; said=1; }
            sleep 2
        done
        echo $$ >"$lock_dir/.lock.d/pid"
        lock_held=mkdir
    fi
}
release_lock() {
    case $lock_held in
        flock) exec 9>&- ;;
        mkdir) rm -rf "$lock_dir/.lock.d" ;;
    esac
    lock_held=
}

# Builds the CLI (and, when the proxy serves it, the upstream language host) in
# a throw-away wrapper module, then moves the finished bin directory into place
# with one rename.
build_into_cache() {
    command -v go >/dev/null 2>&1 ||
        die "Pulumi CLI v$version is not on PATH or in $bin_dir, and Go is not installed to build it.
  Install Go >= 1.25 (it fetches sources from the Go module proxy), or install Pulumi v$version
  the usual way (https://www.pulumi.com/docs/install/) and put it on PATH."

    local work stage buildlog started=$SECONDS
    work=$(mktemp -d "$cache_dir/.build.XXXXXX")
    stage="$work/bin"
    buildlog="$cache_dir/last-build.log"
    mkdir -p "$stage"
    : >"$buildlog"
    # shellcheck disable=SC2064 # expand now: these are this build's paths
    trap "rm -rf '$work'; release_lock" EXIT

    fail() {
        log "build failed after $((SECONDS - started))s: $1"
        log "last lines of the build log (full log: $buildlog):"
        tail -n 25 "$buildlog" | sed 's/^/    /' >&2
        die "could not build Pulumi CLI v$version. Check that the Go module proxy ($(go env GOPROXY)) is reachable, or install Pulumi v$version on PATH."
    }
    step() { log "[$((SECONDS - started))s] $*"; }
    gorun() { (cd "$work" && GOWORK=off "$@") >>"$buildlog" 2>&1; }

    log "building Pulumi CLI v$version from the Go module proxy into $bin_dir"
    log "(one-off; about 4-5 minutes on 2 cores with cold Go caches, under a minute warm; log: $buildlog)"

    step "[1/4] creating a wrapper module in $work"
    gorun go mod init azure-email-invoicing.local/pulumi-toolchain || fail "go mod init"

    # pkg/go.mod's non-local replace directives do not apply to a module that
    # merely depends on pkg, so copy them (for v3.248.0: atotto/clipboard ->
    # tgummerer/clipboard) or the CLI does not compile.
    step "[2/4] resolving github.com/pulumi/pulumi/pkg/v3@v$version and its replace directives"
    local pkg_json pkg_gomod replaces
    pkg_json=$(cd "$work" && GOWORK=off go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$version" 2>>"$buildlog") ||
        { printf '%s\n' "$pkg_json" >>"$buildlog"; fail "go mod download github.com/pulumi/pulumi/pkg/v3@v$version"; }
    pkg_gomod=$(printf '%s' "$pkg_json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).GoMod))') ||
        fail "locating pkg/v3's go.mod"
    replaces=$(cd "$work" && go mod edit -json "$pkg_gomod" | node -e '
        let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
            for (const r of JSON.parse(s).Replace || []) {
                if (!r.New.Version) continue; // a local path: only meaningful inside the pulumi repository
                const from = r.Old.Version ? `${r.Old.Path}@${r.Old.Version}` : r.Old.Path;
                console.log(`-replace=${from}=${r.New.Path}@${r.New.Version}`);
            }
        });') || fail "reading pkg/v3's replace directives"
    if [[ -n $replaces ]]; then
        log "      copying replace directives: $(echo "$replaces" | sed 's/^-replace=//' | paste -sd' ' -)"
        # shellcheck disable=SC2086 # one flag per line, no spaces inside
        gorun go mod edit $replaces || fail "go mod edit -replace"
    fi
    gorun go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version" ||
        fail "go get pkg/v3/cmd/pulumi@v$version"

    step "[3/4] compiling the pulumi CLI (the long step)"
    gorun env CGO_ENABLED=0 go build -ldflags "$version_ldflags" -o "$stage/pulumi" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi || fail "go build pkg/v3/cmd/pulumi"
    local built
    built=$("$stage/pulumi" version 2>>"$buildlog") || fail "the built CLI does not run"
    [[ $built == "v$version" ]] || fail "the built CLI reports '$built', expected v$version"

    step "[4/4] looking for the upstream Node.js language host on the Go module proxy"
    if [[ -z $lh_module_version ]]; then
        log "      no known module version of $lh_module for v$version; using our own language host"
    elif gorun timeout 300 go mod download "$lh_module@$lh_module_version"; then
        if gorun go get "$lh_module@$lh_module_version" &&
            gorun env CGO_ENABLED=0 go build -ldflags "$version_ldflags" -o "$stage/pulumi-language-nodejs" "$lh_module"; then
            log "      built the upstream language host $lh_module@$lh_module_version"
        else
            rm -f "$stage/pulumi-language-nodejs"
            log "      the upstream language host downloaded but did not build (see $buildlog); using our own"
        fi
    else
        log "      $lh_module@$lh_module_version is not available from the proxy; using our own language host:"
        grep -E "$lh_module|not available|40[34]" "$buildlog" | tail -n 2 | sed 's/^/        /' >&2 || true
    fi

    install_wrappers "$stage"
    if [[ -e $bin_dir ]]; then
        # A bin directory without a CLI (interrupted by hand?) is moved aside, never merged into.
        mv "$bin_dir" "$work/stale-bin"
    fi
    mv "$stage" "$bin_dir"
    log "Pulumi CLI v$version ready in $bin_dir after $((SECONDS - started))s"
    rm -rf "$work"
    trap release_lock EXIT
}

# Builds pulumi-language-yaml with `go install` (its own go.mod, as released)
# into a throw-away folder, then moves the finished bin directory into place.
build_yaml_into_cache() {
    command -v go >/dev/null 2>&1 ||
        die "pulumi-language-yaml v$yaml_version is not next to the CLI or in $yaml_bin_dir, and Go is not installed to build it.
  Install Go >= 1.25, or install Pulumi the usual way (its install includes pulumi-language-yaml)."
    local work buildlog started=$SECONDS
    work=$(mktemp -d "$yaml_cache_dir/.build.XXXXXX")
    buildlog="$yaml_cache_dir/last-build.log"
    : >"$buildlog"
    # shellcheck disable=SC2064 # expand now: these are this build's paths
    trap "rm -rf '$work'; release_lock" EXIT
    log "building pulumi-language-yaml v$yaml_version from the Go module proxy into $yaml_bin_dir"
    log "(one-off; about 1.5 minutes on 2 cores; log: $buildlog)"
    if ! (cd "$work" && GOWORK=off GOBIN="$work/bin" CGO_ENABLED=0 go install \
        -ldflags "-X $yaml_module/pkg/version.Version=v$yaml_version" \
        "$yaml_module/cmd/pulumi-language-yaml@v$yaml_version") >>"$buildlog" 2>&1; then
        log "build failed after $((SECONDS - started))s; last lines of $buildlog:"
        tail -n 25 "$buildlog" | sed 's/^/    /' >&2
        die "could not build pulumi-language-yaml v$yaml_version. Check that the Go module proxy ($(go env GOPROXY)) is reachable."
    fi
    [[ -x $work/bin/pulumi-language-yaml ]] || die "go install left no pulumi-language-yaml in $work/bin (see $buildlog)"
    if [[ -e $yaml_bin_dir ]]; then mv "$yaml_bin_dir" "$work/stale-bin"; fi
    mv "$work/bin" "$yaml_bin_dir"
    log "pulumi-language-yaml v$yaml_version ready in $yaml_bin_dir after $((SECONDS - started))s"
    rm -rf "$work"
    trap release_lock EXIT
}

# 1. A pulumi on PATH with the pinned version (a normal user install, or ours
#    placed on PATH by pulumi.sh).
tool_dir=
extra_path=
uses_our_host=
if path_pulumi=$(command -v pulumi 2>/dev/null); then
    path_version=$(PULUMI_SKIP_UPDATE_CHECK=true "$path_pulumi" version 2>/dev/null || true)
    if [[ $path_version == "v$version" ]]; then
        real_dir=$(dirname "$(realpath "$path_pulumi")")
        if [[ -x $real_dir/pulumi-language-nodejs ]]; then
            tool_dir=$real_dir
        else
            # An install without a language host: pair it with our wrappers in a
            # shim directory. The CLI then warns "using pulumi-language-nodejs
            # from $PATH", which is expected.
            tool_dir="$cache_dir/path-shim"
            mkdir -p "$tool_dir"
            ln -sfn "$(realpath "$path_pulumi")" "$tool_dir/pulumi"
            install_wrappers "$tool_dir"
        fi
    elif [[ -n $path_version ]]; then
        log "ignoring $path_pulumi: it is ${path_version}, this repository pins v$version"
    fi
fi

# 2. The per-user cache; 3. a build into it.
if [[ -z $tool_dir ]]; then
    if [[ ! -x $bin_dir/pulumi ]]; then
        acquire_lock "$cache_dir"
        # Another run may have finished the build while we waited for the lock.
        if [[ ! -x $bin_dir/pulumi ]]; then
            build_into_cache
        fi
        release_lock
    fi
    install_wrappers "$bin_dir"
    tool_dir=$bin_dir
fi

# The YAML language host: the one that came with the CLI (a normal install),
# else ours, linked next to the CLI in the folders this script owns (the cache
# and the PATH shim), so Pulumi finds it as a bundled plugin.
if [[ ! -x $tool_dir/pulumi-language-yaml || -L $tool_dir/pulumi-language-yaml ]]; then
    if [[ ! -x $yaml_bin_dir/pulumi-language-yaml ]]; then
        acquire_lock "$yaml_cache_dir"
        if [[ ! -x $yaml_bin_dir/pulumi-language-yaml ]]; then
            build_yaml_into_cache
        fi
        release_lock
    fi
    if [[ $tool_dir == "$bin_dir" || $tool_dir == "$cache_dir/path-shim" ]]; then
        ln -sfn "$yaml_bin_dir/pulumi-language-yaml" "$tool_dir/pulumi-language-yaml"
    else
        # A normal install without the YAML host (unusual): found on PATH instead.
        extra_path=$yaml_bin_dir
    fi
fi

if is_script "$tool_dir/pulumi-language-nodejs" && grep -q AZURE_EMAIL_INVOICING_LANGUAGE_HOST "$tool_dir/pulumi-language-nodejs"; then
    uses_our_host=1
    [[ -f $host_js ]] || die "our language host $host_js is missing"
fi

if [[ $mode == dir ]]; then
    printf '%s\n' "$tool_dir"
    exit 0
fi

# --env: what pulumi.sh exports and dev/pulumi-toolchain.ts passes to child processes.
# Each default applies only when the caller has not set the variable.
emit_default() { if [[ -z ${!1+set} ]]; then printf '%s=%s\n' "$1" "$2"; fi; }
printf 'PATH=%s\n' "$tool_dir${extra_path:+:$extra_path}${PATH:+:$PATH}"
if [[ -n $uses_our_host ]]; then
    printf 'AZURE_EMAIL_INVOICING_LANGUAGE_HOST=%s\n' "$host_js"
fi
# Printing only: the folder is created by pulumi.sh when it runs pulumi, so a
# caller that sets its own backend later (the e2e tests, the demo) leaves no
# trace in the checkout.
if [[ -z ${PULUMI_BACKEND_URL+set} ]]; then
    printf 'PULUMI_BACKEND_URL=file://%s\n' "$repo/.pulumi-state"
fi
# Local-only default: state in .pulumi-state is encrypted with a passphrase
# everyone can read here, so it protects nothing. Real stacks set their own.
if [[ -z ${PULUMI_CONFIG_PASSPHRASE+set} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE+set} ]]; then
    printf 'PULUMI_CONFIG_PASSPHRASE=%s\n' "azure-email-invoicing-local-only"
fi
emit_default PULUMI_SKIP_UPDATE_CHECK true
emit_default PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION true
emit_default PULUMI_DISABLE_REGISTRY_RESOLVE true
