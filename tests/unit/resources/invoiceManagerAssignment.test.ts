import { expect } from "chai";
import * as assignment from "../../../provider/resources/invoiceManagerAssignment";
import { UNKNOWN } from "../../../provider/resources/common";

const BA = "10000000-0000-0000-0000-000000000001:20000000-0000-0000-0000-000000000001_2019-05-31";
const BP = "ENGR-1111-BP1-AAA";
const JANE_ID = "a0000000-0000-4000-8000-00000000000a";

describe("InvoiceManagerAssignment check", () => {
    it("accepts an email, lower-cased", () => {
        const { inputs, failures } = assignment.check({ billingAccountName: BA, billingProfileName: BP, userEmailAddress: " Jane@Contoso.com " });
        expect(failures).to.deep.equal([]);
        expect(inputs.userEmailAddress).to.equal("jane@contoso.com");
        expect(inputs).to.not.have.property("principalId");
    });

    it("accepts a principal id with a tenant id", () => {
        const { failures } = assignment.check({ billingAccountName: BA, billingProfileName: BP, principalId: JANE_ID, principalTenantId: JANE_ID });
        expect(failures).to.deep.equal([]);
    });

    it("requires exactly one of userEmailAddress and principalId", () => {
        const neither = assignment.check({ billingAccountName: BA, billingProfileName: BP });
        expect(neither.failures.map((f) => f.property)).to.deep.equal(["userEmailAddress"]);
        const both = assignment.check({ billingAccountName: BA, billingProfileName: BP, userEmailAddress: "jane@contoso.com", principalId: JANE_ID });
        expect(both.failures.map((f) => f.property)).to.deep.equal(["principalId"]);
        expect(both.failures[0].reason).to.match(/not both/);
    });

    it("rejects a tenant without a principal id, bad GUIDs and bad emails", () => {
        const r = assignment.check({ billingAccountName: BA, billingProfileName: BP, userEmailAddress: "jane@contoso.com,bob@contoso.com", principalTenantId: "nope" });
        expect(r.failures.map((f) => f.property).sort()).to.deep.equal(["principalTenantId", "principalTenantId", "userEmailAddress"]);
        const g = assignment.check({ billingAccountName: BA, billingProfileName: BP, principalId: "1234" });
        expect(g.failures.map((f) => f.property)).to.deep.equal(["principalId"]);
        expect(g.failures[0].reason).to.match(/GUID/);
    });

    it("takes userEmailAddress: null beside principalId as absent (how other languages send an unset input)", () => {
        const r = assignment.check({ billingAccountName: BA, billingProfileName: BP, userEmailAddress: null, principalId: JANE_ID, principalTenantId: null });
        expect(r.failures).to.deep.equal([]);
        expect(r.inputs).to.not.have.property("userEmailAddress");
        expect(r.inputs).to.not.have.property("principalTenantId");
        expect(r.inputs.principalId).to.equal(JANE_ID);
    });

    it("rejects an input it does not have, naming the closest property; Pulumi's own __ keys are not inputs", () => {
        const r = assignment.check({ billingAccountName: BA, billingProfileName: BP, principalId: JANE_ID, principalTennantId: JANE_ID, __provider: "urn:pulumi:x", roleName: "Owner" });
        expect(r.failures.map((f) => f.property)).to.deep.equal(["principalTennantId", "roleName"]);
        expect(r.failures[0].reason).to.equal(
            "is not an input of this resource: did you mean 'principalTenantId'? Its inputs are billingAccountName, billingProfileName, userEmailAddress, principalId, principalTenantId.",
        );
        expect(r.failures[1].reason).to.not.include("did you mean");
    });

    it("lets an unknown email through", () => {
        const r = assignment.check({ billingAccountName: BA, billingProfileName: BP, userEmailAddress: UNKNOWN });
        expect(r.failures).to.deep.equal([]);
        expect(r.inputs.userEmailAddress).to.equal(UNKNOWN);
    });
});

