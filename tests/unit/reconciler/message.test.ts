import { expect } from "chai";
import { simpleParser } from "mailparser";
import type { SendMailOptions } from "nodemailer";
import { buildMessage, formatAmount, messageIdFor, subjectFor } from "../../../provider/reconciler/message";
import type { InvoiceFacts } from "../../../provider/reconciler/facts";

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
    status: "Due",
};
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.alloc(3000, 7), Buffer.from("\n%%EOF\n")]);

/** Composes the options into MIME exactly as nodemailer will send them. */
function compose(options: SendMailOptions): Promise<Buffer> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const MailComposer = require("nodemailer/lib/mail-composer") as new (o: SendMailOptions) => { compile(): { build(cb: (err: Error | null, b: Buffer) => void): void } };
    return new Promise((resolve, reject) => new MailComposer(options).compile().build((err, b) => (err ? reject(err) : resolve(b))));
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

    it("formats amounts with the currency's decimals", () => {
        expect(formatAmount({ value: 1234.5, currency: "USD" })).to.equal("USD 1,234.50");
        expect(formatAmount({ value: 1234, currency: "JPY" })).to.equal("JPY 1,234");
        expect(formatAmount({ value: 3, currency: null })).to.equal("3.00");
        expect(formatAmount(null)).to.equal("—");
    });

    it("builds a MIME message with the subject, both parts, the PDF and the stable Message-ID", async () => {
        const messageId = messageIdFor(FACTS, FACTS.invoiceName, "ap@contoso.com");
        const options = buildMessage({ invoice: FACTS, to: "ap@contoso.com", from: "Contoso Billing <billing@contoso.com>", messageId, pdf: PDF });
        const parsed = await simpleParser(await compose(options));
        expect(parsed.messageId).to.equal(messageId);
        expect(parsed.subject).to.equal("Azure invoice G100000001 for Contoso <Ops> & Co (2024-05-01 to 2024-05-31)");
        expect(parsed.subject).to.equal(subjectFor(FACTS));
        expect(parsed.from?.value[0].address).to.equal("billing@contoso.com");
        const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
        expect(to?.value.map((v) => v.address)).to.deep.equal(["ap@contoso.com"]);
        expect(parsed.headers.get("auto-submitted")).to.equal("auto-generated");
        expect(parsed.headers.get("x-azure-invoice")).to.equal("G100000001");

        for (const field of ["G100000001", "Contoso <Ops> & Co (BP-1)", "2024-05-01 to 2024-05-31", "Invoice date:", "2024-06-01", "Due date:", "2024-06-30", "Amount due:", "USD 1,234.50"]) {
            expect(parsed.text, field).to.include(field);
        }
        const html = String(parsed.html);
        expect(html).to.include("Contoso &lt;Ops&gt; &amp; Co (BP-1)");
        expect(html).to.not.include("<Ops>");
        for (const field of ["G100000001", "2024-05-01 to 2024-05-31", "2024-06-01", "2024-06-30", "USD 1,234.50"]) expect(html, field).to.include(field);

        expect(parsed.attachments).to.have.length(1);
        expect(parsed.attachments[0].filename).to.equal("G100000001.pdf");
        expect(parsed.attachments[0].contentType).to.equal("application/pdf");
        expect(Buffer.compare(parsed.attachments[0].content, PDF)).to.equal(0);
    });

    it("keeps header values on one line whatever Azure returns", async () => {
        const facts = { ...FACTS, billingProfileDisplayName: "Evil\r\nBcc: someone@example.com" };
        const options = buildMessage({ invoice: facts, to: "ap@contoso.com", from: "billing@contoso.com", messageId: "<x@y>", pdf: PDF });
        const raw = (await compose(options)).toString("latin1");
        expect(raw).to.not.match(/^Bcc:/im);
        expect(options.subject).to.equal("Azure invoice G100000001 for Evil Bcc: someone@example.com (2024-05-01 to 2024-05-31)");
    });

    it("shows a dash for a date that is not an ISO 8601 date, never a day Date.parse made up", () => {
        const options = buildMessage({
            invoice: { ...FACTS, invoiceDate: "Invoice 7", dueDate: "2026-02-30", periodStartDate: "2026-02-30T00:00:00Z" },
            to: "ap@contoso.com",
            from: "billing@contoso.com",
            messageId: "<x@y>",
            pdf: PDF,
        });
        expect(String(options.text)).to.match(/Invoice date:\s+—/).and.match(/Due date:\s+—/);
        expect(String(options.html)).to.not.match(/2001|2026-03-02|Invoice 7/);
        expect(options.subject).to.equal("Azure invoice G100000001 for Contoso <Ops> & Co (— to 2024-05-31)");
    });

    it("shows a dash for facts Azure did not give", () => {
        const options = buildMessage({
            invoice: { ...FACTS, dueDate: null, amountDue: null, periodStartDate: null, periodEndDate: null, billingProfileDisplayName: null },
            to: "ap@contoso.com",
            from: "billing@contoso.com",
            messageId: "<x@y>",
            pdf: PDF,
        });
        expect(options.subject).to.equal("Azure invoice G100000001 for BP-1 (— to —)");
        expect(String(options.text)).to.match(/Due date:\s+—/);
    });
});
