#!/usr/bin/env bash
# `npm run pulumi -- <args>`: runs the Pulumi CLI this repository pins, offline.
#
# ensure-pulumi.sh finds or builds the CLI and a Node.js language host and
# prints the environment to run them with: that directory first on PATH, and,
# only where you have not set them, a file backend in <repo>/.pulumi-state, a
# local-only passphrase, no update check, no plugin downloads, no registry
# look-ups. Your own PULUMI_* settings always win. See scripts/pulumi/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
env_lines=$("$here/ensure-pulumi.sh" --env)
while IFS= read -r line; do
    [[ -n $line ]] && export "${line?}"
done <<<"$env_lines"

# The default file backend must exist before pulumi opens it ("unable to open
# bucket"); ensure-pulumi.sh only names it, so it is created here, where pulumi
# actually runs. A backend you set yourself is yours to create.
repo=$(cd "$here/../.." && pwd)
if [[ ${PULUMI_BACKEND_URL:-} == "file://$repo/.pulumi-state" ]]; then
    mkdir -p "$repo/.pulumi-state"
fi

exec pulumi "$@"
