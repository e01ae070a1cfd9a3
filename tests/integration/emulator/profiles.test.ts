/**
 * The emulator over real HTTP (port 0). The billing profile PUT: read-merge-
 * write, read-only properties kept, validation problems, no create by PUT.
 * Each describe block starts its own emulator and makes its own requests, so
 * any one runs alone with --grep.
 */
import { expect } from "chai";
import * as s from "../../../provider/billing/schemas";
import { BP_PATH, MCA, OPS, PARTNER, RESEARCH, putBodyFrom } from "../support/emulator-http";
import { suite } from "./suite";

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
        delete body.properties.tags;
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

    it("refuses recipients that are not email addresses in the ARM envelope, one detail per property, and changes nothing", async () => {
        const before = await stateProfile(PARTNER.billingProfileName);
        const body = putBodyFrom((await t.api.get(BP_PATH(PARTNER), { as: "rupert" })).body, readOnly);
        body.properties.invoiceEmailOptIn = true;
        body.properties.invoiceRecipients = ["ok@contoso.com", "not-an-address", "a@b.com;c@d.com"];
        const r = await t.api.put(BP_PATH(PARTNER), { as: "rupert", body });
        expect(r.status).to.equal(400);
        expect(r.headers.get("content-type")).to.contain("application/json");
        expect(r.body.error.code).to.equal("ValidationFailed");
        expect(r.body.error.message).to.contain("One or more validation errors occurred.").and.contain("not-an-address");
        expect(r.body.error.details.map((d: { target: string }) => d.target)).to.deep.equal(["properties.invoiceRecipients[1]", "properties.invoiceRecipients[2]"]);
        expect(r.body.error.details[0].message).to.contain("not-an-address");
        expect(await stateProfile(PARTNER.billingProfileName)).to.deep.equal(before);
    });

    it("answers the same refusal as an ASP.NET validation problem with the setting validationErrors: problem", async () => {
        await t.api.admin("POST", "/settings", { validationErrors: "problem" });
        try {
            const body = putBodyFrom((await t.api.get(BP_PATH(PARTNER), { as: "rupert" })).body, readOnly);
            body.properties.invoiceRecipients = ["ok@contoso.com", "not-an-address"];
            const r = await t.api.put(BP_PATH(PARTNER), { as: "rupert", body });
            expect(r.status).to.equal(400);
            expect(r.headers.get("content-type")).to.contain("application/problem+json");
            expect(r.body.title).to.equal("One or more validation errors occurred.");
            expect(r.body.status).to.equal(400);
            expect(Object.keys(r.body.errors)).to.deep.equal(["properties.invoiceRecipients[1]"]);
            expect(r.body.errors["properties.invoiceRecipients[1]"][0]).to.contain("not-an-address");
            const notJson = await t.api.put(BP_PATH(OPS), { as: "alice", rawBody: "{oops", headers: { "Content-Type": "application/json" } });
            expect(notJson.body.errors).to.have.property("$");
        } finally {
            await t.api.admin("POST", "/settings", { validationErrors: "arm" });
        }
    });

    it("refuses a body that does not match the contract's schema, naming the property", async () => {
        const noProps = await t.api.put(BP_PATH(OPS), { as: "alice", body: { displayName: "x" } });
        expect(noProps.status).to.equal(400);
        expect(noProps.body.error.target).to.equal("properties");
        const wrongType = await t.api.put(BP_PATH(OPS), { as: "alice", body: { properties: { invoiceEmailOptIn: "yes" } } });
        expect(wrongType.status).to.equal(400);
        expect(wrongType.body.error.target).to.equal("properties.invoiceEmailOptIn");
        const notJson = await t.api.put(BP_PATH(OPS), { as: "alice", rawBody: "{oops", headers: { "Content-Type": "application/json" } });
        expect(notJson.status).to.equal(400);
        expect(notJson.body.error.target).to.equal("$");
    });

    it("answers 404 for a profile that does not exist instead of creating it", async () => {
        const r = await t.api.put(BP_PATH({ billingAccountName: MCA, billingProfileName: "NEW1-NEW1-NEW-NEW" }), {
            as: "grace",
            body: { properties: { displayName: "New" } },
        });
        expect(r.status).to.equal(404);
    });
});
