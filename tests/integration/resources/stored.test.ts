/**
 * The output that is the resource id (`billingProfileId`,
 * `billingRoleAssignmentId`) is not stored by the dynamic provider: through
 * the dynamic host against the emulator over HTTP, nothing the host returns
 * for Pulumi to store holds it, every operation on such state works, and
 * state an earlier version wrote (which holds it) loses it at the next
 * write. The provider plugin stores it, and works on the dynamic provider's
 * state (a stack moved to the plugin). Asserts what the emulator holds.
 */
import { expect } from "chai";
import { host, resetHostState } from "../../../provider/resources/host";
import { PluginProvider } from "../../../provider/plugin/provider";
import { SEED, startTestEmulator, type TestEmulator } from "../../support/emulator";

const ops = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const jane = SEED.users.jane;

function heldProfile(state: any): any {
    return (state.billingProfiles as any[]).find((p) => p.name === ops.billingProfileName);
}
function heldManagers(state: any): string[] {
    return (state.roleAssignments as any[]).filter((a) => a.billingProfileName === ops.billingProfileName && a.principalId === jane.id).map((a) => a.name);
}

describe("stored outputs: the dynamic provider does not store the output that is the resource id", () => {
    let emu: TestEmulator;
    let config: Record<string, string>;
    beforeEach(async () => {
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
        config = { "azure-email-invoicing:endpoint": emu.url, "azure-email-invoicing:token": emu.token("alice") };
        resetHostState();
    });
    afterEach(async () => {
        resetHostState();
        await emu.close();
    });

    async function dynamic(kind: "EmailInvoiceSetting" | "InvoiceManagerAssignment") {
        const provider = host(kind, 1);
        await provider.configure({ config: { get: (k) => config[k] } });
        return provider;
    }

    it("EmailInvoiceSetting: create, read, update and delete on state without billingProfileId; an earlier version's state loses it at the next write", async () => {
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["legacy-ap@contoso.com"] });
        const provider = await dynamic("EmailInvoiceSetting");
        const checked = await provider.check({}, { ...ops, enabled: true, additionalRecipients: ["ap@contoso.com"] });
        const created = await provider.create(checked.inputs);
        expect(created.id).to.equal(`/providers/Microsoft.Billing/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}`);
        expect(created.outs).to.not.have.property("billingProfileId");
        expect(created.outs).to.deep.include({ enabled: true, priorEnabled: false, priorAdditionalRecipients: ["legacy-ap@contoso.com"] });

        const read = await provider.read(created.id, created.outs);
        expect(read).to.have.property("id", created.id);
        expect(read.props).to.deep.equal(created.outs);
        // State an earlier version wrote holds it: the read leaves it out, so the next write drops it.
        const older = await provider.read(created.id, { ...created.outs, billingProfileId: created.id });
        expect(older.props).to.deep.equal(created.outs);

        const updated = await provider.update(created.id, created.outs, { ...checked.inputs, additionalRecipients: ["ap@contoso.com", "ar@contoso.com"] });
        expect(updated.outs).to.not.have.property("billingProfileId");
        expect(heldProfile(await emu.admin.state()).properties.invoiceRecipients).to.deep.equal(["ap@contoso.com", "ar@contoso.com"]);

        await provider.delete(created.id, updated.outs);
        const held = heldProfile(await emu.admin.state()).properties;
        expect({ optIn: held.invoiceEmailOptIn, recipients: held.invoiceRecipients }).to.deep.equal({ optIn: false, recipients: ["legacy-ap@contoso.com"] });
    });

    it("EmailInvoiceSetting: a write that may have applied is recorded with its prior values and without billingProfileId", async () => {
        await emu.admin.faults({ status: 503, methods: ["PUT"], retryAfterSeconds: 0 });
        const provider = await dynamic("EmailInvoiceSetting");
        const checked = await provider.check({}, { ...ops, enabled: true, additionalRecipients: [] });
        const err = await provider.create(checked.inputs).catch((e) => e);
        expect(err).to.be.instanceOf(Error);
        expect(err.id).to.match(/billingProfiles\/[^/]+$/);
        expect(err.properties).to.deep.include({ priorEnabled: false, priorAdditionalRecipients: [] });
        expect(err.properties).to.not.have.property("billingProfileId");
    });

    it("InvoiceManagerAssignment: create, read and delete on state without billingRoleAssignmentId", async () => {
        const provider = await dynamic("InvoiceManagerAssignment");
        const checked = await provider.check({}, { ...ops, userEmailAddress: "jane@contoso.com" });
        const created = await provider.create(checked.inputs);
        expect(created.id).to.match(/\/billingRoleAssignments\/[^/]+$/);
        expect(created.outs).to.not.have.property("billingRoleAssignmentId");
        expect(created.outs).to.deep.include({ principalId: jane.id, billingRoleAssignmentName: created.id.split("/").pop() });
        expect(heldManagers(await emu.admin.state())).to.deep.equal([created.id.split("/").pop()]);

        const read = await provider.read(created.id, created.outs);
        expect(read).to.have.property("id", created.id);
        expect(read.props).to.deep.equal(created.outs);

        await provider.delete(created.id, created.outs);
        expect(heldManagers(await emu.admin.state())).to.deep.equal([]);
    });

    it("the provider plugin stores it, and reads, updates and deletes the dynamic provider's state, which lacks it", async () => {
        const dynamicSetting = await dynamic("EmailInvoiceSetting");
        const setting = await dynamicSetting.create((await dynamicSetting.check({}, { ...ops, enabled: true, additionalRecipients: [] })).inputs);
        const dynamicManager = await dynamic("InvoiceManagerAssignment");
        const manager = await dynamicManager.create((await dynamicManager.check({}, { ...ops, userEmailAddress: "jane@contoso.com" })).inputs);

        const plugin = new PluginProvider({});
        plugin.configure((k) => config[k]);
        const settingUrn = "urn:pulumi:dev::p::azure-email-invoicing:index:EmailInvoiceSetting::emails";
        const managerUrn = "urn:pulumi:dev::p::azure-email-invoicing:index:InvoiceManagerAssignment::manager";

        const read = await plugin.read(settingUrn, setting.id, setting.outs);
        expect(read!.props).to.have.property("billingProfileId", setting.id);
        const updated = await plugin.update(settingUrn, setting.id, setting.outs, { ...ops, enabled: true, additionalRecipients: ["ap@contoso.com"] });
        expect(updated).to.have.property("billingProfileId", setting.id);
        expect(heldProfile(await emu.admin.state()).properties.invoiceRecipients).to.deep.equal(["ap@contoso.com"]);
        await plugin.remove(settingUrn, setting.id, setting.outs);
        expect(heldProfile(await emu.admin.state()).properties.invoiceEmailOptIn).to.equal(false);

        expect((await plugin.read(managerUrn, manager.id, manager.outs))!.props).to.have.property("billingRoleAssignmentId", manager.id);
        await plugin.remove(managerUrn, manager.id, manager.outs);
        expect(heldManagers(await emu.admin.state())).to.deep.equal([]);
    });
});
