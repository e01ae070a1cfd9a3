/**
 * The emulator over real HTTP (port 0): routing, ARM conventions, identity,
 * the billing role matrix, profile PUT, role assignments, invoices and their
 * download, long-running operations, paging, faults, the request log, the
 * admin API and Graph. Each describe block starts its own emulator and makes
 * its own requests, so blocks do not depend on each other or on their order
 * (any one runs alone with --grep); the contract-coverage block too.
 */
import { expect } from "chai";
import { PDFDocument } from "pdf-lib";
import { REQUIRED_ROLE, matchOperation, operations } from "../../provider/billing/contract";
import { INVOICE_NAME_PATTERN, ROLE_ASSIGNMENT_NAME_PATTERN } from "../../provider/billing/names";
import * as s from "../../provider/billing/schemas";
import { startEmulator, type EmulatorHandle } from "../../emulator";
import { renderInvoicePdf } from "../../emulator/pdf";
import { ROLE_DEFINITION_IDS, SEED, type SeedUserKey } from "../../emulator";
import {
    BA_PATH,
    BP_PATH,
    EmulatorHttp,
    GUID,
    MCA,
    MPA,
    OPS,
    PARTNER,
    RESEARCH,
    pollToCompletion,
    putBodyFrom,
    roleDefinitionIdByName,
} from "./support/emulator-http";

const NOW = new Date("2025-03-15T10:00:00Z");
const WIDE = { periodStartDate: "2024-01-01", periodEndDate: "2025-12-31" };

/** Starts an emulator on a free port with a fixed clock and no Retry-After waits. */
async function start(extra: Parameters<typeof startEmulator>[0] = {}): Promise<{ emu: EmulatorHandle; api: EmulatorHttp }> {
    const emu = await startEmulator({ now: () => NOW, ...extra, settings: { retryAfterSeconds: 0, ...(extra.settings ?? {}) } });
    return { emu, api: new EmulatorHttp(emu.url) };
}

function suite(extra: Parameters<typeof startEmulator>[0] = {}) {
    const ctx = {} as { emu: EmulatorHandle; api: EmulatorHttp };
    before(async () => Object.assign(ctx, await start(extra)));
    after(async () => ctx.emu?.close());
    return ctx;
}

describe("emulator: start and close", () => {
    it("binds 127.0.0.1 on a free port and reports it; two emulators get different ports", async () => {
        const a = await startEmulator();
        const b = await startEmulator();
        try {
            expect(a.port).to.be.above(0);
            expect(a.url).to.equal(`http://127.0.0.1:${a.port}`);
            expect(b.port).to.not.equal(a.port);
            const r = await fetch(`${a.url}/_emulator`);
            expect(r.status).to.equal(200);
        } finally {
            await a.close();
            await b.close();
        }
        let refused = false;
        await fetch(`${a.url}/_emulator`).catch(() => (refused = true));
        expect(refused, "closed emulator no longer answers").to.equal(true);
        await a.close(); // twice is fine
    });

    it("refuses a port that is already taken, with a configuration error", async () => {
        const a = await startEmulator();
        try {
            let message = "";
            await startEmulator({ port: a.port }).catch((e: Error) => (message = e.message));
            expect(message).to.match(/already in use/);
        } finally {
            await a.close();
        }
    });
});

