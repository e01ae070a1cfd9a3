/**
 * InvoiceManagerAssignment handlers against the emulator over HTTP: create
 * by email and by id, adoption, read after out-of-band removal, in-place
 * update, replace, delete, permission errors.
 */
import { expect } from "chai";
import * as assignment from "../../../provider/resources/invoiceManagerAssignment";
import { SEED, startTestEmulator, type TestEmulator } from "../../support/emulator";

// The billing profile as a program names it: its two names (SEED.profiles also carries its display name, which is no input).
const ops = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const partner = { billingAccountName: SEED.profiles.partner.billingAccountName, billingProfileName: SEED.profiles.partner.billingProfileName };
const jane = SEED.users.jane;

function assignmentsOf(state: any, profile: string, principalId: string): any[] {
    return (state.roleAssignments as any[]).filter((a) => a.billingProfileName === profile && a.principalId === principalId);
}

describe("InvoiceManagerAssignment handlers", () => {
    let emu: TestEmulator;
    beforeEach(async () => {
        emu = await startTestEmulator();
        await emu.admin.settings({ lro: "always", retryAfterSeconds: 0 });
    });
    afterEach(async () => {
        await emu.close();
    });

    it("creates by email (resolved through Graph), waits for the LRO, and deletes", async () => {
        const alice = emu.client("alice");
        const { id, outs } = await assignment.create(alice, assignment.check({ ...ops, userEmailAddress: "Jane@Contoso.com" }).inputs);
        expect(outs).to.deep.include({ principalId: jane.id, userEmailAddress: "jane@contoso.com", principalSource: "userEmailAddress", adopted: false });
        expect(outs.roleDefinitionId).to.match(/billingRoleDefinitions\/40000000-aaaa-bbbb-cccc-100000000004$/);
        expect(outs.billingRoleAssignmentId).to.equal(id);
        expect(outs.createdOn).to.be.a("string");
        const held = assignmentsOf(await emu.admin.state(), ops.billingProfileName, jane.id);
        expect(held).to.have.length(1);
        expect(held[0].roleDefinitionName).to.equal("40000000-aaaa-bbbb-cccc-100000000004");

        await assignment.remove(alice, outs);
        expect(assignmentsOf(await emu.admin.state(), ops.billingProfileName, jane.id)).to.have.length(0);
        // Already gone counts as deleted.
        await assignment.remove(alice, outs);
    });

    it("resolves the role by name on MPA, where its id differs", async () => {
        const { outs } = await assignment.create(emu.client("rupert"), assignment.check({ ...partner, principalId: jane.id }).inputs);
        expect(outs.roleDefinitionId).to.not.match(/40000000-aaaa-bbbb-cccc-100000000004$/);
        expect(outs.userEmailAddress).to.equal("jane@contoso.com");
        expect(outs.principalTenantId).to.equal(SEED.tenantId.toLowerCase());
    });

    it("adopts an existing assignment instead of creating a duplicate", async () => {
        const alice = emu.client("alice");
        const first = await assignment.create(alice, assignment.check({ ...ops, userEmailAddress: "jane@contoso.com" }).inputs);
        await emu.admin.clearRequests();
        const second = await assignment.create(alice, assignment.check({ ...ops, principalId: jane.id }).inputs);
        expect(second.outs.adopted).to.equal(true);
        expect(second.id).to.equal(first.id);
        expect((await emu.admin.requests()).filter((e) => e.method !== "GET")).to.deep.equal([]);
        expect(assignmentsOf(await emu.admin.state(), ops.billingProfileName, jane.id)).to.have.length(1);
    });

    it("read returns no id after an out-of-band removal; diff and update handle a same-user change in place", async () => {
        const alice = emu.client("alice");
        const { id, outs } = await assignment.create(alice, assignment.check({ ...ops, userEmailAddress: "jane@contoso.com" }).inputs);
        expect((await assignment.read(alice, id, outs))?.props.principalId).to.equal(jane.id);

        const sameUserById = assignment.check({ ...ops, principalId: jane.id }).inputs;
        const d = assignment.diff(outs, sameUserById);
        expect(d.replaces).to.deep.equal([]);
        const updated = await assignment.update(alice, outs, sameUserById);
        expect(updated).to.deep.include({ principalSource: "principalId", billingRoleAssignmentName: outs.billingRoleAssignmentName });

        // Someone removes it in the portal.
        await alice.deleteRoleAssignment(ops, outs.billingRoleAssignmentName);
        expect(await assignment.read(alice, id, outs)).to.equal(undefined);
    });

    it("replace for another user creates the new assignment and deletes the old", async () => {
        const alice = emu.client("alice");
        const a = await assignment.create(alice, assignment.check({ ...ops, userEmailAddress: "jane@contoso.com" }).inputs);
        const next = assignment.check({ ...ops, userEmailAddress: "victor@contoso.com" }).inputs;
        expect(assignment.diff(a.outs, next).replaces).to.deep.equal(["userEmailAddress"]);
        const b = await assignment.create(alice, next);
        await assignment.remove(alice, a.outs);
        const state = await emu.admin.state();
        expect(assignmentsOf(state, ops.billingProfileName, jane.id)).to.have.length(0);
        expect(assignmentsOf(state, ops.billingProfileName, b.outs.principalId)).to.have.length(1);
    });

    it("swapping an object id for the same user's sign-in name deletes first, so the user keeps the role", async () => {
        const alice = emu.client("alice");
        const kiosk = SEED.users.kiosk; // a reader on the profile with no mailbox: Graph gives no email for its id
        const old = await assignment.create(alice, assignment.check({ ...ops, principalId: kiosk.id }).inputs);
        expect(old.outs.userEmailAddress).to.equal(undefined);
        const next = assignment.check({ ...ops, userEmailAddress: kiosk.userPrincipalName }).inputs;
        const d = assignment.diff(old.outs, next);
        expect(d.replaces).to.deep.equal(["userEmailAddress"]);
        expect(d.deleteBeforeReplace).to.equal(true);
        // The engine's order for deleteBeforeReplace: delete the old, then create the new.
        await assignment.remove(alice, old.outs);
        const created = await assignment.create(alice, next);
        expect(created.outs.principalId).to.equal(kiosk.id);
        expect(await assignment.read(alice, created.id, created.outs)).to.not.equal(undefined);
        const held = assignmentsOf(await emu.admin.state(), ops.billingProfileName, kiosk.id).filter((a) => a.roleDefinitionName === "40000000-aaaa-bbbb-cccc-100000000004");
        expect(held).to.have.length(1);
    });

    it("a contributor cannot assign roles: the error names the owner role, nothing is created", async () => {
        const err = await assignment.create(emu.client("bob"), assignment.check({ ...ops, userEmailAddress: "jane@contoso.com" }).inputs).catch((e) => e);
        expect(err.message).to.include("AuthorizationFailed");
        expect(err.message).to.include("needs the billing profile owner role");
        // A contributor may write the profile, not its role assignments: billingPermissions says so.
        expect(err.message).to.include("Microsoft.Billing/billingAccounts/billingProfiles/write");
        expect(err.message).to.not.match(/may only:.*createBillingRoleAssignment/);
        expect(assignmentsOf(await emu.admin.state(), ops.billingProfileName, jane.id)).to.have.length(0);
    });

    it("an unknown user fails before anything is created", async () => {
        await emu.admin.clearRequests();
        const err = await assignment.create(emu.client("alice"), assignment.check({ ...ops, userEmailAddress: "nobody@contoso.com" }).inputs).catch((e) => e);
        expect(err.message).to.include("no user with email");
        expect((await emu.admin.requests()).filter((e) => e.method !== "GET")).to.deep.equal([]);
    });

    it("a profile that does not exist fails with 404", async () => {
        const err = await assignment
            .create(emu.client("grace"), assignment.check({ billingAccountName: ops.billingAccountName, billingProfileName: "GHST-0000-BP0-ZZZ", userEmailAddress: "jane@contoso.com" }).inputs)
            .catch((e) => e);
        expect(err.message).to.match(/404/);
    });
});
