/**
 * Micro-benchmark of the emulator itself: what one request costs it as its
 * state grows. Not a test: it prints a table.
 *
 *     node dist/bench/emulator.js [--invoices 100,2000] [--rounds 200]
 *
 * For each invoice count, in memory and with `dataDir`: an emulator
 * (Retry-After 0, download operations completing on the first poll) whose
 * Operations profile holds that many invoices (issued through the admin API,
 * not timed), then, timed one request at a time over keep-alive HTTP from
 * this process (median milliseconds):
 * - download round trip: POST .../invoices/{name}/download (202 + Location),
 *   then GET the Location (200 + link): one long-running operation, on
 *   invoices picked across all of the profile's (every page of the list);
 * - PUT billing profile (200): one change to the state;
 * - issue an invoice (admin API, 201): one record added.
 * A store whose cost grows with the state shows it in the 2,000 row.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderTable } from "../cli/text";
import { SEED, startEmulator } from "../emulator";
import { benchFlags, wholeNumberFlag, wholeNumberListFlag } from "./args";
import { runWhenMain } from "./entry";

const API = "api-version=2024-04-01";

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

async function call(url: string, init: RequestInit, expect: number): Promise<Response> {
    const r = await fetch(url, init);
    if (r.status !== expect) throw new Error(`${init.method ?? "GET"} ${url}: expected ${expect}, got ${r.status} ${await r.text()}`);
    return r;
}

/** Median of `rounds` timed calls, after a few untimed ones (warm-up: JIT, connections, caches). */
async function timed(rounds: number, fn: (i: number) => Promise<void>): Promise<number> {
    for (let i = 0; i < 50; i++) await fn(rounds + i);
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        await fn(i);
        ms.push(performance.now() - t0);
    }
    return median(ms);
}

async function measure(invoices: number, rounds: number, dataDir: string | undefined): Promise<string[]> {
    const emulator = await startEmulator({ dataDir, settings: { retryAfterSeconds: 0, pendingPolls: 0 } });
    try {
        const ops = SEED.profiles.operations;
        const auth = { authorization: `Bearer ${SEED.users.alice.token}` };
        const json = { ...auth, "content-type": "application/json" };
        const bp = `${emulator.url}/providers/Microsoft.Billing/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}`;
        const issue = `${emulator.url}/_emulator/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}/invoices`;
        for (let i = 3; i < invoices; i++) await call(issue, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }, 201);
        // Every invoice, page by page (a page holds pageSize, 50 by default).
        const names: string[] = [];
        for (let next: string | undefined = `${bp}/invoices?${API}&periodStartDate=2000-01-01&periodEndDate=2100-01-01`; next; ) {
            const page = (await (await call(next, { headers: auth }, 200)).json()) as { value: Array<{ name: string }>; nextLink?: string };
            for (const v of page.value) names.push(v.name);
            next = page.nextLink;
        }
        if (names.length !== invoices) throw new Error(`expected ${invoices} invoices on the profile, listed ${names.length}`);

        const download = await timed(rounds, async (i) => {
            // Spread over the whole list (7919 is prime), not the first few hundred.
            const name = names[(i * 7919) % names.length];
            const url = `${emulator.url}/providers/Microsoft.Billing/billingAccounts/${ops.billingAccountName}/invoices/${name}/download?${API}`;
            const accepted = await call(url, { method: "POST", headers: auth }, 202);
            await call(accepted.headers.get("location") as string, { headers: auth }, 200).then((r) => r.arrayBuffer());
        });
        const profile = (await (await call(`${bp}?${API}`, { headers: auth }, 200)).json()) as { properties: Record<string, unknown>; tags?: unknown };
        const { hasReadAccess: _h, ...props } = profile.properties;
        const put = await timed(Math.max(20, rounds / 4), async (i) => {
            const body = JSON.stringify({ properties: { ...props, invoiceRecipients: [`ap${i}@contoso.com`] }, tags: profile.tags });
            await call(`${bp}?${API}`, { method: "PUT", headers: json, body }, 200).then((r) => r.arrayBuffer());
        });
        const issued = await timed(Math.max(20, rounds / 4), async () => {
            await call(issue, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }, 201).then((r) => r.arrayBuffer());
        });
        return [String(invoices), dataDir ? "dataDir" : "memory", download.toFixed(2), put.toFixed(2), issued.toFixed(2)];
    } finally {
        await emulator.close();
    }
}

export async function main(argv: string[]): Promise<void> {
    const values = benchFlags(argv, { invoices: { type: "string" }, rounds: { type: "string" } });
    const counts = wholeNumberListFlag("invoices", values.invoices, [100, 2000], 3, 200_000);
    const rounds = wholeNumberFlag("rounds", values.rounds, 200, 1, 100_000);
    // An untimed pass first: the first emulator in a process otherwise pays for JIT compilation.
    await measure(counts[0], rounds, undefined);
    const rows: string[][] = [];
    for (const n of counts) {
        for (const persisted of [false, true]) {
            const dir = persisted ? fs.mkdtempSync(path.join(os.tmpdir(), "aei-emu-bench-")) : undefined;
            try {
                process.stderr.write(`emulator bench: ${n} invoices, ${persisted ? "dataDir" : "memory"}\n`);
                rows.push(await measure(n, rounds, dir));
            } finally {
                if (dir) fs.rmSync(dir, { recursive: true, force: true });
            }
        }
    }
    process.stdout.write(
        [
            `emulator micro-benchmark: median ms per request, one at a time over keep-alive HTTP; Node ${process.version}, ${os.cpus().length} CPUs`,
            "",
            renderTable(["INVOICES", "STATE", "DOWNLOAD ROUND TRIP (ms)", "PUT PROFILE (ms)", "ISSUE INVOICE (ms)"], rows, { rightAlign: [0, 2, 3, 4] }),
            "",
        ].join("\n"),
    );
}

runWhenMain(module, "emulator", "[--invoices 100,2000] [--rounds 200]", main);