describe("emulator: routing and ARM conventions", () => {
    const t = suite();

    it("answers 404 in the ARM envelope for an unknown path", async () => {
        const r = await t.api.get("/providers/Microsoft.Billing/nothingHere", { as: "alice" });
        expect(r.status).to.equal(404);
        expect(r.body.error.code).to.equal("NotFound");
    });

    it("answers 405 with Allow for a known path and another method", async () => {
        const r = await t.api.call("PATCH", BP_PATH(OPS), { as: "alice" });
        expect(r.status).to.equal(405);
        expect(r.headers.get("allow")).to.equal("GET, PUT");
        const d = await t.api.delete(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace" });
        expect(d.status).to.equal(405);
    });

    it("requires api-version=2024-04-01 on ARM, like ARM", async () => {
        const missing = await t.api.get(BP_PATH(OPS), { as: "alice", apiVersion: null });
        expect(missing.status).to.equal(400);
        expect(missing.body.error.code).to.equal("MissingApiVersionParameter");
        const other = await t.api.get(BP_PATH(OPS), { as: "alice", apiVersion: "2020-05-01" });
        expect(other.status).to.equal(400);
        expect(other.body.error.code).to.equal("InvalidApiVersionParameter");
        expect(other.body.error.message).to.contain("2024-04-01");
    });

    it("puts a GUID request id and a correlation id on every answer, echoing the caller's correlation id", async () => {
        const a = await t.api.get(BP_PATH(OPS), { as: "alice" });
        const b = await t.api.get(BP_PATH(OPS), { as: "alice", headers: { "x-ms-correlation-request-id": "corr-123" } });
        expect(a.headers.get("x-ms-request-id")).to.match(GUID);
        expect(a.headers.get("x-ms-request-id")).to.not.equal(b.headers.get("x-ms-request-id"));
        expect(b.headers.get("x-ms-correlation-request-id")).to.equal("corr-123");
        const admin = await fetch(`${t.emu.url}/_emulator/settings`);
        expect(admin.headers.get("x-ms-request-id")).to.match(GUID);
    });

    it("validates path parameters with the contract", async () => {
        const r = await t.api.get(BP_PATH({ billingAccountName: MCA, billingProfileName: "not a name!" }), { as: "alice" });
        expect(r.status).to.equal(400);
        expect(r.body.error.target).to.equal("billingProfileName");
        const badAccount = await t.api.get(BA_PATH("my-account"), { as: "alice" });
        expect(badAccount.status).to.equal(400);
    });

    it("answers 404 for a billing profile or account that does not exist", async () => {
        const r = await t.api.get(BP_PATH({ billingAccountName: MCA, billingProfileName: "ZZZZ-ZZZZ-ZZZ-ZZZ" }), { as: "grace" });
        expect(r.status).to.equal(404);
        const a = await t.api.get(BA_PATH("00000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31"), { as: "grace" });
        expect(a.status).to.equal(404);
    });
});

describe("emulator: authentication", () => {
    const t = suite();

    it("answers 401 AuthenticationFailed with WWW-Authenticate without a token", async () => {
        const r = await t.api.get(BP_PATH(OPS), { token: null });
        expect(r.status).to.equal(401);
        expect(r.body.error.code).to.equal("AuthenticationFailed");
        expect(r.headers.get("www-authenticate")).to.match(/^Bearer /);
    });

    it("answers 401 for an unknown token and for a non-Bearer header", async () => {
        const r = await t.api.get(BP_PATH(OPS), { token: "emu-nobody" });
        expect(r.status).to.equal(401);
        expect(r.body.error.code).to.equal("AuthenticationFailed");
        expect(r.headers.get("www-authenticate")).to.contain("invalid_token");
        const basic = await t.api.get(BP_PATH(OPS), { headers: { Authorization: "Basic YWxpY2U6cHc=" } });
        expect(basic.status).to.equal(401);
    });

    it("requires a token on Graph too (Graph's error code)", async () => {
        const r = await t.api.get(`/v1.0/users/${SEED.users.jane.id}`, { token: null });
        expect(r.status).to.equal(401);
        expect(r.body.error.code).to.equal("InvalidAuthenticationToken");
        expect(r.headers.get("www-authenticate")).to.match(/^Bearer /);
    });

    it("gives every seeded principal its own deterministic token", async () => {
        const tokens = Object.values(SEED.users).map((u) => u.token);
        expect(new Set(tokens).size).to.equal(tokens.length);
        expect(SEED.users.alice.token).to.equal("emu-alice");
        const ok = await t.api.get(BP_PATH(OPS), { token: "emu-alice" });
        expect(ok.status).to.equal(200);
    });
});

describe("emulator: authorization by the billing role matrix", () => {
    const t = suite();
    let ownerRoleId: string;
    let readerRoleId: string;

    before(async () => {
        // The quickstart: the profile owner makes jane Invoice manager, resolving the role by name.
        const invoiceManager = await roleDefinitionIdByName(t.api, OPS, "Invoice manager", "alice");
        const r = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, {
            as: "alice",
            body: { roleDefinitionId: invoiceManager, userEmailAddress: "jane@contoso.com" },
        });
        expect(r.status, r.text).to.equal(200);
        expect(r.body.properties.principalId).to.equal(SEED.users.jane.id);
        ownerRoleId = await roleDefinitionIdByName(t.api, OPS, "Billing profile owner", "alice");
        readerRoleId = await roleDefinitionIdByName(t.api, OPS, "Billing profile reader", "alice");
    });

    // Expected outcome per principal on the Operations billing profile.
    const matrix: Array<{ who: SeedUserKey; as: string; read: boolean; write: boolean; manage: boolean }> = [
        { who: "alice", as: "billing profile owner", read: true, write: true, manage: true },
        { who: "bob", as: "billing profile contributor", read: true, write: true, manage: false },
        { who: "carol", as: "billing profile reader", read: true, write: false, manage: false },
        { who: "jane", as: "invoice manager", read: true, write: false, manage: false },
        { who: "grace", as: "billing account owner", read: true, write: true, manage: true },
        { who: "heidi", as: "billing account contributor", read: true, write: true, manage: false },
        { who: "ivan", as: "billing account reader", read: true, write: false, manage: false },
        { who: "victor", as: "no role", read: false, write: false, manage: false },
        { who: "dave", as: "owner of another profile of the account", read: false, write: false, manage: false },
        { who: "olivia", as: "owner of another billing account", read: false, write: false, manage: false },
    ];

    for (const row of matrix) {
        describe(`${row.who} (${row.as})`, () => {
            it(row.read ? "may read the profile, its roles and its invoices" : "may not read the profile, its roles or its invoices", async () => {
                const expectRead = (status: number, ok: number) => expect(status).to.equal(row.read ? ok : 403);
                expectRead((await t.api.get(BP_PATH(OPS), { as: row.who })).status, 200);
                expectRead((await t.api.get(`${BP_PATH(OPS)}/billingRoleDefinitions`, { as: row.who })).status, 200);
                expectRead((await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments`, { as: row.who })).status, 200);
                const invoices = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: row.who, query: WIDE });
                expectRead(invoices.status, 200);
                const invoiceName = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0].name;
                expectRead((await t.api.get(`${BA_PATH(MCA)}/invoices/${invoiceName}`, { as: row.who })).status, 200);
                expectRead((await t.api.post(`${BA_PATH(MCA)}/invoices/${invoiceName}/download`, { as: row.who })).status, 202);
                if (!row.read) {
                    const denied = await t.api.get(BP_PATH(OPS), { as: row.who });
                    expect(denied.body.error.code).to.equal("AuthorizationFailed");
                    expect(denied.body.error.message).to.contain(REQUIRED_ROLE.read);
                }
            });

            it(row.write ? "may change the profile (PUT)" : "may not change the profile (PUT)", async () => {
                const current = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
                const r = await t.api.put(BP_PATH(OPS), { as: row.who, body: putBodyFrom(current, s.BILLING_PROFILE_READ_ONLY_PROPERTIES) });
                expect(r.status, r.text).to.equal(row.write ? 200 : 403);
                if (!row.write) {
                    const m = r.body.error.message as string;
                    expect(r.body.error.code).to.equal("AuthorizationFailed");
                    expect(m).to.contain(SEED.users[row.who].userPrincipalName);
                    expect(m).to.contain("Microsoft.Billing/billingAccounts/billingProfiles/write");
                    expect(m).to.contain(BP_PATH(OPS));
                    expect(m).to.contain(REQUIRED_ROLE.writeProfile);
                }
            });

            it(row.manage ? "may create and delete role assignments" : "may not create or delete role assignments", async () => {
                const created = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, {
                    as: row.who,
                    body: { roleDefinitionId: readerRoleId, principalId: SEED.users.wendy.id, principalTenantId: SEED.tenantId },
                });
                expect(created.status, created.text).to.equal(row.manage ? 200 : 403);
                const carolReader = `${readerRoleId.split("/").pop()}_${SEED.users.carol.id}`;
                const wendyReader = `${readerRoleId.split("/").pop()}_${SEED.users.wendy.id}`;
                if (row.manage) {
                    const del = await t.api.delete(`${BP_PATH(OPS)}/billingRoleAssignments/${wendyReader}`, { as: row.who });
                    expect(del.status).to.equal(204);
                } else {
                    expect(created.body.error.message).to.contain(REQUIRED_ROLE.manageRoles);
                    const del = await t.api.delete(`${BP_PATH(OPS)}/billingRoleAssignments/${carolReader}`, { as: row.who });
                    expect(del.status).to.equal(403);
                    expect(del.body.error.message).to.contain(REQUIRED_ROLE.manageRoles);
                    expect(del.body.error.message).to.contain("billingRoleAssignments/delete");
                }
                // Carol's assignment is untouched either way; wendy has no assignment left.
                const names = (await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments`, { as: "alice" })).body.value.map((a: { name: string }) => a.name);
                expect(names).to.include(carolReader);
                expect(names).to.not.include(wendyReader);
            });
        });
    }

    it("keeps the owner role definition resolvable by name (used above)", () => {
        expect(ownerRoleId.endsWith(ROLE_DEFINITION_IDS.MicrosoftCustomerAgreement.profile.owner)).to.equal(true);
    });

    it("lists only the accounts and profiles the caller has a role on", async () => {
        const accountsOf = async (who: SeedUserKey) =>
            (await t.api.get("/providers/Microsoft.Billing/billingAccounts", { as: who })).body.value.map((a: { name: string }) => a.name);
        const profilesOf = async (who: SeedUserKey, account: string) => {
            const r = await t.api.get(`${BA_PATH(account)}/billingProfiles`, { as: who });
            expect(r.status).to.equal(200);
            return r.body.value.map((p: { name: string }) => p.name);
        };
        expect(await accountsOf("carol")).to.deep.equal([MCA]);
        expect(await profilesOf("carol", MCA)).to.deep.equal([OPS.billingProfileName]);
        expect(await accountsOf("grace")).to.deep.equal([MCA]);
        expect(await profilesOf("grace", MCA)).to.deep.equal([OPS.billingProfileName, RESEARCH.billingProfileName]);
        expect(await accountsOf("rupert")).to.deep.equal([MPA]);
        expect(await accountsOf("victor")).to.deep.equal([]);
        expect(await profilesOf("victor", MCA)).to.deep.equal([]);
        expect(await profilesOf("olivia", MCA)).to.deep.equal([]);
    });

    it("reads the billing account for an account role or a profile role, with hasReadAccess only for account roles", async () => {
        const asCarol = await t.api.get(BA_PATH(MCA), { as: "carol" });
        expect(asCarol.status).to.equal(200);
        expect(asCarol.body.properties.hasReadAccess).to.equal(false);
        const asIvan = await t.api.get(BA_PATH(MCA), { as: "ivan" });
        expect(asIvan.body.properties.hasReadAccess).to.equal(true);
        expect(asIvan.body.properties.agreementType).to.equal("MicrosoftCustomerAgreement");
        const asVictor = await t.api.get(BA_PATH(MCA), { as: "victor" });
        expect(asVictor.status).to.equal(403);
        expect(asVictor.body.error.message).to.contain(REQUIRED_ROLE.read);
    });

    it("names the same four roles on the MPA profile with different GUIDs", async () => {
        const mca = (await t.api.get(`${BP_PATH(OPS)}/billingRoleDefinitions`, { as: "alice" })).body.value;
        const mpa = (await t.api.get(`${BP_PATH(PARTNER)}/billingRoleDefinitions`, { as: "rupert" })).body.value;
        const roleNames = (l: Array<{ properties: { roleName: string } }>) => l.map((d) => d.properties.roleName);
        const expected = ["Billing profile owner", "Billing profile contributor", "Billing profile reader", "Invoice manager"];
        expect(roleNames(mca)).to.deep.equal(expected);
        expect(roleNames(mpa)).to.deep.equal(expected);
        expect(mca.map((d: { name: string }) => d.name)).to.deep.equal(["100000000000", "100000000001", "100000000002", "100000000004"].map((x) => `40000000-aaaa-bbbb-cccc-${x}`));
        for (const d of mpa) expect(mca.map((x: { name: string }) => x.name)).to.not.include(d.name);
        const one = await t.api.get(`${BP_PATH(PARTNER)}/billingRoleDefinitions/${mpa[3].name}`, { as: "trent" });
        expect(one.status).to.equal(200);
        expect(one.body.properties.roleName).to.equal("Invoice manager");
        expect(one.body.id).to.equal(`${BP_PATH(PARTNER)}/billingRoleDefinitions/${mpa[3].name}`);
    });
});

