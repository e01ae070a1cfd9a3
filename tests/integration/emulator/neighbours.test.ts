/**
 * The emulator over real HTTP (port 0). The operations real tools call next
 * to ours, under the same authorization rules: invoices by billing account,
 * role definitions and assignments at account scope, billingPermissions by
 * billing profile, and billing profile delete (refused with
 * validateDeleteEligibility's reasons). Each describe block starts its own
 * emulator.
 */
import { expect } from "chai";
import { SEED } from "../../../emulator";
import { BA_PATH, BP_PATH, MCA, MPA, OPS, PARTNER, RESEARCH, putBodyFrom } from "../support/emulator-http";
import * as s from "../../../provider/billing/schemas";
import { WIDE, suite } from "./suite";

describe("emulator: neighbouring operations", () => {
    const t = suite({ seed: { extraProfiles: 1 } });

    it("lists the invoices of a billing account, paged, as many as its profiles hold; a profile role sees its own profile's only", async () => {
        const state = await t.api.admin("GET", "/state");
        const held = state.invoices.filter((i: any) => i.billingAccountName === MCA).map((i: any) => i.name).sort();
        const pages: string[][] = [];
        let r = await t.api.get(`${BA_PATH(MCA)}/invoices`, { as: "grace", query: { ...WIDE, top: "4" } });
        for (;;) {
            expect(r.status, r.text).to.equal(200);
            pages.push(r.body.value.map((i: any) => i.name));
            if (!r.body.nextLink) break;
            expect(new URL(r.body.nextLink).searchParams.get("$top")).to.equal("4");
            r = await t.api.get(r.body.nextLink, { as: "grace" });
        }
        expect(held).to.have.length(9);
        expect(pages.map((p) => p.length)).to.deep.equal([4, 4, 1]);
        expect(pages.flat().sort()).to.deep.equal(held);
        const alice = await t.api.get(`${BA_PATH(MCA)}/invoices`, { as: "alice", query: WIDE });
        expect(alice.status).to.equal(200);
        expect(new Set(alice.body.value.map((i: any) => i.properties.billingProfileId.split("/").pop()))).to.deep.equal(new Set([OPS.billingProfileName]));
        const due = await t.api.get(`${BA_PATH(MCA)}/invoices`, { as: "grace", query: { filter: "status eq 'Due'", orderBy: "invoiceDate desc" } });
        expect(due.body.value).to.have.length(3);
        expect((await t.api.get(`${BA_PATH(MCA)}/invoices`, { as: "jane" })).status, "no role at all").to.equal(403);
        expect((await t.api.get(`${BA_PATH(MPA)}/invoices`, { as: "grace" })).status, "another account").to.equal(403);
    });

    it("serves role definitions and assignments at account scope to account roles only", async () => {
        const defs = await t.api.get(`${BA_PATH(MCA)}/billingRoleDefinitions`, { as: "ivan" });
        expect(defs.status).to.equal(200);
        expect(defs.body.value.map((d: any) => d.properties.roleName)).to.deep.equal(["Billing account owner", "Billing account contributor", "Billing account reader"]);
        const owner = await t.api.get(`${BA_PATH(MCA)}/billingRoleDefinitions/${defs.body.value[0].name}`, { as: "ivan" });
        expect(owner.body.id).to.equal(defs.body.value[0].id);
        const assignments = await t.api.get(`${BA_PATH(MCA)}/billingRoleAssignments`, { as: "heidi" });
        expect(assignments.body.value.map((a: any) => a.properties.principalDisplayName)).to.deep.equal(["Grace Garcia", "Heidi Hall", "Ivan Ito"]);
        const grace = assignments.body.value[0];
        expect(grace.type).to.equal("Microsoft.Billing/billingAccounts/billingRoleAssignments");
        expect(grace.properties).to.include({ billingAccountId: BA_PATH(MCA), billingAccountDisplayName: "Contoso Ltd", scope: BA_PATH(MCA) });
        expect(grace.properties).to.not.have.property("billingProfileId");
        expect((await t.api.get(`${BA_PATH(MCA)}/billingRoleAssignments/${grace.name}`, { as: "heidi" })).body).to.deep.equal(grace);
        expect((await t.api.get(`${BA_PATH(MCA)}/billingRoleAssignments/${grace.name.replace(/^5/, "6")}`, { as: "heidi" })).status).to.equal(404);
        const filtered = await t.api.get(`${BA_PATH(MCA)}/billingRoleAssignments`, { as: "heidi", query: { filter: `principalId eq '${SEED.users.ivan.id}'` } });
        expect(filtered.body.value.map((a: any) => a.properties.principalDisplayName)).to.deep.equal(["Ivan Ito"]);
        for (const path of [`${BA_PATH(MCA)}/billingRoleDefinitions`, `${BA_PATH(MCA)}/billingRoleAssignments`]) {
            const profileOwner = await t.api.get(path, { as: "alice" });
            expect(profileOwner.status, `${path}: a profile role does not reach account scope`).to.equal(403);
            expect(profileOwner.body.error.message).to.contain("a role on the billing account");
        }
    });

    it("lists the caller's own permissions on a profile, which are exactly what the emulator then allows", async () => {
        const perms = async (who: "alice" | "bob" | "carol" | "grace" | "ivan" | "dave") =>
            (await t.api.get(`${BP_PATH(OPS)}/billingPermissions`, { as: who as any })).body.value[0].actions as string[];
        const write = "Microsoft.Billing/billingAccounts/billingProfiles/write";
        const assign = "Microsoft.Billing/billingAccounts/billingProfiles/createBillingRoleAssignment/action";
        expect(await perms("alice")).to.include.members([write, assign]);
        expect(await perms("grace"), "the account owner inherits the owner's").to.have.members(await perms("alice"));
        expect(await perms("bob")).to.include(write).and.not.include(assign);
        expect(await perms("carol")).to.not.include(write);
        expect(await perms("carol")).to.include("Microsoft.Billing/billingAccounts/invoices/download/action");
        expect(await perms("ivan"), "an account reader reads").to.have.members(await perms("carol"));
        expect((await t.api.get(`${BP_PATH(OPS)}/billingPermissions`, { as: "dave" })).status, "no role on this profile").to.equal(403);
        // What bob's permissions leave out, bob is refused; what they include, bob may do.
        const body = putBodyFrom((await t.api.get(BP_PATH(OPS), { as: "bob" })).body, s.BILLING_PROFILE_READ_ONLY_PROPERTIES);
        expect((await t.api.put(BP_PATH(OPS), { as: "bob", body })).status).to.equal(200);
        const role = `${BP_PATH(OPS)}/billingRoleDefinitions/40000000-aaaa-bbbb-cccc-100000000002`;
        expect((await t.api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "bob", body: { roleDefinitionId: role, principalId: SEED.users.wendy.id } })).status).to.equal(403);
        // A role definition lists the same actions its role is allowed.
        const defs = await t.api.get(`${BP_PATH(OPS)}/billingRoleDefinitions`, { as: "alice" });
        const contributor = defs.body.value.find((d: any) => d.properties.roleName === "Billing profile contributor");
        expect(contributor.properties.permissions[0].actions).to.have.members(await perms("bob"));
    });

    it("refuses to delete a billing profile with invoices, giving validateDeleteEligibility's reasons; nothing is deleted", async () => {
        const check = await t.api.post(`${BP_PATH(OPS)}/validateDeleteEligibility`, { as: "alice" });
        expect(check.status).to.equal(200);
        expect(check.body.eligibilityStatus).to.equal("NotAllowed");
        const codes = check.body.eligibilityDetails.map((d: any) => d.code);
        expect(codes).to.deep.equal(["OutstandingCharges", "PendingCharges"]);
        const before = await t.api.admin("GET", "/state");
        const del = await t.api.delete(BP_PATH(OPS), { as: "alice" });
        expect(del.status).to.equal(409);
        expect(del.body.error.code).to.equal("BillingProfileDeletionNotAllowed");
        expect(del.body.error.details).to.deep.equal(check.body.eligibilityDetails);
        expect(del.body.error.message).to.contain("outstanding charges");
        expect(await t.api.admin("GET", "/state")).to.deep.equal(before);
        const partner = await t.api.post(`${BP_PATH(PARTNER)}/validateDeleteEligibility`, { as: "rupert" });
        expect(partner.body.eligibilityDetails.map((d: any) => d.code), "the MPA account's only profile").to.include("LastBillingProfile");
        expect((await t.api.delete(BP_PATH(RESEARCH), { as: "frank" })).status, "a reader may not delete").to.equal(403);
        expect((await t.api.post(`${BP_PATH(RESEARCH)}/validateDeleteEligibility`, { as: "frank" })).status).to.equal(403);
    });
});
