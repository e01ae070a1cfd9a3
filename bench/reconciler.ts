/**
 * Benchmark of the invoice reconciler against a bare nodemailer pool. Not a
 * test: it prints a table.
 *
 *     node dist/bench/reconciler.js [--invoices 2000] [--rounds 3] [--pdf-kb 100] [--concurrency 5] [--pending-polls 0] [--cpu-prof DIR]
 *
 * Setup (not timed): the emulator in this process, with its
 * `pdfPaddingBytes` setting padding every invoice PDF to about `--pdf-kb` KB
 * (a valid PDF, deterministic bytes), `Retry-After: 0` on its 202s (a
 * benchmark measures work, not waiting) and download operations completing
 * on poll `--pending-polls` + 1; the Operations profile opted in by its owner
 * and given two additional recipients (so 5 recipients: owner, contributor,
 * reader with a mailbox, and the two addresses), and enough invoices issued
 * through the admin API to reach `--invoices`. Every PDF is downloaded once
 * through the billing client (for the baseline's messages; it also fills the
 * emulator's PDF cache). An SMTP sink (smtp-server over TCP, in a process of
 * its own) counts what arrives.
 *
 * Timed, each in its own child process, against the same sink:
 * 1. bare nodemailer: a pooled transport sending the same messages
 *    (same options, PDFs and Message-IDs) with nothing else to do;
 * 2. the reconciler (`azure-email-invoicing reconcile`, a real process with
 *    a fresh ledger) against the emulator's real protocol: plan, start each
 *    invoice's download operation (202 + Location), poll it, fetch the
 *    document link, claim, send, record;
 * 3. the reconciler again with nothing new, after the last round.
 * 1 and 2 make a round, and `--rounds` of them run one after another, the
 * bare pool first in odd rounds and the reconciler first in even ones: the
 * machine's speed drifts within minutes on shared cores, and a ratio of two
 * runs side by side, its median over rounds taken in both orders, is what
 * that drift moves least.
 * Peak RSS is each child's; billing API calls come from the emulator's
 * request log (its cap raised to twice the calls a run needs, so none is
 * dropped; a run whose log lost its start is refused rather than counted
 * short); the emulator's own CPU and busy share are this process's
 * during each run (it serves the emulator and waits for the child).
 */
import { fork, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { MAX_PDF_CACHE_BYTES, PDF_CACHE_BYTES, startEmulator, SEED } from "../emulator";
import { createBillingClient } from "../provider/billing/client";
import { invoiceDocumentName } from "../provider/billing/profile";
import { resolveSettings } from "../provider/config";
import { invoiceFacts } from "../provider/reconciler/plan";
import { renderTable } from "../cli/text";
import type { BaselineManifest } from "./reconciler-baseline";
import { benchFlags, wholeNumberFlag, numberFlag } from "./args";
import { runWhenMain } from "./entry";

const FROM = "Contoso Billing <billing@contoso.com>";
const EXTRA_RECIPIENTS = ["ap@contoso.com", "controller@contoso.com"];

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(limit, items.length) }, async () => {
            for (;;) {
                const i = next++;
                if (i >= items.length) return;
                out[i] = await fn(items[i], i);
            }
        }),
    );
    return out;
}

/** What the emulator (this process) spent while a child ran: CPU time and the share of wall time its event loop was busy. */
interface EmulatorUsage {
    cpuMs: number;
    busy: number;
}

/** Starts measuring this process; the returned function stops and reports. */
function measureEmulator(): () => EmulatorUsage {
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    return () => {
        const used = process.cpuUsage(cpu);
        return { cpuMs: (used.user + used.system) / 1000, busy: performance.eventLoopUtilization(elu).utilization };
    };
}

export interface ChildResult {
    code: number | null;
    stdout: string;
    stderr: string;
    wallMs: number;
    rssBytes: number;
    cpuMs: number;
}

export interface SinkChild {
    url: string;
    count(): Promise<{ accepted: number; lastSize: number; cpuMs: number }>;
    close(): Promise<void>;
}