describe("emulator: billing profile PUT", () => {
    const t = suite();
    const readOnly = s.BILLING_PROFILE_READ_ONLY_PROPERTIES;

    async function stateProfile(name: string) {
        const state = await t.api.admin("GET", "/state");
        return state.billingProfiles.find((p: { name: string }) => p.name === name);
    }

    it("replaces writable properties, keeps read-only and untouched ones (read-merge-write)", async () => {
        const before = (await t.api.get(BP_PATH(RESEARCH), { as: "dave" })).body;
        const body = putBodyFrom(before, readOnly);
        for (const k of readOnly) expect(body.properties).to.not.have.property(k);
        body.properties.invoiceEmailOptIn = true;
        body.properties.invoiceRecipients = ["ap@contoso.com", "Finance@Contoso.com"];
        const r = await t.api.put(BP_PATH(RESEARCH), { as: "erin", body });
        expect(r.status, r.text).to.equal(200);
        const after = (await t.api.get(BP_PATH(RESEARCH), { as: "dave" })).body;
        expect(after.properties.invoiceEmailOptIn).to.equal(true);
        expect(after.properties.invoiceRecipients).to.deep.equal(["ap@contoso.com", "Finance@Contoso.com"]);
        for (const k of readOnly) expect(after.properties[k], k).to.deep.equal(before.properties[k]);
        for (const k of ["billTo", "shipTo", "poNumber", "displayName", "enabledAzurePlans"]) expect(after.properties[k], k).to.deep.equal(before.properties[k]);
        expect(after.properties.status).to.equal("Warned");
        expect(after.properties.statusReasonCode).to.equal("PastDue");
        expect(after.tags).to.deep.equal(before.tags);
        expect(r.body).to.deep.equal(after);
        const held = await stateProfile(RESEARCH.billingProfileName);
        expect(held.properties.invoiceEmailOptIn).to.equal(true);
        expect(held.properties.systemId).to.equal(before.properties.systemId);
    });

    it("makes a lost property visible: a PUT without billTo removes billTo", async () => {
        const before = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
        const body = putBodyFrom(before, readOnly);
        delete body.properties.billTo;
        delete body.tags;
        const r = await t.api.put(BP_PATH(OPS), { as: "alice", body });
        expect(r.status).to.equal(200);
        expect(r.body.properties).to.not.have.property("billTo");
        expect(r.body).to.not.have.property("tags");
        expect(r.body.properties.currency).to.equal("USD");
        const held = await stateProfile(OPS.billingProfileName);
        expect(held.properties).to.not.have.property("billTo");
    });

    it("ignores read-only properties sent in the body", async () => {
        const before = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
        const body = putBodyFrom(before, []);
        body.properties.currency = "EUR";
        body.properties.invoiceDay = 28;
        body.properties.systemId = "forged";
        const r = await t.api.put(BP_PATH(OPS), { as: "alice", body });
        expect(r.status).to.equal(200);
        expect(r.body.properties.currency).to.equal("USD");
        expect(r.body.properties.invoiceDay).to.equal(5);
        expect(r.body.properties.systemId).to.equal(before.properties.systemId);
    });

    it("refuses recipients that are not email addresses, as a validation problem, and changes nothing", async () => {
        const before = await stateProfile(PARTNER.billingProfileName);
        const body = putBodyFrom((await t.api.get(BP_PATH(PARTNER), { as: "rupert" })).body, readOnly);
        body.properties.invoiceEmailOptIn = true;
        body.properties.invoiceRecipients = ["ok@contoso.com", "not-an-address", "a@b.com;c@d.com"];
        const r = await t.api.put(BP_PATH(PARTNER), { as: "rupert", body });
        expect(r.status).to.equal(400);
        expect(r.headers.get("content-type")).to.contain("application/problem+json");
        expect(r.body.title).to.equal("One or more validation errors occurred.");
        expect(r.body.status).to.equal(400);
        expect(Object.keys(r.body.errors)).to.deep.equal(["properties.invoiceRecipients[1]", "properties.invoiceRecipients[2]"]);
        expect(r.body.errors["properties.invoiceRecipients[1]"][0]).to.contain("not-an-address");
        expect(await stateProfile(PARTNER.billingProfileName)).to.deep.equal(before);
    });

    it("refuses a body that does not match the contract's schema, as a validation problem", async () => {
        const noProps = await t.api.put(BP_PATH(OPS), { as: "alice", body: { displayName: "x" } });
        expect(noProps.status).to.equal(400);
        expect(noProps.body.errors).to.have.property("properties");
        const wrongType = await t.api.put(BP_PATH(OPS), { as: "alice", body: { properties: { invoiceEmailOptIn: "yes" } } });
        expect(wrongType.status).to.equal(400);
        expect(wrongType.body.errors).to.have.property("properties.invoiceEmailOptIn");
        const notJson = await t.api.put(BP_PATH(OPS), { as: "alice", rawBody: "{oops", headers: { "Content-Type": "application/json" } });
        expect(notJson.status).to.equal(400);
        expect(notJson.body.errors).to.have.property("$");
    });

    it("answers 404 for a profile that does not exist instead of creating it", async () => {
        const r = await t.api.put(BP_PATH({ billingAccountName: MCA, billingProfileName: "NEW1-NEW1-NEW-NEW" }), {
            as: "grace",
            body: { properties: { displayName: "New" } },
        });
        expect(r.status).to.equal(404);
    });
});

