/**
 * The one switch that points the integration tier at real Azure:
 *
 *   AZURE_EMAIL_INVOICING_TEST_TARGET=azure \
 *   AZURE_EMAIL_INVOICING_TEST_PROFILE=<billingAccountName>/<billingProfileName> \
 *   npm run test:integration
 *
 * runs the client's read-only operations against that profile with
 * DefaultAzureCredential (az login, workload identity...), through the same
 * code path as the emulator tests. It never writes. Without the switch the
 * suite is skipped (no machine here reaches Azure); every other integration
 * test uses the emulator, whose admin API real Azure does not have.
 */
import { expect } from "chai";
import { createBillingClient } from "../../../provider/billing/client";
import { invoiceDocumentName } from "../../../provider/billing/profile";
import { resolveSettings, settingsFromEnvironment } from "../../../provider/config";

const target = process.env.AZURE_EMAIL_INVOICING_TEST_TARGET;
const profileArg = process.env.AZURE_EMAIL_INVOICING_TEST_PROFILE ?? "";

(target === "azure" ? describe : describe.skip)("billing client against real Azure (read-only)", function () {
    this.timeout(120000);
    const [billingAccountName, billingProfileName] = profileArg.split("/");
    const ref = { billingAccountName, billingProfileName };
    const client = () => createBillingClient(resolveSettings({ env: settingsFromEnvironment(process.env) }));

    before(() => {
        if (!billingAccountName || !billingProfileName) throw new Error("set AZURE_EMAIL_INVOICING_TEST_PROFILE=<billingAccountName>/<billingProfileName>");
    });

    it("reads the account, the profile and its email-invoice fields", async () => {
        const c = client();
        expect((await c.getBillingAccount(billingAccountName)).name).to.equal(billingAccountName);
        const profile = await c.getBillingProfile(ref);
        expect(profile.name.toLowerCase()).to.equal(billingProfileName.toLowerCase());
        expect(typeof (profile.properties.invoiceEmailOptIn ?? false)).to.equal("boolean");
    });

    it("resolves the Invoice manager role by name and lists assignments", async () => {
        const c = client();
        const role = await c.resolveRoleDefinition(ref, "Invoice manager");
        expect(role.properties.roleName.toLowerCase()).to.equal("invoice manager");
        expect(await c.listRoleAssignments(ref)).to.be.an("array");
    });

    it("lists the last year's invoices and downloads the newest PDF", async () => {
        const c = client();
        const end = new Date();
        const start = new Date(end.getTime() - 365 * 86400000);
        const invoices = await c.listInvoices(ref, { periodStartDate: start.toISOString().slice(0, 10), periodEndDate: end.toISOString().slice(0, 10) });
        if (invoices.length === 0) return;
        const newest = [...invoices].sort((a, b) => String(b.properties.invoiceDate).localeCompare(String(a.properties.invoiceDate)))[0];
        const { bytes } = await c.downloadInvoicePdf({ billingAccountName, invoiceName: newest.name, documentName: invoiceDocumentName(newest) });
        expect(bytes.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
    });
});
