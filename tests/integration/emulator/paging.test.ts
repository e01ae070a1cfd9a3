/**
 * The emulator over real HTTP (port 0). Paging: absolute and relative
 * nextLinks with a $skiptoken, and a $skiptoken it did not issue refused. Each
 * describe block starts its own emulator and makes its own requests, so any
 * one runs alone with --grep.
 */
import { expect } from "chai";
import { type SeedUserKey } from "../../../emulator";
import { BA_PATH, BP_PATH, MCA, OPS, RESEARCH } from "../support/emulator-http";
import { WIDE, suite } from "./suite";

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

    it("pages the invoice lists to the same invoices, in the same order, as one page holding them all, with $top and $skip too", async () => {
        for (let i = 0; i < 4; i++) await t.api.admin("POST", `/billingAccounts/${OPS.billingAccountName}/billingProfiles/${OPS.billingProfileName}/invoices`, {}, 201);
        const lists: Array<[string, SeedUserKey]> = [
            [`${BP_PATH(OPS)}/invoices`, "alice"],
            [`${BA_PATH(MCA)}/invoices`, "grace"],
        ];
        for (const [list, who] of lists) {
            const paged = (await collect(list, WIDE, who)).flatMap((p) => p.value.map((i: { id: string; properties: { documents: Array<{ url: string }> } }) => i));
            expect(paged.length, list).to.be.greaterThan(6);
            // Every invoice of every page has its signed document links.
            for (const i of paged) expect(i.properties.documents.every((d: { url: string }) => typeof d.url === "string" && d.url.length > 0), list).to.equal(true);
            await t.api.admin("POST", "/settings", { pageSize: 1000 });
            try {
                const whole = await t.api.get(list, { as: who, query: WIDE });
                expect(whole.body).to.not.have.property("nextLink");
                expect(paged.map((i) => i.id), list).to.deep.equal(whole.body.value.map((i: { id: string }) => i.id));
                const third = await t.api.get(list, { as: who, query: { ...WIDE, $top: "1", $skip: "2" } });
                expect(third.body.value.map((i: { id: string }) => i.id)).to.deep.equal([paged[2].id]);
                const last = await t.api.get(list, { as: who, query: { ...WIDE, $skip: String(paged.length - 1) } });
                expect(last.body.value.map((i: { id: string }) => i.id)).to.deep.equal([paged[paged.length - 1].id]);
            } finally {
                await t.api.admin("POST", "/settings", { pageSize: 2 });
            }
        }
    });

    it("refuses a $skiptoken it did not issue", async () => {
        const r = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { ...WIDE, $skiptoken: "garbage" } });
        expect(r.status).to.equal(400);
        expect(r.body.error.code).to.equal("InvalidSkipToken");
    });
});