describe("emulator: role assignments", () => {
    const t = suite();

    it("lists a profile's own assignments with Microsoft's names and full ARM ids", async () => {
        const r = await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments`, { as: "carol" });
        const list = r.body.value as Array<{ id: string; name: string; properties: Record<string, string> }>;
        const principals = list.map((a) => a.properties.principalId);
        expect(principals).to.have.members([SEED.users.alice.id, SEED.users.bob.id, SEED.users.carol.id, SEED.users.kiosk.id]);
        for (const a of list) {
            expect(a.name).to.match(ROLE_ASSIGNMENT_NAME_PATTERN);
            expect(a.name).to.equal(`${a.properties.roleDefinitionId.split("/").pop()}_${a.properties.principalId}`);
            expect(a.id).to.equal(`${BP_PATH(OPS)}/billingRoleAssignments/${a.name}`);
            expect(a.properties.roleDefinitionId.startsWith(`${BP_PATH(OPS)}/billingRoleDefinitions/`)).to.equal(true);
            expect(a.properties.scope).to.equal(BP_PATH(OPS));
            expect(a.properties.principalTenantId).to.equal(SEED.tenantId);
        }
        // Account-scope assignments (grace, heidi, ivan) live on the account, not on its profiles.
        expect(principals).to.not.include(SEED.users.grace.id);
        const research = (await t.api.get(`${BP_PATH(RESEARCH)}/billingRoleAssignments`, { as: "dave" })).body.value;
        expect(research.map((a: { properties: { principalId: string } }) => a.properties.principalId)).to.have.members([
            SEED.users.dave.id,
            SEED.users.erin.id,
            SEED.users.frank.id,
        ]);
    });

    it("gets one assignment by name, and 404 for an unknown one", async () => {
        const name = `${ROLE_DEFINITION_IDS.MicrosoftCustomerAgreement.profile.reader}_${SEED.users.carol.id}`;
        const r = await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments/${name}`, { as: "carol" });
        expect(r.status).to.equal(200);
        expect(r.body.name).to.equal(name);
        const missing = await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments/${ROLE_DEFINITION_IDS.MicrosoftCustomerAgreement.profile.reader}_${SEED.users.jane.id}`, {
            as: "carol",
        });
        expect(missing.status).to.equal(404);
    });

    it("creates by principal id, and the same (principal, role) again returns the existing assignment", async () => {
        const role = await roleDefinitionIdByName(t.api, RESEARCH, "Invoice manager", "dave");
        const body = { roleDefinitionId: role, principalId: SEED.users.jane.id, principalTenantId: SEED.tenantId };
        const first = await t.api.post(`${BP_PATH(RESEARCH)}/createBillingRoleAssignment`, { as: "dave", body });
        expect(first.status, first.text).to.equal(200);
        expect(first.body.name).to.equal(`${role.split("/").pop()}_${SEED.users.jane.id}`);
        expect(first.body.properties.createdByPrincipalId).to.equal(SEED.users.dave.id);
        expect(first.body.properties.createdOn).to.equal("2025-03-15T10:00:00Z");
        const again = await t.api.post(`${BP_PATH(RESEARCH)}/createBillingRoleAssignment`, {
            as: "grace",
            body: { roleDefinitionId: role, userEmailAddress: "JANE@contoso.com" },
        });
        expect(again.status).to.equal(200);
        expect(again.body).to.deep.equal(first.body);
        const state = await t.api.admin("GET", "/state");
        const janes = state.roleAssignments.filter((a: { principalId: string }) => a.principalId === SEED.users.jane.id);
        expect(janes).to.have.length(1);
    });

    it("refuses an unknown principal or a role of another profile with 400 and a clear message", async () => {
        const role = await roleDefinitionIdByName(t.api, OPS, "Billing profile reader", "alice");
        const nobody = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, {
            as: "alice",
            body: { roleDefinitionId: role, userEmailAddress: "nobody@contoso.com" },
        });
        expect(nobody.status).to.equal(400);
        expect(nobody.body.error.code).to.equal("PrincipalNotFound");
        expect(nobody.body.error.message).to.contain("nobody@contoso.com");
        const unknownId = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, {
            as: "alice",
            body: { roleDefinitionId: role, principalId: "00000000-0000-0000-0000-00000000dead" },
        });
        expect(unknownId.status).to.equal(400);
        expect(unknownId.body.error.code).to.equal("PrincipalNotFound");
        const otherProfileRole = await roleDefinitionIdByName(t.api, RESEARCH, "Billing profile reader", "dave");
        const wrongRole = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, {
            as: "grace",
            body: { roleDefinitionId: otherProfileRole, principalId: SEED.users.wendy.id },
        });
        expect(wrongRole.status).to.equal(400);
        expect(wrongRole.body.error.code).to.equal("InvalidRoleDefinitionId");
        expect(wrongRole.body.error.message).to.contain("Billing profile reader");
        const noPrincipal = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { roleDefinitionId: role } });
        expect(noPrincipal.status).to.equal(400);
        const badBody = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { principalId: SEED.users.wendy.id } });
        expect(badBody.status).to.equal(400);
        expect(badBody.body.errors).to.have.property("roleDefinitionId");
    });

    it("deletes with 204, then answers 404", async () => {
        const role = await roleDefinitionIdByName(t.api, OPS, "Billing profile reader", "alice");
        const created = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { roleDefinitionId: role, principalId: SEED.users.victor.id } });
        expect(created.status).to.equal(200);
        const path = `${BP_PATH(OPS)}/billingRoleAssignments/${created.body.name}`;
        expect((await t.api.delete(path, { as: "alice" })).status).to.equal(204);
        expect((await t.api.get(path, { as: "alice" })).status).to.equal(404);
        expect((await t.api.delete(path, { as: "alice" })).status).to.equal(404);
    });

    it("refuses to remove the last owner of a profile until another owner is assigned", async () => {
        const ownerRole = await roleDefinitionIdByName(t.api, RESEARCH, "Billing profile owner", "dave");
        const daveOwner = `${BP_PATH(RESEARCH)}/billingRoleAssignments/${ownerRole.split("/").pop()}_${SEED.users.dave.id}`;
        const refused = await t.api.delete(daveOwner, { as: "grace" });
        expect(refused.status).to.equal(409);
        expect(refused.body.error.message).to.contain("Assign another owner first");
        expect((await t.api.get(daveOwner, { as: "dave" })).status).to.equal(200);
        const wendy = await t.api.post(`${BP_PATH(RESEARCH)}/createBillingRoleAssignment`, { as: "dave", body: { roleDefinitionId: ownerRole, principalId: SEED.users.wendy.id } });
        expect(wendy.status).to.equal(200);
        expect((await t.api.delete(daveOwner, { as: "wendy" })).status).to.equal(204);
        expect((await t.api.get(daveOwner, { as: "wendy" })).status).to.equal(404);
    });
});

describe("emulator: invoices", () => {
    const t = suite();

    it("seeds three monthly invoices per profile, dated from the clock", async () => {
        for (const [ref, who] of [
            [OPS, "alice"],
            [RESEARCH, "dave"],
            [PARTNER, "rupert"],
        ] as const) {
            const r = await t.api.get(`${BP_PATH(ref)}/invoices`, { as: who, query: WIDE });
            const list = r.body.value as Array<{ id: string; name: string; properties: any }>;
            expect(list.map((i) => i.properties.invoiceDate)).to.deep.equal(["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"]);
            expect(list.map((i) => i.properties.invoicePeriodStartDate)).to.deep.equal(["2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"]);
            expect(list.map((i) => i.properties.invoicePeriodEndDate)).to.deep.equal(["2024-12-31T00:00:00Z", "2025-01-31T00:00:00Z", "2025-02-28T00:00:00Z"]);
            expect(list.map((i) => i.properties.dueDate)).to.deep.equal(["2025-01-31T00:00:00Z", "2025-03-03T00:00:00Z", "2025-03-31T00:00:00Z"]);
            for (const i of list) {
                expect(i.name).to.match(/^G\d{9}$/).and.match(INVOICE_NAME_PATTERN);
                expect(i.id).to.equal(`${BA_PATH(ref.billingAccountName)}/invoices/${i.name}`);
                expect(i.properties.documents).to.have.length(1);
                expect(i.properties.documents[0].kind).to.equal("Invoice");
                expect(i.properties.documents[0].name).to.match(/^\d{8}$/);
                expect(i.properties.billingProfileId).to.equal(BP_PATH(ref));
                expect(i.properties.billingProfileDisplayName).to.equal(ref.displayName);
                expect(i.properties.totalAmount.value).to.be.above(0);
            }
            expect(list[2].properties.status).to.equal("Due");
            expect(list[2].properties.amountDue.value).to.equal(list[2].properties.totalAmount.value);
        }
        const partner = (await t.api.get(`${BP_PATH(PARTNER)}/invoices`, { as: "rupert", query: WIDE })).body.value;
        expect(partner[0].properties.totalAmount.currency).to.equal("EUR");
    });

    it("gives the same invoices (names, amounts) for the same clock", async () => {
        const other = await startEmulator({ now: () => NOW });
        try {
            const a = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body;
            const b = (await new EmulatorHttp(other.url).get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body;
            expect(b).to.deep.equal(a);
        } finally {
            await other.close();
        }
    });

    it("filters by invoice date, inclusive at both ends", async () => {
        const list = async (periodStartDate: string, periodEndDate: string) =>
            (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodStartDate, periodEndDate } })).body.value.map(
                (i: { properties: { invoiceDate: string } }) => i.properties.invoiceDate.slice(0, 10),
            );
        expect(await list("2025-02-01", "2025-03-01")).to.deep.equal(["2025-02-01", "2025-03-01"]);
        expect(await list("2025-02-02", "2025-02-28")).to.deep.equal([]);
        expect(await list("2025-01-01", "2025-01-01")).to.deep.equal(["2025-01-01"]);
    });

    it("takes periodStartDate and periodEndDate as optional, as 2024-04-01 does: a missing one leaves that side unbounded", async () => {
        const days = async (query: Record<string, string>) => {
            const r = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query });
            expect(r.status, r.text).to.equal(200);
            return r.body.value.map((i: { properties: { invoiceDate: string } }) => i.properties.invoiceDate.slice(0, 10));
        };
        expect(await days({})).to.deep.equal(["2025-01-01", "2025-02-01", "2025-03-01"]);
        expect(await days({ periodStartDate: "2025-02-01" })).to.deep.equal(["2025-02-01", "2025-03-01"]);
        expect(await days({ periodEndDate: "2025-02-01" })).to.deep.equal(["2025-01-01", "2025-02-01"]);
    });

    it("refuses dates that are not YYYY-MM-DD, and a start after the end", async () => {
        const notADate = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodEndDate: "03-01-2025" } });
        expect(notADate.status).to.equal(400);
        expect(notADate.body.error.target).to.equal("periodEndDate");
        const bad = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodStartDate: "2025-02-30", periodEndDate: "2025-03-01" } });
        expect(bad.status).to.equal(400);
        const reversed = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodStartDate: "2025-03-01", periodEndDate: "2025-01-01" } });
        expect(reversed.status).to.equal(400);
    });

    it("gets one invoice by account and name; 404 for an unknown one", async () => {
        const first = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0];
        const r = await t.api.get(`${BA_PATH(MCA)}/invoices/${first.name}`, { as: "bob" });
        expect(r.status).to.equal(200);
        expect(r.body).to.deep.equal(first);
        expect((await t.api.get(`${BA_PATH(MCA)}/invoices/G999999999`, { as: "grace" })).status).to.equal(404);
        // An invoice of the MPA account is not found under the MCA account.
        const mpaInvoice = (await t.api.get(`${BP_PATH(PARTNER)}/invoices`, { as: "rupert", query: WIDE })).body.value[0];
        expect((await t.api.get(`${BA_PATH(MCA)}/invoices/${mpaInvoice.name}`, { as: "grace" })).status).to.equal(404);
    });
});

describe("emulator: invoice download", () => {
    let clock = NOW;
    const t = suite({ now: () => clock });
    let invoice: { name: string; properties: any };

    before(async () => {
        invoice = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[2];
    });
    afterEach(() => {
        clock = NOW;
    });

    async function downloadLink(who: SeedUserKey = "carol"): Promise<{ url: string; expiryTime: string }> {
        const accepted = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: who });
        expect(accepted.status, accepted.text).to.equal(202);
        const location = accepted.headers.get("location") as string;
        expect(accepted.headers.get("retry-after")).to.equal("0");
        expect(location.startsWith(`${t.emu.url}${BA_PATH(MCA)}/invoices/${invoice.name}/operationResults/invoiceDownload_`)).to.equal(true);
        expect(location.endsWith("?api-version=2024-04-01")).to.equal(true);
        const { answer, polls } = await pollToCompletion(t.api, location, who);
        expect(polls, "pending for one poll, then done").to.equal(2);
        expect(answer.status).to.equal(200);
        return answer.body;
    }

    it("answers 202 + Location, then a SAS-like link that serves the invoice PDF without a token", async () => {
        const link = await downloadLink();
        expect(link.url.startsWith(`${t.emu.url}/_blob/invoices/${invoice.name}/`)).to.equal(true);
        expect(link.url).to.match(/[?&]se=[^&]+&sig=[^&]+$/);
        expect(link.expiryTime).to.equal("2025-03-15T11:00:00Z");
        const pdf = await t.api.raw(link.url);
        expect(pdf.status).to.equal(200);
        expect(pdf.headers.get("content-type")).to.equal("application/pdf");
        expect(pdf.bytes.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
        const doc = await PDFDocument.load(pdf.bytes, { updateMetadata: false });
        expect(doc.getPageCount()).to.equal(1);
        expect(doc.getTitle()).to.equal(`Invoice ${invoice.name}`);
        const subject = doc.getSubject() ?? "";
        expect(subject).to.contain(invoice.name);
        expect(subject).to.contain(OPS.displayName);
        expect(subject).to.contain("2025-02-01 to 2025-02-28");
        expect(subject).to.contain(`USD ${invoice.properties.amountDue.value.toFixed(2)}`);
        expect(doc.getCreationDate()?.toISOString()).to.equal("2025-03-01T00:00:00.000Z");
        const again = await t.api.raw(link.url);
        expect(Buffer.compare(again.bytes, pdf.bytes)).to.equal(0);
    });

    it("pads PDFs to pdfPaddingBytes: still a valid PDF, at least that large, the same bytes every time", async () => {
        const plain = await t.api.raw((await downloadLink()).url);
        const requested = 100 * 1024;
        await t.api.admin("POST", "/settings", { pdfPaddingBytes: requested });
        try {
            const link = await downloadLink();
            const padded = await t.api.raw(link.url);
            expect(padded.status).to.equal(200);
            expect(padded.bytes.length).to.be.at.least(requested).and.below(requested + 2048);
            expect(padded.bytes.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
            expect(padded.bytes.subarray(-6).toString("latin1")).to.match(/%%EOF\s*$/);
            const doc = await PDFDocument.load(padded.bytes, { updateMetadata: false });
            expect(doc.getPageCount()).to.equal(1);
            expect(doc.getTitle()).to.equal(`Invoice ${invoice.name}`);
            expect(doc.getSubject()).to.contain(invoice.name);
            const again = await t.api.raw(link.url);
            expect(Buffer.compare(again.bytes, padded.bytes), "the same bytes twice").to.equal(0);
            // Rendered afresh (not the cache), the same bytes again.
            const record = (await t.api.admin("GET", "/state")).invoices.find((i: { name: string }) => i.name === invoice.name);
            const rendered = Buffer.from(await renderInvoicePdf(record, invoice.properties.documents[0].name, { paddingBytes: requested }));
            expect(Buffer.compare(rendered, padded.bytes), "rendering is deterministic").to.equal(0);
            // Smaller than the plain PDF: nothing to add.
            await t.api.admin("POST", "/settings", { pdfPaddingBytes: 100 });
            expect(Buffer.compare((await t.api.raw((await downloadLink()).url)).bytes, plain.bytes)).to.equal(0);
        } finally {
            await t.api.admin("POST", "/settings", { pdfPaddingBytes: 0 });
        }
        expect(Buffer.compare((await t.api.raw((await downloadLink()).url)).bytes, plain.bytes)).to.equal(0);
    });

    it("pads from start-up settings too", async () => {
        const emu = await startEmulator({ now: () => NOW, settings: { retryAfterSeconds: 0, pendingPolls: 0, pdfPaddingBytes: 20000 } });
        try {
            const api = new EmulatorHttp(emu.url);
            const accepted = await api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "alice" });
            const link = (await api.get(accepted.headers.get("location") as string, { as: "alice" })).body;
            const pdf = await api.raw(link.url);
            expect(pdf.bytes.length).to.be.at.least(20000);
            expect((await PDFDocument.load(pdf.bytes, { updateMetadata: false })).getTitle()).to.equal(`Invoice ${invoice.name}`);
        } finally {
            await emu.close();
        }
    });

    it("renders the same bytes for the same invoice", async () => {
        const state = await t.api.admin("GET", "/state");
        const record = state.invoices.find((i: { name: string }) => i.name === invoice.name);
        const a = Buffer.from(await renderInvoicePdf(record, invoice.properties.documents[0].name));
        const b = Buffer.from(await renderInvoicePdf(record, invoice.properties.documents[0].name));
        expect(Buffer.compare(a, b)).to.equal(0);
        const other = state.invoices.find((i: { name: string }) => i.name !== invoice.name);
        const c = Buffer.from(await renderInvoicePdf(other, other.properties.documents[0].name));
        expect(Buffer.compare(a, c)).to.not.equal(0);
    });

    it("refuses a tampered signature, a link moved to another invoice, and an expired link", async () => {
        const link = await downloadLink();
        const url = new URL(link.url);
        const sig = url.searchParams.get("sig") as string;
        const tampered = new URL(link.url);
        tampered.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
        const r1 = await t.api.raw(tampered.toString());
        expect(r1.status).to.equal(403);
        expect(r1.bytes.toString()).to.contain("<Code>AuthenticationFailed</Code>");
        const moved = new URL(link.url);
        const other = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0];
        moved.pathname = moved.pathname.replace(invoice.name, other.name).replace(invoice.properties.documents[0].name, other.properties.documents[0].name);
        expect((await t.api.raw(moved.toString())).status).to.equal(403);
        const longer = new URL(link.url);
        longer.searchParams.set("se", "2099-01-01T00:00:00Z");
        expect((await t.api.raw(longer.toString())).status).to.equal(403);
        const unsigned = new URL(link.url);
        unsigned.search = "";
        expect((await t.api.raw(unsigned.toString())).status).to.equal(403);
        clock = new Date(NOW.getTime() + 2 * 60 * 60 * 1000);
        const expired = await t.api.raw(link.url);
        expect(expired.status).to.equal(403);
        expect(expired.bytes.toString()).to.contain("time frame");
    });

    it("answers a bare DocumentNotFound for an unknown documentName", async () => {
        const r = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "carol", query: { documentName: "99999999" } });
        expect(r.status).to.equal(404);
        expect(r.body).to.have.all.keys("code", "message");
        expect(r.body.code).to.equal("DocumentNotFound");
        const named = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, {
            as: "carol",
            query: { documentName: invoice.properties.documents[0].name },
        });
        expect(named.status).to.equal(202);
    });

    it("keeps the link result stable on later polls and 404s an unknown operation", async () => {
        const accepted = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "alice" });
        const location = accepted.headers.get("location") as string;
        const done = (await pollToCompletion(t.api, location, "alice")).answer.body;
        const later = await t.api.get(location, { as: "alice" });
        expect(later.status).to.equal(200);
        expect(later.body).to.deep.equal(done);
        const unknown = await t.api.get(location.replace(/invoiceDownload_[^?]+/, "invoiceDownload_00000000-0000-4000-8000-000000000000"), { as: "alice" });
        expect(unknown.status).to.equal(404);
        expect((await t.api.get(location, { token: null })).status).to.equal(401);
    });
});

describe("emulator: who may poll an operation", () => {
    const t = suite();
    let invoice: { name: string };

    before(async () => {
        invoice = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0];
    });

    async function startDownload(as: SeedUserKey): Promise<string> {
        const accepted = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as });
        expect(accepted.status, accepted.text).to.equal(202);
        return accepted.headers.get("location") as string;
    }

    function expectDenied(r: { status: number; body: any; text: string }, who: SeedUserKey, action: string): void {
        expect(r.status, r.text).to.equal(403);
        expect(r.body.error.code).to.equal("AuthorizationFailed");
        expect(r.body.error.message).to.contain(SEED.users[who].id).and.contain(action).and.contain(BP_PATH(OPS));
        expect(r.text).to.not.contain("/_blob/");
    }

    it("refuses another user's download Location to a principal without read access on the invoice, and hands out no link", async () => {
        const location = await startDownload("alice");
        for (const who of ["victor", "frank", "trent"] as const) {
            expectDenied(await t.api.get(location, { as: who }), who, "Microsoft.Billing/billingAccounts/invoices/download/action");
        }
        // The refused polls counted nothing down: alice's first poll is still pending.
        const { answer, polls } = await pollToCompletion(t.api, location, "alice");
        expect(polls).to.equal(2);
        // Once done, the result is still refused to them.
        expectDenied(await t.api.get(location, { as: "victor" }), "victor", "download/action");
        expect(answer.body.url).to.contain("/_blob/");
    });

    it("lets anyone who may download the invoice poll the operation, as ARM authorizes by scope", async () => {
        const location = await startDownload("alice");
        const { answer } = await pollToCompletion(t.api, location, "carol");
        expect(answer.status).to.equal(200);
        expect((await t.api.get(location, { as: "ivan" })).status, "a billing account reader").to.equal(200);
    });

    it("refuses a starter whose role was removed while the operation was pending", async () => {
        const role = await roleDefinitionIdByName(t.api, OPS, "Invoice manager", "alice");
        const assigned = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { roleDefinitionId: role, principalId: SEED.users.jane.id } });
        expect(assigned.status, assigned.text).to.equal(200);
        const location = await startDownload("jane");
        expect((await t.api.delete(`${BP_PATH(OPS)}/billingRoleAssignments/${assigned.body.name}`, { as: "alice" })).status).to.equal(204);
        expectDenied(await t.api.get(location, { as: "jane" }), "jane", "download/action");
    });

    it("refuses a PUT's Location to a principal who may not change the profile, and the poll does not complete it", async () => {
        await t.api.admin("POST", "/settings", { lro: "always", pendingPolls: 0 });
        try {
            const before = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
            const body = putBodyFrom(before, s.BILLING_PROFILE_READ_ONLY_PROPERTIES);
            body.properties.invoiceEmailOptIn = !before.properties.invoiceEmailOptIn;
            const accepted = await t.api.put(BP_PATH(OPS), { as: "alice", body });
            expect(accepted.status).to.equal(202);
            const location = accepted.headers.get("location") as string;
            // carol may read the profile but not write it; victor has no role at all.
            for (const who of ["victor", "carol"] as const) {
                expectDenied(await t.api.get(location, { as: who }), who, "Microsoft.Billing/billingAccounts/billingProfiles/write");
            }
            expect((await t.api.get(BP_PATH(OPS), { as: "alice" })).body.properties.invoiceEmailOptIn, "not applied by a refused poll").to.equal(
                before.properties.invoiceEmailOptIn,
            );
            const done = await t.api.get(location, { as: "bob" });
            expect(done.status, "a contributor could have made the PUT, so may complete it").to.equal(200);
            expect(done.body.properties.invoiceEmailOptIn).to.equal(body.properties.invoiceEmailOptIn);

            const role = await roleDefinitionIdByName(t.api, OPS, "Billing profile reader", "alice");
            const create = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { roleDefinitionId: role, principalId: SEED.users.wendy.id } });
            const createLocation = create.headers.get("location") as string;
            expectDenied(await t.api.get(createLocation, { as: "bob" }), "bob", "createBillingRoleAssignment/action");
            const assignments = (await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments`, { as: "alice" })).body.value;
            expect(assignments.map((a: any) => a.properties.principalId), "bob's refused poll assigned nothing").to.not.include(SEED.users.wendy.id);
            expect((await t.api.get(createLocation, { as: "alice" })).status).to.equal(200);
        } finally {
            await t.api.admin("POST", "/settings", { lro: "never", pendingPolls: 1 });
        }
    });
});

