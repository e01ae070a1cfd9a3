#!/usr/bin/env node
// `npm run plugin:archive`: the provider plugin as an archive for
// `pulumi plugin install resource azure-email-invoicing <version> --file <archive>`.
//
//   node scripts/plugin-archive.js [--out DIR]     (default DIR: dist/)
//   -> DIR/pulumi-resource-azure-email-invoicing-v<version>.tar.gz
//
// The archive holds this package (as `npm pack` makes it, from the current
// build) installed with its production dependencies and the @pulumi/pulumi
// this repository pins, and at its top the executable Pulumi runs,
// `pulumi-resource-azure-email-invoicing`, which starts the plugin with the
// `node` on PATH. Nothing is compiled: native modules the plugin does not
// load (better-sqlite3, for the reconciler) are left unbuilt.
// Plain Node with no dependencies; npm reaches only the npm registry (its
// cache first).
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const outDir = path.resolve(outIndex >= 0 ? args[outIndex + 1] : path.join(root, "dist"));
const pkg = require(path.join(root, "package.json"));
const pulumiPin = pkg.devDependencies["@pulumi/pulumi"];
const name = `pulumi-resource-azure-email-invoicing-v${pkg.version}.tar.gz`;

function run(cmd, cmdArgs, cwd) {
    const r = spawnSync(cmd, cmdArgs, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (r.status !== 0) {
        process.stderr.write(`plugin-archive: ${cmd} ${cmdArgs.join(" ")} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
        process.exit(1);
    }
    return r.stdout;
}

if (!fs.existsSync(path.join(root, "dist", "provider", "plugin", "main.js"))) {
    process.stderr.write("plugin-archive: dist/provider/plugin/main.js is missing; run `npm run build` first\n");
    process.exit(1);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), "aei-plugin-archive-"));
try {
    // --ignore-scripts: `prepare` would rebuild; the build is already there.
    const tarball = run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", work], root).trim().split("\n").pop();
    const stage = path.join(work, "stage");
    fs.mkdirSync(stage);
    fs.writeFileSync(
        path.join(stage, "package.json"),
        JSON.stringify(
            {
                name: "pulumi-resource-azure-email-invoicing",
                version: pkg.version,
                private: true,
                description: "The azure-email-invoicing Pulumi provider plugin, as `pulumi plugin install` unpacks it.",
                dependencies: { "azure-email-invoicing": `file:../${tarball}`, "@pulumi/pulumi": pulumiPin },
            },
            null,
            2,
        ),
    );
    run("npm", ["install", "--omit=dev", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"], stage);
    const exe = path.join(stage, "pulumi-resource-azure-email-invoicing");
    fs.writeFileSync(
        exe,
        [
            "#!/bin/sh",
            "# The azure-email-invoicing provider plugin, started by Pulumi from its plugin folder.",
            'here=$(cd "$(dirname "$0")" && pwd)',
            'exec node "$here/node_modules/azure-email-invoicing/bin/pulumi-resource-azure-email-invoicing" "$@"',
            "",
        ].join("\n"),
    );
    fs.chmodSync(exe, 0o755);
    fs.mkdirSync(outDir, { recursive: true });
    run("tar", ["-czf", path.join(outDir, name), "-C", stage, "."], root);
    process.stdout.write(`${path.join(outDir, name)}\n`);
} finally {
    fs.rmSync(work, { recursive: true, force: true });
}
