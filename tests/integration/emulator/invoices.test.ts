/**
 * The emulator over real HTTP (port 0). Invoices (the seed, date filters, get)
 * and their download: 202 + Location, SAS-like links, PDF bytes and padding,
 * tampering refused. Each describe block starts its own emulator and makes its
 * own requests, so any one runs alone with --grep.
 */
import { expect } from "chai";
import { PDFDocument } from "pdf-lib";
import { INVOICE_NAME_PATTERN } from "../../../provider/billing/names";
import { startEmulator, type SeedUserKey } from "../../../emulator";
import { renderInvoicePdf } from "../../../emulator/pdf";
import { BA_PATH, BP_PATH, EmulatorHttp, MCA, OPS, PARTNER, RESEARCH, pollToCompletion } from "../support/emulator-http";
import { NOW, WIDE, suite } from "./suite";

describe("emulator: invoices", () => {
    const t = suite();

    it("seeds three monthly invoices per profile, dated from the clock", async () => {
        for (const [ref, who] of [
            [OPS, "alice"],
            [RESEARCH, "dave"],
            [PARTNER, "rupert"],
        ] as const) {
            const r = await t.api.get(`${BP_PATH(ref)}/invoices`, { as: who, query: WIDE });
            const list = r.body.value as Array<{ id: string; name: string; properties: any }>;
            expect(list.map((i) => i.properties.invoiceDate)).to.deep.equal(["2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"]);
            expect(list.map((i) => i.properties.invoicePeriodStartDate)).to.deep.equal(["2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"]);
            expect(list.map((i) => i.properties.invoicePeriodEndDate)).to.deep.equal(["2024-12-31T00:00:00Z", "2025-01-31T00:00:00Z", "2025-02-28T00:00:00Z"]);
            expect(list.map((i) => i.properties.dueDate)).to.deep.equal(["2025-01-31T00:00:00Z", "2025-03-03T00:00:00Z", "2025-03-31T00:00:00Z"]);
            for (const i of list) {
                expect(i.name).to.match(/^G\d{9}$/).and.match(INVOICE_NAME_PATTERN);
                expect(i.id).to.equal(`${BA_PATH(ref.billingAccountName)}/invoices/${i.name}`);
                expect(i.properties.documents).to.have.length(1);
                expect(i.properties.documents[0].kind).to.equal("Invoice");
                expect(i.properties.documents[0].name).to.match(/^\d{8}$/);
                expect(i.properties.billingProfileId).to.equal(BP_PATH(ref));
                expect(i.properties.billingProfileDisplayName).to.equal(ref.displayName);
                expect(i.properties.totalAmount.value).to.be.above(0);
            }
            expect(list[2].properties.status).to.equal("Due");
            expect(list[2].properties.amountDue.value).to.equal(list[2].properties.totalAmount.value);
        }
        const partner = (await t.api.get(`${BP_PATH(PARTNER)}/invoices`, { as: "rupert", query: WIDE })).body.value;
        expect(partner[0].properties.totalAmount.currency).to.equal("EUR");
    });

    it("gives the same invoices (names, amounts) for the same clock", async () => {
        const other = await startEmulator({ now: () => NOW });
        try {
            const a = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body;
            const b = (await new EmulatorHttp(other.url).get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body;
            // Document links are on the origin each emulator was asked on; the rest is byte for byte the same.
            expect(JSON.parse(JSON.stringify(b).split(other.url).join(t.emu.url))).to.deep.equal(a);
        } finally {
            await other.close();
        }
    });

    it("filters by invoice date, inclusive at both ends", async () => {
        const list = async (periodStartDate: string, periodEndDate: string) =>
            (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodStartDate, periodEndDate } })).body.value.map(
                (i: { properties: { invoiceDate: string } }) => i.properties.invoiceDate.slice(0, 10),
            );
        expect(await list("2025-02-01", "2025-03-01")).to.deep.equal(["2025-02-01", "2025-03-01"]);
        expect(await list("2025-02-02", "2025-02-28")).to.deep.equal([]);
        expect(await list("2025-01-01", "2025-01-01")).to.deep.equal(["2025-01-01"]);
    });

    it("takes periodStartDate and periodEndDate as optional, as 2024-04-01 does: a missing one leaves that side unbounded", async () => {
        const days = async (query: Record<string, string>) => {
            const r = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query });
            expect(r.status, r.text).to.equal(200);
            return r.body.value.map((i: { properties: { invoiceDate: string } }) => i.properties.invoiceDate.slice(0, 10));
        };
        expect(await days({})).to.deep.equal(["2025-01-01", "2025-02-01", "2025-03-01"]);
        expect(await days({ periodStartDate: "2025-02-01" })).to.deep.equal(["2025-02-01", "2025-03-01"]);
        expect(await days({ periodEndDate: "2025-02-01" })).to.deep.equal(["2025-01-01", "2025-02-01"]);
    });

    it("refuses dates that are not YYYY-MM-DD, and a start after the end", async () => {
        const notADate = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodEndDate: "03-01-2025" } });
        expect(notADate.status).to.equal(400);
        expect(notADate.body.error.target).to.equal("periodEndDate");
        const bad = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodStartDate: "2025-02-30", periodEndDate: "2025-03-01" } });
        expect(bad.status).to.equal(400);
        const reversed = await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: { periodStartDate: "2025-03-01", periodEndDate: "2025-01-01" } });
        expect(reversed.status).to.equal(400);
    });

    it("gets one invoice by account and name; 404 for an unknown one", async () => {
        const first = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0];
        const r = await t.api.get(`${BA_PATH(MCA)}/invoices/${first.name}`, { as: "bob" });
        expect(r.status).to.equal(200);
        expect(r.body).to.deep.equal(first);
        expect((await t.api.get(`${BA_PATH(MCA)}/invoices/G999999999`, { as: "grace" })).status).to.equal(404);
        // An invoice of the MPA account is not found under the MCA account.
        const mpaInvoice = (await t.api.get(`${BP_PATH(PARTNER)}/invoices`, { as: "rupert", query: WIDE })).body.value[0];
        expect((await t.api.get(`${BA_PATH(MCA)}/invoices/${mpaInvoice.name}`, { as: "grace" })).status).to.equal(404);
    });
});

