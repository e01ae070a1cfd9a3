/**
 * The emulator refuses what a web page could send it, because it hands out
 * tokens and changes state without one: a foreign Host (DNS rebinding), a
 * foreign Origin, an admin write not declared JSON. Links it builds use the
 * address the client used, when that is one of its own.
 */
import { expect } from "chai";
import { request } from "node:http";
import { SEED } from "../../../emulator";
import { BA_PATH, BP_PATH, MCA, OPS } from "../support/emulator-http";
import { WIDE, suite } from "./suite";

describe("emulator: refuses what a web page could send (it hands out tokens)", () => {
    const t = suite();

    /** A raw request, so Host and Origin can be anything (fetch fixes Host itself). */
    function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
        const u = new URL(t.emu.url);
        return new Promise((resolve, reject) => {
            const req = request({ host: u.hostname, port: u.port, method, path, headers: { ...headers, ...(body !== undefined ? { "Content-Length": String(Buffer.byteLength(body)) } : {}) } }, (res) => {
                let text = "";
                res.on("data", (c: Buffer) => (text += c.toString()));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
            });
            req.on("error", reject);
            req.end(body);
        });
    }
    const port = () => new URL(t.emu.url).port;

    it("a foreign Host (DNS rebinding) gets 421 and no tokens, on the admin API and the Azure-facing one", async () => {
        for (const host of ["rebind.evil.example", `rebind.evil.example:${port()}`, "127.0.0.1:1", `localhost.evil.example:${port()}`]) {
            const admin = await raw("GET", "/_emulator/principals", { Host: host });
            expect(admin.status, host).to.equal(421);
            expect(admin.text).to.include("MisdirectedRequest").and.not.include("emu-");
            const arm = await raw("GET", `/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01`, { Host: host, Authorization: `Bearer ${SEED.users.alice.token}` });
            expect(arm.status, host).to.equal(421);
            expect(arm.text).to.not.include(MCA);
        }
        expect((await raw("GET", "/_emulator/principals", { Host: `127.0.0.1:${port()}` })).status).to.equal(200);
        expect((await raw("GET", "/_emulator/principals", { Host: `LOCALHOST:${port()}` })).status).to.equal(200);
    });

    it("builds Location headers and links from the address the client used, when it is one of its own", async () => {
        const local = `http://localhost:${port()}`;
        const invoiceName = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0].name;
        const accepted = await raw("POST", `${BA_PATH(MCA)}/invoices/${invoiceName}/download?api-version=2024-04-01`, {
            Host: `localhost:${port()}`,
            Authorization: `Bearer ${SEED.users.alice.token}`,
        });
        expect(accepted.status, accepted.text).to.equal(202);
        expect(String(accepted.headers.location)).to.match(new RegExp(`^${local}/`));
        const about = JSON.parse((await raw("GET", "/_emulator", { Host: `localhost:${port()}` })).text);
        expect(about.armEndpoint).to.equal(local);
        const numeric = JSON.parse((await raw("GET", "/_emulator", { Host: `127.0.0.1:${port()}` })).text);
        expect(numeric.armEndpoint).to.equal(t.emu.url);
    });

    it("a foreign Origin is refused with 403, also on the Azure-facing API; its own origin is fine", async () => {
        const host = { Host: `127.0.0.1:${port()}` };
        for (const origin of ["https://evil.example", "null", `http://localhost:${Number(port()) + 1}`]) {
            const r = await raw("GET", "/_emulator/principals", { ...host, Origin: origin });
            expect(r.status, origin).to.equal(403);
            expect(r.text).to.include("ForeignOrigin").and.not.include("emu-");
            const arm = await raw("GET", "/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01", { ...host, Origin: origin, Authorization: `Bearer ${SEED.users.alice.token}` });
            expect(arm.status, origin).to.equal(403);
        }
        expect((await raw("GET", "/_emulator/settings", { ...host, Origin: t.emu.url })).status).to.equal(200);
        expect((await raw("GET", "/_emulator/settings", { ...host, Origin: `http://localhost:${port()}` })).status).to.equal(200);
    });

    it("an admin write that is not declared JSON (text/plain, a form, none) is refused with 415 and changes nothing; a body-less DELETE is fine", async () => {
        const host = { Host: `127.0.0.1:${port()}` };
        const before = await t.api.admin("GET", "/settings");
        const invoicesBefore = t.emu.state().invoices.length;
        const writes: Array<[string, string]> = [
            ["/_emulator/settings", JSON.stringify({ pageSize: 1 })],
            ["/_emulator/faults", JSON.stringify({ status: 500, rate: 1 })],
            [`/_emulator/billingAccounts/${MCA}/billingProfiles/${OPS.billingProfileName}/invoices`, "{}"],
            [`/_emulator/billingAccounts/${MCA}/billingProfiles`, JSON.stringify({ count: 1 })],
        ];
        for (const [path, body] of writes) {
            for (const type of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
                const r = await raw("POST", path, type ? { ...host, "Content-Type": type } : host, body);
                expect(r.status, `${path} ${type}`).to.equal(415);
                expect(r.text).to.include("application/json");
            }
        }
        expect(await t.api.admin("GET", "/settings")).to.deep.equal(before);
        expect((await t.api.admin("GET", "/faults")).value).to.deep.equal([]);
        expect(t.emu.state().invoices.length).to.equal(invoicesBefore);
        expect((await raw("DELETE", "/_emulator/faults", host)).status).to.equal(204);
        expect((await raw("DELETE", "/_emulator/requests", { ...host, "Content-Type": "text/plain" }, "x")).status, "a DELETE with a body needs JSON too").to.equal(415);
        expect((await raw("POST", "/_emulator/settings", { ...host, "Content-Type": "application/json; charset=utf-8" }, JSON.stringify({ pageSize: 50 }))).status).to.equal(200);
    });
});
