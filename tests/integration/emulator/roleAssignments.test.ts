/**
 * The emulator over real HTTP (port 0). Role assignments: list, get,
 * idempotent create, refusals, delete, and the last owner kept. Each describe
 * block starts its own emulator and makes its own requests, so any one runs
 * alone with --grep.
 */
import { expect } from "chai";
import { ROLE_ASSIGNMENT_NAME_PATTERN } from "../../../provider/billing/names";
import { ROLE_DEFINITION_IDS, SEED } from "../../../emulator";
import { BP_PATH, OPS, RESEARCH, roleDefinitionIdByName } from "../support/emulator-http";
import { suite } from "./suite";

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
        expect(badBody.body.error.target).to.equal("roleDefinitionId");
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