describe("emulator: invoice download", () => {
    let clock = NOW;
    const t = suite({ now: () => clock });
    let invoice: { name: string; properties: any };

    before(async () => {
        invoice = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[2];
    });
    afterEach(() => {
        clock = NOW;
    });

    async function downloadLink(who: SeedUserKey = "carol"): Promise<{ url: string; expiryTime: string }> {
        const accepted = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: who });
        expect(accepted.status, accepted.text).to.equal(202);
        const location = accepted.headers.get("location") as string;
        expect(accepted.headers.get("retry-after")).to.equal("0");
        expect(location.startsWith(`${t.emu.url}${BA_PATH(MCA)}/invoices/${invoice.name}/operationResults/invoiceDownload_`)).to.equal(true);
        expect(location.endsWith("?api-version=2024-04-01")).to.equal(true);
        const { answer, polls } = await pollToCompletion(t.api, location, who);
        expect(polls, "pending for one poll, then done").to.equal(2);
        expect(answer.status).to.equal(200);
        return answer.body;
    }

    it("answers 202 + Location, then a SAS-like link that serves the invoice PDF without a token", async () => {
        const link = await downloadLink();
        expect(link.url.startsWith(`${t.emu.url}/_blob/invoices/${invoice.name}/`)).to.equal(true);
        expect(link.url).to.match(/[?&]se=[^&]+&sig=[^&]+$/);
        expect(link.expiryTime).to.equal("2025-03-15T11:00:00Z");
        const pdf = await t.api.raw(link.url);
        expect(pdf.status).to.equal(200);
        expect(pdf.headers.get("content-type")).to.equal("application/pdf");
        expect(pdf.bytes.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
        const doc = await PDFDocument.load(pdf.bytes, { updateMetadata: false });
        expect(doc.getPageCount()).to.equal(1);
        expect(doc.getTitle()).to.equal(`Invoice ${invoice.name}`);
        const subject = doc.getSubject() ?? "";
        expect(subject).to.contain(invoice.name);
        expect(subject).to.contain(OPS.displayName);
        expect(subject).to.contain("2025-02-01 to 2025-02-28");
        expect(subject).to.contain(`USD ${invoice.properties.amountDue.value.toFixed(2)}`);
        expect(doc.getCreationDate()?.toISOString()).to.equal("2025-03-01T00:00:00.000Z");
        const again = await t.api.raw(link.url);
        expect(Buffer.compare(again.bytes, pdf.bytes)).to.equal(0);
    });

    it("pads PDFs to pdfPaddingBytes: still a valid PDF, at least that large, the same bytes every time", async () => {
        const plain = await t.api.raw((await downloadLink()).url);
        const requested = 100 * 1024;
        await t.api.admin("POST", "/settings", { pdfPaddingBytes: requested });
        try {
            const link = await downloadLink();
            const padded = await t.api.raw(link.url);
            expect(padded.status).to.equal(200);
            expect(padded.bytes.length).to.be.at.least(requested).and.below(requested + 2048);
            expect(padded.bytes.subarray(0, 5).toString("latin1")).to.equal("%PDF-");
            expect(padded.bytes.subarray(-6).toString("latin1")).to.match(/%%EOF\s*$/);
            const doc = await PDFDocument.load(padded.bytes, { updateMetadata: false });
            expect(doc.getPageCount()).to.equal(1);
            expect(doc.getTitle()).to.equal(`Invoice ${invoice.name}`);
            expect(doc.getSubject()).to.contain(invoice.name);
            const again = await t.api.raw(link.url);
            expect(Buffer.compare(again.bytes, padded.bytes), "the same bytes twice").to.equal(0);
            // Rendered afresh (not the cache), the same bytes again.
            const record = (await t.api.admin("GET", "/state")).invoices.find((i: { name: string }) => i.name === invoice.name);
            const rendered = Buffer.from(await renderInvoicePdf(record, invoice.properties.documents[0].name, { paddingBytes: requested }));
            expect(Buffer.compare(rendered, padded.bytes), "rendering is deterministic").to.equal(0);
            // Smaller than the plain PDF: nothing to add.
            await t.api.admin("POST", "/settings", { pdfPaddingBytes: 100 });
            expect(Buffer.compare((await t.api.raw((await downloadLink()).url)).bytes, plain.bytes)).to.equal(0);
        } finally {
            await t.api.admin("POST", "/settings", { pdfPaddingBytes: 0 });
        }
        expect(Buffer.compare((await t.api.raw((await downloadLink()).url)).bytes, plain.bytes)).to.equal(0);
    });

    it("pads from start-up settings too", async () => {
        const emu = await startEmulator({ now: () => NOW, settings: { retryAfterSeconds: 0, pendingPolls: 0, pdfPaddingBytes: 20000 } });
        try {
            const api = new EmulatorHttp(emu.url);
            const accepted = await api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "alice" });
            const link = (await api.get(accepted.headers.get("location") as string, { as: "alice" })).body;
            const pdf = await api.raw(link.url);
            expect(pdf.bytes.length).to.be.at.least(20000);
            expect((await PDFDocument.load(pdf.bytes, { updateMetadata: false })).getTitle()).to.equal(`Invoice ${invoice.name}`);
        } finally {
            await emu.close();
        }
    });

    it("renders the same bytes for the same invoice", async () => {
        const state = await t.api.admin("GET", "/state");
        const record = state.invoices.find((i: { name: string }) => i.name === invoice.name);
        const a = Buffer.from(await renderInvoicePdf(record, invoice.properties.documents[0].name));
        const b = Buffer.from(await renderInvoicePdf(record, invoice.properties.documents[0].name));
        expect(Buffer.compare(a, b)).to.equal(0);
        const other = state.invoices.find((i: { name: string }) => i.name !== invoice.name);
        const c = Buffer.from(await renderInvoicePdf(other, other.properties.documents[0].name));
        expect(Buffer.compare(a, c)).to.not.equal(0);
    });

    it("refuses a tampered signature, a link moved to another invoice, and an expired link", async () => {
        const link = await downloadLink();
        const url = new URL(link.url);
        const sig = url.searchParams.get("sig") as string;
        const tampered = new URL(link.url);
        tampered.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
        const r1 = await t.api.raw(tampered.toString());
        expect(r1.status).to.equal(403);
        expect(r1.bytes.toString()).to.contain("<Code>AuthenticationFailed</Code>");
        const moved = new URL(link.url);
        const other = (await t.api.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value[0];
        moved.pathname = moved.pathname.replace(invoice.name, other.name).replace(invoice.properties.documents[0].name, other.properties.documents[0].name);
        expect((await t.api.raw(moved.toString())).status).to.equal(403);
        const longer = new URL(link.url);
        longer.searchParams.set("se", "2099-01-01T00:00:00Z");
        expect((await t.api.raw(longer.toString())).status).to.equal(403);
        const unsigned = new URL(link.url);
        unsigned.search = "";
        expect((await t.api.raw(unsigned.toString())).status).to.equal(403);
        clock = new Date(NOW.getTime() + 2 * 60 * 60 * 1000);
        const expired = await t.api.raw(link.url);
        expect(expired.status).to.equal(403);
        expect(expired.bytes.toString()).to.contain("time frame");
    });

    it("answers a bare DocumentNotFound for an unknown documentName", async () => {
        const r = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "carol", query: { documentName: "99999999" } });
        expect(r.status).to.equal(404);
        expect(r.body).to.have.all.keys("code", "message");
        expect(r.body.code).to.equal("DocumentNotFound");
        const named = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, {
            as: "carol",
            query: { documentName: invoice.properties.documents[0].name },
        });
        expect(named.status).to.equal(202);
    });

    it("keeps the link result stable on later polls and 404s an unknown operation", async () => {
        const accepted = await t.api.post(`${BA_PATH(MCA)}/invoices/${invoice.name}/download`, { as: "alice" });
        const location = accepted.headers.get("location") as string;
        const done = (await pollToCompletion(t.api, location, "alice")).answer.body;
        const later = await t.api.get(location, { as: "alice" });
        expect(later.status).to.equal(200);
        expect(later.body).to.deep.equal(done);
        const unknown = await t.api.get(location.replace(/invoiceDownload_[^?]+/, "invoiceDownload_00000000-0000-4000-8000-000000000000"), { as: "alice" });
        expect(unknown.status).to.equal(404);
        expect((await t.api.get(location, { token: null })).status).to.equal(401);
    });
});
