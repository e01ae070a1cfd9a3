/**
 * The invoice email as a person sees it: the HTML part of the composed MIME
 * message (composed by nodemailer, read back by mailparser, as a mail client
 * receives it), rendered by headless Chromium at a phone's width (375 px) and
 * a desktop client's (800 px), in English and Swedish, for a due, a paid and
 * a past-due invoice. A missing Chromium fails these tests.
 */
import { expect } from "chai";
import { simpleParser } from "mailparser";
import type { SendMailOptions } from "nodemailer";
import type { InvoiceFacts } from "../../../provider/reconciler/facts";
import { buildMessage, cloudOf, localeOf } from "../../../provider/reconciler/message";
import { composeMime } from "../../support/mime";
import { TestBrowser, attributeOf, countOf, layoutOf, linksOf, visibleText } from "../../support/chromium";

const ACCOUNT = "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31";
const FACTS: InvoiceFacts = {
    billingAccountName: ACCOUNT,
    billingProfileName: "K7QM-4T2X-BG7-PGB",
    billingProfileDisplayName: "Contoso Operations Billing",
    invoiceName: "G100000001",
    documentName: "G100000001",
    invoiceDate: "2024-06-01T17:32:28Z",
    dueDate: "2024-06-30T00:00:00Z",
    periodStartDate: "2024-05-01T00:00:00.0000000Z",
    periodEndDate: "2024-05-31T23:59:59.9999999Z",
    amountDue: { value: 1234.5, currency: "USD" },
    totalAmount: { value: 1357.95, currency: "USD" },
    taxAmount: { value: 123.45, currency: "USD" },
    status: "Due",
};
const PDF = Buffer.from("%PDF-1.7\n%%EOF\n");
const SCOPE_ID = encodeURIComponent(`/providers/Microsoft.Billing/billingAccounts/${ACCOUNT}/invoices/G100000001`);
const DETAILS = `/#view/Microsoft_Azure_GTM/InvoiceDetailsBlade/invoiceId/G100000001/scopeId/${SCOPE_ID}/invoicePeriodStartDate/2024-05-01T00%3A00%3A00.0000000Z/invoicePeriodEndDate/2024-05-31T23%3A59%3A59.9999999Z`;

/** What a reader must find on the page, per locale and status: labels and values as that locale writes them. */
const EXPECTED: Record<string, { button: string; facts: (status: string) => string[] }> = {
    "en-US": {
        button: "View invoice in the Azure portal",
        facts: (status) => [
            "Invoice G100000001",
            "Invoice number", "G100000001",
            "Billing profile", "Contoso Operations Billing (K7QM-4T2X-BG7-PGB)",
            "Billing account", ACCOUNT,
            "Billing period", "May 1 – 31, 2024",
            "Invoice date", "June 1, 2024",
            "Due date", "June 30, 2024",
            "Total amount", "USD 1,357.95",
            "Tax", "USD 123.45",
            "Amount due", status === "Paid" ? "USD 0.00" : "USD 1,234.50",
            "Status", { Due: "Due", Paid: "Paid", OverDue: "Past due" }[status]!,
            "G100000001.pdf",
        ],
    },
    "sv-SE": {
        button: "Visa fakturan i Azure-portalen",
        facts: (status) => [
            "Faktura G100000001",
            "Fakturanummer", "G100000001",
            "Faktureringsprofil", "Contoso Operations Billing (K7QM-4T2X-BG7-PGB)",
            "Faktureringskonto", ACCOUNT,
            "Faktureringsperiod", "1–31 maj 2024",
            "Fakturadatum", "1 juni 2024",
            "Förfallodatum", "30 juni 2024",
            "Totalbelopp", "1 357,95 USD",
            "Moms", "123,45 USD",
            "Att betala", status === "Paid" ? "0,00 USD" : "1 234,50 USD",
            "Status", { Due: "Obetald", Paid: "Betald", OverDue: "Förfallen" }[status]!,
            "G100000001.pdf",
        ],
    },
};

/** Composes the options as nodemailer sends them and reads the HTML part back as a mail client does. */
async function receivedHtml(options: SendMailOptions): Promise<string> {
    const raw = await composeMime(options);
    const html = (await simpleParser(raw)).html;
    if (typeof html !== "string") throw new Error("the message has no HTML part");
    return html;
}

/** Text as a reader compares it: every run of white space (no-break and thin spaces included) one space. */
function squash(s: string): string {
    return s.replace(/[\s\u00a0\u2009\u202f]+/g, " ").trim();
}

describe("reconciler email rendered in headless Chromium", function () {
    this.timeout(120_000);
    let browser: TestBrowser;
    before(async () => {
        browser = await TestBrowser.launch();
    });
    after(async () => {
        await browser?.close();
    });

    for (const locale of ["en-US", "sv-SE"]) {
        for (const status of ["Due", "Paid", "OverDue"]) {
            for (const width of [375, 800]) {
                it(`${locale}, ${status}, ${width} px: no horizontal overflow, every fact readable, the portal link right, nothing loaded`, async () => {
                    const invoice = { ...FACTS, status, amountDue: status === "Paid" ? { value: 0, currency: "USD" } : FACTS.amountDue };
                    const cloud = cloudOf(locale === "sv-SE" ? "https://management.usgovcloudapi.net" : "https://management.azure.com")!;
                    const html = await receivedHtml(
                        buildMessage({ invoice, to: "ap@contoso.com", from: "billing@contoso.com", replyTo: "ap-team@contoso.com", messageId: "<x@y>", pdf: PDF, locale: localeOf(locale), cloud }),
                    );
                    const { page, externalRequests } = await browser.render(html, width);
                    try {
                        const layout = await layoutOf(page);
                        expect(layout.viewportWidth).to.equal(width);
                        expect(layout.scrollWidth, "page scroll width").to.be.at.most(width);
                        expect(layout.bodyScrollWidth, "body scroll width").to.be.at.most(width);
                        expect(layout.overflowing, "elements past the right edge").to.deep.equal([]);

                        const text = squash(await visibleText(page));
                        for (const fact of EXPECTED[locale].facts(status)) expect(text, fact).to.include(squash(fact));

                        expect(await linksOf(page)).to.deep.equal([{ href: `${cloud.portal}${DETAILS}`, text: EXPECTED[locale].button }]);
                        expect(await attributeOf(page, "[data-status]", "data-status")).to.equal({ Due: "due", Paid: "paid", OverDue: "pastDue" }[status]);
                        expect(externalRequests, "requests for external resources").to.deep.equal([]);
                    } finally {
                        await page.close();
                    }
                });
            }
        }
    }

    it("no link for the emulator's endpoint, and a long hostile profile name neither overflows a phone nor becomes markup", async () => {
        const invoice = { ...FACTS, billingProfileDisplayName: `<img src="https://tracker.example/x.png">${"Contoso".repeat(20)}` };
        const html = await receivedHtml(buildMessage({ invoice, to: "ap@contoso.com", from: "billing@contoso.com", messageId: "<x@y>", pdf: PDF, cloud: cloudOf("http://127.0.0.1:7071") }));
        const { page, externalRequests } = await browser.render(html, 375);
        try {
            expect((await layoutOf(page)).scrollWidth).to.be.at.most(375);
            expect(await countOf(page, "a")).to.equal(0);
            expect(await countOf(page, "img")).to.equal(0);
            expect(await visibleText(page)).to.include('<img src="https://tracker.example/x.png">');
            expect(externalRequests).to.deep.equal([]);
        } finally {
            await page.close();
        }
    });
});
