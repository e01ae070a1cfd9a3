/**
 * Microsoft's published request/response examples are test vectors: every
 * response of an operation we use must parse with that operation's schema.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { operations, responseSchema, type AnyOperation } from "../../../provider/billing/contract";
import * as s from "../../../provider/billing/schemas";
import { mergeInvoiceEmailSettings } from "../../../provider/billing/profile";
import { MICROSOFT_EXAMPLES } from "../../../dev/paths";

/** Which operation each example file exercises. */
const EXAMPLES: Record<string, AnyOperation> = {
    "billingAccountsGet.json": operations.getBillingAccount,
    "billingAccountsList.json": operations.listBillingAccounts,
    "billingProfilesGet.json": operations.getBillingProfile,
    "billingProfilesListByBillingAccount.json": operations.listBillingProfiles,
    "billingProfilesCreateOrUpdate.json": operations.putBillingProfile,
    "billingRoleDefinitionListByBillingProfile.json": operations.listBillingRoleDefinitions,
    "billingRoleDefinitionGetByBillingProfile.json": operations.getBillingRoleDefinition,
    "billingRoleAssignmentListByBillingProfile.json": operations.listBillingRoleAssignments,
    "billingRoleAssignmentGetByBillingProfile.json": operations.getBillingRoleAssignment,
    "billingRoleAssignmentCreateByBillingProfile.json": operations.createBillingRoleAssignment,
    "billingRoleAssignmentDeleteByBillingProfile.json": operations.deleteBillingRoleAssignment,
    "invoicesListByBillingProfile.json": operations.listInvoices,
    "invoicesGetByBillingAccount.json": operations.getInvoice,
    "invoicesDownloadByBillingAccount.json": operations.downloadInvoice,
    "invoicesListByBillingAccount.json": operations.listInvoicesByBillingAccount,
    "billingRoleAssignmentListByBillingAccount.json": operations.listBillingRoleAssignmentsByBillingAccount,
    "billingRoleDefinitionListByBillingAccount.json": operations.listBillingRoleDefinitionsByBillingAccount,
    "billingPermissionsListByBillingProfile.json": operations.listBillingPermissions,
    "billingProfilesDelete.json": operations.deleteBillingProfile,
    "billingProfilesValidateDeleteEligibilitySuccess.json": operations.validateBillingProfileDeleteEligibility,
};

