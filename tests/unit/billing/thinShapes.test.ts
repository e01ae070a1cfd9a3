/**
 * The client's response schemas accept thin answers too: what Azure answers
 * for a resource it fills little of (only the properties its spec requires,
 * the rest absent or null), as the emulator answered before it filled what
 * Azure fills. A field the client's schemas came to require would break
 * every caller of such an Azure; this test fails first.
 */
import { expect } from "chai";
import { operations, responseSchema, type OperationId } from "../../../provider/billing/contract";

const BA = "/providers/Microsoft.Billing/billingAccounts/ba";
const BP = `${BA}/billingProfiles/bp`;

const assignment = { id: `${BP}/billingRoleAssignments/r_p`, name: "r_p", properties: { roleDefinitionId: `${BP}/billingRoleDefinitions/r` } };
const definition = { id: `${BP}/billingRoleDefinitions/r`, name: "r", properties: { roleName: "Invoice manager" } };
const invoice = {
    id: `${BA}/invoices/G1`,
    name: "G1",
    // Documents without `url`, and the fields Azure fills for some invoices only, null.
    properties: { documents: [{ kind: "Invoice", name: "G1", source: "DRS" }], rebillDetails: null, subscriptionId: null, amountDue: null },
};
const profile = {
    id: BP,
    name: "bp",
    properties: { displayName: "Ops", soldTo: null, currentPaymentTerm: null, provisioningState: null, tags: null, invoiceRecipients: null },
};

/** A thin 200 body of every operation that answers one (Graph's user: the id alone). */
const THIN: Partial<Record<OperationId, unknown>> = {
    listBillingAccounts: { value: [{ id: BA, name: "ba" }] },
    getBillingAccount: { id: BA, name: "ba", properties: { qualifications: null, notificationEmailAddress: null, enrollmentDetails: null } },
    listBillingProfiles: { value: [profile], nextLink: null },
    getBillingProfile: profile,
    putBillingProfile: profile,
    listBillingRoleDefinitions: { value: [definition] },
    getBillingRoleDefinition: definition,
    listBillingRoleDefinitionsByBillingAccount: { value: [definition] },
    getBillingRoleDefinitionByBillingAccount: definition,
    listBillingRoleAssignments: { value: [assignment] },
    getBillingRoleAssignment: assignment,
    listBillingRoleAssignmentsByBillingAccount: { value: [] },
    getBillingRoleAssignmentByBillingAccount: assignment,
    createBillingRoleAssignment: assignment,
    deleteBillingRoleAssignment: {},
    listInvoices: { value: [invoice] },
    listInvoicesByBillingAccount: { value: [invoice], nextLink: null },
    getInvoice: invoice,
    downloadInvoice: { url: "https://example.blob.core.windows.net/x.pdf" },
    listBillingPermissions: { value: [{}] },
    validateBillingProfileDeleteEligibility: {},
    getGraphUser: { id: "00000000-0000-0000-0000-000000000001" },
};

describe("client schemas: thin answers still parse", () => {
    it("has a thin body for every operation that answers 200 with a body", () => {
        const answering = (Object.keys(operations) as OperationId[]).filter((id) => responseSchema(operations[id], 200) != null).sort();
        expect(Object.keys(THIN).sort()).to.deep.equal(answering);
    });

    for (const [id, body] of Object.entries(THIN) as Array<[OperationId, unknown]>) {
        it(`${id}: the 200 schema accepts a body with only what the spec requires`, () => {
            const schema = responseSchema(operations[id], 200);
            const parsed = schema?.safeParse(body);
            expect(parsed?.success, parsed?.error?.message).to.equal(true);
        });
    }
});
