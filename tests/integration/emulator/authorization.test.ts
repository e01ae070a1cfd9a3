/**
 * The emulator over real HTTP (port 0). Authorization by the billing role
 * matrix, per principal and operation, and who may poll a long-running
 * operation's Location. Each describe block starts its own emulator and makes
 * its own requests, so any one runs alone with --grep.
 */
import { expect } from "chai";
import { REQUIRED_ROLE } from "../../../provider/billing/contract";
import * as s from "../../../provider/billing/schemas";
import { ROLE_DEFINITION_IDS, SEED, type SeedUserKey } from "../../../emulator";
import {
    BA_PATH,
    BP_PATH,
    MCA,
    MPA,
    OPS,
    PARTNER,
    RESEARCH,
    pollToCompletion,
    putBodyFrom,
    roleDefinitionIdByName,
} from "../support/emulator-http";
import { WIDE, suite } from "./suite";

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