interface Example {
    parameters: Record<string, unknown>;
    responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

function load(file: string): Example {
    return JSON.parse(fs.readFileSync(path.join(MICROSOFT_EXAMPLES, file), "utf8")) as Example;
}

describe("Microsoft's examples as test vectors", () => {
    it("covers every example file we keep", () => {
        const files = fs.readdirSync(MICROSOFT_EXAMPLES).filter((f) => f.endsWith(".json")).sort();
        const covered = Object.keys(EXAMPLES).sort();
        expect(files).to.deep.equal(covered);
    });

    for (const [file, operation] of Object.entries(EXAMPLES)) {
        it(`${file}: every response parses with ${operation.id}'s schema for its status`, () => {
            const example = load(file);
            const statuses = Object.keys(example.responses);
            expect(statuses.length).to.be.greaterThan(0);
            for (const status of statuses) {
                const schema = responseSchema(operation, Number(status));
                expect(schema, `${file} ${status} is declared`).to.not.equal(undefined);
                const response = example.responses[status];
                if (schema === null) {
                    // No body; a 202 must say where to poll.
                    if (status === "202") {
                        const headers = Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
                        expect(headers.location, `${file} 202 Location`).to.match(/operationResults/);
                        expect(Number(headers["retry-after"])).to.be.greaterThan(0);
                    }
                    continue;
                }
                const parsed = schema!.safeParse(response.body);
                expect(parsed.success, `${file} ${status}: ${parsed.success ? "" : parsed.error.message}`).to.equal(true);
            }
        });
    }

    it("reads the fields we use from the examples", () => {
        const profile = s.BillingProfile.parse(load("billingProfilesGet.json").responses["200"].body);
        expect(profile.properties.invoiceEmailOptIn).to.equal(true);
        expect(profile.properties.displayName).to.equal("Billing Profile1");

        const roles = s.BillingRoleDefinitionList.parse(load("billingRoleDefinitionListByBillingProfile.json").responses["200"].body);
        const im = roles.value.find((r) => r.properties.roleName === "Invoice manager");
        expect(im?.name).to.equal("40000000-aaaa-bbbb-cccc-100000000004");

        const invoices = s.InvoiceList.parse(load("invoicesListByBillingProfile.json").responses["200"].body);
        expect(invoices.value.map((i) => i.name)).to.deep.equal(["G123456789", "G987654321"]);
        expect(invoices.value[0].properties.amountDue?.value).to.equal(8.53);
        expect(invoices.value[0].properties.documents?.[0]).to.deep.include({ kind: "Invoice", name: "12345678" });

        const download = s.DocumentDownloadResult.parse(load("invoicesDownloadByBillingAccount.json").responses["200"].body);
        expect(download.url).to.match(/^https:\/\/myaccount\.blob\.core\.windows\.net\//);

        const permissions = s.BillingPermissionList.parse(load("billingPermissionsListByBillingProfile.json").responses["200"].body);
        expect(permissions.value[0].actions).to.have.length(20);
        expect(permissions.value[0].notActions).to.deep.equal([]);

        const created = s.BillingRoleAssignment.parse(load("billingRoleAssignmentCreateByBillingProfile.json").responses["200"].body);
        expect(created.properties.principalId).to.equal("00000000-0000-0000-0000-000000000000");
    });

    it("the request bodies of the examples pass our request schemas", () => {
        const put = load("billingProfilesCreateOrUpdate.json").parameters.parameters;
        expect(s.BillingProfilePutBody.safeParse(put).success).to.equal(true);
        const create = load("billingRoleAssignmentCreateByBillingProfile.json").parameters.parameters;
        expect(s.CreateBillingRoleAssignmentBody.safeParse(create).success).to.equal(true);
    });

    it("read-merge-write of the example profile changes only the two email fields and drops read-only ones", () => {
        const profile = s.BillingProfile.parse(load("billingProfilesGet.json").responses["200"].body);
        const body = mergeInvoiceEmailSettings(profile, { invoiceEmailOptIn: false, invoiceRecipients: ["ap@contoso.com"] });
        const props = body.properties as Record<string, unknown>;
        expect(props.invoiceEmailOptIn).to.equal(false);
        expect(props.invoiceRecipients).to.deep.equal(["ap@contoso.com"]);
        for (const ro of s.BILLING_PROFILE_READ_ONLY_PROPERTIES) expect(props, ro).to.not.have.property(ro);
        // Writable properties survive unchanged.
        expect(props.billTo).to.deep.equal((profile.properties as Record<string, unknown>).billTo);
        expect(props.poNumber).to.equal("ABC12345");
        expect(props.enabledAzurePlans).to.deep.equal((profile.properties as Record<string, unknown>).enabledAzurePlans);
        expect(body).to.not.have.property("id");
    });
});

describe("error bodies", () => {
    it("reads all three shapes Azure's billing service returns", () => {
        expect(s.parseErrorBody({ error: { code: "AuthorizationFailed", message: "no", target: "x" } })).to.deep.equal({
            code: "AuthorizationFailed",
            message: "no",
            target: "x",
        });
        expect(s.parseErrorBody({ code: "DocumentNotFound", message: "gone" })).to.deep.equal({ code: "DocumentNotFound", message: "gone", target: undefined });
        const problem = s.parseErrorBody({
            title: "One or more validation errors occurred.",
            status: 400,
            errors: { "properties.invoiceRecipients[0]": ["The field is not a valid e-mail address."] },
        });
        expect(problem?.code).to.equal("ValidationFailed");
        expect(problem?.target).to.equal("properties.invoiceRecipients[0]");
        expect(problem?.message).to.include("not a valid e-mail");
        expect(s.parseErrorBody("<html>bad gateway</html>")).to.equal(undefined);
    });
});
