#!/usr/bin/env bash
# `npm run generate`: writes schema.json from the zod schemas (the build's
# provider/plugin/schema.ts), then sdk/python and sdk/go from schema.json with
# Pulumi's own generators (scripts/sdkgen). Commit what it changes; the unit
# tests fail while schema.json is stale, the SDK tests while an SDK is.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'process.stdout.write(require("./dist/provider/plugin/schema").schemaJson())' >schema.json.tmp
mv schema.json.tmp schema.json
bash scripts/sdkgen/sdkgen.sh -schema schema.json -out sdk -lang python,go
