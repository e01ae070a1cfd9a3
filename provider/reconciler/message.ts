/**
 * The invoice email, as data (pure, so that every byte of it can be tested without a server). {@link buildMessage} returns
 * the options nodemailer composes into MIME: a subject, a plain-text and an
 * HTML part with invoice number, billing profile, period, invoice date, due
 * date and amount due, the PDF attached as `<invoiceName>.pdf`, and a
 * `Message-ID` derived only from (billing profile, invoice, recipient), so a
 * message sent twice (the crash window) carries the same id and a receiving
 * system can drop the duplicate: a rerun never acts twice under two names.
 */
import { createHash } from "node:crypto";
import type { SendMailOptions } from "nodemailer";
import { isoDay } from "../billing/dates";
import type { BillingProfileRef } from "../billing/names";
import type { InvoiceFacts } from "./facts";

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

/** A date as `YYYY-MM-DD` (the UTC day of an ISO 8601 timestamp), or "—" when Azure gave none or one that is not a date. */
export function formatDay(value: string | null | undefined): string {
    return (value ? isoDay(value) : undefined) ?? "—";
}

/** Number formats by currency (building one costs far more than using it). */
const amountFormats = new Map<string, Intl.NumberFormat>();

function amountFormat(currency: string | null): Intl.NumberFormat {
    const key = currency ?? "";
    let f = amountFormats.get(key);
    if (!f) {
        let digits = 2;
        if (currency) {
            try {
                digits = new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
            } catch {
                digits = 2;
            }
        }
        f = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: true });
        amountFormats.set(key, f);
    }
    return f;
}

/** An amount as `USD 16.53`, with the currency's usual number of decimals. */
export function formatAmount(amount: InvoiceFacts["amountDue"]): string {
    if (!amount) return "—";
    const n = amountFormat(amount.currency).format(amount.value);
    return amount.currency ? `${amount.currency} ${n}` : n;
}

/** The billing profile as a person knows it: display name and name. */
export function profileTitle(facts: InvoiceFacts): string {
    return facts.billingProfileDisplayName && facts.billingProfileDisplayName !== facts.billingProfileName
        ? `${facts.billingProfileDisplayName} (${facts.billingProfileName})`
        : facts.billingProfileName;
}

/** The billing period, `YYYY-MM-DD to YYYY-MM-DD`. */
export function periodOf(facts: InvoiceFacts): string {
    return `${formatDay(facts.periodStartDate)} to ${formatDay(facts.periodEndDate)}`;
}

/** The subject: `Azure invoice G100000001 for Contoso Operations (2024-05-01 to 2024-05-31)`. */
export function subjectFor(facts: InvoiceFacts): string {
    const who = facts.billingProfileDisplayName || facts.billingProfileName;
    return oneLine(`Azure invoice ${facts.invoiceName} for ${who} (${periodOf(facts)})`);
}

/** The rows of the invoice summary, in the order both parts show them. */
export function summaryRows(facts: InvoiceFacts): Array<[string, string]> {
    return [
        ["Invoice number", facts.invoiceName],
        ["Billing profile", profileTitle(facts)],
        ["Billing account", facts.billingAccountName],
        ["Billing period", periodOf(facts)],
        ["Invoice date", formatDay(facts.invoiceDate)],
        ["Due date", formatDay(facts.dueDate)],
        ["Amount due", formatAmount(facts.amountDue)],
    ];
}

/** The file name of the attached PDF. */
export function attachmentName(facts: InvoiceFacts): string {
    return `${facts.invoiceName}.pdf`;
}

/** What a message needs besides the invoice. */
export interface MessageInput {
    invoice: InvoiceFacts;
    /** The recipient's address. */
    to: string;
    /** The `From` header, e.g. `Contoso Billing <billing@contoso.com>`. */
    from: string;
    messageId: string;
    /** The invoice PDF, as downloaded. */
    pdf: Buffer;
}

/** Header-safe: no line breaks (values come from Azure, and headers must stay one line). */
function oneLine(s: string): string {
    return s.replace(/[\r\n\t]+/g, " ").trim();
}

function escapeHtml(s: string): string {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** The plain-text part. */
export function textBody(facts: InvoiceFacts): string {
    const rows = summaryRows(facts);
    const width = Math.max(...rows.map(([k]) => k.length));
    return [
        `Your Azure invoice ${facts.invoiceName} is ready. The PDF is attached (${attachmentName(facts)}).`,
        "",
        ...rows.map(([k, v]) => `${(k + ":").padEnd(width + 1)} ${oneLine(v)}`),
        "",
        "You receive this email because the billing profile is opted in to email invoices and you hold a role on it",
        "(owner, contributor, reader or invoice manager) or are one of its additional invoice recipients.",
        "",
    ].join("\n");
}

/** The HTML part. Every value from Azure is escaped. */
export function htmlBody(facts: InvoiceFacts): string {
    const rows = summaryRows(facts)
        .map(([k, v]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(k)}</th><td>${escapeHtml(oneLine(v))}</td></tr>`)
        .join("\n");
    return [
        "<!doctype html>",
        '<html><head><meta charset="utf-8"><title>' + escapeHtml(subjectFor(facts)) + "</title></head><body>",
        `<p>Your Azure invoice <strong>${escapeHtml(facts.invoiceName)}</strong> is ready. The PDF is attached (${escapeHtml(attachmentName(facts))}).</p>`,
        `<table>\n${rows}\n</table>`,
        "<p>You receive this email because the billing profile is opted in to email invoices and you hold a role on it " +
            "(owner, contributor, reader or invoice manager) or are one of its additional invoice recipients.</p>",
        "</body></html>",
        "",
    ].join("\n");
}

/**
 * The nodemailer options of one invoice email. Pure: the same input gives the
 * same options (nodemailer adds `Date` when it sends).
 */
export function buildMessage(input: MessageInput): SendMailOptions {
    const facts = input.invoice;
    return {
        from: input.from,
        to: input.to,
        subject: subjectFor(facts),
        messageId: input.messageId,
        text: textBody(facts),
        html: htmlBody(facts),
        attachments: [{ filename: attachmentName(facts), content: input.pdf, contentType: "application/pdf" }],
        headers: {
            // RFC 3834: an automatic message; auto-responders should not answer it.
            "Auto-Submitted": "auto-generated",
            "X-Azure-Billing-Account": oneLine(facts.billingAccountName),
            "X-Azure-Billing-Profile": oneLine(facts.billingProfileName),
            "X-Azure-Invoice": oneLine(facts.invoiceName),
        },
    };
}
