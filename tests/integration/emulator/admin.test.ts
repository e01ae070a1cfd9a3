/**
 * The emulator over real HTTP (port 0). What the admin API drives: injected
 * faults, the request log, principals, settings, issued invoices and added
 * billing profiles. Each describe block starts its own emulator and makes its
 * own requests, so any one runs alone with --grep.
 */
import { expect } from "chai";
import { INVOICE_NAME_PATTERN } from "../../../provider/billing/names";
import * as s from "../../../provider/billing/schemas";
import { ROLE_DEFINITION_IDS, SEED, startEmulator } from "../../../emulator";
import { BA_PATH, BP_PATH, EmulatorHttp, GUID, MCA, MPA, OPS, putBodyFrom } from "../support/emulator-http";
import { NOW, WIDE, suite } from "./suite";

describe("emulator: fault injection", () => {
    const t = suite();
    afterEach(async () => t.api.admin("DELETE", "/faults", undefined, 204));

    it("injects `count` faults with Retry-After, then answers normally", async () => {
        await t.api.admin("POST", "/faults", { status: 503, count: 2, retryAfterSeconds: 7 }, 201);
        const a = await t.api.get(BP_PATH(OPS), { as: "alice" });
        const b = await t.api.get(BP_PATH(OPS), { as: "alice" });
        const c = await t.api.get(BP_PATH(OPS), { as: "alice" });
        expect([a.status, b.status, c.status]).to.deep.equal([503, 503, 200]);
        expect(a.body.error.code).to.equal("ServiceUnavailable");
        expect(a.headers.get("retry-after")).to.equal("7");
        const listed = await t.api.admin("GET", "/faults");
        expect(listed.value[0]).to.include({ injected: 2, exhausted: true });
    });

    it("limits faults to the given methods, and answers 429 TooManyRequests", async () => {
        await t.api.admin("POST", "/faults", { status: 429, methods: ["PUT"], retryAfterSeconds: 1 }, 201);
        expect((await t.api.get(BP_PATH(OPS), { as: "alice" })).status).to.equal(200);
        const put = await t.api.put(BP_PATH(OPS), { as: "alice", body: { properties: {} } });
        expect(put.status).to.equal(429);
        expect(put.body.error.code).to.equal("TooManyRequests");
        expect(put.headers.get("retry-after")).to.equal("1");
        const profile = (await t.api.admin("GET", "/state")).billingProfiles.find((p: { name: string }) => p.name === OPS.billingProfileName);
        expect(profile.properties.displayName, "a faulted PUT changes nothing").to.equal(OPS.displayName);
    });

    it("fails a deterministic share of requests at a rate, and stops when cleared", async () => {
        const pattern = async () => {
            await t.api.admin("POST", "/faults", { status: 500, rate: 0.5, seed: 42 }, 201);
            const statuses: number[] = [];
            for (let i = 0; i < 30; i++) statuses.push((await t.api.get(BP_PATH(OPS), { as: "alice" })).status);
            await t.api.admin("DELETE", "/faults", undefined, 204);
            return statuses;
        };
        const first = await pattern();
        const failures = first.filter((x) => x === 500).length;
        expect(failures).to.be.within(5, 25);
        expect(first.filter((x) => x === 200).length).to.equal(30 - failures);
        expect(await pattern(), "same seed, same sequence").to.deep.equal(first);
        expect((await t.api.get(BP_PATH(OPS), { as: "alice" })).status).to.equal(200);
    });

    it("also faults Graph and Location polls, and refuses an invalid rule", async () => {
        await t.api.admin("POST", "/faults", { status: 500, count: 1 }, 201);
        const g = await t.api.get(`/v1.0/users/${SEED.users.jane.id}`, { as: "alice" });
        expect(g.status).to.equal(500);
        const bad = await t.api.call("POST", "/_emulator/faults", { body: { status: 404 } });
        expect(bad.status).to.equal(400);
    });
});

