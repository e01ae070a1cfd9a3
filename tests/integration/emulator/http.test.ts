/**
 * The emulator over real HTTP (port 0). Routing and ARM conventions (404, 405,
 * api-version, request ids, path validation) and authentication (401s, Graph's
 * codes, the seeded tokens). Each describe block starts its own emulator and
 * makes its own requests, so any one runs alone with --grep.
 */
import { expect } from "chai";
import { SEED } from "../../../emulator";
import { BA_PATH, BP_PATH, GUID, MCA, OPS } from "../support/emulator-http";
import { suite } from "./suite";

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
        expect(r.headers.get("allow")).to.equal("GET, PUT, DELETE");
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
