/**
 * The emulator over real HTTP (port 0). Contract coverage: every operation of
 * the contract answered with a status and body its schema accepts. Each
 * describe block starts its own emulator and makes its own requests, so any
 * one runs alone with --grep.
 */
import { expect } from "chai";
import { matchOperation, operations } from "../../../provider/billing/contract";
import * as s from "../../../provider/billing/schemas";
import { SEED, type SeedUserKey } from "../../../emulator";
import { BA_PATH, BP_PATH, MCA, OPS, putBodyFrom, roleDefinitionIdByName } from "../support/emulator-http";
import { WIDE, suite } from "./suite";

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
        const graceAccountOwner = `50000000-aaaa-bbbb-cccc-100000000000_${SEED.users.grace.id}`;
        // `as`: who calls (alice unless said); `status`: the one answer an operation gives that never succeeds here.
        const steps: Array<{ id: keyof typeof operations; method: string; path: string; body?: unknown; query?: Record<string, string>; as?: SeedUserKey; status?: number }> = [
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
            { id: "listInvoicesByBillingAccount", method: "GET", path: `${BA_PATH(MCA)}/invoices`, query: WIDE },
            { id: "listBillingRoleDefinitionsByBillingAccount", method: "GET", path: `${BA_PATH(MCA)}/billingRoleDefinitions`, as: "grace" },
            { id: "getBillingRoleDefinitionByBillingAccount", method: "GET", path: `${BA_PATH(MCA)}/billingRoleDefinitions/50000000-aaaa-bbbb-cccc-100000000000`, as: "grace" },
            { id: "listBillingRoleAssignmentsByBillingAccount", method: "GET", path: `${BA_PATH(MCA)}/billingRoleAssignments`, as: "grace" },
            { id: "getBillingRoleAssignmentByBillingAccount", method: "GET", path: `${BA_PATH(MCA)}/billingRoleAssignments/${graceAccountOwner}`, as: "grace" },
            { id: "listBillingPermissions", method: "GET", path: `${BP_PATH(OPS)}/billingPermissions` },
            { id: "validateBillingProfileDeleteEligibility", method: "POST", path: `${BP_PATH(OPS)}/validateDeleteEligibility` },
            { id: "deleteBillingProfile", method: "DELETE", path: BP_PATH(OPS), status: 409 },
            { id: "deleteBillingRoleAssignment", method: "DELETE", path: `${BP_PATH(OPS)}/billingRoleAssignments/${wendyReader}` },
        ];
        expect(steps.map((x) => x.id).sort(), "one step per contract operation").to.deep.equal(Object.keys(operations).sort());
        for (const step of steps) {
            const matched = matchOperation(step.method, step.path);
            expect(matched && "operation" in matched ? matched.operation.id : undefined, `${step.method} ${step.path}`).to.equal(step.id);
            // EmulatorHttp checks every answer (and every Location poll) against the contract's schema for its status.
            const answer = await t.api.call(step.method, step.path, { as: step.as ?? "alice", body: step.body, query: step.query });
            if (step.status !== undefined) {
                expect(answer.status, `${step.id}: ${answer.text}`).to.equal(step.status);
                continue;
            }
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
