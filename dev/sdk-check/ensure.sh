#!/usr/bin/env bash
# Makes Microsoft's Python SDK for Azure Billing (azure-mgmt-billing, pinned)
# available in a virtual environment cached outside the repository, and
# prints the path of its python. Installs from PyPI with pip on first use;
# quick and offline afterwards. The emulator's SDK check
# (tests/integration/emulator/microsoftSdk.test.ts) runs check.py with it.
set -euo pipefail
VERSION=8.0.0
venv="${AZURE_EMAIL_INVOICING_CACHE:-$HOME/.cache/azure-email-invoicing}/python-azure-mgmt-billing-$VERSION"
if ! "$venv/bin/python" -c "import azure.mgmt.billing" >/dev/null 2>&1; then
    echo "== installing azure-mgmt-billing $VERSION into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "azure-mgmt-billing==$VERSION" >&2
fi
echo "$venv/bin/python"
