/**
 * The emulator over real HTTP (port 0) against Microsoft's OpenAPI 2.0 files
 * (tests/vectors/azure-billing/openapi): every answer of every operation,
 * success and ARM error alike, has each property its spec type lists as
 * `required` and the declared type for each value it holds. The `required`
 * lists are read from the JSON; a test holds that they are the ones checked.
 */
import { expect } from "chai";
import { operations, type OperationId } from "../../../provider/billing/contract";
import * as s from "../../../provider/billing/schemas";
import { SEED } from "../../../emulator";
import { requiredLists, specProblems } from "../../support/openapi";
import { BA_PATH, BP_PATH, MCA, MPA, OPS, PARTNER, pollToCompletion, putBodyFrom, roleDefinitionIdByName, type Answer } from "../support/emulator-http";
import { WIDE, suite } from "./suite";

/** The spec definition of each operation's success body (Graph's user is not Microsoft.Billing's). */
const BODY: Record<Exclude<OperationId, "getGraphUser" | "deleteBillingProfile" | "deleteBillingRoleAssignment">, [string, string]> = {
    listBillingAccounts: ["billingAccount.json", "BillingAccountListResult"],
    getBillingAccount: ["billingAccount.json", "BillingAccount"],
    listBillingProfiles: ["billingProfile.json", "BillingProfileListResult"],
    getBillingProfile: ["billingProfile.json", "BillingProfile"],
    putBillingProfile: ["billingProfile.json", "BillingProfile"],
    validateBillingProfileDeleteEligibility: ["billingProfile.json", "DeleteBillingProfileEligibilityResult"],
    listBillingPermissions: ["billingPermission.json", "BillingPermissionListResult"],
    listBillingRoleDefinitions: ["billingRoleDefinition.json", "BillingRoleDefinitionListResult"],
    getBillingRoleDefinition: ["billingRoleDefinition.json", "BillingRoleDefinition"],
    listBillingRoleDefinitionsByBillingAccount: ["billingRoleDefinition.json", "BillingRoleDefinitionListResult"],
    getBillingRoleDefinitionByBillingAccount: ["billingRoleDefinition.json", "BillingRoleDefinition"],
    listBillingRoleAssignments: ["billingRoleAssignment.json", "BillingRoleAssignmentListResult"],
    getBillingRoleAssignment: ["billingRoleAssignment.json", "BillingRoleAssignment"],
    listBillingRoleAssignmentsByBillingAccount: ["billingRoleAssignment.json", "BillingRoleAssignmentListResult"],
    getBillingRoleAssignmentByBillingAccount: ["billingRoleAssignment.json", "BillingRoleAssignment"],
    createBillingRoleAssignment: ["billingRoleAssignment.json", "BillingRoleAssignment"],
    listInvoices: ["invoice.json", "InvoiceListResult"],
    listInvoicesByBillingAccount: ["invoice.json", "InvoiceListResult"],
    getInvoice: ["invoice.json", "Invoice"],
    downloadInvoice: ["invoice.json", "DocumentDownloadResult"],
};

