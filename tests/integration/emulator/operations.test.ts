/**
 * The emulator over real HTTP (port 0). Long-running PUT and role assignment:
 * 202 + Location, completion on a later poll, validation when accepting,
 * nothing kept in the state. Each describe block starts its own emulator and
 * makes its own requests, so any one runs alone with --grep.
 */
import { expect } from "chai";
import * as s from "../../../provider/billing/schemas";
import { SEED } from "../../../emulator";
import { BA_PATH, BP_PATH, MCA, OPS, pollToCompletion, putBodyFrom, roleDefinitionIdByName } from "../support/emulator-http";
import { WIDE, suite } from "./suite";

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