describe("emulator: long-running PUT and role assignment", () => {
    const t = suite({ settings: { lro: "always" } });

    it("PUT answers 202 + Location under the account and applies the change when the operation completes", async () => {
        const before = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
        const body = putBodyFrom(before, s.BILLING_PROFILE_READ_ONLY_PROPERTIES);
        body.properties.invoiceEmailOptIn = true;
        const accepted = await t.api.put(BP_PATH(OPS), { as: "bob", body });
        expect(accepted.status).to.equal(202);
        expect(accepted.text).to.equal("");
        const location = accepted.headers.get("location") as string;
        expect(location).to.match(new RegExp(`^${t.emu.url.replace(/\./g, "\\.")}/providers/Microsoft\\.Billing/billingAccounts/[^/]+/operationResults/putBillingProfile_`));
        expect(accepted.headers.get("retry-after")).to.equal("0");
        // Not applied yet: the change lands when the operation completes.
        expect((await t.api.get(BP_PATH(OPS), { as: "alice" })).body.properties.invoiceEmailOptIn).to.equal(false);
        const pending = await t.api.get(location, { as: "bob" });
        expect(pending.status).to.equal(202);
        expect(pending.headers.get("location")).to.equal(location);
        expect((await t.api.get(BP_PATH(OPS), { as: "alice" })).body.properties.invoiceEmailOptIn).to.equal(false);
        const done = await t.api.get(location, { as: "bob" });
        expect(done.status).to.equal(200);
        expect(done.body.properties.invoiceEmailOptIn).to.equal(true);
        expect((await t.api.get(BP_PATH(OPS), { as: "alice" })).body.properties.invoiceEmailOptIn).to.equal(true);
    });

    it("createBillingRoleAssignment answers 202 + Location under the profile; pendingPolls 0 completes on the first poll", async () => {
        await t.api.admin("POST", "/settings", { pendingPolls: 0, retryAfterSeconds: 3 });
        const role = await roleDefinitionIdByName(t.api, OPS, "Invoice manager", "alice");
        const accepted = await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, {
            as: "alice",
            body: { roleDefinitionId: role, userEmailAddress: "jane@contoso.com" },
        });
        expect(accepted.status).to.equal(202);
        expect(accepted.headers.get("retry-after")).to.equal("3");
        const location = accepted.headers.get("location") as string;
        expect(location.startsWith(`${t.emu.url}${BP_PATH(OPS)}/operationResults/createBillingRoleAssignment_`)).to.equal(true);
        const done = await t.api.get(location, { as: "alice" });
        expect(done.status).to.equal(200);
        expect(done.body.properties.principalId).to.equal(SEED.users.jane.id);
        const listed = (await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments`, { as: "alice" })).body.value;
        expect(listed.map((a: { name: string }) => a.name)).to.include(done.body.name);
    });

    it("answers 200 at once again when lro is set back to never", async () => {
        await t.api.admin("POST", "/settings", { lro: "never" });
        const current = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
        const r = await t.api.put(BP_PATH(OPS), { as: "alice", body: putBodyFrom(current, s.BILLING_PROFILE_READ_ONLY_PROPERTIES) });
        expect(r.status).to.equal(200);
    });

    it("validates and authorizes when accepting, not later", async () => {
        await t.api.admin("POST", "/settings", { lro: "always" });
        const denied = await t.api.put(BP_PATH(OPS), { as: "carol", body: { properties: {} } });
        expect(denied.status).to.equal(403);
        const invalid = await t.api.put(BP_PATH(OPS), { as: "alice", body: { properties: { invoiceRecipients: ["nope"] } } });
        expect(invalid.status).to.equal(400);
        const operations = (await t.api.admin("GET", "/operations")).value;
        expect(operations.filter((o: { kind: string }) => o.kind === "putBillingProfile")).to.have.length(1);
    });

    it("keeps operations out of the state: accepting and polling change nothing there", async () => {
        const before = await t.api.admin("GET", "/state");
        expect(before).to.not.have.property("operations");
        const invoice = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0];
        const accepted = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "alice" });
        const location = accepted.headers.get("location") as string;
        const listed = (await t.api.admin("GET", "/operations")).value as Array<{ id: string; kind: string; status: string }>;
        const id = location.split("?")[0].split("/").pop();
        expect(listed.find((o) => o.id === id)).to.include({ kind: "invoiceDownload", status: "Pending" });
        await pollToCompletion(t.api, location, "alice");
        expect(await t.api.admin("GET", "/state")).to.deep.equal(before);
        expect(((await t.api.admin("GET", "/operations")).value as typeof listed).find((o) => o.id === id)?.status).to.equal("Succeeded");
    });
});

describe("emulator: paging", () => {
    const t = suite({ settings: { pageSize: 2 }, seed: { extraProfiles: 3 } });

    async function collect(first: string, query: Record<string, string> | undefined, who: SeedUserKey) {
        const pages: any[] = [];
        let r = await t.api.get(first, { as: who, query });
        pages.push(r.body);
        while (r.body.nextLink) {
            r = await t.api.get(r.body.nextLink, { as: who });
            expect(r.status, r.text).to.equal(200);
            pages.push(r.body);
        }
        return pages;
    }

    it("pages with absolute nextLinks that keep the query and add a $skiptoken", async () => {
        const pages = await collect(`${BP_PATH(OPS)}/invoices`, WIDE, "alice");
        expect(pages.map((p) => p.value.length)).to.deep.equal([2, 1]);
        const next = new URL(pages[0].nextLink);
        expect(next.origin).to.equal(t.emu.url);
        expect(next.searchParams.get("periodStartDate")).to.equal(WIDE.periodStartDate);
        expect(next.searchParams.get("api-version")).to.equal("2024-04-01");
        expect(next.searchParams.get("$skiptoken")).to.be.a("string");
        const names = pages.flatMap((p) => p.value.map((i: { name: string }) => i.name));
        expect(new Set(names).size).to.equal(3);
        expect(pages[1]).to.not.have.property("nextLink");
    });

    it("pages billing profiles (3 extra profiles) and role definitions", async () => {
        const profiles = await collect(`${BA_PATH(MCA)}/billingProfiles`, undefined, "grace");
        expect(profiles.map((p) => p.value.length)).to.deep.equal([2, 2, 1]);
        const names = profiles.flatMap((p) => p.value.map((x: { name: string }) => x.name));
        expect(names).to.deep.equal([OPS.billingProfileName, RESEARCH.billingProfileName, "EX0001-MCA-BP", "EX0002-MCA-BP", "EX0003-MCA-BP"]);
        const defs = await collect(`${BP_PATH(OPS)}/billingRoleDefinitions`, undefined, "alice");
        expect(defs.map((p) => p.value.length)).to.deep.equal([2, 2]);
    });

    it("gives relative nextLinks when the setting says so", async () => {
        await t.api.admin("POST", "/settings", { relativeNextLinks: true });
        try {
            const pages = await collect(`${BP_PATH(OPS)}/invoices`, WIDE, "alice");
            expect(pages[0].nextLink.startsWith(`${BP_PATH(OPS)}/invoices?`)).to.equal(true);
            expect(pages.flatMap((p) => p.value)).to.have.length(3);
        } finally {
            await t.api.admin("POST", "/settings", { relativeNextLinks: false });
        }
    });

    it("refuses a $skiptoken it did not issue", async () => {
        const r = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { ...WIDE, $skiptoken: "garbage" } });
        expect(r.status).to.equal(400);
        expect(r.body.error.code).to.equal("InvalidSkipToken");
    });
});

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
        expect(before).to.deep.equal({ lro: "never", pendingPolls: 1, retryAfterSeconds: 0, pageSize: 50, relativeNextLinks: false, pdfPaddingBytes: 0 });
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
        await t.api.call("POST", `/_emulator/billingAccounts/${MCA}/billingProfiles/NOPE-NOPE-NOP-NOP/invoices`).then((r) => expect(r.status).to.equal(404));
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

describe("emulator: Graph users", () => {
    const t = suite();

    it("finds a user by object id or by user principal name, case-insensitively", async () => {
        const byId = await t.api.get(`/v1.0/users/${SEED.users.jane.id.toUpperCase()}`, { as: "carol" });
        expect(byId.status).to.equal(200);
        expect(byId.body).to.include({ id: SEED.users.jane.id, mail: "jane@contoso.com", userPrincipalName: "jane@contoso.com", displayName: "Jane Doe" });
        const byUpn = await t.api.get(`/v1.0/users/Jane@Contoso.com`, { as: "victor" });
        expect(byUpn.body.id).to.equal(SEED.users.jane.id);
        expect(byUpn.headers.get("request-id")).to.match(GUID);
    });

    it("honours $select and shows a user without a mailbox with mail null", async () => {
        const r = await t.api.get(`/v1.0/users/kiosk@contoso.onmicrosoft.com`, { as: "alice", query: { $select: "mail,displayName" } });
        expect(r.status).to.equal(200);
        expect(Object.keys(r.body).sort()).to.deep.equal(["@odata.context", "displayName", "id", "mail"]);
        expect(r.body.mail).to.equal(null);
    });

    it("answers Graph's 404 for an unknown user, and 400 for a malformed id", async () => {
        const r = await t.api.get(`/v1.0/users/nobody@contoso.com`, { as: "alice" });
        expect(r.status).to.equal(404);
        expect(r.body.error.code).to.equal("Request_ResourceNotFound");
        expect(r.body.error.innerError["request-id"]).to.equal(r.headers.get("x-ms-request-id"));
        const bad = await t.api.get(`/v1.0/users/not%20valid`, { as: "alice" });
        expect(bad.status).to.equal(400);
        // Mail is not a lookup key: the kiosk user has none, and Graph resolves only id or UPN.
        expect((await t.api.get(`/v1.0/users/kiosk@contoso.com`, { as: "alice" })).status).to.equal(404);
    });
});

describe("emulator: contract coverage", () => {
    // Its own emulator and requests, so it holds when run alone (--grep) or in any order.
    const t = suite({ settings: { lro: "always", pendingPolls: 1 } });

    it("answers every contract operation with a success status its schema accepts, and each operation result pending and done", async () => {
        const role = (name: string) => roleDefinitionIdByName(t.api, OPS, name, "alice");
        const ownerRole = await role("Billing profile owner");
        const readerRole = await role("Billing profile reader");
        const profile = (await t.api.get(BP_PATH(OPS), { as: "alice" })).body;
        const invoice = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0];
        const aliceOwner = `${ownerRole.split("/").pop()}_${SEED.users.alice.id}`;
        const wendyReader = `${readerRole.split("/").pop()}_${SEED.users.wendy.id}`;
        // In order: the assignment created here is the one deleted at the end.
        const steps: Array<{ id: keyof typeof operations; method: string; path: string; body?: unknown; query?: Record<string, string> }> = [
            { id: "listBillingAccounts", method: "GET", path: "/providers/Microsoft.Billing/billingAccounts" },
            { id: "getBillingAccount", method: "GET", path: BA_PATH(MCA) },
            { id: "listBillingProfiles", method: "GET", path: `${BA_PATH(MCA)}/billingProfiles` },
            { id: "getBillingProfile", method: "GET", path: BP_PATH(OPS) },
            { id: "putBillingProfile", method: "PUT", path: BP_PATH(OPS), body: putBodyFrom(profile, s.BILLING_PROFILE_READ_ONLY_PROPERTIES) },
            { id: "listBillingRoleDefinitions", method: "GET", path: `${BP_PATH(OPS)}/billingRoleDefinitions` },
            { id: "getBillingRoleDefinition", method: "GET", path: `${BP_PATH(OPS)}/billingRoleDefinitions/${ownerRole.split("/").pop()}` },
            { id: "listBillingRoleAssignments", method: "GET", path: `${BP_PATH(OPS)}/billingRoleAssignments` },
            { id: "getBillingRoleAssignment", method: "GET", path: `${BP_PATH(OPS)}/billingRoleAssignments/${aliceOwner}` },
            { id: "createBillingRoleAssignment", method: "POST", path: `${BP_PATH(OPS)}/createBillingRoleAssignment`, body: { roleDefinitionId: readerRole, principalId: SEED.users.wendy.id } },
            { id: "listInvoices", method: "GET", path: `${BP_PATH(OPS)}/invoices`, query: WIDE },
            { id: "getInvoice", method: "GET", path: `${BA_PATH(MCA)}/invoices/${invoice.name}` },
            { id: "downloadInvoice", method: "POST", path: `${BA_PATH(MCA)}/invoices/${invoice.name}/download` },
            { id: "getGraphUser", method: "GET", path: `/v1.0/users/${SEED.users.jane.id}` },
            { id: "deleteBillingRoleAssignment", method: "DELETE", path: `${BP_PATH(OPS)}/billingRoleAssignments/${wendyReader}` },
        ];
        expect(steps.map((x) => x.id).sort(), "one step per contract operation").to.deep.equal(Object.keys(operations).sort());
        for (const step of steps) {
            const matched = matchOperation(step.method, step.path);
            expect(matched && "operation" in matched ? matched.operation.id : undefined, `${step.method} ${step.path}`).to.equal(step.id);
            // EmulatorHttp checks every answer (and every Location poll) against the contract's schema for its status.
            const answer = await t.api.call(step.method, step.path, { as: "alice", body: step.body, query: step.query });
            expect(answer.status, `${step.id}: ${answer.text}`).to.be.within(200, 299);
            if (answer.status !== 202) continue;
            const location = answer.headers.get("location") as string;
            const pending = await t.api.get(location, { as: "alice" });
            expect(pending.status, `${step.id} result while pending`).to.equal(202);
            const done = await t.api.get(location, { as: "alice" });
            expect(done.status, `${step.id} result when done: ${done.text}`).to.equal(200);
            expect(["putBillingProfile", "createBillingRoleAssignment", "downloadInvoice"]).to.include(step.id);
        }
    });
});