describe("InvoiceManagerAssignment diff", () => {
    const olds = {
        billingAccountName: BA,
        billingProfileName: BP,
        principalSource: "userEmailAddress",
        userEmailAddress: "jane@contoso.com",
        principalId: JANE_ID,
        roleDefinitionId: "/x/billingRoleDefinitions/40000000-aaaa-bbbb-cccc-100000000004",
        billingRoleAssignmentName: `40000000-aaaa-bbbb-cccc-100000000004_${JANE_ID}`,
    };

    it("no change for the same user", () => {
        expect(assignment.diff(olds, { billingAccountName: BA, billingProfileName: BP, userEmailAddress: "JANE@contoso.com" }).changes).to.equal(false);
    });

    it("replaces for another user or profile", () => {
        expect(assignment.diff(olds, { billingAccountName: BA, billingProfileName: BP, userEmailAddress: "bob@contoso.com" }).replaces).to.deep.equal(["userEmailAddress"]);
        expect(assignment.diff(olds, { billingAccountName: BA, billingProfileName: "FINC-2222-BP2-BBB", userEmailAddress: "jane@contoso.com" }).replaces).to.deep.equal([
            "billingProfileName",
        ]);
        expect(assignment.diff(olds, { billingAccountName: BA, billingProfileName: BP, principalId: "b0000000-0000-4000-8000-00000000000b" }).replaces).to.deep.equal([
            "principalId",
        ]);
    });

    it("updates in place when the email is swapped for the same user's object id", () => {
        const d = assignment.diff(olds, { billingAccountName: BA, billingProfileName: BP, principalId: JANE_ID.toUpperCase() });
        expect(d).to.deep.include({ changes: true, replaces: [] });
        expect(d.changed).to.deep.equal(["principalId"]);
    });

    it("replaces when the principal is unknown, deleting first (it may be the same user)", () => {
        const d = assignment.diff(olds, { billingAccountName: BA, billingProfileName: BP, userEmailAddress: UNKNOWN });
        expect(d.replaces).to.deep.equal(["userEmailAddress"]);
        expect(d.deleteBeforeReplace).to.equal(true);
    });

    it("creates the replacement first when it provably names another user", () => {
        expect(assignment.diff(olds, { billingAccountName: BA, billingProfileName: BP, userEmailAddress: "bob@contoso.com" }).deleteBeforeReplace).to.equal(false);
        expect(assignment.diff(olds, { billingAccountName: BA, billingProfileName: BP, principalId: "b0000000-0000-4000-8000-00000000000b" }).deleteBeforeReplace).to.equal(false);
    });

    it("deletes first when an object id is swapped for an email that may be the same user's", () => {
        // Given by id; Graph had no mailbox for the user, so no email is recorded.
        const byId = { ...olds, principalSource: "principalId", userEmailAddress: undefined };
        const d = assignment.diff(byId, { billingAccountName: BA, billingProfileName: BP, userEmailAddress: "kiosk@contoso.onmicrosoft.com" });
        expect(d.replaces).to.deep.equal(["userEmailAddress"]);
        expect(d.deleteBeforeReplace).to.equal(true);
        // On another profile the replacement is another assignment: create first.
        const other = assignment.diff(byId, { billingAccountName: BA, billingProfileName: "FINC-2222-BP2-BBB", userEmailAddress: "kiosk@contoso.onmicrosoft.com" });
        expect(other.deleteBeforeReplace).to.equal(false);
    });

    it("a tenant change replaces the assignment, deleting first (same user, same role)", () => {
        const withTenant = { ...olds, principalSource: "principalId", principalTenantId: "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" };
        const same = assignment.diff(withTenant, { billingAccountName: BA, billingProfileName: BP, principalId: JANE_ID, principalTenantId: "5F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D" });
        expect(same.changes).to.equal(false);
        const d = assignment.diff(withTenant, { billingAccountName: BA, billingProfileName: BP, principalId: JANE_ID, principalTenantId: "c0000000-0000-4000-8000-00000000000c" });
        expect(d.replaces).to.deep.equal(["principalTenantId"]);
        expect(d.deleteBeforeReplace).to.equal(true);
    });
});
