/**
 * The emulator over real HTTP (port 0). List options, honoured or refused,
 * never ignored: `top` (the page size, carried by every next link as `$top`)
 * and `skip`, `filter` (`eq`, `and`) and `orderBy` (invoice dates), under
 * the spec's names with or without `$`; the options the spec declares and
 * the emulator does not implement, and unknown ones, answer 400 in the ARM
 * envelope. Each describe block starts its own emulator.
 */
import { expect } from "chai";
import { SEED } from "../../../emulator";
import { BA_PATH, BP_PATH, MCA, OPS } from "../support/emulator-http";
import { WIDE, suite } from "./suite";

const names = (r: { body: { value: Array<{ name: string }> } }) => r.body.value.map((i) => i.name);

describe("emulator: list options", () => {
    const t = suite({ seed: { extraProfiles: 3 } });
    const invoices = `${BP_PATH(OPS)}/invoices`;

    it("top is the page size, as Microsoft's SDK sends it (top=1) and as OData tools do ($top=1); next links carry it as $top", async () => {
        const all = names(await t.api.get(invoices, { as: "alice", query: WIDE }));
        expect(all).to.have.length(3);
        for (const key of ["top", "$top", "TOP"]) {
            const first = await t.api.get(invoices, { as: "alice", query: { ...WIDE, [key]: "1" } });
            expect(first.status, first.text).to.equal(200);
            expect(names(first), key).to.deep.equal([all[0]]);
            const next = new URL(first.body.nextLink);
            expect(next.searchParams.get("$top"), "the page size rides on the next link").to.equal("1");
            expect([...next.searchParams.keys()].filter((k) => k.toLowerCase().replace("$", "") === "top"), "once").to.have.length(1);
            expect(next.searchParams.get("periodStartDate")).to.equal(WIDE.periodStartDate);
            const pages = [names(first)];
            let r = first;
            while (r.body.nextLink) {
                r = await t.api.get(r.body.nextLink, { as: "alice" });
                pages.push(names(r));
            }
            expect(pages, key).to.deep.equal([[all[0]], [all[1]], [all[2]]]);
        }
    });

    it("without top, pages are pageSize long and next links carry $top=pageSize, as recorded Azure traffic shows ($top=50)", async () => {
        await t.api.admin("POST", "/settings", { pageSize: 2 });
        try {
            const r = await t.api.get(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace" });
            expect(r.body.value).to.have.length(2);
            expect(new URL(r.body.nextLink).searchParams.get("$top")).to.equal("2");
            const big = await t.api.get(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace", query: { top: "5" } });
            expect(big.body.value, "the server's page size bounds top").to.have.length(2);
        } finally {
            await t.api.admin("POST", "/settings", { pageSize: 50 });
        }
        const whole = await t.api.get(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace" });
        expect(whole.body.value).to.have.length(5);
        expect(whole.body).to.not.have.property("nextLink");
    });

    it("skip skips items of the collection; a next link carries the offset in $skiptoken only", async () => {
        const all = names(await t.api.get(invoices, { as: "alice", query: WIDE }));
        const r = await t.api.get(invoices, { as: "alice", query: { ...WIDE, skip: "1", top: "1" } });
        expect(names(r)).to.deep.equal([all[1]]);
        const next = new URL(r.body.nextLink);
        expect(next.searchParams.has("skip") || next.searchParams.has("$skip")).to.equal(false);
        expect(names(await t.api.get(r.body.nextLink, { as: "alice" }))).to.deep.equal([all[2]]);
        expect(names(await t.api.get(invoices, { as: "alice", query: { ...WIDE, $skip: "3" } }))).to.deep.equal([]);
    });

    it("filter keeps the items whose fields equal the values (eq, joined by and), with or without properties/", async () => {
        const due = await t.api.get(invoices, { as: "alice", query: { ...WIDE, filter: "status eq 'Due'" } });
        expect(due.body.value.map((i: any) => i.properties.status)).to.deep.equal(["Due"]);
        const paid = await t.api.get(invoices, { as: "alice", query: { ...WIDE, $filter: "properties/status eq 'paid' and isMonthlyInvoice eq true" } });
        expect(paid.body.value.map((i: any) => i.properties.status)).to.deep.equal(["Paid", "Paid"]);
        const none = await t.api.get(invoices, { as: "alice", query: { ...WIDE, filter: "status eq 'Due' and status eq 'Paid'" } });
        expect(none.body.value).to.deep.equal([]);
        const profiles = await t.api.get(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace", query: { filter: "displayName eq 'Contoso Research Billing'" } });
        expect(names(profiles)).to.deep.equal(["R3VD-8N5W-CH2-TLK"]);
        const owners = await t.api.get(`${BP_PATH(OPS)}/billingRoleAssignments`, {
            as: "alice",
            query: { filter: `roleDefinitionId eq '${BP_PATH(OPS)}/billingRoleDefinitions/40000000-aaaa-bbbb-cccc-100000000000'` },
        });
        expect(owners.body.value.map((a: any) => a.properties.principalDisplayName)).to.deep.equal(["Alice Adams"]);
    });

    it("refuses filters it cannot honour, saying what is supported", async () => {
        for (const filter of ["status ne 'Due'", "status eq 'Due' or status eq 'Paid'", "contains(status,'D')", "amountDue eq 5", "status eq Due", "status eq 'Due"]) {
            const r = await t.api.get(invoices, { as: "alice", query: { ...WIDE, filter } });
            expect(r.status, filter).to.equal(400);
            expect(r.body.error.code, filter).to.equal("InvalidQueryParameterValue");
            expect(r.body.error.target).to.equal("filter");
        }
    });

    it("orderBy sorts invoices by their dates, asc or desc; other fields and other lists are refused", async () => {
        const desc = await t.api.get(invoices, { as: "alice", query: { ...WIDE, orderBy: "invoiceDate desc" } });
        const days = desc.body.value.map((i: any) => i.properties.invoiceDate.slice(0, 10));
        expect(days).to.deep.equal(["2025-03-01", "2025-02-01", "2025-01-01"]);
        const asc = await t.api.get(invoices, { as: "alice", query: { ...WIDE, $orderby: "dueDate" } });
        expect(asc.body.value.map((i: any) => i.properties.dueDate)).to.deep.equal([...asc.body.value.map((i: any) => i.properties.dueDate)].sort());
        const bad = await t.api.get(invoices, { as: "alice", query: { ...WIDE, orderBy: "status desc" } });
        expect(bad.status).to.equal(400);
        expect(bad.body.error.message).to.contain("invoiceDate");
        const profiles = await t.api.get(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace", query: { orderBy: "displayName" } });
        expect(profiles.status).to.equal(400);
        expect(profiles.body.error.code).to.equal("UnsupportedQueryParameter");
    });

    it("answers 400 in the ARM envelope for declared options it does not implement, naming what it takes", async () => {
        const cases: Array<[string, Record<string, string>]> = [
            [invoices, { count: "true" }],
            [invoices, { $search: "Contoso" }],
            [`${BA_PATH(MCA)}/billingProfiles`, { count: "true" }],
            ["/providers/Microsoft.Billing/billingAccounts", { legalOwnerTID: SEED.tenantId }],
            ["/providers/Microsoft.Billing/billingAccounts", { expand: "soldTo" }],
        ];
        for (const [path, query] of cases) {
            const r = await t.api.get(path, { as: "grace", query });
            const name = Object.keys(query)[0];
            expect(r.status, `${path} ${name}`).to.equal(400);
            expect(r.body.error.code).to.equal("UnsupportedQueryParameter");
            expect(r.body.error.target).to.equal(name);
            expect(r.body.error.message).to.contain(`'${name}'`).and.contain("not supported").and.contain("it takes");
        }
    });

    it("takes the include flags Microsoft's SDK sends on every list of accounts (false) and honours true: the emulator holds nothing they would add", async () => {
        const accounts = "/providers/Microsoft.Billing/billingAccounts";
        const sdk = { includeAll: "false", includeAllWithoutBillingProfiles: "false", includeDeleted: "false", includePendingAgreement: "false", includeResellee: "false" };
        const plain = await t.api.get(accounts, { as: "grace" });
        const withFlags = await t.api.get(accounts, { as: "grace", query: sdk });
        expect(withFlags.status, withFlags.text).to.equal(200);
        expect(withFlags.body).to.deep.equal(plain.body);
        const all = await t.api.get(accounts, { as: "grace", query: { includeDeleted: "true", includeAll: "true" } });
        expect(all.body).to.deep.equal(plain.body);
        const profiles = await t.api.get(`${BA_PATH(MCA)}/billingProfiles`, { as: "grace", query: { includeDeleted: "true" } });
        expect(profiles.body.value).to.have.length(5);
        const bad = await t.api.get(accounts, { as: "grace", query: { includeDeleted: "maybe" } });
        expect(bad.status).to.equal(400);
        expect(bad.body.error.target).to.equal("includeDeleted");
    });

    it("answers 400 for unknown options, a bad top or skip, and an option given twice", async () => {
        const unknown = await t.api.get(invoices, { as: "alice", query: { ...WIDE, color: "blue" } });
        expect(unknown.status).to.equal(400);
        expect(unknown.body.error.code).to.equal("InvalidQueryParameter");
        expect(unknown.body.error.message).to.contain("'color'").and.contain("periodStartDate");
        const onGet = await t.api.get(BP_PATH(OPS), { as: "alice", query: { top: "1" } });
        expect(onGet.status, "a get takes no list options").to.equal(400);
        expect(onGet.body.error.message).to.contain("takes no query options");
        const defs = await t.api.get(`${BP_PATH(OPS)}/billingRoleDefinitions`, { as: "alice", query: { top: "1" } });
        expect(defs.status, "role definitions declare no top").to.equal(400);
        for (const [k, v] of [["top", "0"], ["top", "x"], ["skip", "-1"], ["top", "1.5"]]) {
            const r = await t.api.get(invoices, { as: "alice", query: { ...WIDE, [k]: v } });
            expect(r.status, `${k}=${v}`).to.equal(400);
            expect(r.body.error.code).to.equal("InvalidQueryParameterValue");
        }
        const twice = await t.api.get(`${invoices}?top=1&$top=2`, { as: "alice", query: WIDE });
        expect(twice.status).to.equal(400);
        expect(twice.body.error.message).to.contain("given twice");
    });
});
