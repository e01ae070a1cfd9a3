/**
 * Benchmark of the ledger backends and of several workers. Not a test: it
 * prints a table.
 *
 *     node dist/bench/ledger.js [--invoices 2000] [--latency-ms 100] [--concurrency 5] [--workers 3] [--no-cpu-bound]
 *
 * 10,000 deliveries (2,000 invoices x 5 recipients, PDFs padded by the
 * emulator to ~100 KB) through SMTP sinks that take `--latency-ms` per
 * message before they answer, as a real relay does, so that a run is bound
 * by latency rather than CPU. Each worker has a sink process of its own: a
 * relay is a farm whose capacity is not what this measures, and one sink
 * process parsing every worker's 140 KB messages would otherwise be the
 * bottleneck on two cores. Each setup starts from
 * an empty ledger and runs real `azure-email-invoicing reconcile` processes
 * against the emulator's real protocol:
 *
 * 1. one worker, SQLite ledger;
 * 2. one worker, PostgreSQL ledger;
 * 3. `--workers` workers at once (distinct `--worker-id`s), one PostgreSQL ledger.
 *
 * Then the same three with a sink that answers at once (the CPU-bound case,
 * where the machine's cores, not the relay, set the pace).
 *
 * The PostgreSQL server is a throwaway one the benchmark starts (dev/postgres.ts)
 * with `fsync` on and `synchronous_commit = on`, as a production server
 * runs: every commit reaches the disk. Time is from the first worker's start
 * to the last one's end; every worker plans (one plan wins) and delivers.
 */
