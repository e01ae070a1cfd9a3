/**
 * The install path the README documents for machines where the plugin is not
 * on PATH: `npm run plugin:archive` (here its script, on the current build),
 * `pulumi plugin install resource azure-email-invoicing <version> --file
 * <archive>`, and a Pulumi YAML program that then runs with the installed
 * plugin, not a copy on PATH.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { REPO_ROOT } from "../../dev/paths";
import { heldEmailSettings, heldInvoiceManagers } from "./support/azure";
import { EXAMPLES, PLUGIN_BIN_DIR, PLUGIN_SETTING_TYPE, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain } from "../../dev/pulumi-stack";

const version = (require(path.join(REPO_ROOT, "package.json")) as { version: string }).version;
const ops = SEED.profiles.operations;

describe("e2e: the plugin installed from its archive (pulumi plugin install --file)", function () {
    this.timeout(180_000);
    let emu: TestEmulator;
    let stack: TestStack;
    let tmp: string;
    let archive: string;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aei-plugin-install-"));
        const { stdout } = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, "scripts", "plugin-archive.js"), "--out", tmp], { cwd: REPO_ROOT });
        archive = stdout.trim();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
        stack = await TestStack.create({
            programDir: path.join(EXAMPLES, "yaml"),
            pluginOnPath: false,
            env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("alice") },
        });
    });
    after(async () => {
        await stack?.dispose();
        await emu?.close();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the archive is named for its version and holds the executable Pulumi runs, at its top", async () => {
        expect(path.basename(archive)).to.equal(`pulumi-resource-azure-email-invoicing-v${version}.tar.gz`);
        const { stdout } = await promisify(execFile)("tar", ["-tzf", archive], { maxBuffer: 64 * 1024 * 1024 });
        const entries = stdout.split("\n");
        expect(entries).to.include("./pulumi-resource-azure-email-invoicing");
        expect(entries).to.include("./node_modules/azure-email-invoicing/dist/provider/plugin/server.js");
        // The test's PATH has no copy of the plugin, so what runs below is the installed one.
        expect(stack.environment().PATH.split(path.delimiter)).to.not.include(PLUGIN_BIN_DIR);
    });

    it("pulumi plugin install puts it in the plugin cache, and pulumi plugin ls lists it", async () => {
        const install = await stack.run(["plugin", "install", "resource", "azure-email-invoicing", version, "--file", archive]);
        expect(install.code, stack.transcript()).to.equal(0);
        const home = path.join(stack.root, "home");
        const dir = path.join(home, "plugins", `resource-azure-email-invoicing-v${version}`);
        expect(fs.statSync(path.join(dir, "pulumi-resource-azure-email-invoicing")).mode & 0o111, "executable").to.not.equal(0);
        const ls = await stack.run(["plugin", "ls"]);
        expect(ls.output).to.match(new RegExp(`azure-email-invoicing\\s+resource\\s+${version.replace(/\./g, "\\.")}`));
    });

    it("up and destroy of examples/yaml run the installed plugin, not one on PATH", async () => {
        const up = await stack.up();
        expect(up.code, stack.transcript()).to.equal(0);
        expect(up.output).to.not.include("from $PATH");
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        expect((await stack.ourResources()).get("finance-emails")!.type).to.equal(PLUGIN_SETTING_TYPE);

        const destroy = await stack.destroy();
        expect(destroy.code, stack.transcript()).to.equal(0);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
    });
});
