/**
 * The invoice email, as data (pure, so that every byte of it can be tested
 * without a server). It is built in two steps so that a sender can encode an
 * invoice's message once and address it to each recipient:
 *
 * - {@link invoiceMessage}: everything but the recipient, from the invoice's
 *   stored facts, its PDF and the profile's message settings (locale, From,
 *   Reply-To, cloud): the subject, a plain-text and an HTML part
 *   (`template.ts`, words from `catalogue.ts`, dates and amounts by `Intl`
 *   in `format.ts`, the portal link from `portal.ts`), the PDF as
 *   `<invoiceName>.pdf`, and the headers;
 * - {@link addressed}: the per-recipient parts, `To` and the `Message-ID`
 *   (nodemailer adds `Date` when it sends). Nothing else differs between
 *   the recipients of one invoice.
 *
 * The `Message-ID` is derived only from (billing profile, invoice,
 * recipient), so a message sent twice (the crash window) carries the same id
 * and a receiving system can drop the duplicate: a rerun never acts twice
 * under two names.
 */
import { createHash } from "node:crypto";
import type { SendMailOptions } from "nodemailer";
import type { BillingProfileRef } from "../../billing/names";
import type { InvoiceFacts } from "../facts";
import { DEFAULT_LOCALE, localeOf, type MessageLocale } from "./catalogue";
import { invoicePortalUrl, type AzureCloud } from "./portal";
import { htmlBody, invoiceView, oneLine, textBody } from "./template";

export { DEFAULT_LOCALE, messageLocale, localeOf, type MessageLocale } from "./catalogue";
export { cloudOf, invoicePortalUrl, type AzureCloud } from "./portal";
export { formatDate, formatMoney, formatPeriod } from "./format";
export { htmlBody, invoiceView, profileTitle, textBody, type InvoiceView } from "./template";

/** The right-hand side of every Message-ID we generate. Fixed, so ids never depend on configuration. */
export const MESSAGE_ID_DOMAIN = "azure-email-invoicing.invalid";

/**
 * The `Message-ID` of the email of one invoice to one recipient:
 * `<invoiceName.hash@azure-email-invoicing.invalid>`, where the hash is
 * SHA-256 over the lower-cased billing account, billing profile, invoice and
 * recipient. Case-insensitive in every input, as Azure's names and email
 * addresses are.
 */
export function messageIdFor(ref: BillingProfileRef, invoiceName: string, recipient: string): string {
    const material = [ref.billingAccountName, ref.billingProfileName, invoiceName, recipient].map((s) => s.trim().toLowerCase()).join("\n");
    const hash = createHash("sha256").update(material).digest("hex").slice(0, 32);
    const safeInvoice = invoiceName.toUpperCase().replace(/[^A-Z0-9-]/g, "");
    return `<${safeInvoice}.${hash}@${MESSAGE_ID_DOMAIN}>`;
}

/** The file name of the attached PDF. */
export function attachmentName(facts: Pick<InvoiceFacts, "invoiceName">): string {
    return `${facts.invoiceName}.pdf`;
}

/**
 * How one billing profile's emails are written and signed: the same for
 * every recipient of the profile (per profile, from the routing settings).
 */
export interface MessageSettings {
    /** The `From` header, e.g. `Contoso Billing <billing@contoso.com>`. */
    from: string;
    /** Where replies go (`Reply-To`); none when absent. */
    replyTo?: string;
    /** The language and formats; default {@link DEFAULT_LOCALE}. */
    locale?: MessageLocale;
    /** The cloud the invoices are in, for the portal link; no link when absent (the emulator, an unknown endpoint). */
    cloud?: AzureCloud;
}

/** An invoice's message before it is addressed: nodemailer's options without `to` and `messageId`. */
export type InvoiceMessage = Readonly<Omit<SendMailOptions, "to" | "messageId">>;

/** The invoice's message, for every recipient alike (see the module comment). Pure. */
export function invoiceMessage(input: MessageSettings & { invoice: InvoiceFacts; pdf: Buffer }): InvoiceMessage {
    const facts = input.invoice;
    const locale = input.locale ?? localeOf(DEFAULT_LOCALE);
    const view = invoiceView({
        facts,
        locale,
        portalUrl: input.cloud ? invoicePortalUrl(input.cloud, facts) : undefined,
        attachmentName: attachmentName(facts),
        replyTo: input.replyTo,
    });
    return {
        from: input.from,
        ...(input.replyTo ? { replyTo: input.replyTo } : {}),
        subject: view.subject,
        text: textBody(view),
        html: htmlBody(view),
        attachments: [{ filename: attachmentName(facts), content: input.pdf, contentType: "application/pdf" }],
        headers: {
            // RFC 3834: an automatic message; auto-responders should not answer it.
            "Auto-Submitted": "auto-generated",
            // Exchange and Outlook: send no out-of-office, read or delivery receipt back to it.
            "X-Auto-Response-Suppress": "All",
            "Content-Language": locale.tag,
            "X-Azure-Billing-Account": oneLine(facts.billingAccountName),
            "X-Azure-Billing-Profile": oneLine(facts.billingProfileName),
            "X-Azure-Invoice": oneLine(facts.invoiceName),
        },
    };
}

/** The invoice's message to one recipient: only `To` and `Message-ID` are added. */
export function addressed(message: InvoiceMessage, to: string, messageId: string): SendMailOptions {
    return { ...message, to, messageId };
}

/** What {@link buildMessage} takes: the profile's settings, the invoice, and one recipient. */
export interface MessageInput extends MessageSettings {
    invoice: InvoiceFacts;
    /** The recipient's address. */
    to: string;
    messageId: string;
    /** The invoice PDF, as downloaded. */
    pdf: Buffer;
}

/**
 * The nodemailer options of one invoice email to one recipient. Pure: the
 * same input gives the same options (nodemailer adds `Date` when it sends).
 */
export function buildMessage(input: MessageInput): SendMailOptions {
    return addressed(invoiceMessage(input), input.to, input.messageId);
}
