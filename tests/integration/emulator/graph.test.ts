/**
 * The emulator over real HTTP (port 0). Microsoft Graph users: by object id or
 * user principal name, $select, a user without a mailbox, 404 and 400. Each
 * describe block starts its own emulator and makes its own requests, so any
 * one runs alone with --grep.
 */
import { expect } from "chai";
import { SEED } from "../../../emulator";
import { GUID } from "../support/emulator-http";
import { suite } from "./suite";

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
