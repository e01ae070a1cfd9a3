/**
 * The benchmark's baseline, run as a child process by bench/reconciler.ts:
 * a bare nodemailer pooled transport sending the same messages (same
 * `buildMessage` options, same PDFs, same Message-IDs) to the same SMTP sink,
 * with no billing API, no ledger and no retries. Prints one JSON line:
 * `{sent, ms}`; the time covers sending only (the PDFs are read first).
 *
 * usage: node dist/bench/reconciler-baseline.js MANIFEST.json
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as nodemailer from "nodemailer";
import { buildMessage, messageIdFor } from "../provider/reconciler/message";
import type { InvoiceFacts } from "../provider/reconciler/facts";

/** What bench/reconciler.ts writes for the baseline. */
export interface BaselineManifest {
    smtpUrl: string;
    from: string;
    maxConnections: number;
    recipients: string[];
    invoices: Array<{ facts: InvoiceFacts; pdfFile: string }>;
}

async function main(): Promise<void> {
    const manifestFile = process.argv[2];
    if (!manifestFile) throw new Error("usage: reconciler-baseline MANIFEST.json");
    const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as BaselineManifest;
    const pdfs = manifest.invoices.map((i) => fs.readFileSync(path.resolve(path.dirname(manifestFile), i.pdfFile)));
    const transport = nodemailer.createTransport({
        ...(require("nodemailer/lib/shared") as { parseConnectionUrl: (s: string) => object }).parseConnectionUrl(manifest.smtpUrl),
        pool: true,
        maxConnections: manifest.maxConnections,
        maxMessages: 1000,
    });
    const started = performance.now();
    const sends: Array<Promise<unknown>> = [];
    manifest.invoices.forEach((invoice, i) => {
        for (const to of manifest.recipients) {
            const ref = { billingAccountName: invoice.facts.billingAccountName, billingProfileName: invoice.facts.billingProfileName };
            const message = buildMessage({ invoice: invoice.facts, to, from: manifest.from, messageId: messageIdFor(ref, invoice.facts.invoiceName, to), pdf: pdfs[i] });
            sends.push(transport.sendMail(message));
        }
    });
    await Promise.all(sends);
    const ms = performance.now() - started;
    transport.close();
    process.stdout.write(JSON.stringify({ sent: sends.length, ms }) + "\n");
}

main().catch((err: unknown) => {
    process.stderr.write(`baseline: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
});