/** Starts the SMTP sink in a child process (bench/sink-child.ts). */
export function startSinkChild(): Promise<SinkChild> {
    const child = fork(path.join(__dirname, "sink-child.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("message", (ready: { type: string; url: string }) => {
            resolve({
                url: ready.url,
                count: () =>
                    new Promise((res) => {
                        child.once("message", (m: { accepted: number; lastSize: number; cpuMs: number }) => res(m));
                        child.send({ type: "count" });
                    }),
                close: () =>
                    new Promise((res) => {
                        child.once("exit", () => res());
                        child.send({ type: "close" });
                    }),
            });
        });
    });
}

export function runChild(args: string[], env: Record<string, string>, rssFile: string, nodeArgs: string[] = []): Promise<ChildResult> {
    const probe = path.join(__dirname, "rss-probe.js");
    const started = performance.now();
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...nodeArgs, "-r", probe, ...args], { env: { ...env, BENCH_RSS_FILE: rssFile }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            const wallMs = performance.now() - started;
            const usage = fs.existsSync(rssFile) ? (JSON.parse(fs.readFileSync(rssFile, "utf8")) as { rssBytes: number; cpuMs: number }) : { rssBytes: NaN, cpuMs: NaN };
            resolve({ code, stdout, stderr, wallMs, ...usage });
        });
    });
}

/** A PDF cache for the emulator that holds every invoice's PDF (padded to `pdfBytes`, plus room for the rendered invoice itself). */
export function pdfCacheFor(invoices: number, pdfBytes: number): number {
    return Math.min(MAX_PDF_CACHE_BYTES, Math.max(PDF_CACHE_BYTES, invoices * (pdfBytes + 64 * 1024)));
}

const mb = (b: number) => (b / (1024 * 1024)).toFixed(0);
const secs = (ms: number) => (ms / 1000).toFixed(2);

