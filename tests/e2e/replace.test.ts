/**
 * Replace semantics through the real Pulumi CLI and the provider plugin,
 * from a Pulumi YAML program rewritten at each step, against the emulator.
 * The README promises, for InvoiceManagerAssignment: a change that names
 * another user or profile replaces, creating the new assignment before
 * deleting the old; swapping the email for the same user's object id is an
 * in-place update; the old one is deleted first only where the new inputs
 * may name the same user on the same profile. For EmailInvoiceSetting, a
 * profile change replaces: the new profile is set (its values recorded as
 * prior values) before the old one is restored.
 *
 * Each step asserts the order of the billing API's writes (the emulator's
 * request log), what the emulator holds afterwards, and what `pulumi stack
 * export` contains.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BillingProfileRef } from "../../provider/billing/names";
import { SEED, startTestEmulator, type RequestLogEntry, type TestEmulator } from "../support/emulator";
import { describeLog, heldEmailSettings, heldInvoiceManagers, writes } from "./support/azure";
import { PLUGIN_ASSIGNMENT_TYPE, PLUGIN_SETTING_TYPE, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain, type Deployment, type StateResource } from "../../dev/pulumi-stack";

const ops = SEED.profiles.operations;
const research = SEED.profiles.research;
const jane = SEED.users.jane;
const victor = SEED.users.victor;

/** How the program names the assignment's user. */
type Principal = { userEmailAddress: string } | { principalId: string };

/** The YAML program of one step: the setting on one profile, the assignment of one user on one profile. */
function program(step: { setting: BillingProfileRef; manager: BillingProfileRef & { user: Principal } }): string {
    const q = JSON.stringify;
    const [key, value] = Object.entries(step.manager.user)[0];
    return [
        "name: aei-e2e-replace",
        "runtime: yaml",
        "resources:",
        "  emails:",
        "    type: azure-email-invoicing:EmailInvoiceSetting",
        "    properties:",
        `      billingAccountName: ${q(step.setting.billingAccountName)}`,
        `      billingProfileName: ${q(step.setting.billingProfileName)}`,
        "      enabled: true",
        "      additionalRecipients:",
        "        - ap@contoso.com",
        "  manager:",
        "    type: azure-email-invoicing:InvoiceManagerAssignment",
        "    properties:",
        `      billingAccountName: ${q(step.manager.billingAccountName)}`,
        `      billingProfileName: ${q(step.manager.billingProfileName)}`,
        `      ${key}: ${q(value)}`,
        "",
    ].join("\n");
}

/** The billing API's writes, in the order the emulator received them, as `<operation> <profile>`. */
function writeOrder(log: RequestLogEntry[]): string[] {
    const profileOf = (p: string) => /\/billingProfiles\/([^/?]+)/.exec(p)?.[1] ?? "?";
    return writes(log)
        .filter((e) => e.status < 300)
        .map((e) => `${e.operation} ${decodeURIComponent(profileOf(e.path))}`);
}