describe("emulator: request log", () => {
    const t = suite();

    it("records Azure-facing requests (not admin ones) with operation, status and principal", async () => {
        await t.api.admin("DELETE", "/requests", undefined, 204);
        await t.api.get(BP_PATH(OPS), { as: "alice" });
        await t.api.get(`${BP_PATH(OPS)}/invoices`, { token: null, query: { periodStartDate: "2025-01-01", periodEndDate: "2025-03-31" } });
        await t.api.get(`/v1.0/users/jane@contoso.com`, { as: "carol" });
        await t.api.get("/providers/Microsoft.Billing/unknown", { as: "alice" });
        await t.api.admin("GET", "/settings");
        const log = (await t.api.admin("GET", "/requests")).value;
        expect(log.map((e: any) => [e.method, e.operation, e.status, e.principal])).to.deep.equal([
            ["GET", "getBillingProfile", 200, SEED.users.alice.id],
            ["GET", "listInvoices", 401, null],
            ["GET", "getGraphUser", 200, SEED.users.carol.id],
            ["GET", null, 404, null],
        ]);
        expect(log[0].path).to.equal(BP_PATH(OPS));
        expect(log[0].query).to.deep.equal({ "api-version": "2024-04-01" });
        expect(log[1].query).to.include({ periodStartDate: "2025-01-01", periodEndDate: "2025-03-31" });
        expect(log[0].time).to.equal(NOW.toISOString());
        await t.api.admin("DELETE", "/requests", undefined, 204);
        expect((await t.api.admin("GET", "/requests")).value).to.deep.equal([]);
    });
});

