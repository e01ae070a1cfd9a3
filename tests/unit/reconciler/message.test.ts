import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import type { SendMailOptions } from "nodemailer";
import { CATALOGUE_DIR, Catalogue, FACT_KEYS, STATUS_KEYS, catalogues, readCatalogue } from "../../../provider/reconciler/message/catalogue";
import {
    addressed,
    buildMessage,
    cloudOf,
    formatDate,
    formatMoney,
    formatPeriod,
    invoiceMessage,
    invoicePortalUrl,
    localeOf,
    messageIdFor,
    messageLocale,
} from "../../../provider/reconciler/message";
import type { InvoiceFacts } from "../../../provider/reconciler/facts";
import { composeMime } from "../../support/mime";
import { cutAroundStuffing, prepareInvoice, rawFor } from "../../../provider/reconciler/message/encoded";

const FACTS: InvoiceFacts = {
    billingAccountName: "12345678",
    billingProfileName: "BP-1",
    billingProfileDisplayName: "Contoso <Ops> & Co",
    invoiceName: "G100000001",
    documentName: "G100000001",
    invoiceDate: "2024-06-01T17:32:28Z",
    dueDate: "2024-06-30T00:00:00Z",
    periodStartDate: "2024-05-01T00:00:00Z",
    periodEndDate: "2024-05-31T00:00:00Z",
    amountDue: { value: 1234.5, currency: "USD" },
    totalAmount: { value: 1357.95, currency: "USD" },
    taxAmount: { value: 123.45, currency: "USD" },
    status: "Due",
};
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.alloc(3000, 7), Buffer.from("\n%%EOF\n")]);
const NBSP = "\u00a0";
const FROM = "Contoso Billing <billing@contoso.com>";

const compose = composeMime;

/** nodemailer's SMTP DATA stream (line ends made CRLF, leading dots doubled): what a message's pieces become on the wire, chunk by chunk. */
async function onTheWire(pieces: readonly Buffer[]): Promise<Buffer[]> {
    const DataStream = require("nodemailer/lib/smtp-connection/data-stream") as new () => import("node:stream").Transform;
    const stream = new DataStream();
    const out: Buffer[] = [];
    stream.on("data", (c: Buffer) => out.push(c));
    const ended = new Promise((resolve) => stream.on("end", resolve));
    for (const p of pieces) stream.write(p);
    stream.end();
    await ended;
    return out;
}

async function parsed(options: SendMailOptions): Promise<ParsedMail> {
    return simpleParser(await compose(options));
}

/** A text part's value for a label: the rest of the line after `Label:` and the padding. */
function textValue(text: string | undefined, label: string): string | undefined {
    const line = (text ?? "").split("\n").find((l) => l.startsWith(`${label}:`));
    return line?.slice(label.length + 1).trim();
}