export async function main(argv: string[]): Promise<void> {
    const values = benchFlags(argv, {
        invoices: { type: "string" },
        rounds: { type: "string" },
        "pdf-kb": { type: "string" },
        concurrency: { type: "string" },
        "pending-polls": { type: "string" },
        "cpu-prof": { type: "string" },
    });
    // At least the three seeded invoices.
    const invoiceCount = wholeNumberFlag("invoices", values.invoices, 2000, 3, 200_000);
    const pdfBytes = Math.round(numberFlag("pdf-kb", values["pdf-kb"], 100, 1, 20 * 1024) * 1024);
    // The range `azure-email-invoicing reconcile --concurrency` takes.
    const concurrency = wholeNumberFlag("concurrency", values.concurrency, 5, 1, 50);
    // --cpu-prof DIR: each timed child writes a V8 CPU profile there (for finding where the time goes; slows the runs a little).
    const nodeArgs = values["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", path.resolve(values["cpu-prof"])] : [];
    const pendingPolls = wholeNumberFlag("pending-polls", values["pending-polls"], 0, 0, 1000);
    const rounds = wholeNumberFlag("rounds", values.rounds, 3, 1, 20);
    // The first run makes 3 + pending-polls billing API calls per invoice (start the download, poll, fetch the link), and a few more.
    const expectedCalls = invoiceCount * (3 + pendingPolls);
    // The emulator keeps only its last requestLogLimit requests: room for every call of a run, twice over.
    const requestLogCap = Math.max(10_000, 2 * expectedCalls);
    const recipientsPerInvoice = 3 + EXTRA_RECIPIENTS.length;
    const deliveries = invoiceCount * recipientsPerInvoice;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-bench-"));
    const log = (s: string) => process.stderr.write(`${s}\n`);

    // Retry-After 0: the benchmark measures the reconciler, not waiting. The emulator pads the PDFs itself,
    // and keeps every one it rendered: by default it keeps 2,000 of 100 KB, and past that each download
    // rendered its PDF again (milliseconds of the emulator's CPU, on the cores the reconciler shares).
    const emulator = await startEmulator({
        settings: { retryAfterSeconds: 0, pendingPolls, pdfPaddingBytes: pdfBytes },
        requestLogLimit: requestLogCap,
        pdfCacheBytes: pdfCacheFor(invoiceCount, pdfBytes),
    });
    const sink = await startSinkChild();
    try {
        const ops = SEED.profiles.operations;
        // Unpaced: the setup is not timed, and the emulator does not throttle.
        const alice = createBillingClient(resolveSettings({ explicit: { endpoint: emulator.url, token: SEED.users.alice.token, maxRequestsPerSecond: "100000", requestBurst: "100000" } }));
        await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: EXTRA_RECIPIENTS });
        log(`setup: issuing ${invoiceCount - 3} invoices`);
        const issueUrl = `${emulator.url}/_emulator/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}/invoices`;
        await mapLimit(Array.from({ length: invoiceCount - 3 }), 8, async () => {
            const r = await fetch(issueUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
            if (!r.ok) throw new Error(`issuing an invoice: ${r.status} ${await r.text()}`);
        });
        const today = new Date().toISOString().slice(0, 10);
        const invoices = await alice.listInvoices(ops, { periodStartDate: "2000-01-01", periodEndDate: today });
        if (invoices.length !== invoiceCount) throw new Error(`expected ${invoiceCount} invoices, found ${invoices.length}`);

        log(`setup: downloading ${invoiceCount} PDFs (padded by the emulator to ~${(pdfBytes / 1024).toFixed(0)} KB)`);
        fs.mkdirSync(path.join(dir, "pdf"));
        const manifest: BaselineManifest = {
            smtpUrl: sink.url,
            from: FROM,
            maxConnections: concurrency,
            recipients: [SEED.users.alice.mail!, SEED.users.bob.mail!, SEED.users.carol.mail!, ...EXTRA_RECIPIENTS],
            invoices: await mapLimit(invoices, 8, async (invoice) => {
                const { bytes } = await alice.downloadInvoicePdf({ billingAccountName: ops.billingAccountName, invoiceName: invoice.name, documentName: invoiceDocumentName(invoice) });
                const pdfFile = path.join("pdf", `${invoice.name}.pdf`);
                fs.writeFileSync(path.join(dir, pdfFile), bytes);
                return { facts: invoiceFacts(ops, ops.displayName, invoice), pdfFile };
            }),
        };
        const manifestFile = path.join(dir, "manifest.json");
        fs.writeFileSync(manifestFile, JSON.stringify(manifest));
        const pdfSize = fs.statSync(path.join(dir, manifest.invoices[0].pdfFile)).size;

        const requests = async () => ((await (await fetch(`${emulator.url}/_emulator/requests`)).json()) as { value: Array<{ operation?: string | null; connection?: number }> }).value;
        /** The run's billing API calls, refusing a log that reached its cap (its oldest entries were dropped). */
        const callsOf = async (label: string) => {
            const calls = await requests();
            // A pass starts with listBillingAccounts (scope "all"): if that entry is gone, the log lost the start of the run.
            if (calls.length >= requestLogCap || calls[0]?.operation !== "listBillingAccounts") {
                throw new Error(
                    `reconciler (${label}): the emulator's request log holds ${calls.length} entries (it keeps ${requestLogCap}) and starts with ${calls[0]?.operation ?? "nothing"}, not listBillingAccounts: the run's billing API calls cannot all be counted; run fewer invoices or pending polls`,
                );
            }
            return calls;
        };
        const clearRequests = () => fetch(`${emulator.url}/_emulator/requests`, { method: "DELETE" });
        const byOperation = (rs: Array<{ operation?: string | null }>) => {
            const m = new Map<string, number>();
            for (const r of rs) m.set(r.operation ?? "?", (m.get(r.operation ?? "?") ?? 0) + 1);
            return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
        };
        const env = {
            PATH: process.env.PATH ?? "",
            AZURE_EMAIL_INVOICING_ENDPOINT: emulator.url,
            AZURE_EMAIL_INVOICING_TOKEN: SEED.users.grace.token,
            SMTP_URL: sink.url,
            INVOICE_MAIL_FROM: FROM,
            // The emulator does not throttle; the client's own ARM pace (25/s by default) would make this a benchmark of waiting.
            AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: "100000",
            AZURE_EMAIL_INVOICING_REQUEST_BURST: "100000",
        };

        // 1. Bare nodemailer.
        const runBare = async (round: number) => {
            log(`timed: bare nodemailer pool, ${deliveries} messages (round ${round})`);
            const sinkBefore = await sink.count();
            const child = await runChild([path.join(__dirname, "reconciler-baseline.js"), manifestFile], env, path.join(dir, `rss-bare-${round}`), nodeArgs);
            if (child.code !== 0) throw new Error(`baseline failed: ${child.stderr}`);
            const result = JSON.parse(child.stdout) as { sent: number; ms: number };
            const sinkAfter = await sink.count();
            return { child, result, accepted: sinkAfter.accepted - sinkBefore.accepted, sinkCpuMs: sinkAfter.cpuMs - sinkBefore.cpuMs, messageBytes: sinkAfter.lastSize };
        };

        const cli = path.join(__dirname, "..", "cli", "main.js");
        const reconcile = async (label: string, ledger: string) => {
            log(`timed: reconciler, ${label}`);
            await clearRequests();
            const sinkAt = await sink.count();
            const acceptedBefore = sinkAt.accepted;
            const args = [cli, "reconcile", "--since", "2000-01-01", "--ledger", path.join(dir, ledger), "--concurrency", String(concurrency), "--json"];
            const stop = measureEmulator();
            const child = await runChild(args, env, path.join(dir, `rss-${label.replace(/\W+/g, "-")}`), nodeArgs);
            const emu = stop();
            let summary: { startedAt: string; finishedAt: string; totals: { sent: number; failed: number; pending: number } };
            try {
                summary = JSON.parse(child.stdout);
            } catch {
                throw new Error(`reconciler (${label}) printed no summary, exit ${child.code}: ${child.stderr.slice(-2000)}`);
            }
            const sinkAfter = await sink.count();
            const accepted = sinkAfter.accepted - acceptedBefore;
            const sinkCpuMs = sinkAfter.cpuMs - sinkAt.cpuMs;
            const calls = await callsOf(label);
            return { child, summary, accepted, calls, emu, sinkCpuMs, passMs: Date.parse(summary.finishedAt) - Date.parse(summary.startedAt) };
        };
        type Reconciled = Awaited<ReturnType<typeof reconcile>>;
        type Bare = Awaited<ReturnType<typeof runBare>>;

        // 2. The reconciler, first run with a ledger of its own, against the emulator's download operations (202 + Location, polled).
        const firstRun = async (round: number) => {
            const r = await reconcile(`first run, round ${round}`, `ledger-${round}.sqlite`);
            if (r.child.code !== 0 || r.accepted !== deliveries) throw new Error(`first run (round ${round}): exit ${r.child.code}, ${JSON.stringify(r.summary.totals)}`);
            return r;
        };
        const played: Array<{ bare: Bare; first: Reconciled }> = [];
        for (let round = 1; round <= rounds; round++) {
            // Odd rounds start with the bare pool, even ones with the reconciler.
            if (round % 2 === 1) {
                const bare = await runBare(round);
                played.push({ bare, first: await firstRun(round) });
            } else {
                const first = await firstRun(round);
                played.push({ bare: await runBare(round), first });
            }
        }
        // 3. The same ledger as the last round's first run, with nothing new.
        const noop = await reconcile("follow-up run with nothing new", `ledger-${rounds}.sqlite`);
        if (noop.child.code !== 0 || noop.accepted !== 0 || noop.summary.totals.sent !== 0) throw new Error("the follow-up run sent something");

        const bareRate = (b: Bare) => b.result.sent / (b.result.ms / 1000);
        const rate = (r: Reconciled) => r.summary.totals.sent / (r.passMs / 1000);
        const ratio = (p: (typeof played)[number]) => rate(p.first) / bareRate(p.bare);
        const cpuPerMessage = (p: (typeof played)[number]) => p.first.child.cpuMs / p.first.accepted / (p.bare.child.cpuMs / p.bare.accepted);
        const median = (xs: number[]) => {
            const s = [...xs].sort((a, b) => a - b);
            return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        };
        const row = (label: string, r: Reconciled, withRate: boolean) => [
            label,
            String(r.accepted),
            secs(r.passMs),
            withRate ? rate(r).toFixed(0) : "-",
            mb(r.child.rssBytes),
            secs(r.child.cpuMs),
            secs(r.sinkCpuMs),
            String(r.calls.length),
            `${secs(r.emu.cpuMs)} (${(r.emu.busy * 100).toFixed(0)}%)`,
        ];
        const bareRow = (label: string, b: Bare) => [label, String(b.accepted), secs(b.result.ms), bareRate(b).toFixed(0), mb(b.child.rssBytes), secs(b.child.cpuMs), secs(b.sinkCpuMs), "-", "-"];
        const suffix = (round: number) => (rounds > 1 ? `, round ${round}` : "");
        const rows = played.flatMap((p, i) => {
            const pair = [bareRow(`bare nodemailer pool${suffix(i + 1)}`, p.bare), row(`reconciler, first run${suffix(i + 1)}`, p.first, true)];
            return i % 2 === 0 ? pair : pair.reverse();
        });
        const first = played[played.length - 1].first;
        const bare = played[played.length - 1].bare;
        const ratios = played.map(ratio);
        const cpus = played.map(cpuPerMessage);
        const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
        const lines = [
            `reconciler benchmark: ${invoiceCount} invoices x ${recipientsPerInvoice} recipients = ${deliveries} deliveries; PDF ${(pdfSize / 1024).toFixed(1)} KB (emulator pdfPaddingBytes ${pdfBytes}), message ${(bare.messageBytes / 1024).toFixed(1)} KB on the wire`,
            `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), Node ${process.version}, ${concurrency} SMTP connections each; the emulator (in the benchmark's process) and the SMTP sink run on the same machine`,
            `downloads use the emulator's real protocol: POST download -> 202 + Location, GET Location -> ${pendingPolls > 0 ? `202 ${pendingPolls}x, then ` : ""}200 + link, GET link -> PDF; Retry-After is 0 (a benchmark does not wait; Azure asks for seconds)`,
            `${rounds} round${rounds > 1 ? "s, each the bare pool and the reconciler one after the other (the bare pool first in odd rounds, the reconciler first in even ones)" : ""}`,
            "",
            renderTable(
                ["RUN", "MESSAGES", "TIME (s)", "MSG/S", "PEAK RSS (MB)", "CPU (s)", "SMTP SINK CPU (s)", "BILLING API CALLS", "EMULATOR CPU (s, busy)"],
                [...rows, row("reconciler, nothing new", noop, false)],
                { rightAlign: [1, 2, 3, 4, 5, 6, 7, 8] },
            ),
            "",
            rounds > 1
                ? `throughput ratio, reconciler / bare nodemailer: median ${median(ratios).toFixed(2)} (rounds: ${list(ratios)})`
                : `throughput ratio, reconciler / bare nodemailer: ${ratios[0].toFixed(2)}`,
            rounds > 1
                ? `CPU per message, reconciler / bare nodemailer: median ${median(cpus).toFixed(2)} (rounds: ${list(cpus)})`
                : `CPU per message, reconciler / bare nodemailer: ${cpus[0].toFixed(2)}`,
            `peak RSS (MB), by round: reconciler ${played.map((p) => mb(p.first.child.rssBytes)).join(", ")}; bare pool ${played.map((p) => mb(p.bare.child.rssBytes)).join(", ")}`,
            `emulator: ${secs(first.emu.cpuMs)} s CPU in the last first run (${((first.emu.cpuMs / first.calls.length) || 0).toFixed(2)} ms per billing API call), its event loop busy ${(first.emu.busy * 100).toFixed(0)}% of the run`,
            `process wall time incl. start-up (last round): bare ${secs(bare.child.wallMs)} s (sending only ${secs(bare.result.ms)} s), reconciler ${secs(first.child.wallMs)} s, nothing new ${secs(noop.child.wallMs)} s`,
            `first run API calls: ${byOperation(first.calls)}; over ${new Set(first.calls.map((c) => c.connection)).size} TCP connections`,
            `nothing-new API calls: ${byOperation(noop.calls)}`,
        ];
        process.stdout.write(lines.join("\n") + "\n");
    } finally {
        await sink.close();
        await emulator.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

runWhenMain(module, "reconciler", "[--invoices 2000] [--rounds 3] [--pdf-kb 100] [--concurrency 5] [--pending-polls 0] [--cpu-prof DIR]", main);
