/**
 * Benchmark of the two resources through the real Pulumi engine, against
 * no-op dynamic resources with the same inputs (the engine's floor).
 * Not a test: it prints tables.
 *
 *     node dist/bench/pulumi.js [--profiles 100] [--repeat 3]
 *
 * Setup (not timed): one emulator (Retry-After 0), `--profiles` billing
 * profiles per stack that calls the billing API, added on the MCA account
 * through its admin API (`POST /_emulator/billingAccounts/{ba}/billingProfiles
 * {count}`, at most 1,000 a call; grace, the account owner, owns them all and
 * is the caller), so no stack finds another's settings or assignments, and
 * three stacks of bench/programs/stack, each in its own temporary file backend:
 * - "ours": per profile one EmailInvoiceSetting and one
 *   InvoiceManagerAssignment (2N resources);
 * - "plugin": the same 2N resources through the provider plugin
 *   (`azure-email-invoicing/plugin`, served by `pulumi-resource-azure-email-invoicing`);
 * - "no-op": 2N dynamic resources with the same inputs whose provider only
 *   answers create: the engine's floor for that many dynamic resources.
 *
 * Timed, in the same run, alternating the two stacks: `pulumi up` (create),
 * a no-change `pulumi preview`, `pulumi refresh --yes --skip-preview` (read
 * every resource, write the state) and `pulumi destroy`; the cycle runs
 * `--repeat` times and the table shows each operation's median (API calls
 * and state bytes from the first cycle). Wall time includes
 * starting the CLI, the language host, the program and the dynamic-provider
 * process, as a user sees it. The client's ARM pace (25 requests a second
 * after a burst of 250 by default, ARM's own bucket) is lifted: the emulator
 * does not throttle, and the benchmark measures the provider, not waiting.
 * Billing API calls come from the emulator's
 * request log (with the TCP connections that carried them); state bytes from
 * `pulumi stack export`.
 *
 * In the first cycle, the dynamic provider runs with
 * `AZURE_EMAIL_INVOICING_TRACE_FILE`, so its process writes a trace
 * (provider/resources/trace.ts), and a second table breaks each operation's
 * wall time down: in the provider, on the wire, in the engine
 * (bench/breakdown.ts).
 *
 * The least number of billing API calls each operation needs, printed beside
 * the measured ones, per profile (one setting and one assignment):
 * - up: the setting reads the profile (its prior values, and the body to
 *   write back: 2024-04-01 has no PATCH) and writes it (GET + PUT); the
 *   assignment resolves the email through Graph, finds the profile's
 *   Invoice manager role by name, looks for an assignment to adopt, and
 *   creates one (4): 6 per profile;
 * - a no-change preview: none;
 * - refresh: one GET per resource: 2;
 * - destroy: the setting restores its prior values (GET + PUT), the
 *   assignment is deleted (DELETE): 3.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { startEmulator, SEED } from "../emulator";
import type { RequestLogEntry } from "../emulator";
import { adminCall } from "../dev/emulator-admin";
import { renderTable } from "../cli/text";
import { REPO_ROOT } from "../dev/paths";
import {
    SETTING_TYPE,
    ASSIGNMENT_TYPE,
    PLUGIN_SETTING_TYPE,
    PLUGIN_ASSIGNMENT_TYPE,
    TestStack,
    pulumiToolchain,
    type CommandResult,
    type StateResource,
} from "../dev/pulumi-stack";
import { TRACE_FILE_ENV, epochMs, readTrace } from "../provider/resources/trace";
import { breakdownOf, type Breakdown } from "./breakdown";

const PROGRAM = path.join(REPO_ROOT, "bench", "programs", "stack");
const MANAGER = "jane@contoso.com";
type Mode = "ours" | "plugin" | "noop";
const MODES: readonly Mode[] = ["ours", "plugin", "noop"];
const MODE_LABEL: Record<Mode, string> = { ours: "dynamic", plugin: "plugin", noop: "no-op floor" };
/** Which state entries are the stack's 2N resources, per mode. */
const OF_MODE: Record<Mode, (r: StateResource) => boolean> = {
    ours: (r) => r.type === SETTING_TYPE || r.type === ASSIGNMENT_TYPE,
    plugin: (r) => r.type === PLUGIN_SETTING_TYPE || r.type === PLUGIN_ASSIGNMENT_TYPE,
    noop: (r) => r.type.startsWith("pulumi-nodejs:dynamic/bench:"),
};

/** The Pulumi version of the engine measured: the CLI is built at the @pulumi/pulumi pin (scripts/pulumi/README.md). */
const PULUMI_VERSION = (require("@pulumi/pulumi/package.json") as { version: string }).version;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface Measured {
    ms: number[];
    calls: RequestLogEntry[];
    /** The dynamic provider, first cycle: where the time went. */
    breakdown?: Breakdown;
}

const LABELS = ["up (create)", "preview (no change)", "refresh", "destroy"] as const;
type Label = (typeof LABELS)[number];

