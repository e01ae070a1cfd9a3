#!/usr/bin/env node
// Makes `require("azure-email-invoicing")` resolve inside this repository.
//
// Why: Pulumi stores each dynamic resource's provider as a small shim that loads
// the implementation by package name when the engine calls it. The dynamic
// provider host evaluates that shim with node_modules lookup rooted at the
// program's directory, where Node's package self-reference does not apply, so
// the examples in this repository need `node_modules/azure-email-invoicing`.
// Installed from npm, the package is already in the user's node_modules.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");

/**
 * Creates (or repairs) the link `node_modules/azure-email-invoicing` -> the
 * repository root; does nothing when it is already right. Also run once per
 * test run by tests/support/hooks.ts, so the unit tier works after a plain `tsc`.
 */
function linkSelf() {
    const link = path.join(root, "node_modules", "azure-email-invoicing");
    fs.mkdirSync(path.dirname(link), { recursive: true });
    try {
        const current = fs.readlinkSync(link);
        if (path.resolve(path.dirname(link), current) === root) return;
        fs.rmSync(link, { recursive: true, force: true });
    } catch (err) {
        if (err.code !== "ENOENT") fs.rmSync(link, { recursive: true, force: true });
    }
    fs.symlinkSync(path.relative(path.dirname(link), root), link, "dir");
}

module.exports = { linkSelf };
if (require.main === module) linkSelf();
