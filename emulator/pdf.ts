/**
 * Invoice PDFs, made with pdf-lib. A real, valid PDF that names the invoice
 * number, billing period, amount due and billing profile, with title and
 * subject metadata carrying the invoice number (tests and mail code read them).
 *
 * Deterministic: the same invoice record gives the same bytes, because every
 * date in the file (creation, modification) is the invoice date, not the
 * wall clock, and the optional padding is drawn from a PRNG seeded by the
 * invoice and document names.
 */
import { createHash } from "node:crypto";
import { PDFDocument, PDFName, StandardFonts, rgb } from "pdf-lib";
import type { InvoiceRecord } from "./model";

interface Money {
    currency?: string;
    value?: number;
}

function money(m: unknown): string {
    const x = (m ?? {}) as Money;
    return `${x.currency ?? ""} ${(x.value ?? 0).toFixed(2)}`.trim();
}

function day(iso: unknown): string {
    return typeof iso === "string" ? iso.slice(0, 10) : "";
}

/** The facts the PDF shows, in one place so the metadata and the page agree. */
export function invoiceFacts(invoice: InvoiceRecord, documentName: string) {
    const p = invoice.properties;
    return {
        invoiceNumber: invoice.name,
        documentName,
        invoiceDate: day(p.invoiceDate),
        dueDate: day(p.dueDate),
        periodStart: day(p.invoicePeriodStartDate),
        periodEnd: day(p.invoicePeriodEndDate),
        amountDue: money(p.amountDue),
        totalAmount: money(p.totalAmount),
        taxAmount: money(p.taxAmount),
        status: String(p.status ?? ""),
        billingProfileName: invoice.billingProfileName,
        billingProfileDisplayName: String(p.billingProfileDisplayName ?? invoice.billingProfileName),
        billingAccountName: invoice.billingAccountName,
        purchaseOrderNumber: p.purchaseOrderNumber ? String(p.purchaseOrderNumber) : "",
    };
}

/** The catalog entry holding the padding stream (a second-class name: readers ignore it). */
const PADDING_KEY = "AEIEmulator_Padding";

/**
 * `n` bytes from xorshift32 seeded by `label`: deterministic, and as
 * incompressible as the images and fonts that make real invoices large, so a
 * padded file is as big on the wire as on disk.
 */
function paddingBytes(label: string, n: number): Uint8Array {
    const out = new Uint8Array(n);
    let x = createHash("sha256").update(label).digest().readUInt32LE(0) || 1;
    for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out[i] = x & 0xff;
    }
    return out;
}

/**
 * Renders the PDF of one invoice document. Same input, same bytes.
 *
 * With `paddingBytes` (the `pdfPaddingBytes` setting) larger than the plain
 * rendering, adds one uncompressed stream of deterministic bytes, referenced
 * from the document catalog, so the file is at least that large (a few
 * hundred bytes more) and still a valid PDF that any reader opens.
 */
export async function renderInvoicePdf(invoice: InvoiceRecord, documentName: string, options: { paddingBytes?: number } = {}): Promise<Uint8Array> {
    const plain = await buildInvoicePdf(invoice, documentName, 0);
    const target = options.paddingBytes ?? 0;
    if (plain.length >= target) return plain;
    // The stream's own overhead makes the first try large enough; the loop only guards that.
    let filler = target - plain.length;
    for (;;) {
        const padded = await buildInvoicePdf(invoice, documentName, filler);
        if (padded.length >= target) return padded;
        filler += target - padded.length;
    }
}

async function buildInvoicePdf(invoice: InvoiceRecord, documentName: string, filler: number): Promise<Uint8Array> {
    const f = invoiceFacts(invoice, documentName);
    const fixed = new Date(typeof invoice.properties.invoiceDate === "string" ? invoice.properties.invoiceDate : "2000-01-01T00:00:00Z");
    const doc = await PDFDocument.create({ updateMetadata: false });
    doc.setTitle(`Invoice ${f.invoiceNumber}`);
    doc.setSubject(
        `Invoice ${f.invoiceNumber} for billing profile ${f.billingProfileDisplayName} (${f.billingProfileName}), ` +
            `billing period ${f.periodStart} to ${f.periodEnd}, amount due ${f.amountDue}`,
    );
    doc.setAuthor("Microsoft Azure (azure-email-invoicing emulator)");
    doc.setKeywords([f.invoiceNumber, f.documentName, f.billingProfileName]);
    doc.setCreator("azure-email-invoicing emulator");
    doc.setProducer("azure-email-invoicing emulator with pdf-lib");
    doc.setCreationDate(fixed);
    doc.setModificationDate(fixed);

    const page = doc.addPage([595.28, 841.89]); // A4
    const regular = await doc.embedFont(StandardFonts.Helvetica);
    const bold = await doc.embedFont(StandardFonts.HelveticaBold);
    const grey = rgb(0.35, 0.35, 0.35);
    let y = 790;
    const line = (text: string, opts: { size?: number; bold?: boolean; color?: ReturnType<typeof rgb>; gap?: number } = {}) => {
        const size = opts.size ?? 11;
        page.drawText(text, { x: 56, y, size, font: opts.bold ? bold : regular, color: opts.color ?? rgb(0, 0, 0) });
        y -= opts.gap ?? size + 8;
    };
    line("Microsoft Azure", { size: 12, color: grey });
    line(`Invoice ${f.invoiceNumber}`, { size: 24, bold: true, gap: 40 });
    line(`Invoice number: ${f.invoiceNumber}`);
    line(`Document: ${f.documentName}`);
    line(`Invoice date: ${f.invoiceDate}`);
    line(`Due date: ${f.dueDate}`);
    line(`Billing period: ${f.periodStart} to ${f.periodEnd}`, { gap: 30 });
    line(`Billing profile: ${f.billingProfileDisplayName} (${f.billingProfileName})`);
    line(`Billing account: ${f.billingAccountName}`, { size: 8 });
    if (f.purchaseOrderNumber) line(`PO number: ${f.purchaseOrderNumber}`);
    y -= 20;
    line(`Total amount: ${f.totalAmount} (tax ${f.taxAmount})`);
    line(`Amount due: ${f.amountDue}`, { size: 16, bold: true, gap: 30 });
    line(`Status: ${f.status}`);
    y = 60;
    line("Issued by the azure-email-invoicing local emulator. Not a real invoice.", { size: 8, color: grey });
    if (filler > 0) {
        const stream = doc.context.stream(paddingBytes(`${invoice.name}/${documentName}`, filler));
        doc.catalog.set(PDFName.of(PADDING_KEY), doc.context.register(stream));
    }
    return doc.save({ useObjectStreams: false });
}