describe("e2e: replace semantics through the provider plugin (Pulumi YAML)", function () {
    this.timeout(180_000);
    let emu: TestEmulator;
    let stack: TestStack;
    let programDir: string;

    /** Writes the step's program, runs `pulumi up` (preview first, so the plan is the engine's), and returns the output and the billing API log of the up. */
    async function up(step: Parameters<typeof program>[0]): Promise<{ output: string; log: RequestLogEntry[] }> {
        fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), program(step));
        await emu.admin.clearRequests();
        const r = await stack.up([], { preview: true });
        expect(r.code, stack.transcript()).to.equal(0);
        return { output: r.output, log: await emu.admin.requests() };
    }

    /** The state after a step: exactly our two resources, nothing pending or awaiting deletion. */
    async function state(): Promise<{ emails: StateResource; manager: StateResource; deployment: Deployment }> {
        const { deployment } = await stack.exportState();
        expect(deployment.pending_operations ?? [], "pending operations").to.deep.equal([]);
        const ours = (deployment.resources ?? []).filter((r) => r.type === PLUGIN_SETTING_TYPE || r.type === PLUGIN_ASSIGNMENT_TYPE);
        expect(ours.map((r) => `${r.type}::${r.urn.split("::").pop()}`).sort()).to.deep.equal([`${PLUGIN_SETTING_TYPE}::emails`, `${PLUGIN_ASSIGNMENT_TYPE}::manager`]);
        expect(ours.filter((r) => r.delete === true), "resources left awaiting deletion").to.deep.equal([]);
        return { emails: ours.find((r) => r.type === PLUGIN_SETTING_TYPE)!, manager: ours.find((r) => r.type === PLUGIN_ASSIGNMENT_TYPE)!, deployment };
    }

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
        // What each profile held before Pulumi managed it: a replaced setting must give it back.
        await emu.client("grace").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["legacy-ap@contoso.com"] });
        await emu.client("grace").updateInvoiceEmailSettings(research, { invoiceEmailOptIn: false, invoiceRecipients: ["research-legacy@contoso.com"] });
        programDir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-yaml-replace-"));
        fs.writeFileSync(path.join(programDir, "Pulumi.yaml"), "name: aei-e2e-replace\nruntime: yaml\n");
        // Grace owns the billing account: she may assign roles and set invoice email on both profiles.
        stack = await TestStack.create({ programDir, env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("grace") } });
    });
    after(async () => {
        await stack?.dispose();
        await emu?.close();
        if (programDir) fs.rmSync(programDir, { recursive: true, force: true });
    });

    it("up: the setting on Operations, Jane (by email) as Invoice manager of Operations", async () => {
        const { output } = await up({ setting: ops, manager: { ...ops, user: { userEmailAddress: "jane@contoso.com" } } });
        expect(output, output).to.match(/\+ 3 created/);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([jane.id]);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        const { manager } = await state();
        expect(manager.outputs).to.deep.include({ principalId: jane.id, principalSource: "userEmailAddress", billingProfileName: ops.billingProfileName, adopted: false });
    });

    it("another user replaces the assignment: Victor's is created before Jane's is deleted, and only Victor's remains", async () => {
        const before = (await state()).manager;
        const { output, log } = await up({ setting: ops, manager: { ...ops, user: { userEmailAddress: "victor@contoso.com" } } });
        expect(output, output).to.match(/\+-\s+azure-email-invoicing:index:InvoiceManagerAssignment\s+manager\s+replace(d)?\s+\[diff: ~userEmailAddress\]/);
        expect(output, output).to.match(/\+-1 replaced/);
        expect(writeOrder(log), describeLog(log)).to.deep.equal([`createBillingRoleAssignment ${ops.billingProfileName}`, `deleteBillingRoleAssignment ${ops.billingProfileName}`]);
        const deleted = writes(log).find((e) => e.operation === "deleteBillingRoleAssignment")!;
        expect(deleted.path).to.include(before.outputs!.billingRoleAssignmentName);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([victor.id]);

        const { manager } = await state();
        expect(manager.id).to.not.equal(before.id);
        expect(manager.id).to.include(victor.id);
        expect(manager.outputs).to.deep.include({ principalId: victor.id, userEmailAddress: "victor@contoso.com", principalSource: "userEmailAddress", billingProfileName: ops.billingProfileName });
        expect(manager.inputs).to.deep.include({ userEmailAddress: "victor@contoso.com" });
    });

    it("another profile replaces the assignment: Victor's on Research is created before his on Operations is deleted", async () => {
        const before = (await state()).manager;
        const { output, log } = await up({ setting: ops, manager: { ...research, user: { userEmailAddress: "victor@contoso.com" } } });
        expect(output, output).to.match(/InvoiceManagerAssignment\s+manager\s+replace(d)?\s+\[diff: ~billingProfileName\]/);
        expect(writeOrder(log), describeLog(log)).to.deep.equal([`createBillingRoleAssignment ${research.billingProfileName}`, `deleteBillingRoleAssignment ${ops.billingProfileName}`]);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        expect(await heldInvoiceManagers(emu, research)).to.deep.equal([victor.id]);

        const { manager } = await state();
        expect(manager.id).to.not.equal(before.id);
        expect(manager.id).to.include(`/billingProfiles/${research.billingProfileName}/`);
        expect(manager.outputs).to.deep.include({ principalId: victor.id, billingProfileName: research.billingProfileName });
    });

    it("the same user's object id instead of the email is an in-place update: no replace, no billing write, the same assignment", async () => {
        const before = (await state()).manager;
        const held = (await emu.admin.state()).roleAssignments as Array<{ name: string; createdOn?: string }>;
        const { output, log } = await up({ setting: ops, manager: { ...research, user: { principalId: victor.id } } });
        expect(output, output).to.match(/~\s+azure-email-invoicing:index:InvoiceManagerAssignment\s+manager\s+update(d)?\s+\[diff: [+~-]?principalId/);
        expect(output, output).to.match(/~ 1 updated/);
        // "+-" marks a replace in the plan and the summary (the project name holds the word "replace").
        expect(output, output).to.not.match(/\+-|replaced|to replace/);
        expect(writes(log), describeLog(log)).to.deep.equal([]);
        expect(await heldInvoiceManagers(emu, research)).to.deep.equal([victor.id]);
        expect((await emu.admin.state()).roleAssignments, "the emulator's assignments, untouched").to.deep.equal(held);

        const { manager } = await state();
        expect(manager.id).to.equal(before.id);
        expect(manager.outputs).to.deep.include({ principalId: victor.id, principalSource: "principalId", billingRoleAssignmentName: before.outputs!.billingRoleAssignmentName, createdOn: before.outputs!.createdOn });
        expect(manager.inputs).to.deep.include({ principalId: victor.id });
        expect(manager.inputs).to.not.have.property("userEmailAddress");
    });

    it("an email that may be the same user on the same profile deletes first: Victor's (by id) is deleted before Jane's (by email) is created", async () => {
        // From an object id to an address that is not its recorded mailbox: without Graph the engine cannot know it is
        // another user, and creating first could adopt the assignment the delete then removes.
        const before = (await state()).manager;
        const { output, log } = await up({ setting: ops, manager: { ...research, user: { userEmailAddress: "jane@contoso.com" } } });
        expect(output, output).to.match(/InvoiceManagerAssignment\s+manager\s+replace(d)?\s+\[diff: [^\]]*userEmailAddress/);
        expect(writeOrder(log), describeLog(log)).to.deep.equal([`deleteBillingRoleAssignment ${research.billingProfileName}`, `createBillingRoleAssignment ${research.billingProfileName}`]);
        const deleted = writes(log).find((e) => e.operation === "deleteBillingRoleAssignment")!;
        expect(deleted.path).to.include(before.outputs!.billingRoleAssignmentName);
        expect(await heldInvoiceManagers(emu, research)).to.deep.equal([jane.id]);
        const { manager } = await state();
        expect(manager.id).to.not.equal(before.id);
        expect(manager.id).to.include(jane.id);
        expect(manager.outputs).to.deep.include({ principalId: jane.id, principalSource: "userEmailAddress", billingProfileName: research.billingProfileName });
    });

    it("another profile replaces the setting: Research is set (its values recorded as prior) before Operations is restored to what it held", async () => {
        const before = (await state()).emails;
        expect(before.outputs).to.deep.include({ billingProfileName: ops.billingProfileName, priorEnabled: false, priorAdditionalRecipients: ["legacy-ap@contoso.com"] });
        const { output, log } = await up({ setting: research, manager: { ...research, user: { userEmailAddress: "jane@contoso.com" } } });
        expect(output, output).to.match(/EmailInvoiceSetting\s+emails\s+replace(d)?\s+\[diff: ~billingProfileName\]/);
        expect(writeOrder(log), describeLog(log)).to.deep.equal([`putBillingProfile ${research.billingProfileName}`, `putBillingProfile ${ops.billingProfileName}`]);
        expect(await heldEmailSettings(emu, research)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: false, recipients: ["legacy-ap@contoso.com"] });

        const { emails, manager } = await state();
        expect(emails.id).to.not.equal(before.id);
        expect(emails.id).to.match(new RegExp(`/billingProfiles/${research.billingProfileName}$`));
        expect(emails.outputs).to.deep.include({
            billingProfileName: research.billingProfileName,
            enabled: true,
            additionalRecipients: ["ap@contoso.com"],
            priorEnabled: false,
            priorAdditionalRecipients: ["research-legacy@contoso.com"],
        });
        // The assignment was not touched by the setting's replace.
        expect(manager.outputs).to.deep.include({ principalId: jane.id });
        expect(await heldInvoiceManagers(emu, research)).to.deep.equal([jane.id]);
    });

    it("destroy leaves both profiles as they were before the stack, with no Invoice manager from it", async () => {
        const r = await stack.destroy();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: false, recipients: ["legacy-ap@contoso.com"] });
        expect(await heldEmailSettings(emu, research)).to.deep.equal({ enabled: false, recipients: ["research-legacy@contoso.com"] });
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        expect(await heldInvoiceManagers(emu, research)).to.deep.equal([]);
        const { deployment } = await stack.exportState();
        expect((deployment.resources ?? []).filter((x) => x.type === PLUGIN_SETTING_TYPE || x.type === PLUGIN_ASSIGNMENT_TYPE)).to.deep.equal([]);
    });
});
