/**
 * A provider code upgrade, through the real Pulumi CLI.
 *
 * The mechanism (README "Upgrades", sdk/shims.ts, provider/resources/host.ts):
 * Pulumi stores each dynamic resource's provider code in state (`__provider`).
 * Ours is a shim that only names the package: when the engine calls it, it
 * runs `require("azure-email-invoicing/dynamic")`, resolved from the
 * program's node_modules in the dynamic-provider process. So the version
 * installed when `refresh`, `up` or `destroy` runs is the code that runs, for
 * stacks written by any earlier version; `providerVersion` in the outputs
 * records which version last wrote the state, and `migrateOutputs` reads
 * state written by earlier versions.
 *
 * The test installs the built package as a real copy in a program's
 * node_modules as version N (package.json's version), creates a stack, then
 * replaces the copy with version N+1: another version number and a changed
 * implementation (its host records each create/read/update/delete it
 * serves in a file). Refresh, up and destroy must then run N+1's code on
 * N's state, and the state must show N+1 as the writer.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { REPO_ROOT } from "../../dev/paths";
import { heldEmailSettings, heldInvoiceManagers } from "./support/azure";
import { PROGRAMS, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain } from "../../dev/pulumi-stack";

const ops = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const PACKAGE = "azure-email-invoicing";

/** The repository's package version: "version N". */
const VERSION_N: string = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version;
/** "Version N+1": the next minor version. */
const VERSION_N1 = VERSION_N.replace(/^(\d+)\.(\d+)\.\d+.*$/, (_m, major: string, minor: string) => `${major}.${Number(minor) + 1}.0`);

/**
 * A program folder whose node_modules links every dependency to the
 * repository's, except azure-email-invoicing, which is a real copy (as
 * `npm install` would leave it), so it can be swapped.
 */
function makeProgram(root: string): string {
    const dir = path.join(root, "program");
    fs.mkdirSync(path.join(dir, "node_modules"), { recursive: true });
    for (const f of ["Pulumi.yaml", "package.json", "index.js"]) fs.copyFileSync(path.join(PROGRAMS, "configurable", f), path.join(dir, f));
    const repoModules = path.join(REPO_ROOT, "node_modules");
    for (const entry of fs.readdirSync(repoModules)) {
        if (entry === PACKAGE || entry.startsWith(".")) continue;
        fs.symlinkSync(path.join(repoModules, entry), path.join(dir, "node_modules", entry));
    }
    return dir;
}

/** Installs the built package into the program as `version`, optionally changing its implementation. */
function installPackage(programDir: string, version: string, patchHost?: (source: string) => string): void {
    const target = path.join(programDir, "node_modules", PACKAGE);
    fs.rmSync(target, { recursive: true, force: true });
    for (const part of ["provider", "sdk"]) fs.cpSync(path.join(REPO_ROOT, "dist", part), path.join(target, "dist", part), { recursive: true });
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    fs.writeFileSync(path.join(target, "package.json"), JSON.stringify({ ...pkg, version, scripts: {}, devDependencies: {} }, null, 2));
    if (patchHost) {
        const host = path.join(target, "dist", "provider", "resources", "host.js");
        fs.writeFileSync(host, patchHost(fs.readFileSync(host, "utf8")));
    }
}

/** N+1's change: its host records each lifecycle call it serves in `callLog`. */
function recordingCalls(callLog: string): (source: string) => string {
    return (source) =>
        source +
        `
// Version ${VERSION_N1} (e2e): record each lifecycle call this implementation serves.
const recordedHost = exports.host;
exports.host = function (kind, abi) {
    const h = recordedHost(kind, abi);
    for (const method of ["create", "read", "update", "delete"]) {
        const original = h[method];
        h[method] = async (...args) => {
            require("fs").appendFileSync(${JSON.stringify(callLog)}, method + " " + kind + "\\n");
            return original(...args);
        };
    }
    return h;
};
`;
}

describe("e2e: provider code upgrade (a stack written by version N, run by version N+1)", function () {
    this.timeout(120_000);
    let emu: TestEmulator;
    let stack: TestStack;
    let root: string;
    let programDir: string;
    let callLog: string;
    let providerTextAtN: string;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
        root = fs.mkdtempSync(path.join(os.tmpdir(), "aei-e2e-upgrade-"));
        callLog = path.join(root, "calls-n1.log");
        programDir = makeProgram(root);
        installPackage(programDir, VERSION_N);
        stack = await TestStack.create({
            programDir,
            env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("alice") },
        });
        for (const [k, v] of Object.entries({ ...ops, manager: "jane@contoso.com", recipients: JSON.stringify(["ap@contoso.com"]) })) await stack.config(k, v);
    });
    after(async () => {
        await stack?.dispose();
        await emu?.close();
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it(`version N (${VERSION_N}) creates the stack and records itself as providerVersion`, async () => {
        expect(VERSION_N1).to.not.equal(VERSION_N);
        const r = await stack.up();
        expect(r.code, stack.transcript()).to.equal(0);
        const resources = await stack.ourResources();
        expect(resources.size).to.equal(2);
        for (const [name, res] of resources) expect(res.outputs!.providerVersion, name).to.equal(VERSION_N);
        providerTextAtN = resources.get("emails")!.outputs!.__provider;
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
    });

    it(`after installing version N+1 (${VERSION_N1}), refresh runs N+1's read on N's state and records N+1`, async () => {
        installPackage(programDir, VERSION_N1, recordingCalls(callLog));
        // A portal change, so the refresh has something to find.
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["ap@contoso.com"] });

        const r = await stack.refreshApply();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(fs.readFileSync(callLog, "utf8").split("\n").filter(Boolean).sort()).to.deep.equal(["read EmailInvoiceSetting", "read InvoiceManagerAssignment"]);
        const resources = await stack.ourResources();
        for (const [name, res] of resources) expect(res.outputs!.providerVersion, name).to.equal(VERSION_N1);
        expect(resources.get("emails")!.outputs!.enabled).to.equal(false);
        // The prior values version N recorded at create survive N+1's read.
        expect(resources.get("emails")!.outputs!).to.deep.include({ priorEnabled: false, priorAdditionalRecipients: [] });
    });

    it("up with a changed program runs N+1's update; the stored shim text did not need to change", async () => {
        fs.writeFileSync(callLog, "");
        await stack.config("recipients", JSON.stringify(["ap@contoso.com", "controller@contoso.com"]));
        const r = await stack.up();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(fs.readFileSync(callLog, "utf8").split("\n").filter(Boolean)).to.deep.equal(["update EmailInvoiceSetting"]);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com", "controller@contoso.com"] });
        const emails = (await stack.ourResources()).get("emails")!;
        expect(emails.outputs!.providerVersion).to.equal(VERSION_N1);
        expect(emails.outputs!.__provider, "N+1's SDK serializes the same shim").to.equal(providerTextAtN);
    });

    it("destroy runs N+1's delete: the profile is restored to what N recorded, the assignment removed", async () => {
        fs.writeFileSync(callLog, "");
        const r = await stack.destroy();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(fs.readFileSync(callLog, "utf8").split("\n").filter(Boolean).sort()).to.deep.equal(["delete EmailInvoiceSetting", "delete InvoiceManagerAssignment"]);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: false, recipients: [] });
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        expect((await stack.ourResources()).size).to.equal(0);
    });
});