describe("emulator: admin API", () => {
    const t = suite();

    it("lists the principals with tokens and role assignments", async () => {
        const principals = (await t.api.admin("GET", "/principals")).value as any[];
        expect(principals).to.have.length(Object.keys(SEED.users).length);
        const byUpn = new Map(principals.map((p) => [p.userPrincipalName, p]));
        const kiosk = byUpn.get("kiosk@contoso.onmicrosoft.com");
        expect(kiosk.mail).to.equal(null);
        expect(kiosk.roleAssignments).to.have.length(1);
        for (const p of principals) {
            if (p !== kiosk) expect(p.mail).to.equal(p.userPrincipalName);
            expect(p.id).to.match(GUID);
            expect(p.tenantId).to.equal(SEED.tenantId);
            expect(p.token).to.be.a("string").and.not.empty;
        }
        expect(byUpn.get("jane@contoso.com").roleAssignments).to.deep.equal([]);
        expect(byUpn.get("alice@contoso.com").roleAssignments).to.deep.equal([
            { scope: BP_PATH(OPS), roleName: "Billing profile owner", billingAccountName: MCA, billingProfileName: OPS.billingProfileName },
        ]);
        expect(byUpn.get("grace@contoso.com").roleAssignments).to.deep.equal([
            { scope: BA_PATH(MCA), roleName: "Billing account owner", billingAccountName: MCA, billingProfileName: null },
        ]);
        expect(t.emu.principals.map((p) => p.token)).to.deep.equal(principals.map((p) => p.token));
    });

    it("reads and changes settings, refusing invalid ones", async () => {
        const before = await t.api.admin("GET", "/settings");
        expect(before).to.deep.equal({ lro: "never", pendingPolls: 1, retryAfterSeconds: 0, pageSize: 50, relativeNextLinks: false, pdfPaddingBytes: 0, validationErrors: "arm" });
        await t.api.admin("POST", "/settings", { lro: "always" });
        const after = await t.api.admin("POST", "/settings", { pageSize: 10 });
        expect(after, "a partial change keeps the other settings").to.deep.equal({ ...before, lro: "always", pageSize: 10 });
        expect(t.emu.settings().pageSize).to.equal(10);
        const bad = await t.api.call("POST", "/_emulator/settings", { body: { lro: "sometimes" } });
        expect(bad.status).to.equal(400);
        const unknown = await t.api.call("POST", "/_emulator/settings", { body: { speed: 11 } });
        expect(unknown.status).to.equal(400);
        const huge = await t.api.call("POST", "/_emulator/settings", { body: { pdfPaddingBytes: 16 * 1024 * 1024 + 1 } });
        expect(huge.status, "padding is bounded (16 MiB)").to.equal(400);
        expect((await t.api.call("POST", "/_emulator/settings", { body: { pdfPaddingBytes: -1 } })).status).to.equal(400);
        await t.api.admin("POST", "/settings", { pageSize: 50, lro: "never" });
    });

    it("issues a new invoice dated now, in the Invoice shape, listed and downloadable", async () => {
        const invoice = await t.api.admin("POST", `/billingAccounts/${MCA}/billingProfiles/${OPS.billingProfileName}/invoices`, { amountDue: 123.45 }, 201);
        expect(s.Invoice.safeParse(invoice).success).to.equal(true);
        expect(invoice.name).to.match(INVOICE_NAME_PATTERN);
        expect(invoice.properties.amountDue).to.deep.equal({ currency: "USD", value: 123.45 });
        expect(invoice.properties.invoiceDate).to.equal("2025-03-15T10:00:00Z");
        expect(invoice.properties.status).to.equal("Due");
        const listed = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodStartDate: "2025-03-15", periodEndDate: "2025-03-15" } })).body.value;
        expect(listed).to.deep.equal([invoice]);
        const got = await t.api.get(`${BA_PATH(MCA)}/invoices/${invoice.name}`, { as: "jane" });
        expect(got.status, "jane has no role").to.equal(403);
        const deflt = await t.api.admin("POST", `/billingAccounts/${MCA}/billingProfiles/${OPS.billingProfileName}/invoices`, undefined, 201);
        expect(deflt.name).to.not.equal(invoice.name);
        expect(deflt.properties.amountDue.value).to.be.above(0);
        await t.api.call("POST", `/_emulator/billingAccounts/${MCA}/billingProfiles/NOPE-NOPE-NOP-NOP/invoices`, { body: {} }).then((r) => expect(r.status).to.equal(404));
    });

    it("adds billing profiles with the account owner as profile owner, role definitions and invoices", async () => {
        const { names } = await t.api.admin("POST", `/billingAccounts/${MCA}/billingProfiles`, { count: 2 }, 201);
        expect(names).to.deep.equal(["EX0001-MCA-BP", "EX0002-MCA-BP"]);
        const named = await t.api.admin("POST", `/billingAccounts/${MCA}/billingProfiles`, { name: "CUST-0001-BP", displayName: "Customer One" }, 201);
        expect(named.names).to.deep.equal(["CUST-0001-BP"]);
        const dup = await t.api.call("POST", `/_emulator/billingAccounts/${MCA}/billingProfiles`, { body: { name: "CUST-0001-BP", displayName: "Again" } });
        expect(dup.status).to.equal(409);
        expect(dup.body.error.code).to.equal("BillingProfileAlreadyExists");
        for (const name of [...names, "CUST-0001-BP"]) {
            const ref = { billingAccountName: MCA, billingProfileName: name };
            const assignments = (await t.api.get(`${BP_PATH(ref)}/billingRoleAssignments`, { as: "grace" })).body.value;
            expect(assignments.map((a: any) => a.properties.principalId)).to.deep.equal([SEED.users.grace.id]);
            const defs = (await t.api.get(`${BP_PATH(ref)}/billingRoleDefinitions`, { as: "grace" })).body.value;
            expect(defs.map((d: any) => d.properties.roleName)).to.deep.equal(["Billing profile owner", "Billing profile contributor", "Billing profile reader", "Invoice manager"]);
            const invoices = (await t.api.get(`${BP_PATH(ref)}/invoices`, { as: "grace", query: WIDE })).body.value;
            expect(invoices).to.have.length(3);
        }
        expect((await t.api.get(BP_PATH({ billingAccountName: MCA, billingProfileName: "CUST-0001-BP" }), { as: "grace" })).body.properties.displayName).to.equal("Customer One");
        const mpa = await t.api.admin("POST", `/billingAccounts/${MPA}/billingProfiles`, { count: 1 }, 201);
        const mpaDefs = (await t.api.get(`${BP_PATH({ billingAccountName: MPA, billingProfileName: mpa.names[0] })}/billingRoleDefinitions`, { as: "olivia" })).body.value;
        expect(mpaDefs[0].name).to.equal(ROLE_DEFINITION_IDS.MicrosoftPartnerAgreement.profile.owner);
    });

    it("seeds extra profiles at start, all manageable with the account owner's token", async () => {
        const big = await startEmulator({ now: () => NOW, seed: { extraProfiles: 100 } });
        try {
            const api = new EmulatorHttp(big.url);
            const first = await api.get(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace" });
            expect(first.body.value).to.have.length(50);
            const state = await api.admin("GET", "/state");
            expect(state.billingProfiles).to.have.length(103);
            const extra = state.billingProfiles.filter((p: { name: string }) => p.name.startsWith("EX"));
            const owners = state.roleAssignments.filter((a: any) => extra.some((p: any) => p.name === a.billingProfileName));
            expect(owners).to.have.length(100);
            expect(new Set(owners.map((a: any) => a.principalId))).to.deep.equal(new Set([SEED.users.grace.id]));
            expect(state.invoices).to.have.length(3 * 103);
            const put = await api.put(BP_PATH({ billingAccountName: MCA, billingProfileName: "EX0100-MCA-BP" }), {
                as: "grace",
                body: putBodyFrom(state.billingProfiles[102], s.BILLING_PROFILE_READ_ONLY_PROPERTIES),
            });
            expect(put.status).to.equal(200);
        } finally {
            await big.close();
        }
    });

    it("answers 404 for an unknown admin route", async () => {
        const r = await t.api.call("GET", "/_emulator/nothing");
        expect(r.status).to.equal(404);
    });
});