import { fork, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { startEmulator, SEED } from "../emulator";
import { createBillingClient } from "../provider/billing/client";
import { resolveSettings } from "../provider/config";
import { renderTable } from "../cli/text";
import { startPostgres, type TestPostgres } from "../dev/postgres";
import { pdfCacheFor } from "./reconciler";
import { benchFlags, wholeNumberFlag } from "./args";
import { runWhenMain } from "./entry";

const FROM = "Contoso Billing <billing@contoso.com>";
const EXTRA_RECIPIENTS = ["ap@contoso.com", "controller@contoso.com"];

interface SinkChild {
    url: string;
    count(): Promise<{ accepted: number; cpuMs: number }>;
    close(): Promise<void>;
}

function startSinkChild(latencyMs: number): Promise<SinkChild> {
    const child = fork(path.join(__dirname, "sink-child.js"), [String(latencyMs)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("message", (ready: { url: string }) => {
            resolve({
                url: ready.url,
                count: () =>
                    new Promise((res) => {
                        child.once("message", (m: { accepted: number; cpuMs: number }) => res(m));
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

interface WorkerResult {
    code: number | null;
    stdout: string;
    stderr: string;
    rssBytes: number;
    cpuMs: number;
}

function runWorker(args: string[], env: Record<string, string>, rssFile: string): Promise<WorkerResult> {
    const probe = path.join(__dirname, "rss-probe.js");
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", probe, ...args], { env: { ...env, BENCH_RSS_FILE: rssFile }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            const usage = fs.existsSync(rssFile) ? (JSON.parse(fs.readFileSync(rssFile, "utf8")) as { rssBytes: number; cpuMs: number }) : { rssBytes: NaN, cpuMs: NaN };
            resolve({ code, stdout, stderr, ...usage });
        });
    });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(limit, items.length) }, async () => {
            for (;;) {
                const i = next++;
                if (i >= items.length) return;
                out[i] = await fn(items[i]);
            }
        }),
    );
    return out;
}

export async function main(argv: string[]): Promise<void> {
    const values = benchFlags(argv, {
        invoices: { type: "string" },
        "latency-ms": { type: "string" },
        concurrency: { type: "string" },
        workers: { type: "string" },
        "no-cpu-bound": { type: "boolean" },
    });
    const invoiceCount = wholeNumberFlag("invoices", values.invoices, 2000, 3, 200_000);
    const latencyMs = wholeNumberFlag("latency-ms", values["latency-ms"], 100, 0, 60_000);
    // The range `azure-email-invoicing reconcile --concurrency` takes.
    const concurrency = wholeNumberFlag("concurrency", values.concurrency, 5, 1, 50);
    // At least two: the benchmark is of workers sharing one ledger.
    const workerCount = wholeNumberFlag("workers", values.workers, 3, 2, 32);
    const deliveries = invoiceCount * (3 + EXTRA_RECIPIENTS.length);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-bench-ledger-"));
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const cli = path.join(__dirname, "..", "cli", "main.js");

    const emulator = await startEmulator({ settings: { retryAfterSeconds: 0, pendingPolls: 0, pdfPaddingBytes: 100 * 1024 }, pdfCacheBytes: pdfCacheFor(invoiceCount, 100 * 1024) });
    let pg: TestPostgres | undefined;
    try {
        log("setup: PostgreSQL (fsync on)");
        pg = await startPostgres({ durable: true });
        const ops = SEED.profiles.operations;
        const alice = createBillingClient(resolveSettings({ explicit: { endpoint: emulator.url, token: SEED.users.alice.token } }));
        await alice.updateInvoiceEmailSettings(ops, { invoiceEmailOptIn: true, invoiceRecipients: EXTRA_RECIPIENTS });
        log(`setup: issuing ${invoiceCount - 3} invoices`);
        const issueUrl = `${emulator.url}/_emulator/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}/invoices`;
        await mapLimit(Array.from({ length: invoiceCount - 3 }), 8, async () => {
            const r = await fetch(issueUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
            if (!r.ok) throw new Error(`issuing an invoice: ${r.status} ${await r.text()}`);
        });

        const setup = async (label: string, latency: number, ledgerOf: (i: number) => string, workers: number) => {
            const sinks = await Promise.all(Array.from({ length: workers }, () => startSinkChild(latency)));
            try {
                log(`timed: ${label}`);
                const env = (i: number) => ({
                    PATH: process.env.PATH ?? "",
                    AZURE_EMAIL_INVOICING_ENDPOINT: emulator.url,
                    AZURE_EMAIL_INVOICING_TOKEN: SEED.users.grace.token,
                    SMTP_URL: sinks[i].url,
                    INVOICE_MAIL_FROM: FROM,
                    ...pg!.env,
                });
                const sinkCpuBefore = (await Promise.all(sinks.map((k) => k.count()))).reduce((n, c) => n + c.cpuMs, 0);
                const ownCpu = process.cpuUsage();
                const started = performance.now();
                const results = await Promise.all(
                    Array.from({ length: workers }, (_, i) =>
                        runWorker(
                            [cli, "reconcile", "--since", "2000-01-01", "--ledger", ledgerOf(i), "--concurrency", String(concurrency), "--worker-id", `bench-${i + 1}`, "--json"],
                            env(i),
                            path.join(dir, `rss-${label.replace(/\W+/g, "-")}-${i}`),
                        ),
                    ),
                );
                const wallMs = performance.now() - started;
                const own = process.cpuUsage(ownCpu);
                const counts = await Promise.all(sinks.map((k) => k.count()));
                const accepted = counts.reduce((n, c) => n + c.accepted, 0);
                const sinkCpuMs = counts.reduce((n, c) => n + c.cpuMs, 0) - sinkCpuBefore;
                for (const r of results) if (r.code !== 0) throw new Error(`${label}: a worker exited ${r.code}: ${r.stderr.slice(-2000)}`);
                if (accepted !== deliveries) throw new Error(`${label}: the sink accepted ${accepted} messages, not ${deliveries}`);
                const sent = results.map((r) => (JSON.parse(r.stdout) as { totals: { sent: number } }).totals.sent);
                return {
                    label,
                    wallMs,
                    rate: deliveries / (wallMs / 1000),
                    cpuMs: results.reduce((n, r) => n + r.cpuMs, 0),
                    rssBytes: results.reduce((n, r) => Math.max(n, r.rssBytes), 0),
                    sinkCpuMs,
                    emulatorCpuMs: (own.user + own.system) / 1000,
                    load: os.loadavg()[0],
                    sent,
                };
            } finally {
                await Promise.all(sinks.map((k) => k.close()));
            }
        };
        const sqliteFile = (tag: string) => () => path.join(dir, `${tag}.sqlite`);
        const pgDatabase = async (tag: string) => {
            const db = await pg!.createDatabase(tag);
            return () => pg!.url(db);
        };
        const cases = async (latency: number, tag: string) => [
            await setup(`1 worker, SQLite${tag}`, latency, sqliteFile(`one${latency}`), 1),
            await setup(`1 worker, PostgreSQL${tag}`, latency, await pgDatabase(`one${latency}`), 1),
            await setup(`${workerCount} workers, PostgreSQL${tag}`, latency, await pgDatabase(`many${latency}`), workerCount),
        ];
        const latencyBound = await cases(latencyMs, `, relay ${latencyMs} ms`);
        const cpuBound = values["no-cpu-bound"] ? [] : await cases(0, ", relay at once");

        const row = (r: (typeof latencyBound)[number]) => [
            r.label,
            String(deliveries),
            (r.wallMs / 1000).toFixed(1),
            r.rate.toFixed(1),
            (r.cpuMs / 1000).toFixed(1),
            (r.rssBytes / (1024 * 1024)).toFixed(0),
            (r.sinkCpuMs / 1000).toFixed(1),
            (r.emulatorCpuMs / 1000).toFixed(1),
            r.load.toFixed(1),
            r.sent.join(" + "),
        ];
        const ratios = (rs: typeof latencyBound, what: string) => [
            `${what}: ${workerCount} workers / 1 worker on PostgreSQL: ${(rs[2].rate / rs[1].rate).toFixed(2)} (goal >= 2.5 when latency-bound); PostgreSQL / SQLite, 1 worker: ${(rs[1].rate / rs[0].rate).toFixed(2)} (goal >= 0.9)`,
        ];
        const lines = [
            `ledger benchmark: ${invoiceCount} invoices x 5 recipients = ${deliveries} deliveries, PDFs ~100 KB, ${concurrency} SMTP connections per worker`,
            `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), Node ${process.version}; the emulator (this process), the SMTP sinks (one process per worker) and PostgreSQL (fsync on) run on the same machine`,
            "",
            renderTable(
                ["SETUP", "MESSAGES", "TIME (s)", "MSG/S", "WORKERS' CPU (s)", "PEAK RSS (MB)", "SINKS' CPU (s)", "EMULATOR CPU (s)", "LOAD AVG", "SENT BY EACH WORKER"],
                [...latencyBound, ...cpuBound].map(row),
                { rightAlign: [1, 2, 3, 4, 5, 6, 7, 8] },
            ),
            "",
            "LOAD AVG is the machine's 1-minute load average at the end of the setup: above 2 (the cores), other work on the machine competed for them.",
            "",
            ...ratios(latencyBound, `relay ${latencyMs} ms`),
            ...(cpuBound.length ? ratios(cpuBound, "relay at once (CPU-bound)") : []),
        ];
        process.stdout.write(lines.join("\n") + "\n");
    } finally {
        await pg?.close();
        await emulator.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

runWhenMain(module, "ledger", "[--invoices 2000] [--latency-ms 100] [--concurrency 5] [--workers 3] [--no-cpu-bound]", main);
