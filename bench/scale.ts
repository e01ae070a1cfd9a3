/**
 * Benchmark of reconciler passes over a billing account with thousands of
 * billing profiles: how many billing API calls a pass makes, how long it
 * takes, and whether the client's pace holds. Not a test: it prints a table.
 *
 *     node dist/bench/scale.js [--profiles 5000] [--rate 200]
 *
 * Setup (not timed): the emulator in this process (request log large enough
 * for every call), its MCA account seeded with `--profiles` billing profiles
 * when it starts (`seed.extraProfiles`; each extra profile gets three monthly
 * invoices; the admin API, at most 1,000 a call, takes minutes for
 * thousands), every profile opted in to invoice email by the account owner
 * (Grace). The reconciler runs as Grace over every profile she can
 * read, with the routing `recipients: none`: each invoice is planned (and
 * recorded in the ledger) for nobody, so a pass is all listing and planning,
 * and no SMTP or PDF work hides the billing API calls.
 *
 * Timed, each a real `azure-email-invoicing reconcile` process with one
 * ledger:
 * 1. the first pass, at `--max-requests-per-second R --request-burst 1`;
 *    the observed peak rate is the most billing API requests the emulator
 *    received in any one second (its request log's times);
 * 2. a pass with nothing new, at the same pace.
 *
 * The goals printed beside the measurement: the first pass never exceeds
 * the configured rate (a bucket of 1 token lets `rate` requests plus the one
 * it holds into any one second: `rate + 1` at most, as the emulator times
 * them); a pass with nothing new makes at most (accounts + profile-list
 * pages + invoice pages + 5) calls.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startEmulator, SEED } from "../emulator";
import { createBillingClient } from "../provider/billing/client";
import { parseBillingProfileId } from "../provider/billing/paths";
import { resolveSettings } from "../provider/config";
import { renderTable } from "../cli/text";
import { runChild, startSinkChild } from "./reconciler";
import { benchFlags, numberFlag, wholeNumberFlag } from "./args";
import { runWhenMain } from "./entry";

const secs = (ms: number) => (ms / 1000).toFixed(1);

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(limit, items.length) }, async () => {
            while (next < items.length) await fn(items[next++]);
        }),
    );
}

/** The most entries within any one second (a window [t, t + 1 s)), from their times in ms. */
export function peakPerSecond(times: number[]): number {
    const t = [...times].sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; j < t.length; j++) {
        while (t[j] - t[i] >= 1000) i++;
        peak = Math.max(peak, j - i + 1);
    }
    return peak;
}

