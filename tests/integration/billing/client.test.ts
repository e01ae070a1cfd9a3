/**
 * The billing client against a running emulator over real HTTP: every
 * operation, paging, long-running operations, the PDF download, faults and
 * typed errors. Asserts what the emulator holds and what it was asked.
 * Each test gets an emulator of its own, so one that fails half-way (with its
 * faults, settings or writes in place) cannot change what the next one sees.
 */
import { expect } from "chai";
import * as net from "net";
import type { AddressInfo } from "net";
import { PDFDocument } from "pdf-lib";
import { createBillingClient } from "../../../provider/billing/client";
import { operations } from "../../../provider/billing/contract";
import { invoiceDocumentName } from "../../../provider/billing/profile";
import { resolveSettings } from "../../../provider/config";
import { AzureApiError } from "../../../provider/errors";
import { FAST_RETRY, SEED, startTestEmulator, type TestEmulator } from "../../support/emulator";

const ops = SEED.profiles.operations;
const partner = SEED.profiles.partner;
const MCA = SEED.accounts.mca.name;

function isoDay(d: Date): string {
    return d.toISOString().slice(0, 10);
}
const yearAgo = isoDay(new Date(Date.now() - 366 * 86400000));
const today = isoDay(new Date());

describe("billing client against the emulator", function () {
    let emu: TestEmulator;

    beforeEach(async () => {
        emu = await startTestEmulator();
    });
    afterEach(async () => {
        await emu.close();
    });

    describe("accounts and profiles", () => {
        it("lists and gets billing accounts the caller has a role on", async () => {
            const grace = emu.client("grace");
            const accounts = await grace.listBillingAccounts();
            expect(accounts.map((a) => a.name)).to.deep.equal([MCA]);
            const account = await grace.getBillingAccount(MCA);
            expect(account.properties?.agreementType).to.equal("MicrosoftCustomerAgreement");
            const olivia = await emu.client("olivia").listBillingAccounts();
            expect(olivia.map((a) => a.properties?.agreementType)).to.deep.equal(["MicrosoftPartnerAgreement"]);
        });

        it("lists and gets billing profiles", async () => {
            const profiles = await emu.client("grace").listBillingProfiles(MCA);
            expect(profiles.map((p) => p.name).sort()).to.deep.equal([SEED.profiles.operations.billingProfileName, SEED.profiles.research.billingProfileName].sort());
            const p = await emu.client("carol").getBillingProfile(ops);
            expect(p.properties.displayName).to.equal(ops.displayName);
            expect(p.properties.invoiceEmailOptIn).to.equal(false);
        });

        it("read-merge-writes only the two email fields, and skips a write that changes nothing", async () => {
            const alice = emu.client("alice");
            const before = (await emu.admin.state()) as any;
            const beforeProfile = JSON.stringify(findProfile(before, ops.billingProfileName));
            await emu.admin.clearRequests();

            const r = await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["ap@contoso.com"] });
            expect(r.written).to.equal(true);
            expect(r.before).to.deep.equal({ invoiceEmailOptIn: false, invoiceRecipients: [] });
            expect(r.profile.properties.invoiceEmailOptIn).to.equal(true);

            const held = findProfile(await emu.admin.state(), ops.billingProfileName);
            expect(held.properties.invoiceEmailOptIn).to.equal(true);
            expect(held.properties.invoiceRecipients).to.deep.equal(["ap@contoso.com"]);
            // Every other property is exactly as it was.
            const old = JSON.parse(beforeProfile);
            for (const key of Object.keys(old.properties)) {
                if (key === "invoiceEmailOptIn" || key === "invoiceRecipients") continue;
                expect(held.properties[key], key).to.deep.equal(old.properties[key]);
            }

            const again = await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["AP@contoso.com"] });
            expect(again.written).to.equal(false);
            const log = await emu.admin.requests();
            expect(log.filter((e) => e.method === "PUT")).to.have.length(1);
        });

        it("follows a 202 + Location for the profile PUT", async () => {
            await emu.admin.settings({ lro: "always", retryAfterSeconds: 0, pendingPolls: 2 });
            await emu.admin.clearRequests();
            const r = await emu.client("bob").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: [] });
            expect(r.profile.properties.invoiceEmailOptIn).to.equal(true);
            const log = await emu.admin.requests();
            const put = log.find((e) => e.method === "PUT")!;
            expect(put.status).to.equal(202);
            const polls = log.filter((e) => e.method === "GET" && /operationResults/i.test(e.path));
            expect(polls.map((p) => p.status)).to.deep.equal([202, 202, 200]);
            expect(findProfile(await emu.admin.state(), ops.billingProfileName).properties.invoiceEmailOptIn).to.equal(true);
        });
    });

    describe("roles", () => {
        it("resolves the Invoice manager role by name, with different ids on MCA and MPA", async () => {
            const mca = await emu.client("alice").resolveRoleDefinition(ops, "Invoice manager");
            const mpa = await emu.client("rupert").resolveRoleDefinition(partner, "invoice MANAGER");
            expect(mca.properties.roleName).to.equal("Invoice manager");
            expect(mpa.properties.roleName).to.equal("Invoice manager");
            expect(mca.name).to.equal("40000000-aaaa-bbbb-cccc-100000000004");
            expect(mpa.name).to.not.equal(mca.name);
            const err = await emu.client("alice").resolveRoleDefinition(ops, "Billing wizard").catch((e) => e);
            expect(err).to.be.instanceOf(AzureApiError);
            expect(err.message).to.include("Invoice manager");
        });

        it("creates, gets, lists (across pages) and deletes a role assignment", async () => {
            const alice = emu.client("alice");
            const role = await alice.resolveRoleDefinition(ops, "Invoice manager");
            const jane = await alice.getGraphUser("jane@contoso.com");
            await emu.admin.settings({ lro: "always", retryAfterSeconds: 0 });
            const created = await alice.createRoleAssignment(ops, { roleDefinitionId: role.id, principalId: jane.id });
            expect(created.properties.principalId).to.equal(jane.id);
            expect(created.name).to.equal(`${role.name}_${jane.id}`);

            const got = await alice.getRoleAssignment(ops, created.name);
            expect(got.id).to.equal(created.id);

            await emu.admin.settings({ pageSize: 2, relativeNextLinks: true });
            await emu.admin.clearRequests();
            const all = await alice.listRoleAssignments(ops);
            const pages = (await emu.admin.requests()).filter((e) => /billingRoleAssignments$/i.test(e.path));
            expect(pages.length).to.be.greaterThan(1);
            expect(all.map((a) => a.name)).to.include(created.name);
            expect(new Set(all.map((a) => a.name)).size).to.equal(all.length);

            expect(await alice.deleteRoleAssignment(ops, created.name)).to.deep.equal({ deleted: true });
            expect(await alice.deleteRoleAssignment(ops, created.name)).to.deep.equal({ deleted: false });
            expect(await alice.tryGetRoleAssignment(ops, created.name)).to.equal(undefined);
            const held = (await emu.admin.state()).roleAssignments as Array<{ name: string }>;
            expect(held.map((a) => a.name)).to.not.include(created.name);
        });
    });

    describe("invoices", () => {
        it("lists invoices in a period across absolute and relative nextLinks", async () => {
            const carol = emu.client("carol");
            const all = await carol.listInvoices(ops, { periodStartDate: yearAgo, periodEndDate: today });
            expect(all.length).to.be.at.least(3);
            for (const relativeNextLinks of [false, true]) {
                await emu.admin.settings({ pageSize: 1, relativeNextLinks });
                const paged = await carol.listInvoices(ops, { periodStartDate: yearAgo, periodEndDate: today });
                expect(paged.map((i) => i.name)).to.deep.equal(all.map((i) => i.name));
            }
            const one = await carol.getInvoice(MCA, all[0].name);
            expect(one.properties.amountDue?.value).to.equal(all[0].properties.amountDue?.value);
        });

        it("downloads the invoice PDF through the long-running download and the document link", async () => {
            const carol = emu.client("carol");
            await emu.admin.settings({ retryAfterSeconds: 0 });
            const [invoice] = await carol.listInvoices(ops, { periodStartDate: yearAgo, periodEndDate: today });
            await emu.admin.clearRequests();
            const { bytes, link } = await carol.downloadInvoicePdf({ billingAccountName: MCA, invoiceName: invoice.name, documentName: invoiceDocumentName(invoice) });
            expect(bytes.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
            const pdf = await PDFDocument.load(bytes);
            expect(`${pdf.getTitle()} ${pdf.getSubject()}`).to.include(invoice.name);
            expect(link.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\//);
            const log = await emu.admin.requests();
            expect(log.find((e) => e.method === "POST" && /\/download$/.test(e.path))?.status).to.equal(202);
            // The document GET carries no bearer token: the emulator sees no principal on it.
            const docGet = log.find((e) => e.method === "GET" && e.path.endsWith(".pdf"));
            expect(docGet?.status).to.equal(200);
            expect(docGet?.principal).to.equal(null);
        });
    });

    describe("list options and the neighbouring operations", () => {
        it("sends top, skip, filter and orderBy under the spec's names, only when given, and reads every page", async () => {
            const carol = emu.client("carol");
            await emu.admin.clearRequests();
            const all = await carol.listInvoices(ops);
            expect(all.map((i) => i.properties.status)).to.include("Due");
            expect((await emu.admin.requests())[0].query, "no dates, no options: nothing but api-version").to.deep.equal({ "api-version": "2024-04-01" });
            await emu.admin.clearRequests();
            const paged = await carol.listInvoices(ops, { top: 1, orderBy: "invoiceDate desc" });
            expect(paged.map((i) => i.name)).to.deep.equal([...all].reverse().map((i) => i.name));
            const log = await emu.admin.requests();
            expect(log).to.have.length(all.length);
            expect(log[0].query).to.deep.equal({ "api-version": "2024-04-01", top: "1", orderBy: "invoiceDate desc" });
            expect(log[1].query).to.include({ $top: "1" });
            const due = await carol.listInvoices(ops, { filter: "status eq 'Due'", skip: 0 });
            expect(due.map((i) => i.properties.status)).to.deep.equal(["Due"]);
            const profiles = await emu.client("grace").listBillingProfiles(MCA, { filter: `displayName eq '${ops.displayName}'` });
            expect(profiles.map((p) => p.name)).to.deep.equal([ops.billingProfileName]);
            const accounts = await emu.client("grace").listBillingAccounts({ filter: "agreementType eq 'MicrosoftCustomerAgreement'", top: 1 });
            expect(accounts.map((a) => a.name)).to.deep.equal([MCA]);
        });

        it("lists an account's invoices in one paged list, and the account's own role definitions and assignments", async () => {
            const grace = emu.client("grace");
            const byProfile = (await Promise.all((await grace.listBillingProfiles(MCA)).map((p) => grace.listInvoices({ billingAccountName: MCA, billingProfileName: p.name }))))
                .flat()
                .map((i) => i.name)
                .sort();
            await emu.admin.settings({ pageSize: 2 });
            await emu.admin.clearRequests();
            const byAccount = await grace.listInvoicesByBillingAccount(MCA, { periodStartDate: yearAgo });
            expect(byAccount.map((i) => i.name).sort()).to.deep.equal(byProfile);
            expect((await emu.admin.requests()).map((e) => e.operation)).to.deep.equal(Array(Math.ceil(byProfile.length / 2)).fill("listInvoicesByBillingAccount"));
            const defs = await grace.listAccountRoleDefinitions(MCA);
            expect(defs.map((d) => d.properties.roleName)).to.include("Billing account owner");
            expect((await grace.getAccountRoleDefinition(MCA, defs[0].name)).id).to.equal(defs[0].id);
            const assignments = await grace.listAccountRoleAssignments(MCA, { filter: `principalId eq '${SEED.users.grace.id}'` });
            expect(assignments).to.have.length(1);
            expect(assignments[0].properties.principalDisplayName).to.equal("Grace Garcia");
            expect((await grace.getAccountRoleAssignment(MCA, assignments[0].name)).name).to.equal(assignments[0].name);
            const err = await emu.client("alice").listAccountRoleAssignments(MCA).catch((e) => e);
            expect(err).to.be.instanceOf(AzureApiError);
            expect(err.status).to.equal(403);
        });

        it("reads the caller's permissions, and a profile delete refused with its eligibility reasons", async () => {
            const carol = await emu.client("carol").listBillingPermissions(ops);
            expect(carol).to.include("Microsoft.Billing/billingAccounts/billingProfiles/read");
            expect(carol).to.not.include("Microsoft.Billing/billingAccounts/billingProfiles/write");
            const eligibility = await emu.client("alice").validateBillingProfileDeleteEligibility(ops);
            expect(eligibility.eligibilityStatus).to.equal("NotAllowed");
            const err = await emu.client("alice").deleteBillingProfile(ops).catch((e) => e);
            expect(err).to.be.instanceOf(AzureApiError);
            expect(err.status).to.equal(409);
            expect(err.code).to.equal("BillingProfileDeletionNotAllowed");
            expect(err.message).to.include("outstanding charges");
            expect(findProfile(await emu.admin.state(), ops.billingProfileName)).to.be.an("object");
        });

        it("reads each of the three error bodies: the ARM envelope, the bare 404 and the ASP.NET validation problem", async () => {
            const alice = emu.client("alice");
            const [invoice] = await alice.listInvoices(ops);
            const bare = await alice.requestInvoiceDownload(MCA, invoice.name, "99999999").catch((e) => e);
            expect(bare).to.be.instanceOf(AzureApiError);
            expect([bare.status, bare.code]).to.deep.equal([404, "DocumentNotFound"]);
            const current = await alice.getBillingProfile(ops);
            const bad = { ...current, properties: { ...current.properties, invoiceRecipients: ["not-an-address"] } };
            for (const validationErrors of ["arm", "problem"] as const) {
                await emu.admin.settings({ validationErrors });
                // Bypass the client's own check of recipients: write what Azure would refuse.
                const err = await alice.call(operations.putBillingProfile, ops, { body: { properties: bad.properties as any } }).catch((e) => e);
                expect(err, validationErrors).to.be.instanceOf(AzureApiError);
                expect([err.status, err.code, err.target], validationErrors).to.deep.equal([400, "ValidationFailed", "properties.invoiceRecipients[0]"]);
                expect(err.message, validationErrors).to.include("not-an-address");
            }
        });
    });

    describe("Graph", () => {
        it("resolves a user by email and by object id; no mailbox is null, unknown is undefined", async () => {
            const c = emu.client("alice");
            const jane = await c.getGraphUser("Jane@Contoso.com");
            expect(jane.mail).to.equal("jane@contoso.com");
            expect((await c.getGraphUser(jane.id)).userPrincipalName).to.equal("jane@contoso.com");
            expect((await c.getGraphUser(SEED.users.kiosk.id)).mail).to.equal(null);
            expect(await c.tryGetGraphUser("nobody@contoso.com")).to.equal(undefined);
        });
    });

    describe("faults and errors", () => {
        it("waits out an injected 429 with Retry-After and retries", async () => {
            await emu.admin.faults({ status: 429, rate: 1, count: 2, retryAfterSeconds: 1, methods: ["GET"] });
            await emu.admin.clearRequests();
            const started = Date.now();
            const p = await emu.client("carol").getBillingProfile(ops);
            expect(p.name).to.equal(ops.billingProfileName);
            const log = await emu.admin.requests();
            expect(log.map((e) => e.status)).to.deep.equal([429, 429, 200]);
            // Retry-After: 1 was honoured twice (not a timing assertion of our speed, of Azure's instruction).
            expect(Date.now() - started).to.be.at.least(1900);
        });

        it("paces its ARM requests by its token bucket: with a burst of 1, evenly spaced at the rate, whatever the concurrency", async () => {
            const client = createBillingClient(
                resolveSettings({ explicit: { endpoint: emu.url, token: emu.token("carol"), maxRequestsPerSecond: "20", requestBurst: "1" }, retry: FAST_RETRY }),
            );
            await emu.admin.clearRequests();
            await Promise.all(Array.from({ length: 41 }, () => client.getBillingProfile(ops)));
            const at = (await emu.admin.requests()).map((e) => Date.parse(e.time)).sort((a, b) => a - b);
            expect(at).to.have.length(41);
            // 41 requests at 20 per second take 2 s from the first to the last; a loaded machine only adds to that
            // (the allowance is the emulator's clock against the client's, one request logged late).
            expect(at[40] - at[0]).to.be.at.least(1700);
            for (let i = 0; i + 20 < at.length; i++) expect(at[i + 20] - at[i], `requests ${i} to ${i + 20}`).to.be.at.least(700);
        });

        it("a 429's Retry-After holds every request of the client, not only the throttled one", async () => {
            const client = emu.client("carol");
            await emu.admin.faults({ status: 429, rate: 1, count: 1, retryAfterSeconds: 1, methods: ["GET"] });
            await emu.admin.clearRequests();
            const first = client.getBillingProfile(ops);
            // Sent once the 429 has come back (the client is waiting it out).
            for (let i = 0; i < 100 && (await emu.admin.requests()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
            await new Promise((r) => setTimeout(r, 100));
            const second = client.listBillingAccounts();
            await Promise.all([first, second]);
            const log = await emu.admin.requests();
            expect([log[0].operation, log[0].status]).to.deep.equal(["getBillingProfile", 429]);
            expect(log.slice(1).map((e) => `${e.operation} ${e.status}`).sort()).to.deep.equal(["getBillingProfile 200", "listBillingAccounts 200"]);
            const throttledAt = Date.parse(log[0].time);
            for (const e of log.slice(1)) expect(Date.parse(e.time) - throttledAt, `${e.operation} waited out the Retry-After`).to.be.at.least(900);
        });

        it("retries a 503", async () => {
            await emu.admin.faults({ status: 503, rate: 1, count: 1 });
            await emu.admin.clearRequests();
            await emu.client("carol").listInvoices(ops, { periodStartDate: yearAgo, periodEndDate: today });
            expect((await emu.admin.requests()).map((e) => e.status)).to.deep.equal([503, 200]);
        });

        it("gives up after the retry budget with a typed, retryable error", async () => {
            await emu.admin.faults({ status: 500, rate: 1 });
            const err = await emu.client("carol", { maxRetries: 2 }).getBillingProfile(ops).catch((e) => e);
            expect(err).to.be.instanceOf(AzureApiError);
            expect(err.status).to.equal(500);
            expect(err.retryable).to.equal(true);
            expect(err.requestId).to.be.a("string");
        });

        it("a 403 is a typed error naming the role the caller needs", async () => {
            const err = await emu.client("carol").updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: [] }).catch((e) => e);
            expect(err).to.be.instanceOf(AzureApiError);
            expect(err.status).to.equal(403);
            expect(err.code).to.equal("AuthorizationFailed");
            expect(err.message).to.match(/owner or contributor/);
            expect(err.retryable).to.equal(false);
            expect(err.requestId).to.match(/^[0-9a-f-]{36}$/);
        });

        it("401 without a known token", async () => {
            const err = await emu.client({ token: "not-a-seeded-token" }).listBillingAccounts().catch((e) => e);
            expect(err).to.be.instanceOf(AzureApiError);
            expect(err.status).to.equal(401);
            expect(err.code).to.equal("AuthenticationFailed");
            const raw = await fetch(`${emu.url}/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01`);
            expect(raw.status).to.equal(401);
        });

        it("a connection failure is a typed error with status 0", async () => {
            // A server that stays bound (so no one else can take the port) and
            // resets every connection: ECONNRESET on every attempt, every run.
            const resets = net.createServer((socket) => socket.resetAndDestroy());
            await new Promise<void>((resolve) => resets.listen(0, "127.0.0.1", resolve));
            try {
                const endpoint = `http://127.0.0.1:${(resets.address() as AddressInfo).port}`;
                const c = createBillingClient(resolveSettings({ explicit: { endpoint, token: SEED.users.alice.token }, retry: { ...FAST_RETRY, maxRetries: 1 } }));
                const err = await c.listBillingAccounts().catch((e) => e);
                expect(err).to.be.instanceOf(AzureApiError);
                expect(err.status).to.equal(0);
                expect(err.code).to.equal("ECONNRESET");
                expect(err.message).to.match(/could not reach/);
                expect(err.message).to.include(endpoint);
            } finally {
                await new Promise<void>((resolve) => resets.close(() => resolve()));
            }
        });
    });
});

function findProfile(state: any, name: string): any {
    const p = (state.billingProfiles as any[]).find((x) => x.name === name);
    if (!p) throw new Error(`profile ${name} not in the emulator state`);
    return p;
}
