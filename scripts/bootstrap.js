#!/usr/bin/env node
// First-use setup for `npm start` and `npm test` on a fresh clone, so the
// README's Quickstart is two commands. Idempotent and quick when nothing changed:
//   1. `npm ci` when node_modules is missing or older than package-lock.json;
//   2. `tsc` (incremental) into dist/, and the self-link examples need;
//   3. with --pulumi: the Pulumi CLI and Node.js language host
//      (scripts/pulumi/ensure-pulumi.sh: PATH, cache, or a build from the Go
//      module proxy on first use).
// Plain Node with no dependencies: it runs before anything is installed.
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const wantPulumi = process.argv.includes("--pulumi");

function run(cmd, args, what) {
    process.stderr.write(`[bootstrap] ${what}: ${cmd} ${args.join(" ")}\n`);
    const r = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", process.stderr, "inherit"] });
    if (r.status !== 0) {
        process.stderr.write(`[bootstrap] ${what} failed (exit ${r.status ?? r.signal}); fix the error above and run the command again\n`);
        process.exit(r.status || 1);
    }
}

function mtime(p) {
    try {
        return fs.statSync(p).mtimeMs;
    } catch {
        return 0;
    }
}

const lock = path.join(root, "package-lock.json");
const installed = path.join(root, "node_modules", ".package-lock.json");
if (!mtime(installed) || mtime(installed) < mtime(lock)) {
    run("npm", ["ci", "--no-audit", "--no-fund"], "installing dependencies");
} else {
    run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], "building");
    run(process.execPath, [path.join(root, "scripts", "link-self.js")], "linking the package for the examples");
}
if (wantPulumi) {
    run("bash", [path.join(root, "scripts", "pulumi", "ensure-pulumi.sh")], "making the Pulumi CLI available");
}