export async function main(argv: string[]): Promise<void> {
    const values = benchFlags(argv, { profiles: { type: "string" }, rate: { type: "string" } });
    // At least the MCA account's two seeded profiles.
    const profileCount = wholeNumberFlag("profiles", values.profiles, 5000, 2, 50_000);
    // Requests per second.
    const rate = numberFlag("rate", values.rate, 200, 0.1, 100_000);
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-bench-scale-"));
    const MCA = SEED.accounts.mca.name;
    // The seeded MCA account has two profiles of its own (Operations, Research).
    const emulator = await startEmulator({ settings: { retryAfterSeconds: 0 }, requestLogLimit: 2_000_000, seed: { extraProfiles: profileCount - 2 } });
    const sink = await startSinkChild();
    try {
        // The benchmark's own client (setup only): no pace, the emulator does not throttle.
        const grace = createBillingClient(
            resolveSettings({ explicit: { endpoint: emulator.url, token: SEED.users.grace.token, maxRequestsPerSecond: "100000", requestBurst: "100000" } }),
        );
        const profiles = await grace.listBillingProfiles(MCA);
        if (profiles.length !== profileCount) throw new Error(`expected ${profileCount} billing profiles on ${MCA}, found ${profiles.length}`);
        log(`setup: opting ${profiles.length} billing profiles in to invoice email`);
        await mapLimit(profiles, 8, (p) => grace.updateInvoiceEmailSettings(parseBillingProfileId(p.id)!, { invoiceEmailOptIn: true, invoiceRecipients: [] }));

        const config = path.join(dir, "reconcile.json");
        fs.writeFileSync(config, JSON.stringify({ defaults: { recipients: "none" } }));
        const env = {
            PATH: process.env.PATH ?? "",
            AZURE_EMAIL_INVOICING_ENDPOINT: emulator.url,
            AZURE_EMAIL_INVOICING_TOKEN: SEED.users.grace.token,
            SMTP_URL: sink.url,
            INVOICE_MAIL_FROM: "Contoso Billing <billing@contoso.com>",
        };
        const cli = path.join(__dirname, "..", "cli", "main.js");
        const ledger = path.join(dir, "ledger.sqlite");
        type Entry = { time: string; operation?: string | null };
        const pass = async (label: string) => {
            log(`timed: ${label}`);
            await fetch(`${emulator.url}/_emulator/requests`, { method: "DELETE" });
            const args = [cli, "reconcile", "--since", "2000-01-01", "--config", config, "--ledger", ledger, "--json", "--max-requests-per-second", String(rate), "--request-burst", "1"];
            const child = await runChild(args, env, path.join(dir, `rss-${label.replace(/\W+/g, "-")}`));
            let summary: { startedAt: string; finishedAt: string; totals: { planned?: number; sent: number } };
            try {
                summary = JSON.parse(child.stdout);
            } catch {
                throw new Error(`${label}: no summary, exit ${child.code}: ${child.stderr.slice(-2000)}`);
            }
            if (child.code !== 0) throw new Error(`${label}: exit ${child.code}: ${child.stderr.slice(-2000)}`);
            const calls = ((await (await fetch(`${emulator.url}/_emulator/requests`)).json()) as { value: Entry[] }).value;
            const byOperation = new Map<string, number>();
            for (const c of calls) byOperation.set(c.operation ?? "?", (byOperation.get(c.operation ?? "?") ?? 0) + 1);
            return {
                calls,
                byOperation: [...byOperation].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", "),
                passMs: Date.parse(summary.finishedAt) - Date.parse(summary.startedAt),
                peak: peakPerSecond(calls.map((c) => Date.parse(c.time))),
                child,
            };
        };
        const first = await pass("first pass");
        const noop = await pass("pass with nothing new");

        const { pageSize } = (await (await fetch(`${emulator.url}/_emulator/settings`)).json()) as { pageSize: number };
        const invoices = profiles.length * 3;
        const accounts = (await grace.listBillingAccounts()).length;
        const profilePages = Math.ceil(profiles.length / pageSize);
        const invoicePages = Math.ceil(invoices / pageSize);
        const bound = accounts + profilePages + invoicePages + 5;
        const lines = [
            `scale benchmark: ${profiles.length} billing profiles on one billing account, ${invoices} invoices (3 each), all opted in; routing recipients: none (planned for nobody: listing and planning only)`,
            `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), Node ${process.version}; the emulator (page size ${pageSize}) runs in the benchmark's process; pace --max-requests-per-second ${rate} --request-burst 1`,
            "",
            renderTable(
                ["PASS", "BILLING API CALLS", "TIME (s)", "CALLS/S", "PEAK IN ANY SECOND", "CPU (s)", "PEAK RSS (MB)"],
                [first, noop].map((r, i) => [
                    i === 0 ? "first pass" : "nothing new",
                    String(r.calls.length),
                    secs(r.passMs),
                    (r.calls.length / (r.passMs / 1000)).toFixed(0),
                    String(r.peak),
                    secs(r.child.cpuMs),
                    (r.child.rssBytes / 1048576).toFixed(0),
                ]),
                { rightAlign: [1, 2, 3, 4, 5, 6] },
            ),
            "",
            `goal: the first pass never exceeds ${rate}/s: peak ${first.peak} in one second, at most ${Math.floor(rate) + 1} allowed (the rate and the bucket's one token) (${first.peak <= Math.floor(rate) + 1 ? "met" : "NOT met"})`,
            `goal: nothing new in at most accounts ${accounts} + profile-list pages ${profilePages} + invoice pages ${invoicePages} + 5 = ${bound} calls: ${noop.calls.length} (${noop.calls.length <= bound ? "met" : "NOT met"})`,
            `first pass calls: ${first.byOperation}`,
            `nothing-new calls: ${noop.byOperation}`,
        ];
        process.stdout.write(lines.join("\n") + "\n");
    } finally {
        await sink.close();
        await emulator.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

runWhenMain(module, "scale", "[--profiles 5000] [--rate 200]", main);