describe("emulator: answers against the spec's required properties", () => {
    const t = suite({ seed: { extraProfiles: 1 } });

    function conforms(what: string, answer: Answer, def: [string, string]) {
        const problems = specProblems(answer.body, def[0], def[1]);
        expect(problems, `${what} as ${def[1]}: ${answer.text.slice(0, 300)}`).to.deep.equal([]);
    }

    it("reads the required lists from Microsoft's OpenAPI JSON", () => {
        const lists = requiredLists().map((r) => `${r.file}#${r.definition}: ${r.required.join(",")}`);
        expect(lists).to.include.members([
            "billingRoleAssignment.json#BillingRoleAssignmentProperties: roleDefinitionId",
            "billingRoleDefinition.json#BillingRoleDefinitionProperties: roleName",
            "types.json#AddressDetails: addressLine1,country",
        ]);
        // The checker fails a body that leaves one out, and one of the wrong type.
        expect(specProblems({ id: "x", name: "x", properties: { principalId: "p" } }, "billingRoleAssignment.json", "BillingRoleAssignment")).to.deep.equal([
            "(body).properties.roleDefinitionId: required by the spec, missing",
        ]);
        expect(specProblems({ id: "x", name: "x", properties: { billTo: { city: "Redmond" }, invoiceDay: "5" } }, "billingProfile.json", "BillingProfile")).to.have.members([
            "(body).properties.billTo.addressLine1: required by the spec, missing",
            "(body).properties.billTo.country: required by the spec, missing",
            "(body).properties.invoiceDay: is string, the spec says integer",
        ]);
    });

    it("every success body of every operation conforms, for every seeded account, profile, invoice and assignment", async () => {
        const covered = new Set<string>();
        const get = async (id: keyof typeof BODY, path: string, as: any, query?: Record<string, string>) => {
            const r = await t.api.get(path, { as, query });
            expect(r.status, `${id} ${path}: ${r.text}`).to.equal(200);
            conforms(`${id} ${path}`, r, BODY[id]);
            covered.add(id);
            return r.body;
        };
        await get("listBillingAccounts", "/providers/Microsoft.Billing/billingAccounts", "grace");
        for (const [ba, owner] of [[MCA, "grace"], [MPA, "olivia"]] as const) {
            await get("getBillingAccount", BA_PATH(ba), owner);
            const profiles = await get("listBillingProfiles", `${BA_PATH(ba)}/billingProfiles`, owner);
            await get("listInvoicesByBillingAccount", `${BA_PATH(ba)}/invoices`, owner, WIDE);
            const defs = await get("listBillingRoleDefinitionsByBillingAccount", `${BA_PATH(ba)}/billingRoleDefinitions`, owner);
            await get("getBillingRoleDefinitionByBillingAccount", `${BA_PATH(ba)}/billingRoleDefinitions/${defs.value[0].name}`, owner);
            const assignments = await get("listBillingRoleAssignmentsByBillingAccount", `${BA_PATH(ba)}/billingRoleAssignments`, owner);
            await get("getBillingRoleAssignmentByBillingAccount", `${BA_PATH(ba)}/billingRoleAssignments/${assignments.value[0].name}`, owner);
            for (const p of profiles.value) {
                const ref = { billingAccountName: ba, billingProfileName: p.name };
                await get("getBillingProfile", BP_PATH(ref), owner);
                await get("listBillingPermissions", `${BP_PATH(ref)}/billingPermissions`, owner);
                const pdefs = await get("listBillingRoleDefinitions", `${BP_PATH(ref)}/billingRoleDefinitions`, owner);
                await get("getBillingRoleDefinition", `${BP_PATH(ref)}/billingRoleDefinitions/${pdefs.value[0].name}`, owner);
                const pas = await get("listBillingRoleAssignments", `${BP_PATH(ref)}/billingRoleAssignments`, owner);
                for (const a of pas.value) await get("getBillingRoleAssignment", `${BP_PATH(ref)}/billingRoleAssignments/${a.name}`, owner);
                const invoices = await get("listInvoices", `${BP_PATH(ref)}/invoices`, owner, WIDE);
                for (const i of invoices.value) await get("getInvoice", `${BA_PATH(ba)}/invoices/${i.name}`, owner);
                const check = await t.api.post(`${BP_PATH(ref)}/validateDeleteEligibility`, { as: owner });
                conforms("validateDeleteEligibility", check, BODY.validateBillingProfileDeleteEligibility);
                covered.add("validateBillingProfileDeleteEligibility");
            }
        }
        const profile = (await t.api.get(BP_PATH(PARTNER), { as: "rupert" })).body;
        const put = await t.api.put(BP_PATH(PARTNER), { as: "rupert", body: putBodyFrom(profile, s.BILLING_PROFILE_READ_ONLY_PROPERTIES) });
        conforms("putBillingProfile", put, BODY.putBillingProfile);
        covered.add("putBillingProfile");
        const role = await roleDefinitionIdByName(t.api, OPS, "Invoice manager", "alice");
        const created = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { roleDefinitionId: role, userEmailAddress: "jane@contoso.com" } });
        conforms("createBillingRoleAssignment", created, BODY.createBillingRoleAssignment);
        expect(created.body.properties).to.include({ principalDisplayName: "Jane Doe", principalType: "User", billingProfileDisplayName: OPS.displayName, billingAccountDisplayName: "Contoso Ltd" });
        expect(created.body.properties, "userEmailAddress is EA-only").to.not.have.property("userEmailAddress");
        covered.add("createBillingRoleAssignment");
        const [invoice] = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value;
        const accepted = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "alice" });
        const { answer } = await pollToCompletion(t.api, accepted.headers.get("location") as string, "alice");
        conforms("downloadInvoice result", answer, BODY.downloadInvoice);
        covered.add("downloadInvoice");
        expect([...covered].sort()).to.deep.equal(Object.keys(BODY).sort());
        expect(Object.keys(operations).filter((k) => !(k in BODY)).sort(), "the operations without a Microsoft.Billing body").to.deep.equal(["deleteBillingProfile", "deleteBillingRoleAssignment", "getGraphUser"]);
    });

    it("fills what Azure fills: profiles, accounts, invoices and assignments are not thin", async () => {
        const account = (await t.api.get(BA_PATH(MCA), { as: "grace" })).body.properties;
        expect(account).to.include({ provisioningState: "Succeeded", hasNoBillingProfiles: false, primaryBillingTenantId: SEED.tenantId });
        expect(account.qualifications).to.deep.equal(["Commercial"]);
        expect(account.billingRelationshipTypes).to.deep.equal(["Direct"]);
        const profile = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
        expect(profile.properties).to.include({ provisioningState: "Succeeded" });
        expect(profile.properties.currentPaymentTerm).to.include({ term: "net30", isDefault: true });
        expect(profile.properties.soldTo).to.include({ companyName: "Contoso Ltd", country: "US" });
        expect(profile.properties.tags).to.deep.equal(profile.tags);
        const [invoice] = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value;
        const url = invoice.properties.documents[0].url as string;
        expect(url).to.match(new RegExp(`^${t.emu.url}/_blob/invoices/${invoice.name}/`));
        const pdf = await t.api.raw(url);
        expect(pdf.status).to.equal(200);
        expect(pdf.bytes.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
        const [assignment] = (await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments`, { as: "alice" })).body.value;
        for (const k of ["principalDisplayName", "principalType", "billingAccountId", "billingAccountDisplayName", "billingProfileId", "billingProfileDisplayName", "modifiedOn", "modifiedByPrincipalId", "modifiedByPrincipalTenantId"]) {
            expect(assignment.properties, k).to.have.property(k).that.is.a("string").and.not.empty;
        }
        expect(assignment.properties).to.not.have.property("userEmailAddress");
    });

    it("every ARM error envelope conforms to ARM's ErrorResponse", async () => {
        const answers = [
            await t.api.get(BP_PATH(OPS), { as: "victor" }),
            await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { count: "true" } }),
            await t.api.delete(BP_PATH(OPS), { as: "alice" }),
            await t.api.put(BP_PATH(OPS), { as: "alice", body: { properties: { invoiceRecipients: ["nope"] } } }),
            await t.api.get(`${BA_PATH(MCA)}/billingProfiles/NOPE-NOPE-NOP-NOP`, { as: "grace" }),
        ];
        for (const a of answers) {
            expect(a.status, a.text).to.be.at.least(400);
            expect(a.body.error, a.text).to.be.an("object");
            expect(specProblems(a.body, "common-types-v5.json", "ErrorResponse"), a.text).to.deep.equal([]);
        }
    });
});
