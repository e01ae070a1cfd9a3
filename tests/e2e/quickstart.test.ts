/**
 * The quickstart example (examples/quickstart, the root Pulumi.yaml's
 * program) through the real Pulumi CLI, configured as a user of the sandbox
 * would be: AZURE_EMAIL_INVOICING_ENDPOINT and AZURE_EMAIL_INVOICING_TOKEN
 * (alice, the profile's owner) in the environment.
 *
 * The tests run in order against one stack, as a user's day would: up,
 * no-change preview and up, portal changes caught by the drift check and
 * put back, the state's contents, destroy. Each asserts what the emulator
 * holds and what the state contains.
 */
import { expect } from "chai";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { describeLog, expectPreviewCallsNothing, heldAssignments, heldEmailSettings, heldInvoiceManagers, writes } from "./support/azure";
import * as path from "path";
import { REPO_ROOT } from "../../dev/paths";
import { ASSIGNMENT_TYPE, EXAMPLES, SETTING_TYPE, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain } from "../../dev/pulumi-stack";

const ops = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const jane = SEED.users.jane;

describe("e2e: quickstart example (provider configured by environment)", function () {
    this.timeout(120_000);
    let emu: TestEmulator;
    let stack: TestStack;
    let seededAssignments: string[];

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
        stack = await TestStack.create({
            programDir: path.join(EXAMPLES, "quickstart"),
            env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("alice") },
        });
        // Someone configured the profile by hand before Pulumi managed it: destroy must bring this back.
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["legacy-ap@contoso.com"] });
        seededAssignments = await heldAssignments(emu, ops);
    });
    after(async () => {
        await stack?.dispose();
        await emu?.close();
    });

    it("up creates both resources: the emulator holds the opt-in, the recipient and Jane's Invoice manager assignment", async () => {
        const r = await stack.up();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(r.output).to.match(/\+ 3 created/); // the two resources and the stack

        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([jane.id]);

        const resources = await stack.ourResources();
        const setting = resources.get("finance-emails")!;
        expect(setting.type).to.equal(SETTING_TYPE);
        expect(setting.outputs).to.deep.include({
            enabled: true,
            additionalRecipients: ["ap@contoso.com"],
            priorEnabled: false,
            priorAdditionalRecipients: ["legacy-ap@contoso.com"],
            billingProfileDisplayName: SEED.profiles.operations.displayName,
        });
        const assignment = resources.get("jane")!;
        expect(assignment.type).to.equal(ASSIGNMENT_TYPE);
        expect(assignment.outputs).to.deep.include({ principalId: jane.id, userEmailAddress: "jane@contoso.com", adopted: false });
    });

    it("a second preview reports no changes and makes no request to the billing API", async () => {
        await expectPreviewCallsNothing(emu, stack, 3);
    });

    it("an up with no changes makes no write", async () => {
        await emu.admin.clearRequests();
        const r = await stack.up();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(r.output).to.match(/3 unchanged/);
        const log = await emu.admin.requests();
        expect(writes(log), describeLog(log)).to.deep.equal([]);
    });

    it("a contributor turns the opt-in off in the portal: the drift check fails naming `enabled`; refresh + up put it back", async () => {
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["ap@contoso.com"] });

        const check = await stack.driftCheck();
        expect(check.code, stack.transcript()).to.not.equal(0);
        expect(check.output).to.include("no changes were expected for refresh but changes were proposed");
        expect(check.output).to.match(/EmailInvoiceSetting finance-emails\s+update\s+\[diff: ~enabled\]/);
        // --preview-only changed nothing: the state still records the program's value.
        expect((await stack.ourResources()).get("finance-emails")!.outputs!.enabled).to.equal(true);

        expect((await stack.refreshApply()).code, stack.transcript()).to.equal(0);
        const refreshed = (await stack.ourResources()).get("finance-emails")!;
        expect(refreshed.outputs!.enabled).to.equal(false);
        expect(refreshed.outputs!.priorAdditionalRecipients, "refresh keeps the values recorded at create").to.deep.equal(["legacy-ap@contoso.com"]);

        const up = await stack.up();
        expect(up.code, stack.transcript()).to.equal(0);
        expect(up.output).to.match(/finance-emails\s+updated.*\[diff: ~enabled\]/);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        expect((await stack.driftCheck()).code, stack.transcript()).to.equal(0);
    });

    it("a contributor adds a recipient in the portal: the drift check names `additionalRecipients`; refresh + up remove it", async () => {
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["ap@contoso.com", "mallory@contoso.com"] });

        const check = await stack.driftCheck();
        expect(check.code, stack.transcript()).to.not.equal(0);
        expect(check.output).to.match(/EmailInvoiceSetting finance-emails\s+update\s+\[diff: ~additionalRecipients\]/);

        expect((await stack.refreshApply()).code, stack.transcript()).to.equal(0);
        expect((await stack.up()).code, stack.transcript()).to.equal(0);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        expect((await stack.driftCheck()).code, stack.transcript()).to.equal(0);
    });

    it("the owner deletes Jane's assignment in the portal: the drift check shows it deleted; refresh + up create it again", async () => {
        const assignment = (await stack.ourResources()).get("jane")!;
        await emu.client("alice").deleteRoleAssignment(ops, assignment.outputs!.billingRoleAssignmentName);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);

        const check = await stack.driftCheck();
        expect(check.code, stack.transcript()).to.not.equal(0);
        expect(check.output).to.match(/InvoiceManagerAssignment jane\s+delete/);

        expect((await stack.refreshApply()).code, stack.transcript()).to.equal(0);
        expect((await stack.ourResources()).has("jane"), "refresh drops the vanished assignment from state").to.equal(false);

        const up = await stack.up();
        expect(up.code, stack.transcript()).to.equal(0);
        expect(up.output).to.match(/InvoiceManagerAssignment jane\s+created/);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([jane.id]);
        expect((await stack.driftCheck()).code, stack.transcript()).to.equal(0);
    });

    it("the state holds no bearer token, and each resource's serialized provider is under 4 KB", async () => {
        const token = emu.token("alice");
        expect(stack.backendText()).to.not.include(token);
        const plain = await stack.exportState({ showSecrets: true });
        expect(plain.text).to.not.include(token);
        expect(plain.text.toLowerCase()).to.not.include("bearer");
        const resources = await stack.ourResources();
        expect(resources.size).to.equal(2);
        for (const [name, r] of resources) {
            for (const side of ["inputs", "outputs"] as const) {
                const provider = r[side]!.__provider as string;
                expect(provider, `${name} ${side}.__provider`).to.be.a("string");
                expect(provider.length, `${name} ${side}.__provider`).to.be.lessThan(4096);
                expect(provider).to.include('require("azure-email-invoicing/dynamic")');
            }
        }
    });

    it("destroy restores the opt-in and recipients recorded at create and removes the assignment", async () => {
        const r = await stack.destroy();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: false, recipients: ["legacy-ap@contoso.com"] });
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        expect(await heldAssignments(emu, ops), "the profile's other role assignments are untouched").to.deep.equal(seededAssignments);
        expect((await stack.ourResources()).size).to.equal(0);
    });

    it("the root Pulumi.yaml runs this same program (what `npm start` and `npm run pulumi -- up` use)", async () => {
        const root = await TestStack.create({
            programDir: REPO_ROOT,
            stack: "e2e-root",
            env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("alice") },
        });
        try {
            await emu.admin.clearRequests();
            const r = await root.preview();
            expect(r.code, root.transcript()).to.equal(0);
            expect(r.output).to.match(/\+\s+pulumi-nodejs:dynamic\/azure-email-invoicing:EmailInvoiceSetting finance-emails create/);
            expect(r.output).to.match(/\+\s+pulumi-nodejs:dynamic\/azure-email-invoicing:InvoiceManagerAssignment jane create/);
            expect(r.output).to.match(/\+ 3 to create/);
            expect(await emu.admin.requests()).to.deep.equal([]);
        } finally {
            await root.dispose();
        }
    });
});
