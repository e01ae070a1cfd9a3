/**
 * The two bodies of the invoice email, from one {@link InvoiceView}: a plain
 * text part and an HTML part with the same facts.
 *
 * The HTML is written for mail clients, not browsers: tables for layout,
 * every style inline (clients drop `<style>` blocks and never load external
 * sheets, fonts or images, so there are none), a single column at most 600 px
 * wide that shrinks to any phone (nothing in it has a fixed width, and long
 * unbroken values such as billing account names wrap), and meaning never
 * carried by colour alone (the status is a word in a coloured badge). Every
 * value from Azure or the configuration is escaped.
 */
import type { InvoiceFacts } from "../facts";
import { FACT_KEYS, fill, type FactKey, type MessageLocale, type StatusKey } from "./catalogue";
import { MISSING, formatDate, formatMoney, formatPeriod, statusKeyOf } from "./format";

/** One labelled fact. */
export interface FactRow {
    key: FactKey;
    label: string;
    value: string;
}

/** Everything both bodies show, formatted for one locale. */
export interface InvoiceView {
    locale: MessageLocale;
    facts: InvoiceFacts;
    subject: string;
    /** The facts, in {@link FACT_KEYS} order; rows an older plan has no value for are left out. */
    rows: FactRow[];
    amountDue: string;
    dueDate: string;
    /**
     * The amount shown largest, and the line under it: the amount due and
     * its due date; for a paid invoice, the total and "paid" (an amount due
     * of 0.00 alone tells a reader nothing); for a past-due one, since when.
     */
    hero: { label: string; amount: string; note: string; tone: "normal" | "paid" | "pastDue" };
    /** The inbox preview line. */
    preheader: string;
    /** The status as a word, and its kind (undefined for a status Azure's schema does not list). */
    status?: { key: StatusKey | undefined; text: string };
    portalUrl?: string;
    attachmentName: string;
    replyTo?: string;
}

/** Header-safe and table-safe: no line breaks or tabs (values come from Azure, and headers must stay one line). */
export function oneLine(s: string): string {
    return s.replace(/[\r\n\t\u2028\u2029]+/g, " ").trim();
}