/** The least billing API calls per profile (one setting, one assignment) each operation needs (see the module comment). */
const LEAST_CALLS_PER_PROFILE: Record<Label, number> = { "up (create)": 6, "preview (no change)": 0, refresh: 2, destroy: 3 };

async function main(argv: string[]): Promise<void> {
    const { values } = parseArgs({
        args: argv,
        options: { profiles: { type: "string", default: "100" }, repeat: { type: "string", default: "3" } },
        strict: true,
    });
    const n = Number(values.profiles);
    const repeat = Number(values.repeat);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error("--profiles must be 1..1000");
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) throw new Error("--repeat must be 1..20");

    process.stderr.write(`[bench] Pulumi CLI...\n`);
    await pulumiToolchain();
    const emulator = await startEmulator({ port: 0, settings: { retryAfterSeconds: 0 }, requestLogLimit: 100_000 });
    const account = SEED.accounts.mca.name;
    /** Profiles of one stack's own: none is shared, so no stack adopts or deletes another's assignment. */
    const newProfiles = async () => {
        let names: string[] = [];
        while (names.length < n) {
            const count = Math.min(1000, n - names.length);
            names = names.concat(((await adminCall(emulator.url, "POST", `billingAccounts/${account}/billingProfiles`, { count })) as { names: string[] }).names);
        }
        return names;
    };
    const token = SEED.users.grace.token;

    const stacks = {} as Record<Mode, TestStack>;
    const traceDir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-bench-trace-"));
    try {
        for (const mode of MODES) {
            const stack = await TestStack.create({
                programDir: PROGRAM,
                stack: `bench-${mode}`,
                env: {
                    AZURE_EMAIL_INVOICING_ENDPOINT: emulator.url,
                    AZURE_EMAIL_INVOICING_TOKEN: token,
                    AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: "100000",
                    AZURE_EMAIL_INVOICING_REQUEST_BURST: "100000",
                },
            });
            stacks[mode] = stack;
            await stack.config("mode", mode);
            await stack.config("billingAccountName", account);
            await stack.config("profiles", JSON.stringify(await newProfiles()));
            await stack.config("manager", MANAGER);
        }

        const results = {} as Record<Label, Record<Mode, Measured>>;
        for (const l of LABELS) results[l] = { ours: { ms: [], calls: [] }, plugin: { ms: [], calls: [] }, noop: { ms: [], calls: [] } };
        const traceFile = path.join(traceDir, "trace.jsonl");
        /** Runs one operation on each stack in turn; keeps the request log (and the dynamic provider's trace) of the first cycle. */
        const measure = async (label: Label, cycle: number, run: (s: TestStack) => Promise<CommandResult>) => {
            for (const mode of MODES) {
                await adminCall(emulator.url, "DELETE", "requests");
                const traced = mode === "ours" && cycle === 0;
                fs.rmSync(traceFile, { force: true });
                stacks[mode].setEnv({ [TRACE_FILE_ENV]: traced ? traceFile : undefined });
                process.stderr.write(`[bench] cycle ${cycle + 1}/${repeat}: ${label} (${mode})...`);
                const start = epochMs();
                const r = await run(stacks[mode]);
                const end = epochMs();
                const ms = end - start;
                process.stderr.write(` ${seconds(ms)} s\n`);
                if (r.code !== 0) throw new Error(`${label} (${mode}) exited ${r.code}:\n${r.output}`);
                const log = (await adminCall(emulator.url, "GET", "requests")).value as RequestLogEntry[];
                results[label][mode].ms.push(ms);
                if (cycle === 0) results[label][mode].calls = log;
                if (traced) results[label][mode].breakdown = breakdownOf(readTrace(traceFile), { start, end });
            }
        };

        const state = {} as Record<Mode, { perResource: number; provider: number; total: number; count: number }>;
        for (let cycle = 0; cycle < repeat; cycle++) {
            await measure("up (create)", cycle, (s) => s.up());
            if (cycle === 0) {
                for (const mode of MODES) {
                    const { text, deployment } = await stacks[mode].exportState();
                    const ours = (deployment.resources ?? []).filter(OF_MODE[mode]);
                    if (ours.length !== 2 * n) throw new Error(`${mode}: ${ours.length} resources in state, expected ${2 * n}`);
                    const bytes = ours.map((r) => JSON.stringify(r).length);
                    const provider = ours.map((r) => String(r.inputs?.__provider ?? "").length);
                    state[mode] = {
                        perResource: bytes.reduce((a, b) => a + b, 0) / ours.length,
                        provider: provider.reduce((a, b) => a + b, 0) / ours.length,
                        total: text.length,
                        count: ours.length,
                    };
                }
            }
            await measure("preview (no change)", cycle, (s) => s.preview(["--expect-no-changes"]));
            await measure("refresh", cycle, (s) => s.refreshApply());
            await measure("destroy", cycle, (s) => s.destroy());
        }

        // ------------------------------------------------------------------
        const resources = 2 * n;
        const out: string[] = [];
        out.push(
            `Pulumi ${PULUMI_VERSION} engine, ${n} billing profiles: ${resources} resources per stack (${os.cpus().length} cores, Node ${process.version}; median of ${repeat} cycles of up, preview, refresh, destroy)`,
        );
        out.push("");
        const ratio = (x: number, floor: number) => (x / floor).toFixed(2);
        const perResource = (ms: number) => (ms / resources).toFixed(1);
        const rows = LABELS.map((label) => {
            const r = results[label];
            const floor = median(r.noop.ms);
            const cells: string[] = [label];
            for (const mode of ["ours", "plugin"] as const) cells.push(seconds(median(r[mode].ms)));
            cells.push(seconds(floor));
            for (const mode of ["ours", "plugin"] as const) cells.push(ratio(median(r[mode].ms), floor));
            for (const mode of MODES) cells.push(perResource(median(r[mode].ms)));
            for (const mode of ["ours", "plugin"] as const) {
                const calls = r[mode].calls;
                cells.push(`${calls.length} (${calls.filter((c) => c.method !== "GET").length})`);
            }
            for (const mode of ["ours", "plugin"] as const) cells.push((r[mode].calls.length / resources).toFixed(1));
            cells.push(((LEAST_CALLS_PER_PROFILE[label] * n) / resources).toFixed(1));
            return cells;
        });
        out.push(
            renderTable(
                [
                    "operation",
                    "dynamic (s)",
                    "plugin (s)",
                    "no-op floor (s)",
                    "dynamic / floor",
                    "plugin / floor",
                    "ms/resource: dynamic",
                    "plugin",
                    "floor",
                    "billing API calls, dynamic (writes)",
                    "plugin (writes)",
                    "calls/resource: dynamic",
                    "plugin",
                    "least needed",
                ],
                rows,
                { rightAlign: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] },
            ),
        );
        out.push("");
        // Where the dynamic provider's time went, first cycle (traced): the three parts add up to the wall time.
        const part = (ms: number, wall: number) => `${seconds(ms)} (${((100 * ms) / wall).toFixed(0)}%)`;
        out.push(
            renderTable(
                [
                    "operation (dynamic, cycle 1)",
                    "wall (s)",
                    "in the provider (s)",
                    "of which loading",
                    "on the wire (s)",
                    "in the engine (s)",
                    "floor (s)",
                    "provider CPU (s)",
                    "provider calls (mean ms)",
                    "requests (mean ms)",
                    "TCP connections",
                ],
                LABELS.map((label) => {
                    const r = results[label];
                    const b = r.ours.breakdown;
                    if (!b) return [label, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"];
                    const calls = [...b.calls].map(([m, c]) => `${m} ${c.count} (${c.meanMs.toFixed(0)})`).join(", ") || "none";
                    return [
                        label,
                        seconds(b.wallMs),
                        part(b.providerMs, b.wallMs),
                        seconds(b.loadMs),
                        part(b.wireMs, b.wallMs),
                        part(b.engineMs, b.wallMs),
                        seconds(r.noop.ms[0]),
                        seconds(b.providerCpuMs),
                        calls,
                        b.requests.count ? `${b.requests.count} (${b.requests.meanMs.toFixed(1)})` : "0",
                        String(new Set(r.ours.calls.map((c) => c.connection)).size),
                    ];
                }),
                { rightAlign: [1, 2, 3, 4, 5, 6, 7, 9, 10] },
            ),
        );
        out.push("");
        const byOp = (calls: RequestLogEntry[]) => {
            const m = new Map<string, number>();
            for (const c of calls) m.set(c.operation ?? `${c.method} ?`, (m.get(c.operation ?? `${c.method} ?`) ?? 0) + 1);
            return [...m.entries()].map(([k, v]) => `${k} ${v}`).join(", ") || "none";
        };
        out.push(
            renderTable(
                ["operation", "billing API calls by API operation (dynamic)", "(plugin)"],
                LABELS.map((label) => [label, byOp(results[label].ours.calls), byOp(results[label].plugin.calls)]),
            ),
        );
        out.push("");
        out.push(
            renderTable(
                ["state", "bytes/resource", "ratio to floor", "of which __provider (x2: inputs and outputs)", "checkpoint bytes"],
                MODES.map((mode) => [
                    MODE_LABEL[mode],
                    state[mode].perResource.toFixed(0),
                    ratio(state[mode].perResource, state.noop.perResource),
                    `${state[mode].provider.toFixed(0)} x2`,
                    String(state[mode].total),
                ]),
                { rightAlign: [1, 2, 4] },
            ),
        );
        process.stdout.write(out.join("\n") + "\n");
    } finally {
        for (const s of Object.values(stacks)) await s.dispose();
        await emulator.close();
        fs.rmSync(traceDir, { recursive: true, force: true });
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: unknown) => {
        process.stderr.write(`bench/pulumi: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
    });
}
