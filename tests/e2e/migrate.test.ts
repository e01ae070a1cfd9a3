/**
 * Moving a stack from the dynamic resources to the provider plugin's without
 * touching Azure: the program switches from `azure-email-invoicing` to
 * `azure-email-invoicing/plugin` (whose classes alias the dynamic types), and
 * the next preview and up make no billing API call, keep the values recorded
 * at create (so destroy still restores what the first up found), keep a
 * secret input secret, and leave the state under the plugin; a refresh then
 * drops the dynamic provider's code from the outputs.
 *
 * Program: tests/e2e/programs/configurable (config `plugin`).
 */
import { expect } from "chai";
import * as path from "path";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { describeLog, heldEmailSettings, heldInvoiceManagers } from "./support/azure";
import {
    ASSIGNMENT_TYPE,
    PLUGIN_ASSIGNMENT_TYPE,
    PLUGIN_SETTING_TYPE,
    PROGRAMS,
    SETTING_TYPE,
    TOOLCHAIN_TIMEOUT_MS,
    TestStack,
    pulumiToolchain,
} from "../../dev/pulumi-stack";

const ops = SEED.profiles.operations;

describe("e2e: moving a stack from the dynamic provider to the plugin", function () {
    this.timeout(120_000);
    let emu: TestEmulator;
    let stack: TestStack;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
        stack = await TestStack.create({
            programDir: path.join(PROGRAMS, "configurable"),
            env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("alice") },
        });
        for (const [k, v] of Object.entries({ billingAccountName: ops.billingAccountName, billingProfileName: ops.billingProfileName, managerSecret: "true", recipients: JSON.stringify(["ap@contoso.com"]) })) {
            await stack.config(k, v);
        }
        // The manager's email is a secret (config and input): it must stay one under the plugin.
        await stack.config("manager", "jane@contoso.com", { secret: true });
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["legacy-ap@contoso.com"] });
        const up = await stack.up();
        expect(up.code, stack.transcript()).to.equal(0);
        const before = await stack.ourResources();
        expect(before.get("emails")!.type).to.equal(SETTING_TYPE);
        expect(before.get("manager")!.type).to.equal(ASSIGNMENT_TYPE);
    });
    after(async () => {
        await stack?.dispose();
        await emu?.close();
    });

    it("after switching the program to azure-email-invoicing/plugin, preview and up change nothing and call nothing", async () => {
        await stack.config("plugin", "true");
        await emu.admin.clearRequests();
        const preview = await stack.preview(["--expect-no-changes"]);
        expect(preview.code, stack.transcript()).to.equal(0);
        const up = await stack.up(["--expect-no-changes"]);
        expect(up.code, stack.transcript()).to.equal(0);
        expect(up.output).to.not.match(/replace|delete|create/i);
        const log = await emu.admin.requests();
        expect(log, describeLog(log)).to.deep.equal([]);
    });

    it("the state holds the plugin's resources with the values recorded at create, and a refresh drops the dynamic provider's code", async () => {
        const after = await stack.ourResources();
        expect(after.get("emails")!.type).to.equal(PLUGIN_SETTING_TYPE);
        expect(after.get("manager")!.type).to.equal(PLUGIN_ASSIGNMENT_TYPE);
        expect(after.get("emails")!.outputs).to.deep.include({ priorEnabled: false, priorAdditionalRecipients: ["legacy-ap@contoso.com"] });
        expect(String(after.get("emails")!.provider)).to.match(/::pulumi:providers:azure-email-invoicing::default/);
        expect(after.get("emails")!.inputs).to.not.have.property("__provider");

        // The dynamic provider did not store the outputs that are the resource ids; the classes read them from the ids.
        expect(after.get("emails")!.outputs).to.not.have.property("billingProfileId");
        const outputs = () => stack.exportState().then(({ deployment }) => deployment.resources!.find((r) => r.type === "pulumi:pulumi:Stack")!.outputs);
        expect(await outputs()).to.deep.include({ billingProfileId: after.get("emails")!.id, assignmentId: after.get("manager")!.id });

        const refresh = await stack.refreshApply();
        expect(refresh.code, stack.transcript()).to.equal(0);
        const { text } = await stack.exportState();
        expect(text).to.not.include("__provider");
        expect(text).to.not.include("pulumi-nodejs");
        // The plugin's read, on the dynamic provider's state, records them: its schema declares them for every language.
        const refreshed = await stack.ourResources();
        expect(refreshed.get("emails")!.outputs).to.have.property("billingProfileId", refreshed.get("emails")!.id);
        expect(refreshed.get("manager")!.outputs).to.have.property("billingRoleAssignmentId", refreshed.get("manager")!.id);
    });

    it("a secret input stays secret through the plugin's reads: ciphertext in inputs and outputs, the email nowhere in plain text", async () => {
        const manager = (await stack.ourResources()).get("manager")!;
        expect(manager.type).to.equal(PLUGIN_ASSIGNMENT_TYPE);
        for (const side of ["inputs", "outputs"] as const) {
            expect(manager[side]!.userEmailAddress, `${side}.userEmailAddress`).to.be.an("object").with.property("ciphertext").that.is.a("string");
        }
        expect(stack.backendText()).to.not.include("jane@contoso.com");
        expect(stack.backendText()).to.not.include(emu.token("alice"));
    });

    it("destroy through the plugin restores what the dynamic resource found at create", async () => {
        const r = await stack.destroy();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: false, recipients: ["legacy-ap@contoso.com"] });
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
    });
});