describe("reconciler message (pure)", () => {
    describe("messageIdFor", () => {
        const ref = { billingAccountName: "12345678", billingProfileName: "BP-1" };
        it("is the same for the same (profile, invoice, recipient), whatever the case", () => {
            const a = messageIdFor(ref, "G100000001", "ap@contoso.com");
            expect(a).to.match(/^<G100000001\.[0-9a-f]{32}@azure-email-invoicing\.invalid>$/);
            expect(messageIdFor({ billingAccountName: "12345678", billingProfileName: "bp-1" }, "g100000001", "AP@Contoso.com")).to.equal(a);
        });
        it("differs when any of the three differs", () => {
            const a = messageIdFor(ref, "G100000001", "ap@contoso.com");
            expect(messageIdFor(ref, "G100000001", "ar@contoso.com")).to.not.equal(a);
            expect(messageIdFor(ref, "G100000002", "ap@contoso.com")).to.not.equal(a);
            expect(messageIdFor({ ...ref, billingProfileName: "BP-2" }, "G100000001", "ap@contoso.com")).to.not.equal(a);
            expect(messageIdFor({ ...ref, billingAccountName: "12345679" }, "G100000001", "ap@contoso.com")).to.not.equal(a);
        });
    });

    describe("catalogues", () => {
        it("every catalogue has every key, no other, and each message exactly its placeholders", () => {
            const files = fs.readdirSync(CATALOGUE_DIR).filter((f) => f.endsWith(".json"));
            expect(files).to.include.members(["en.json", "sv.json"]);
            const en = JSON.parse(fs.readFileSync(path.join(CATALOGUE_DIR, "en.json"), "utf8")) as Record<string, unknown>;
            const keys = (o: Record<string, unknown>, prefix = ""): string[] =>
                Object.entries(o).flatMap(([k, v]) => (v && typeof v === "object" ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
            for (const f of files) {
                const raw = JSON.parse(fs.readFileSync(path.join(CATALOGUE_DIR, f), "utf8")) as Record<string, unknown>;
                const r = Catalogue.safeParse(raw);
                expect(r.success, `${f}: ${r.success ? "" : JSON.stringify(r.error.issues)}`).to.equal(true);
                expect(keys(raw).sort(), f).to.deep.equal(keys(en).sort());
                expect(Object.keys(raw.labels as object).sort()).to.deep.equal([...FACT_KEYS].sort());
                expect(Object.keys(raw.status as object).sort()).to.deep.equal([...STATUS_KEYS].sort());
            }
            expect([...catalogues().keys()]).to.include.members(["en", "sv"]);
        });

        it("refuses a catalogue with a missing key, an extra key or a lost placeholder, naming the file and the key", () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-catalogue-"));
            try {
                const en = JSON.parse(fs.readFileSync(path.join(CATALOGUE_DIR, "en.json"), "utf8")) as Record<string, unknown> & { labels: Record<string, string> };
                const cases: Array<[string, unknown, RegExp]> = [
                    ["missing.json", { ...en, labels: { ...en.labels, tax: undefined } }, /missing\.json: labels\.tax: /],
                    ["extra.json", { ...en, greeting: "Hi" }, /extra\.json: .*greeting/],
                    ["placeholder.json", { ...en, subject: "Azure invoice {invoice} for {profil}" }, /placeholder\.json: subject: must hold exactly the placeholders \{invoice\}, \{period\}, \{profile\}/],
                    ["empty.json", { ...en, heading: " " }, /empty\.json: heading: is empty/],
                ];
                for (const [name, content, error] of cases) {
                    const file = path.join(dir, name);
                    fs.writeFileSync(file, JSON.stringify(content));
                    expect(() => readCatalogue(file), name).to.throw(error);
                }
                fs.writeFileSync(path.join(dir, "broken.json"), "{");
                expect(() => readCatalogue(path.join(dir, "broken.json"))).to.throw(/broken\.json: not JSON/);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });

        it("serves a locale by its language's catalogue and refuses an unknown one with the languages there are", () => {
            const sv = messageLocale("sv-SE");
            expect(sv.ok && sv.locale.tag).to.equal("sv-SE");
            expect(sv.ok && sv.locale.catalogue.labels.invoiceNumber).to.equal("Fakturanummer");
            const gb = messageLocale("en-gb");
            expect(gb.ok && gb.locale.tag).to.equal("en-GB");
            expect(gb.ok && gb.locale.catalogue.labels.invoiceNumber).to.equal("Invoice number");
            const fr = messageLocale("fr-FR");
            expect(fr.ok).to.equal(false);
            expect(!fr.ok && fr.reason).to.match(/no message catalogue for 'fr-FR' \(languages: .*en.*sv/);
            const bad = messageLocale("english please");
            expect(!bad.ok && bad.reason).to.match(/'english please' is not a language tag/);
        });
    });

    describe("formats, by Intl per locale", () => {
        it("amounts with the ISO currency code and the currency's decimals", () => {
            expect(formatMoney("en-US", { value: 1234.5, currency: "USD" })).to.equal(`USD${NBSP}1,234.50`);
            expect(formatMoney("sv-SE", { value: 1234.5, currency: "USD" })).to.equal(`1${NBSP}234,50${NBSP}USD`);
            expect(formatMoney("sv-SE", { value: 1234.5, currency: "SEK" })).to.equal(`1${NBSP}234,50${NBSP}SEK`);
            expect(formatMoney("en-US", { value: 1234, currency: "JPY" })).to.equal(`JPY${NBSP}1,234`);
            expect(formatMoney("en-US", { value: 0, currency: "EUR" })).to.equal(`EUR${NBSP}0.00`);
            expect(formatMoney("en-US", { value: 3, currency: null })).to.equal("3.00");
            expect(formatMoney("en-US", { value: 3, currency: "US dollars" })).to.equal("3.00 US dollars");
            expect(formatMoney("en-US", null)).to.equal("—");
            expect(formatMoney("en-US", undefined)).to.equal("—");
        });

        it("dates as UTC calendar days, periods as ranges; a value that is not an ISO 8601 date is a dash", () => {
            expect(formatDate("en-US", "2024-06-01T17:32:28Z")).to.equal("June 1, 2024");
            expect(formatDate("sv-SE", "2024-06-01T23:59:59.9999999Z")).to.equal("1 juni 2024");
            expect(formatDate("en-GB", "2024-06-01")).to.equal("1 June 2024");
            expect(formatDate("en-US", "2026-02-30")).to.equal("—");
            expect(formatDate("en-US", null)).to.equal("—");
            expect(formatPeriod("en-US", "2024-05-01T00:00:00Z", "2024-05-31T23:59:59Z")).to.equal("May 1\u2009–\u200931, 2024");
            expect(formatPeriod("sv-SE", "2024-05-01T00:00:00Z", "2024-05-31T00:00:00Z")).to.equal("1–31 maj 2024");
            expect(formatPeriod("en-US", null, "2024-05-31")).to.equal("— – May 31, 2024");
        });

        it("writes a period the same way every time it is asked, per locale and per days, past the answers it keeps", () => {
            const expected = (locale: string, day: number) =>
                new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }).formatRange(new Date(Date.UTC(2024, 0, day)), new Date(Date.UTC(2024, 0, day + 30)));
            // More distinct periods than are kept, asked twice over, in two locales that write them differently.
            for (let round = 0; round < 2; round++) {
                for (let day = 1; day <= 4200; day += 1) {
                    const start = new Date(Date.UTC(2024, 0, day)).toISOString();
                    const end = new Date(Date.UTC(2024, 0, day + 30)).toISOString();
                    if (day % 700 === 1) {
                        expect(formatPeriod("en-US", start, end)).to.equal(expected("en-US", day));
                        expect(formatPeriod("sv-SE", start, end)).to.equal(expected("sv-SE", day));
                    } else formatPeriod("en-US", start, end);
                }
            }
            expect(formatPeriod("en-US", "2024-05-01", "2024-05-31")).to.equal("May 1\u2009–\u200931, 2024");
            expect(formatPeriod("sv-SE", "2024-05-01", "2024-05-31")).to.equal("1–31 maj 2024");
        });
    });

    describe("the portal link", () => {
        it("is known for the public cloud, Azure Government and Azure China, by the ARM host; none for the emulator or anything else", () => {
            expect(cloudOf("https://management.azure.com")).to.deep.equal({ name: "AzureCloud", portal: "https://portal.azure.com" });
            expect(cloudOf("https://MANAGEMENT.azure.com/")?.name).to.equal("AzureCloud");
            expect(cloudOf("https://management.usgovcloudapi.net")).to.deep.equal({ name: "AzureUSGovernment", portal: "https://portal.azure.us" });
            expect(cloudOf("https://management.chinacloudapi.cn")).to.deep.equal({ name: "AzureChinaCloud", portal: "https://portal.azure.cn" });
            for (const other of ["http://127.0.0.1:7071", "https://management.azure.com:8443", "https://arm-proxy.contoso.com", "http://management.azure.com", "https://management.microsoftazure.de", "not a url"]) {
                expect(cloudOf(other), other).to.equal(undefined);
            }
        });

        it("addresses the invoice's details page with its ARM id and billing period, each URL-encoded", () => {
            const cloud = cloudOf("https://management.usgovcloudapi.net")!;
            const url = invoicePortalUrl(cloud, { ...FACTS, billingAccountName: "a1:b2_2019-05-31", periodStartDate: "2024-05-01T00:00:00.0000000Z" });
            expect(url).to.equal(
                "https://portal.azure.us/#view/Microsoft_Azure_GTM/InvoiceDetailsBlade/invoiceId/G100000001" +
                    "/scopeId/%2Fproviders%2FMicrosoft.Billing%2FbillingAccounts%2Fa1%3Ab2_2019-05-31%2Finvoices%2FG100000001" +
                    "/invoicePeriodStartDate/2024-05-01T00%3A00%3A00.0000000Z/invoicePeriodEndDate/2024-05-31T00%3A00%3A00Z",
            );
            expect(invoicePortalUrl(cloud, { ...FACTS, periodEndDate: null })).to.equal("https://portal.azure.us/#view/Microsoft_Azure_GTM/ModernBillingMenuBlade/~/Invoices");
        });
    });

    describe("the message", () => {
        const cloud = cloudOf("https://management.azure.com");

        it("English: subject, headers, every fact in the text part, the PDF, the stable Message-ID, and no List-Unsubscribe", async () => {
            const messageId = messageIdFor(FACTS, FACTS.invoiceName, "ap@contoso.com");
            const m = await parsed(buildMessage({ invoice: FACTS, to: "ap@contoso.com", from: FROM, replyTo: "ap-team@contoso.com", messageId, pdf: PDF, cloud }));
            expect(m.messageId).to.equal(messageId);
            expect(m.subject).to.equal("Azure invoice G100000001 for Contoso <Ops> & Co (May 1\u2009–\u200931, 2024)");
            expect(m.from?.value[0].address).to.equal("billing@contoso.com");
            const to = Array.isArray(m.to) ? m.to[0] : m.to;
            expect(to?.value.map((v) => v.address)).to.deep.equal(["ap@contoso.com"]);
            expect(m.replyTo?.value.map((v) => v.address)).to.deep.equal(["ap-team@contoso.com"]);
            expect(m.headers.get("auto-submitted")).to.equal("auto-generated");
            expect(m.headers.get("x-auto-response-suppress")).to.equal("All");
            expect(m.headers.get("content-language")).to.equal("en-US");
            expect(m.headers.get("x-azure-invoice")).to.equal("G100000001");
            expect(m.headers.has("list-unsubscribe")).to.equal(false);
            expect(m.headers.has("precedence")).to.equal(false);

            const expected: Record<string, string> = {
                "Invoice number": "G100000001",
                "Billing profile": "Contoso <Ops> & Co (BP-1)",
                "Billing account": "12345678",
                "Billing period": "May 1\u2009–\u200931, 2024",
                "Invoice date": "June 1, 2024",
                "Due date": "June 30, 2024",
                "Total amount": `USD${NBSP}1,357.95`,
                Tax: `USD${NBSP}123.45`,
                "Amount due": `USD${NBSP}1,234.50`,
                Status: "Due",
            };
            for (const [label, value] of Object.entries(expected)) expect(textValue(m.text, label), label).to.equal(value);
            expect(m.text).to.include(invoicePortalUrl(cloud!, FACTS));
            expect(m.text).to.include("replies go to ap-team@contoso.com");

            const html = String(m.html);
            expect(html).to.include("Contoso &lt;Ops&gt; &amp; Co (BP-1)");
            expect(html).to.not.include("<Ops>");
            expect(html).to.include('<html lang="en-US">');
            expect(html).to.not.match(/<style|<link|<script|<img|url\(|@import/i);
            expect(html).to.include(`href="${invoicePortalUrl(cloud!, FACTS)}"`);

            expect(m.attachments).to.have.length(1);
            expect(m.attachments[0].filename).to.equal("G100000001.pdf");
            expect(m.attachments[0].contentType).to.equal("application/pdf");
            expect(Buffer.compare(m.attachments[0].content, PDF)).to.equal(0);
        });

        it("Swedish: the portal's words, Swedish dates and amounts, and Content-Language sv-SE", async () => {
            const m = await parsed(buildMessage({ invoice: { ...FACTS, status: "OverDue" }, to: "ap@contoso.com", from: FROM, messageId: "<x@y>", pdf: PDF, cloud, locale: localeOf("sv-SE") }));
            expect(m.subject).to.equal("Azure-faktura G100000001 för Contoso <Ops> & Co (1–31 maj 2024)");
            expect(m.headers.get("content-language")).to.equal("sv-SE");
            expect(m.headers.get("x-auto-response-suppress")).to.equal("All");
            expect(m.replyTo).to.equal(undefined);
            const expected: Record<string, string> = {
                Fakturanummer: "G100000001",
                Faktureringsprofil: "Contoso <Ops> & Co (BP-1)",
                Faktureringskonto: "12345678",
                Faktureringsperiod: "1–31 maj 2024",
                Fakturadatum: "1 juni 2024",
                Förfallodatum: "30 juni 2024",
                Totalbelopp: `1${NBSP}357,95${NBSP}USD`,
                Moms: `123,45${NBSP}USD`,
                "Att betala": `1${NBSP}234,50${NBSP}USD`,
                Status: "Förfallen",
            };
            for (const [label, value] of Object.entries(expected)) expect(textValue(m.text, label), label).to.equal(value);
            expect(m.text).to.include("Visa fakturan i Azure-portalen:");
            expect(m.text).to.include("anmäld till e-postfaktura");
            expect(String(m.html)).to.include('<html lang="sv-SE">').and.include("Förfallen sedan 30 juni 2024");
        });

        it("a paid invoice leads with its total and says it is paid; an older plan shows only what it stored", async () => {
            const paid = invoiceMessage({ invoice: { ...FACTS, status: "Paid", amountDue: { value: 0, currency: "USD" } }, from: FROM, pdf: PDF });
            expect(String(paid.html)).to.match(/data-hero="amount"[^>]*>USD&nbsp;1,357\.95<|data-hero="amount"[^>]*>USD\u00a01,357\.95</);
            expect(String(paid.html)).to.include("Paid. Nothing is due.");
            expect(textValue(String(paid.text), "Status")).to.equal("Paid");

            const { totalAmount: _t, taxAmount: _x, ...older } = FACTS;
            const old = invoiceMessage({ invoice: { ...older, status: null }, from: FROM, pdf: PDF });
            const text = String(old.text);
            expect(textValue(text, "Total amount")).to.equal(undefined);
            expect(textValue(text, "Tax")).to.equal(undefined);
            expect(textValue(text, "Amount due")).to.equal(`USD${NBSP}1,234.50`);
            expect(textValue(text, "Status")).to.equal("—");
            expect(String(old.html)).to.not.include("data-status=");
            // No cloud (the emulator): no link.
            expect(text).to.not.include("portal.azure");
            expect(String(old.html)).to.not.include("href=");

            const unknownStatus = invoiceMessage({ invoice: { ...FACTS, status: "Disputed" }, from: FROM, pdf: PDF });
            expect(textValue(String(unknownStatus.text), "Status")).to.equal("Disputed");
        });

        it("differs between the recipients of an invoice only in To and Message-ID", () => {
            const settings = { invoice: FACTS, from: FROM, replyTo: "ap-team@contoso.com", pdf: PDF, cloud, locale: localeOf("sv-SE") };
            const a = buildMessage({ ...settings, to: "a@contoso.com", messageId: "<a@x>" });
            const b = buildMessage({ ...settings, to: "b@contoso.com", messageId: "<b@x>" });
            const { to: ta, messageId: ma, ...restA } = a;
            const { to: tb, messageId: mb, ...restB } = b;
            expect([ta, ma]).to.deep.equal(["a@contoso.com", "<a@x>"]);
            expect([tb, mb]).to.deep.equal(["b@contoso.com", "<b@x>"]);
            expect(restA).to.deep.equal(restB);
            const shared = invoiceMessage(settings);
            expect(addressed(shared, "a@contoso.com", "<a@x>")).to.deep.equal(a);
            expect(Object.keys(shared)).to.not.include.members(["to", "messageId", "date"]);
        });

        it("prepared once per invoice, each recipient's raw message is byte for byte what nodemailer composes, with the envelope it derives", async () => {
            const pdf = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.from(Array.from({ length: 100 * 1024 }, (_, i) => (i * 7919) % 256)), Buffer.from("\n%%EOF\n")]);
            const settings = { invoice: { ...FACTS, billingProfileDisplayName: "Contoso Åtgärd ".repeat(8) }, from: FROM, replyTo: "ap-team@contoso.com", pdf, cloud, locale: localeOf("sv-SE") };
            const prepared = await prepareInvoice(invoiceMessage(settings), "0123456789abcdef");
            const date = new Date("2024-06-02T08:00:00Z");
            for (const [to, messageId] of [["a@contoso.com", "<a@x>"], ["Örjan.Öst@contoso.com", "<b@x>"], ["ap@xn--rksmrgs-5wao1o.se", "<c@x>"]]) {
                const plain = await compose({ ...buildMessage({ ...settings, to, messageId }), baseBoundary: "0123456789abcdef", date } as SendMailOptions);
                const raw = rawFor(prepared, to, messageId, date);
                const bytes = Buffer.concat([raw.head, ...raw.body]);
                expect(bytes.equals(plain), `${to}: the same bytes`).to.equal(true);
                expect(raw.envelope).to.deep.equal({ from: "billing@contoso.com", to: [to] });
                const m = await simpleParser(bytes);
                expect(m.attachments[0].content.equals(pdf)).to.equal(true);
                expect(m.messageId).to.equal(messageId);
                expect(m.date?.toISOString()).to.equal(date.toISOString());
            }
            // Without a date, each message is dated when it is composed, as nodemailer dates it.
            const before = Date.now() - 1000;
            const r = rawFor(prepared, "a@contoso.com", "<a@x>");
            const undated = await simpleParser(Buffer.concat([r.head, ...r.body]));
            expect(undated.date!.getTime()).to.be.within(before, Date.now() + 1000);
            // The body is one piece of memory for every recipient: the PDF is encoded once.
            expect(r.body).to.equal(rawFor(prepared, "b@contoso.com", "<b@x>").body);
            expect(Buffer.concat(r.body).length).to.be.greaterThan(pdf.length);
        });

        it("cuts the shared body so that nodemailer's DATA stream copies only the small pieces it changes: the PDF's lines go to the socket as they are, the same bytes on the wire", async () => {
            const pdf = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.from(Array.from({ length: 100 * 1024 }, (_, i) => (i * 7919) % 256)), Buffer.from("\n%%EOF\n")]);
            const settings = { invoice: FACTS, from: FROM, pdf, cloud, locale: localeOf("en-US") };
            const prepared = await prepareInvoice(invoiceMessage(settings), "0123456789abcdef");
            const date = new Date("2024-06-02T08:00:00Z");
            const raw = rawFor(prepared, "ap@contoso.com", "<a@x>", date);
            const plain = await compose({ ...buildMessage({ ...settings, to: "ap@contoso.com", messageId: "<a@x>" }), baseBoundary: "0123456789abcdef", date } as SendMailOptions);
            const pieces = [raw.head, ...raw.body];
            const ours = await onTheWire(pieces);
            const theirs = Buffer.concat(await onTheWire([plain]));
            expect(Buffer.concat(ours).equals(theirs), "the same bytes on the wire").to.equal(true);
            // The composer's HTML part has bare LF line breaks: the stream has something to change.
            expect(theirs.length).to.be.greaterThan(plain.length);
            // The largest piece holds the PDF's base64 and is passed on as it is (the same memory, not a copy).
            const largest = raw.body.reduce((a, b) => (b.length > a.length ? b : a));
            expect(largest.length).to.be.greaterThan(pdf.length);
            expect(ours.includes(largest), "the PDF's piece is not copied").to.equal(true);
            // Every piece the stream had to copy is small (the text and HTML parts).
            for (const p of pieces) if (!ours.includes(p)) expect(p.length).to.be.lessThan(16 * 1024);
        });

        it("cuts around every spot the DATA stream changes, across piece boundaries too, and never changes a byte", async () => {
            const clean = Buffer.from(Array.from({ length: 2000 }, (_, i) => `${"QUJD".repeat(19)}${i % 10}\r\n`).join(""));
            const cases: Array<{ name: string; pieces: Buffer[]; before: number }> = [
                { name: "bare LF and a leading dot before clean lines", pieces: [Buffer.concat([Buffer.from("a\nb\n.c\r\n"), clean])], before: 0x0a },
                { name: "a bare CR at the end of a piece, a dot first in the next", pieces: [Buffer.concat([clean, Buffer.from("x\r")]), Buffer.concat([Buffer.from(".y\r\n"), clean])], before: 0x0a },
                { name: "a CR at the end of a piece whose LF starts the next", pieces: [Buffer.concat([clean, Buffer.from("x\r")]), Buffer.concat([Buffer.from("\n"), clean])], before: 0x0a },
                { name: "a piece starting with a dot after the header block", pieces: [Buffer.concat([Buffer.from(".z\r\n"), clean])], before: 0x0a },
                { name: "spots far apart in one piece", pieces: [Buffer.concat([clean, Buffer.from("\n"), clean, Buffer.from("\r\n."), clean])], before: 0x0a },
                { name: "a CRLF split between pieces, a dot after it", pieces: [Buffer.concat([clean, Buffer.from("x\r")]), Buffer.concat([Buffer.from("\n.w\r\n"), clean])], before: 0x0a },
                { name: "nothing to change", pieces: [clean, clean], before: 0x0a },
            ];
            for (const { name, pieces, before } of cases) {
                const cut = cutAroundStuffing(pieces, before);
                expect(Buffer.concat(cut).equals(Buffer.concat(pieces)), `${name}: the same bytes`).to.equal(true);
                const lead = [Buffer.from([before])];
                const wire = await onTheWire([...lead, ...cut]);
                expect(Buffer.concat(wire).equals(Buffer.concat(await onTheWire([...lead, ...pieces]))), `${name}: the same on the wire`).to.equal(true);
                // What the stream copies is small; clean stretches go through as they are.
                const copied = cut.filter((p) => !wire.includes(p));
                for (const p of copied) expect(p.length, `${name}: a copied piece`).to.be.lessThan(64);
                expect(cut.filter((p) => wire.includes(p)).reduce((n, p) => n + p.length, 0), `${name}: bytes passed on as they are`).to.be.greaterThan(Buffer.concat(pieces).length - 64);
            }
        });

        it("keeps header values on one line whatever Azure returns", async () => {
            const facts = { ...FACTS, billingProfileDisplayName: "Evil\r\nBcc: someone@example.com" };
            const raw = (await compose(buildMessage({ invoice: facts, to: "ap@contoso.com", from: "billing@contoso.com", messageId: "<x@y>", pdf: PDF }))).toString("latin1");
            expect(raw.split("\r\n\r\n")[0]).to.not.match(/^Bcc:/im);
            const m = await simpleParser(raw);
            expect(m.subject).to.equal("Azure invoice G100000001 for Evil Bcc: someone@example.com (May 1\u2009–\u200931, 2024)");
        });

        it("shows a dash for a date that is not an ISO 8601 date, never a day Date.parse made up, and for facts Azure did not give", () => {
            const options = buildMessage({
                invoice: { ...FACTS, invoiceDate: "Invoice 7", dueDate: "2026-02-30", periodStartDate: "2026-02-30T00:00:00Z", amountDue: null },
                to: "ap@contoso.com",
                from: "billing@contoso.com",
                messageId: "<x@y>",
                pdf: PDF,
            });
            const text = String(options.text);
            expect(textValue(text, "Invoice date")).to.equal("—");
            expect(textValue(text, "Due date")).to.equal("—");
            expect(textValue(text, "Amount due")).to.equal("—");
            expect(String(options.html)).to.not.match(/2001|March 2, 2026|Invoice 7/);
            expect(options.subject).to.equal("Azure invoice G100000001 for Contoso <Ops> & Co (— – May 31, 2024)");
        });
    });
});
