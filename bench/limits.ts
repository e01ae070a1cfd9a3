/**
 * Benchmark of the reconciler's memory against oversized invoice documents.
 * Not a test: it prints a table.
 *
 *     node dist/bench/limits.js [--document-mb 200] [--small-mb 20]
 *
 * Setup (not timed): the emulator in this process with its three seeded
 * invoices on the Operations profile, opted in by its owner with two
 * additional recipients (5 recipients an invoice), behind a proxy of the
 * benchmark's own that answers every document link with `--document-mb` MB
 * of "PDF" (`%PDF-` and filler), streamed with back-pressure; and an SMTP
 * sink in a process of its own.
 *
 * Each run is `azure-email-invoicing reconcile` in a child process with a
 * fresh ledger and the default limits (25 MB documents):
 * 1. 200 MB documents with a `Content-Length`: refused on the header;
 * 2. 200 MB documents without one: cut off when the download passes 25 MB;
 * 3. `--small-mb` MB documents (under the cap): downloaded and sent, for
 *    what sending costs.
 * Peak RSS is the child's (VmHWM); "served" is what the proxy got to write
 * into the socket before the reconciler hung up.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startEmulator, SEED } from "../emulator";
import { createBillingClient } from "../provider/billing/client";
import { resolveSettings } from "../provider/config";
import { renderTable } from "../cli/text";
import { serveLargePdf, startTamperingProxy } from "../tests/support/proxy";
import { runChild, startSinkChild } from "./reconciler";
import { UsageError, benchFlags, numberFlag } from "./args";
import { runWhenMain } from "./entry";

const FROM = "Contoso Billing <billing@contoso.com>";
const MB = 1_000_000;
const GOAL_BYTES = 300 * MB;

export async function main(argv: string[]): Promise<void> {
    const values = benchFlags(argv, { "document-mb": { type: "string" }, "small-mb": { type: "string" } });
    // One document over the 25 MB cap (refused), one under it (delivered).
    const bigBytes = Math.round(numberFlag("document-mb", values["document-mb"], 200, 0.001, 4096) * MB);
    const smallBytes = Math.round(numberFlag("small-mb", values["small-mb"], 20, 0.001, 4096) * MB);
    if (!(bigBytes > 25 * MB)) throw new UsageError(`--document-mb must be over the 25 MB cap (the run is of a document the cap refuses), not '${values["document-mb"]}'`);
    if (!(smallBytes < 25 * MB)) throw new UsageError(`--small-mb must be under the 25 MB cap (the run is of a document the cap lets through), not '${values["small-mb"]}'`);
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-bench-limits-"));

    const emulator = await startEmulator({ settings: { retryAfterSeconds: 0, pendingPolls: 0 } });
    const proxy = await startTamperingProxy(emulator.url);
    const sink = await startSinkChild();
    try {
        const ops = SEED.profiles.operations;
        const alice = createBillingClient(resolveSettings({ explicit: { endpoint: emulator.url, token: SEED.users.alice.token } }));
        await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: ["ap@contoso.com", "controller@contoso.com"] });
        const today = new Date().toISOString().slice(0, 10);
        const invoices = (await alice.listInvoices(ops, { periodStartDate: "2000-01-01", periodEndDate: today })).length;
        const env = {
            PATH: process.env.PATH ?? "",
            AZURE_EMAIL_INVOICING_ENDPOINT: proxy.url,
            AZURE_EMAIL_INVOICING_TOKEN: SEED.users.grace.token,
            SMTP_URL: sink.url,
            INVOICE_MAIL_FROM: FROM,
        };
        const cli = path.join(__dirname, "..", "cli", "main.js");

        const run = async (label: string, bytes: number, declareLength: boolean, n: number) => {
            log(`run: ${label}`);
            let served = 0;
            const pending: Array<Promise<number>> = [];
            proxy.set({
                intercept(req, res) {
                    if (!(req.url ?? "").startsWith("/_blob/")) return false;
                    pending.push(serveLargePdf(res, bytes, declareLength).then((w) => (served += w)));
                    return true;
                },
            });
            const acceptedBefore = (await sink.count()).accepted;
            const ledger = path.join(dir, `ledger-${n}.sqlite`);
            const child = await runChild([cli, "reconcile", "--since", "2000-01-01", "--ledger", ledger, "--json"], env, path.join(dir, `rss-${n}`));
            await Promise.all(pending);
            const accepted = (await sink.count()).accepted - acceptedBefore;
            let summary: { totals: { sent: number }; profiles: Array<{ errors: string[] }> };
            try {
                summary = JSON.parse(child.stdout);
            } catch {
                throw new Error(`${label}: no summary, exit ${child.code}: ${child.stderr.slice(-2000)}`);
            }
            const refused = summary.profiles.flatMap((p) => p.errors).filter((e) => e.includes("DocumentTooLarge")).length;
            return { label, child, accepted, refused, served, sent: summary.totals.sent };
        };

        const rows = [
            await run(`${bigBytes / MB} MB documents with Content-Length`, bigBytes, true, 1),
            await run(`${bigBytes / MB} MB documents without Content-Length`, bigBytes, false, 2),
            await run(`${smallBytes / MB} MB documents (under the cap)`, smallBytes, true, 3),
        ];
        const mb = (b: number) => (b / MB).toFixed(0);
        const big = rows.slice(0, 2);
        const worst = Math.max(big[0].child.rssBytes, big[1].child.rssBytes);
        process.stdout.write(
            [
                `reconciler memory with oversized documents: ${invoices} invoices x 5 recipients, default limits (documents 25 MB), MB = 10^6 bytes`,
                `${os.cpus().length} CPUs, Node ${process.version}; the emulator and the document proxy in the benchmark's process, the SMTP sink in its own`,
                "",
                renderTable(
                    ["RUN", "EXIT", "REFUSED", "SENT", "PEAK RSS (MB)", "CPU (s)", "WALL (s)", "SERVED (MB)"],
                    rows.map((r) => [
                        r.label,
                        String(r.child.code),
                        String(r.refused),
                        String(r.accepted),
                        mb(r.child.rssBytes),
                        (r.child.cpuMs / 1000).toFixed(2),
                        (r.child.wallMs / 1000).toFixed(2),
                        mb(r.served),
                    ]),
                    { rightAlign: [1, 2, 3, 4, 5, 6, 7] },
                ),
                "",
                `goal: peak RSS under ${mb(GOAL_BYTES)} MB with ${mb(bigBytes)} MB documents: ${worst < GOAL_BYTES ? "met" : "NOT met"} (${mb(worst)} MB)`,
            ].join("\n") + "\n",
        );
        for (const r of big) if (r.refused !== invoices || r.accepted !== 0) throw new Error(`${r.label}: expected ${invoices} refused and none sent, got ${r.refused} refused, ${r.accepted} sent`);
        if (rows[2].accepted !== invoices * 5) throw new Error(`${rows[2].label}: expected ${invoices * 5} sent, got ${rows[2].accepted}`);
    } finally {
        await sink.close();
        await proxy.close();
        await emulator.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

runWhenMain(module, "limits", "[--document-mb 200] [--small-mb 20]", main);