export function escapeHtml(s: string): string {
    return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** The billing profile as a person knows it: display name and name. */
export function profileTitle(facts: InvoiceFacts): string {
    return facts.billingProfileDisplayName && facts.billingProfileDisplayName !== facts.billingProfileName
        ? `${facts.billingProfileDisplayName} (${facts.billingProfileName})`
        : facts.billingProfileName;
}

/** What a view is made from. */
export interface ViewInput {
    facts: InvoiceFacts;
    locale: MessageLocale;
    portalUrl?: string;
    attachmentName: string;
    replyTo?: string;
}

/** Formats the facts of an invoice for one locale. Pure. */
export function invoiceView(input: ViewInput): InvoiceView {
    const { facts, locale } = input;
    const t = locale.catalogue;
    const tag = locale.tag;
    const status = facts.status?.trim()
        ? ((key) => ({ key, text: key ? t.status[key] : oneLine(facts.status!) }))(statusKeyOf(facts.status))
        : undefined;
    const values: Record<FactKey, string | undefined> = {
        invoiceNumber: facts.invoiceName,
        billingProfile: profileTitle(facts),
        billingAccount: facts.billingAccountName,
        billingPeriod: formatPeriod(tag, facts.periodStartDate, facts.periodEndDate),
        invoiceDate: formatDate(tag, facts.invoiceDate),
        dueDate: formatDate(tag, facts.dueDate),
        // Undefined: a plan stored before these were kept. Null: Azure gave none.
        totalAmount: facts.totalAmount === undefined ? undefined : formatMoney(tag, facts.totalAmount),
        tax: facts.taxAmount === undefined ? undefined : formatMoney(tag, facts.taxAmount),
        amountDue: formatMoney(tag, facts.amountDue),
        status: status?.text ?? MISSING,
    };
    const rows = FACT_KEYS.flatMap((key) => (values[key] === undefined ? [] : [{ key, label: t.labels[key], value: oneLine(values[key]!) }]));
    const who = facts.billingProfileDisplayName || facts.billingProfileName;
    const paid = status?.key === "paid";
    const total = facts.totalAmount ? values.totalAmount! : undefined;
    const hero: InvoiceView["hero"] =
        paid && total !== undefined
            ? { label: t.labels.totalAmount, amount: total, note: t.paidInFull, tone: "paid" }
            : status?.key === "pastDue"
              ? { label: t.amountDueLabel, amount: values.amountDue!, note: fill(t.pastDueSince, { date: values.dueDate! }), tone: "pastDue" }
              : { label: t.amountDueLabel, amount: values.amountDue!, note: paid ? t.paidInFull : fill(t.dueOn, { date: values.dueDate! }), tone: paid ? "paid" : "normal" };
    return {
        locale,
        facts,
        subject: oneLine(fill(t.subject, { invoice: facts.invoiceName, profile: who, period: values.billingPeriod! })),
        rows,
        amountDue: values.amountDue!,
        dueDate: values.dueDate!,
        hero,
        preheader: oneLine(
            paid ? fill(t.preheaderPaid, { invoice: facts.invoiceName, amount: hero.amount }) : fill(t.preheader, { invoice: facts.invoiceName, amount: values.amountDue!, dueDate: values.dueDate! }),
        ),
        status,
        portalUrl: input.portalUrl,
        attachmentName: input.attachmentName,
        replyTo: input.replyTo,
    };
}

/** The plain-text part: the same facts, aligned, then the link, the attachment and why it was sent. */
export function textBody(view: InvoiceView): string {
    const t = view.locale.catalogue;
    const who = view.facts.billingProfileDisplayName || view.facts.billingProfileName;
    const width = view.rows.reduce((w, r) => Math.max(w, r.label.length), 0) + 1;
    const lines = [
        oneLine(fill(t.heading, { invoice: view.facts.invoiceName })),
        oneLine(fill(t.intro, { profile: who })),
        "",
        ...view.rows.map((r) => `${(r.label + ":").padEnd(width)} ${r.value}`),
        "",
    ];
    if (view.portalUrl) lines.push(t.portalText, view.portalUrl, "");
    lines.push(fill(t.attachment, { file: view.attachmentName }));
    if (view.replyTo) lines.push(fill(t.replyTo, { replyTo: view.replyTo }));
    lines.push("", "-- ", fill(t.footer, { profile: profileTitle(view.facts) }), "");
    return lines.join("\n");
}

/** Badge colours per status kind: text and background, both well above WCAG AA contrast. */
const BADGE: Record<StatusKey | "unknown", { fg: string; bg: string; border: string }> = {
    paid: { fg: "#0e5c0e", bg: "#e7f5e6", border: "#9fd89f" },
    due: { fg: "#7a4100", bg: "#fff4ce", border: "#f2c661" },
    pastDue: { fg: "#a4262c", bg: "#fde7e9", border: "#eeacb2" },
    void: { fg: "#424242", bg: "#f0f0f0", border: "#c7c7c7" },
    locked: { fg: "#424242", bg: "#f0f0f0", border: "#c7c7c7" },
    other: { fg: "#424242", bg: "#f0f0f0", border: "#c7c7c7" },
    unknown: { fg: "#424242", bg: "#f0f0f0", border: "#c7c7c7" },
};

const FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif";
const ACCENT = "#0f6cbd";
/** Long unbroken values (billing account names are 70+ characters) wrap instead of widening the page. */
const WRAP = "overflow-wrap:anywhere;word-break:break-word";

/** The HTML part (see the module comment). */
export function htmlBody(view: InvoiceView): string {
    const t = view.locale.catalogue;
    const e = escapeHtml;
    const who = view.facts.billingProfileDisplayName || view.facts.billingProfileName;
    const badge = view.status ? BADGE[view.status.key ?? "unknown"] : undefined;
    const noteColour = { normal: "#424242", paid: BADGE.paid.fg, pastDue: BADGE.pastDue.fg }[view.hero.tone];
    const rows = view.rows
        .map(
            (r, i) =>
                `<tr><td valign="top" style="padding:10px 12px 10px 0;${i ? "border-top:1px solid #e6e6e6;" : ""}color:#616161;font-size:14px;line-height:20px;width:40%">${e(r.label)}</td>` +
                `<td valign="top" data-fact="${r.key}" style="padding:10px 0;${i ? "border-top:1px solid #e6e6e6;" : ""}color:#242424;font-size:14px;line-height:20px;font-weight:${r.key === "amountDue" || r.key === "invoiceNumber" ? "600" : "400"};${WRAP}">${e(r.value)}</td></tr>`,
        )
        .join("\n");
    const button = view.portalUrl
        ? `<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 24px 0"><tr><td bgcolor="${ACCENT}" style="border-radius:4px;background:${ACCENT}">` +
          `<a href="${e(view.portalUrl)}" target="_blank" rel="noopener" style="display:inline-block;padding:12px 20px;${FONT};font-size:15px;line-height:20px;font-weight:600;color:#ffffff;text-decoration:none;border-radius:4px">${e(t.portalButton)}</a>` +
          `</td></tr></table>`
        : "";
    const badgeHtml = badge
        ? `<span data-status="${view.status!.key ?? "unknown"}" style="display:inline-block;padding:3px 10px;border-radius:12px;border:1px solid ${badge.border};background:${badge.bg};color:${badge.fg};font-size:13px;line-height:18px;font-weight:600;white-space:nowrap">${e(view.status!.text)}</span>`
        : "";
    const paragraph = (text: string, style = "") => `<p style="margin:0 0 12px 0;font-size:14px;line-height:20px;color:#424242;${style}">${text}</p>`;
    return `<!doctype html>
<html lang="${e(view.locale.tag)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>${e(view.subject)}</title>
</head>
<body style="margin:0;padding:0;background:#f5f5f5;${FONT}">
<div style="display:none;max-height:0;overflow:hidden;opacity:0;color:transparent">${e(view.preheader)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f5f5f5">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background:#ffffff;border:1px solid #e0e0e0;border-top:4px solid ${ACCENT};border-radius:6px">
<tr><td style="padding:24px 24px 8px 24px;${FONT}">
<p style="margin:0 0 4px 0;font-size:13px;line-height:18px;color:#616161;${WRAP}">${e(who)}</p>
<h1 style="margin:0 0 12px 0;font-size:22px;line-height:28px;font-weight:600;color:#242424;${WRAP}">${e(fill(t.heading, { invoice: view.facts.invoiceName }))}</h1>
${badgeHtml ? `<p style="margin:0 0 16px 0">${badgeHtml}</p>` : ""}
${paragraph(e(fill(t.intro, { profile: who })), WRAP)}
</td></tr>
<tr><td style="padding:8px 24px 0 24px;${FONT}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f7f9fc;border:1px solid #dbe4f0;border-radius:6px">
<tr><td style="padding:16px 20px">
<p style="margin:0;font-size:13px;line-height:18px;color:#616161">${e(view.hero.label)}</p>
<p data-hero="amount" style="margin:4px 0 0 0;font-size:28px;line-height:36px;font-weight:700;color:#242424;${WRAP}">${e(view.hero.amount)}</p>
<p data-hero="note" style="margin:4px 0 0 0;font-size:14px;line-height:20px;color:${noteColour};font-weight:${view.hero.tone === "normal" ? "400" : "600"}">${e(view.hero.note)}</p>
</td></tr>
</table>
</td></tr>
<tr><td style="padding:20px 24px 8px 24px;${FONT}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="table-layout:auto">
${rows}
</table>
</td></tr>
<tr><td style="padding:16px 24px 8px 24px;${FONT}">
${button}
${paragraph(e(fill(t.attachment, { file: view.attachmentName })), WRAP)}
${view.replyTo ? paragraph(e(fill(t.replyTo, { replyTo: view.replyTo })), WRAP) : ""}
</td></tr>
<tr><td style="padding:16px 24px 24px 24px;border-top:1px solid #e6e6e6;${FONT}">
<p style="margin:0;font-size:12px;line-height:18px;color:#616161;${WRAP}">${e(fill(t.footer, { profile: profileTitle(view.facts) }))}</p>
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}
