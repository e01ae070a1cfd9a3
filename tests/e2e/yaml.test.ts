/**
 * The provider plugin through the real Pulumi CLI, from a Pulumi YAML program
 * (examples/yaml), against the emulator: up, a no-change preview that calls
 * nothing, a portal change caught by the drift check with the property (and
 * the recipient) named, `pulumi import` of a setting and an assignment that
 * exist in Azure followed by a no-change preview of the generated code, and
 * destroy restoring each profile. The provider is configured by stack config
 * here (endpoint, and the token as a secret), by environment for the import.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { describeLog, expectPreviewCallsNothing, heldEmailSettings, heldInvoiceManagers } from "./support/azure";
import { EXAMPLES, PLUGIN_ASSIGNMENT_TYPE, PLUGIN_SETTING_TYPE, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain } from "../../dev/pulumi-stack";

const ops = SEED.profiles.operations;
const research = SEED.profiles.research;
const jane = SEED.users.jane;
const victor = SEED.users.victor;

describe("e2e: Pulumi YAML through the provider plugin", function () {
    this.timeout(120_000);
    let emu: TestEmulator;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
    });
    after(async () => {
        await emu?.close();
    });

    describe("examples/yaml: up, preview, drift, destroy", () => {
        let stack: TestStack;

        before(async () => {
            stack = await TestStack.create({ programDir: path.join(EXAMPLES, "yaml") });
            await stack.config("azure-email-invoicing:endpoint", emu.url);
            await stack.config("azure-email-invoicing:token", emu.token("alice"), { secret: true });
            // Configured by hand before Pulumi managed it: destroy must bring this back.
            await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["legacy-ap@contoso.com"] });
        });
        after(async () => {
            await stack?.dispose();
        });

        it("up creates both resources through the plugin; the state holds no provider code and no token", async () => {
            const r = await stack.up();
            expect(r.code, stack.transcript()).to.equal(0);
            expect(r.output).to.match(/\+ 3 created/);
            expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
            expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([jane.id]);

            const resources = await stack.ourResources();
            const setting = resources.get("finance-emails")!;
            expect(setting.type).to.equal(PLUGIN_SETTING_TYPE);
            expect(setting.outputs).to.deep.include({ enabled: true, priorEnabled: false, priorAdditionalRecipients: ["legacy-ap@contoso.com"] });
            expect(resources.get("jane")!.type).to.equal(PLUGIN_ASSIGNMENT_TYPE);
            expect(resources.get("jane")!.outputs).to.deep.include({ principalId: jane.id, adopted: false });
            expect(String(setting.provider)).to.match(/::pulumi:providers:azure-email-invoicing::default/);

            const { text } = await stack.exportState();
            expect(text).to.not.include("__provider");
            expect(stack.backendText()).to.not.include(emu.token("alice"));
        });

        it("a no-change preview reports no changes and makes no billing API request", async () => {
            await expectPreviewCallsNothing(emu, stack, 3);
        });

        it("a portal change fails the drift check naming the property and the recipient; refresh + up put it back", async () => {
            await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["ap@contoso.com", "mallory@contoso.com"] });

            const check = await stack.refresh(["--preview-only", "--expect-no-changes", "--diff"]);
            expect(check.code, stack.transcript()).to.not.equal(0);
            expect(check.output).to.include("no changes were expected for refresh but changes were proposed");
            expect(check.output).to.match(/~ enabled\s*: true => false/);
            expect(check.output).to.match(/~ additionalRecipients: \[\s*\+ \[1\]: "mallory@contoso.com"\s*\]/);

            const summary = await stack.driftCheck();
            expect(summary.output).to.match(/EmailInvoiceSetting finance-emails\s+update\s+\[diff: ~additionalRecipients,enabled\]/);

            expect((await stack.refreshApply()).code, stack.transcript()).to.equal(0);
            const up = await stack.up([], { preview: true });
            expect(up.code, stack.transcript()).to.equal(0);
            expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        });

        it("destroy restores the opt-in and recipients found at create and removes the assignment", async () => {
            const r = await stack.destroy();
            expect(r.code, stack.transcript()).to.equal(0);
            expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: false, recipients: ["legacy-ap@contoso.com"] });
            expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        });
    });

    describe("pulumi import of a setting and an assignment made in the portal", () => {
        let stack: TestStack;
        let programDir: string;
        let settingId: string;
        let assignmentId: string;

        before(async () => {
            // The portal (Grace, the billing account owner): the research profile opted in with a recipient, Victor made Invoice manager.
            const owner = emu.client("grace");
            await owner.updateInvoiceEmailSettings(research, { invoiceEmailOptIn: true, invoiceRecipients: ["research-ap@contoso.com"] });
            const role = await owner.resolveRoleDefinition(research, "Invoice manager");
            const created = await owner.createRoleAssignment(research, { roleDefinitionId: role.id, principalId: victor.id });
            assignmentId = created.id;
            settingId = (await owner.getBillingProfile(research)).id;

            programDir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-yaml-import-"));
            fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), "name: imported\nruntime: yaml\n");
            stack = await TestStack.create({
                programDir,
                env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("grace") },
            });
        });
        after(async () => {
            await stack?.dispose();
            if (programDir) fs.rmSync(programDir, { recursive: true, force: true });
        });

        it("imports both by their ARM ids, writing code that previews with no changes and no billing API request", async () => {
            const importFile = path.join(programDir, "import.json");
            fs.writeFileSync(
                importFile,
                JSON.stringify({
                    resources: [
                        { type: PLUGIN_SETTING_TYPE, name: "research-emails", id: settingId },
                        { type: PLUGIN_ASSIGNMENT_TYPE, name: "victor", id: assignmentId },
                    ],
                }),
            );
            const generated = path.join(programDir, "generated.yaml");
            await emu.admin.clearRequests();
            const r = await stack.run(["import", "--file", importFile, "--out", generated, "--protect=false", "--yes", "--stack", stack.stack, "--non-interactive", "--color", "never", "--config-file", stack.configFile]);
            expect(r.code, stack.transcript()).to.equal(0);
            expect(r.output).to.match(/= 2 imported/);
            expect(r.output).to.not.include("failed to validate");
            const log = await emu.admin.requests();
            expect(log.filter((e) => e.method !== "GET"), describeLog(log)).to.deep.equal([]);

            const resources = await stack.ourResources();
            expect(resources.get("research-emails")!.outputs).to.deep.include({
                enabled: true,
                additionalRecipients: ["research-ap@contoso.com"],
                // What it found at import is what destroy restores.
                priorEnabled: true,
                priorAdditionalRecipients: ["research-ap@contoso.com"],
            });
            expect(resources.get("victor")!.outputs).to.deep.include({ principalId: victor.id, principalSource: "principalId", adopted: true });

            const code = fs.readFileSync(generated, "utf8");
            expect(code).to.include("type: azure-email-invoicing:EmailInvoiceSetting");
            expect(code).to.include(`principalId: ${victor.id}`);
            fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), `name: imported\nruntime: yaml\n${code}`);

            await expectPreviewCallsNothing(emu, stack, 3);
        });

        it("an id that is not an ARM id fails the import naming the form it must have", async () => {
            const r = await stack.run(["import", PLUGIN_SETTING_TYPE, "typo", "K7QM-4T2X-BG7-PGB", "--yes", "--stack", stack.stack, "--non-interactive", "--color", "never", "--config-file", stack.configFile]);
            expect(r.code).to.not.equal(0);
            expect(r.output).to.include("the id must be the billing profile's ARM id, /providers/Microsoft.Billing/billingAccounts/");
        });

        it("destroy leaves the profile as it was at import and removes the imported assignment", async () => {
            const r = await stack.destroy();
            expect(r.code, stack.transcript()).to.equal(0);
            expect(await heldEmailSettings(emu, research)).to.deep.equal({ enabled: true, recipients: ["research-ap@contoso.com"] });
            expect(await heldInvoiceManagers(emu, research)).to.deep.equal([]);
        });
    });
});
