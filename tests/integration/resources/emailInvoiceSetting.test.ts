/**
 * EmailInvoiceSetting handlers against the emulator over HTTP: the whole
 * lifecycle, drift seen by read + diff, delete restoring the prior values,
 * permission and not-found errors. Asserts what the emulator holds.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as setting from "../../../provider/resources/emailInvoiceSetting";
import { host, resetHostState } from "../../../provider/resources/host";
import { TRACE_FILE_ENV, readTrace } from "../../../provider/resources/trace";
import { SEED, startTestEmulator, type TestEmulator } from "../../support/emulator";

// The billing profile as a program names it: its two names (SEED.profiles also carries its display name, which is no input).
const ops = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const research = { billingAccountName: SEED.profiles.research.billingAccountName, billingProfileName: SEED.profiles.research.billingProfileName };

function heldProfile(state: any, name: string): any {
    return (state.billingProfiles as any[]).find((p) => p.name === name);
}

describe("EmailInvoiceSetting handlers", () => {
    let emu: TestEmulator;
    beforeEach(async () => {
        emu = await startTestEmulator();
    });
    afterEach(async () => {
        await emu.close();
    });

    it("create records the prior values, writes only the two fields, and delete restores them", async () => {
        const alice = emu.client("alice");
        // Someone had set recipients by hand before Pulumi manages the profile.
        await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["old-ap@contoso.com"] });
        const before = heldProfile(await emu.admin.state(), ops.billingProfileName);

        const { inputs } = setting.check({ ...ops, enabled: true, additionalRecipients: ["AP@contoso.com", "ar@contoso.com"] });
        const { id, outs } = await setting.create(alice, inputs);
        expect(id).to.equal(`/providers/Microsoft.Billing/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}`);
        expect(outs).to.deep.include({
            enabled: true,
            additionalRecipients: ["ap@contoso.com", "ar@contoso.com"],
            priorEnabled: false,
            priorAdditionalRecipients: ["old-ap@contoso.com"],
            billingProfileDisplayName: SEED.profiles.operations.displayName,
        });
        const during = heldProfile(await emu.admin.state(), ops.billingProfileName);
        expect(during.properties.invoiceEmailOptIn).to.equal(true);
        expect(during.properties.invoiceRecipients).to.deep.equal(["ap@contoso.com", "ar@contoso.com"]);
        for (const key of Object.keys(before.properties)) {
            if (key === "invoiceEmailOptIn" || key === "invoiceRecipients") continue;
            expect(during.properties[key], key).to.deep.equal(before.properties[key]);
        }

        await setting.remove(alice, outs);
        const after = heldProfile(await emu.admin.state(), ops.billingProfileName);
        expect(after.properties.invoiceEmailOptIn).to.equal(false);
        expect(after.properties.invoiceRecipients).to.deep.equal(["old-ap@contoso.com"]);
    });

    it("create over a profile that already has the desired values writes nothing", async () => {
        const alice = emu.client("alice");
        await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["ap@contoso.com"] });
        await emu.admin.clearRequests();
        const { outs } = await setting.create(alice, setting.check({ ...ops, enabled: true, additionalRecipients: ["ap@contoso.com"] }).inputs);
        expect(outs.priorEnabled).to.equal(true);
        const log = await emu.admin.requests();
        expect(log.map((e) => e.method)).to.deep.equal(["GET"]);
    });

    it("read + diff see a portal change on the property that drifted; update restores it", async () => {
        const alice = emu.client("alice");
        const inputs = setting.check({ ...ops, enabled: true, additionalRecipients: ["ap@contoso.com"] }).inputs;
        const { id, outs } = await setting.create(alice, inputs);

        // A contributor turns the opt-in off in the portal.
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["ap@contoso.com"] });
        const live = await setting.read(alice, id, outs);
        expect(live?.props.enabled).to.equal(false);
        expect(setting.diff(live!.props, inputs).changed).to.deep.equal(["enabled"]);

        // ...and adds a recipient.
        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["ap@contoso.com", "Mallory@contoso.com"] });
        const live2 = await setting.read(alice, id, outs);
        expect(setting.diff(live2!.props, inputs).changed).to.deep.equal(["additionalRecipients"]);
        // Prior values survive a read.
        expect(live2!.props.priorEnabled).to.equal(outs.priorEnabled);

        const restored = await setting.update(alice, live2!.props, inputs);
        expect(restored.additionalRecipients).to.deep.equal(["ap@contoso.com"]);
        expect(heldProfile(await emu.admin.state(), ops.billingProfileName).properties.invoiceRecipients).to.deep.equal(["ap@contoso.com"]);
    });

    it("read returns the live values as inputs too: equal to check's inputs without drift, the drifted value after a portal change", async () => {
        const alice = emu.client("alice");
        const ref = { billingAccountName: ops.billingAccountName, billingProfileName: ops.billingProfileName };
        const inputs = setting.check({ ...ref, enabled: true, additionalRecipients: ["AP@contoso.com "] }).inputs;
        const { id, outs } = await setting.create(alice, inputs);
        // Without drift, refresh leaves the inputs in state as they are (the engine compares them key by key).
        const same = await setting.read(alice, id, outs);
        const stateInputs = { ...ref, enabled: true, additionalRecipients: ["ap@contoso.com"] };
        expect(inputs).to.deep.equal(stateInputs);
        expect(same!.inputs).to.deep.equal(stateInputs);

        await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["ap@contoso.com", "x@contoso.com"] });
        const drifted = await setting.read(alice, id, outs);
        expect(drifted!.inputs).to.deep.equal({ ...stateInputs, enabled: false, additionalRecipients: ["ap@contoso.com", "x@contoso.com"] });
        // ...and through the host, which hands them to the engine.
        resetHostState();
        const provider = host("EmailInvoiceSetting", 1);
        const config: Record<string, string> = { "azure-email-invoicing:endpoint": emu.url, "azure-email-invoicing:token": emu.token("alice") };
        await provider.configure({ config: { get: (k) => config[k] } });
        const viaHost = await provider.read(id, outs);
        expect(viaHost).to.have.property("inputs").that.deep.equals(drifted!.inputs);
        resetHostState();
    });

    it("replace onto another profile: the new profile is written, the old one restored", async () => {
        const grace = emu.client("grace"); // billing account owner: may change both profiles
        const a = await setting.create(grace, setting.check({ ...ops, enabled: true }).inputs);
        const newInputs = setting.check({ ...research, enabled: true }).inputs;
        expect(setting.diff(a.outs, newInputs).replaces).to.deep.equal(["billingProfileName"]);
        await setting.create(grace, newInputs);
        await setting.remove(grace, a.outs);
        const state = await emu.admin.state();
        expect(heldProfile(state, research.billingProfileName).properties.invoiceEmailOptIn).to.equal(true);
        expect(heldProfile(state, ops.billingProfileName).properties.invoiceEmailOptIn).to.equal(false);
    });

    it("a write that may have been applied is reported with the profile id and the prior values, so Pulumi records it", async () => {
        const alice = emu.client("alice", { maxRetries: 1 });
        await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["Old-AP@Contoso.com"] });
        await emu.admin.faults({ status: 500, methods: ["PUT"] });
        const err = await setting.create(alice, setting.check({ ...ops, enabled: true }).inputs).catch((e) => e);
        expect(err.message).to.include("putBillingProfile");
        expect(err.id).to.equal(`/providers/Microsoft.Billing/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}`);
        expect(err.properties).to.deep.include({ priorEnabled: false, priorAdditionalRecipients: ["Old-AP@Contoso.com"] });
        await emu.admin.clearFaults();
        // A refused write (4xx) is not reported as a resource: nothing was changed.
        const refused = await setting.create(emu.client("carol"), setting.check({ ...ops, enabled: true }).inputs).catch((e) => e);
        expect(refused).to.not.have.property("id");
    });

    it("delete restores the prior recipients exactly as Azure held them", async () => {
        const alice = emu.client("alice");
        await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: false, invoiceRecipients: ["Old-AP@Contoso.com", "ar@contoso.com"] });
        const { outs } = await setting.create(alice, setting.check({ ...ops, enabled: true, additionalRecipients: ["ap@contoso.com"] }).inputs);
        expect(outs.priorAdditionalRecipients).to.deep.equal(["Old-AP@Contoso.com", "ar@contoso.com"]);
        await setting.remove(alice, outs);
        expect(heldProfile(await emu.admin.state(), ops.billingProfileName).properties.invoiceRecipients).to.deep.equal(["Old-AP@Contoso.com", "ar@contoso.com"]);
    });

    it("a reader gets an error naming the role needed and, from one billingPermissions call, what it may do; nothing changes", async () => {
        await emu.admin.clearRequests();
        const err = await setting.create(emu.client("carol"), setting.check({ ...ops, enabled: true }).inputs).catch((e) => e);
        expect(err).to.be.instanceOf(Error);
        expect(err.message).to.include("creating EmailInvoiceSetting on billing profile");
        expect(err.message).to.include("AuthorizationFailed");
        expect(err.message).to.match(/needs the billing profile owner or contributor role .*\(action Microsoft\.Billing\/billingAccounts\/billingProfiles\/write\)/);
        expect(err.message).to.include(`On billing profile ${ops.billingProfileName} it may only: Microsoft.Billing/billingAccounts/billingProfiles/read`);
        expect(err.message).to.include("Microsoft.Billing/billingAccounts/invoices/download/action");
        expect(err.message).to.not.match(/may only:[^(]*billingProfiles\/write/);
        const log = await emu.admin.requests();
        expect(log.map((e) => `${e.operation} ${e.status}`)).to.deep.equal(["getBillingProfile 200", "putBillingProfile 403", "listBillingPermissions 200"]);
        expect(err).to.not.have.property("id");
        expect(heldProfile(await emu.admin.state(), ops.billingProfileName).properties.invoiceEmailOptIn).to.equal(false);
    });

    it("a profile that does not exist: create fails naming the input; read returns no id; delete succeeds", async () => {
        const ghost = { billingAccountName: ops.billingAccountName, billingProfileName: "GHST-0000-BP0-ZZZ" };
        const err = await setting.create(emu.client("grace"), setting.check({ ...ghost, enabled: true }).inputs).catch((e) => e);
        expect(err.message).to.match(/404/);
        expect(err.message).to.include("billingProfileName 'GHST-0000-BP0-ZZZ'");
        const outs = { ...ghost, enabled: true, additionalRecipients: [], billingProfileId: "x", billingProfileDisplayName: "", priorEnabled: false, priorAdditionalRecipients: [] };
        expect(await setting.read(emu.client("grace"), "x", outs)).to.equal(undefined);
        await setting.remove(emu.client("grace"), outs);
    });

    it("runs through the dynamic host with settings from configure()", async () => {
        resetHostState();
        const provider = host("EmailInvoiceSetting", 1);
        const config: Record<string, string> = { "azure-email-invoicing:endpoint": emu.url, "azure-email-invoicing:token": emu.token("alice") };
        await provider.configure({ config: { get: (k) => config[k] } });
        const checked = await provider.check({}, { ...ops, enabled: true, additionalRecipients: [] });
        expect(checked.failures).to.deep.equal([]);
        const created = await provider.create(checked.inputs);
        expect(created.outs.enabled).to.equal(true);
        const read = await provider.read(created.id, created.outs);
        expect(read).to.have.property("id", created.id);
        await provider.delete(created.id, created.outs);
        expect(heldProfile(await emu.admin.state(), ops.billingProfileName).properties.invoiceEmailOptIn).to.equal(false);
        const log = await emu.admin.requests();
        expect(new Set(log.map((e) => e.principal))).to.deep.equal(new Set([SEED.users.alice.id]));
        resetHostState();
    });

    it("with a trace file, the host records each call and each billing request it made, on one kept-alive connection", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-trace-"));
        const file = path.join(dir, "trace.jsonl");
        process.env[TRACE_FILE_ENV] = file;
        try {
            resetHostState();
            const provider = host("EmailInvoiceSetting", 1);
            const config: Record<string, string> = { "azure-email-invoicing:endpoint": emu.url, "azure-email-invoicing:token": emu.token("alice") };
            await provider.configure({ config: { get: (k) => config[k] } });
            await emu.admin.clearRequests();
            const checked = await provider.check({}, { ...ops, enabled: true, additionalRecipients: [] });
            const created = await provider.create(checked.inputs);
            await provider.read(created.id, created.outs);
            await provider.delete(created.id, created.outs);
            const events = readTrace(file);
            expect(events.map((e) => e.type)[0]).to.equal("load");
            const calls = events.filter((e) => e.type === "call");
            expect(calls.map((c) => c.method)).to.deep.equal(["check", "create", "read", "delete"]);
            for (const c of calls) expect(c.end).to.be.at.least(c.start);
            const requests = events.filter((e) => e.type === "request");
            const log = await emu.admin.requests();
            expect(requests.map((r) => `${r.method} ${r.operation} ${r.status}`)).to.deep.equal(log.map((e) => `${e.method} ${e.operation} ${e.status}`));
            // Each request lies within the call that made it.
            const create = calls[1];
            expect(requests.filter((r) => r.start >= create.start && r.end <= create.end).map((r) => r.operation)).to.deep.equal(["getBillingProfile", "putBillingProfile"]);
            expect(new Set(log.map((e) => e.connection)).size, "one connection, kept alive").to.equal(1);
        } finally {
            delete process.env[TRACE_FILE_ENV];
            resetHostState();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a stack written by a newer shim", () => {
        expect(() => host("EmailInvoiceSetting", 99)).to.throw(/newer azure-email-invoicing/);
    });
});
