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
 * suite is not registered at all, rather than reported as skipped: a skipped
 * test reads as "a server was missing", and here nothing is missing, the run
 * simply targets the emulator, like every other integration test (real Azure
 * has no admin API to set up their state). A switch set to anything else is a
 * mistake and fails the run instead of quietly testing the emulator.
 */
import { expect } from "chai";
import { createBillingClient } from "../../../provider/billing/client";
import { invoiceDocumentName } from "../../../provider/billing/profile";
import { resolveSettings, settingsFromEnvironment } from "../../../provider/config";

const target = process.env.AZURE_EMAIL_INVOICING_TEST_TARGET;
const profileArg = process.env.AZURE_EMAIL_INVOICING_TEST_PROFILE ?? "";

if (target !== undefined && target !== "" && target !== "azure" && target !== "emulator") {
    describe("billing client against real Azure (read-only)", () => {
        it("has a valid AZURE_EMAIL_INVOICING_TEST_TARGET", () => {
            throw new Error(`AZURE_EMAIL_INVOICING_TEST_TARGET is '${target}': use 'azure' (real Azure, read-only) or leave it unset (the emulator)`);
        });
    });
}

if (target === "azure") describe("billing client against real Azure (read-only)", function () {
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
