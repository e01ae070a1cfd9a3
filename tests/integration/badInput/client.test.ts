/**
 * Bad input to the billing client (library use): malformed values are
 * refused with a ValidationError naming the field, before any HTTP request:
 * the emulator's request log stays empty. With the commands' and the
 * resources' suites in this folder, the bad-input suite.
 */
import { expect } from "chai";
import { ValidationError } from "../../../provider/errors";
import type { BillingClient } from "../../../provider/billing/client";
import { SEED, startTestEmulator, type TestEmulator } from "../../support/emulator";

const ops = SEED.profiles.operations;
const BA = ops.billingAccountName;
const ROLE = "/providers/Microsoft.Billing/billingAccounts/x/billingProfiles/y/billingRoleDefinitions/40000000-aaaa-bbbb-cccc-100000000004";

type Case = [label: string, field: string, call: (c: BillingClient) => Promise<unknown>];

const CASES: Case[] = [
    ["account name with a slash", "billingAccountName", (c) => c.getBillingAccount("123/../456")],
    ["account name with ..", "billingAccountName", (c) => c.listBillingProfiles("..")],
    ["account name with ?", "billingAccountName", (c) => c.getBillingProfile({ billingAccountName: "123?x=1", billingProfileName: "P1" })],
    ["profile name with a space", "billingProfileName", (c) => c.getBillingProfile({ billingAccountName: BA, billingProfileName: "Contoso Billing" })],
    ["profile name with a slash", "billingProfileName", (c) => c.listRoleAssignments({ billingAccountName: BA, billingProfileName: "a/b" })],
    ["profile name with ..", "billingProfileName", (c) => c.listRoleDefinitions({ billingAccountName: BA, billingProfileName: ".." })],
    ["profile name with ?", "billingProfileName", (c) => c.listInvoices({ billingAccountName: BA, billingProfileName: "P1?$top=1" }, { periodStartDate: "2026-01-01", periodEndDate: "2026-02-01" })],
    ["empty profile name", "billingProfileName", (c) => c.getBillingProfile({ billingAccountName: BA, billingProfileName: "" })],
    ["assignment name not GUID_GUID", "billingRoleAssignmentName", (c) => c.getRoleAssignment(ops, "not-a-guid")],
    ["bad principal GUID (Graph)", "userId", (c) => c.getGraphUser("1234-5678")],
    ["email with CR/LF", "userId", (c) => c.getGraphUser("jane@contoso.com\r\nBcc: x@evil.com")],
    ["email with a comma", "userId", (c) => c.getGraphUser("jane@contoso.com,bob@contoso.com")],
    ["email without a domain", "userId", (c) => c.getGraphUser("jane@")],
    ["period date not a date", "periodStartDate", (c) => c.listInvoices(ops, { periodStartDate: "yesterday", periodEndDate: "2026-02-01" })],
    ["period date impossible", "periodEndDate", (c) => c.listInvoices(ops, { periodStartDate: "2026-01-01", periodEndDate: "2026-02-31" })],
    ["invoice name with a slash", "invoiceName", (c) => c.getInvoice(BA, "G123/45678")],
    ["document name with a slash", "documentName", (c) => c.requestInvoiceDownload(BA, "G123456789", "../../etc")],
    ["recipient with CR/LF", "invoiceRecipients[1]", (c) => c.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["ap@contoso.com", "x@contoso.com\r\nBcc: y@evil.com"] })],
    ["recipient with a NUL byte", "invoiceRecipients[0]", (c) => c.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["ap@contoso.com\u0000"] })],
    ["non-https document link", "url", (c) => c.fetchDocument("http://evil.example.com/invoice.pdf")],
    ["document link that is not a URL", "url", (c) => c.fetchDocument("invoice.pdf")],
    ["ftp document link", "url", (c) => c.fetchDocument("ftp://127.0.0.1/invoice.pdf")],
    ["filter with or", "filter", (c) => c.listInvoices(ops, { filter: "status eq 'Due' or status eq 'Paid'" })],
    ["filter on a field the list has not", "filter", (c) => c.listBillingProfiles(BA, { filter: "color eq 'blue'" })],
    ["orderBy on a field that is not an invoice date", "orderBy", (c) => c.listInvoicesByBillingAccount(BA, { orderBy: "status desc" })],
    ["top of zero", "top", (c) => c.listRoleAssignments(ops, { top: 0 })],
    ["skip that is negative", "skip", (c) => c.listBillingAccounts({ skip: -1 })],
    ["role assignment create with bad profile", "billingProfileName", (c) => c.createRoleAssignment({ billingAccountName: BA, billingProfileName: "x y" }, { roleDefinitionId: ROLE, principalId: "p" })],
];

describe("bad input is refused before any request", () => {
    let emu: TestEmulator;
    before(async () => {
        emu = await startTestEmulator();
    });
    after(async () => {
        await emu.close();
    });

    for (const [label, field, call] of CASES) {
        it(`${label}: names ${field}`, async () => {
            await emu.admin.clearRequests();
            const err = await call(emu.client("alice")).then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(err, "expected a ValidationError").to.be.instanceOf(ValidationError);
            const v = err as ValidationError;
            const fields = v.issues.map((i) => i.property);
            expect(fields).to.include(field);
            expect(v.message).to.include(fields[0]);
            expect(await emu.admin.requests(), "no request reached the emulator").to.deep.equal([]);
        });
    }
});
