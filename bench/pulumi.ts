/**
 * Benchmark of the two resources through the real Pulumi engine, against
 * no-op dynamic resources with the same inputs (the engine's floor).
 * Not a test: it prints tables.
 *
 *     node dist/bench/pulumi.js [--profiles 100] [--repeat 3]
 *
 * Setup (not timed): one emulator (Retry-After 0), `--profiles` billing
 * profiles added on the MCA account through its admin API
 * (`POST /_emulator/billingAccounts/{ba}/billingProfiles {count}`; grace, the
 * account owner, owns them all and is the caller), and two stacks of
 * bench/programs/stack, each in its own temporary file backend:
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
 * process, as a user sees it. Billing API calls come from the emulator's
 * request log; state bytes from `pulumi stack export`.
 */
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
}

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
    const emulator = await startEmulator({ port: 0, settings: { retryAfterSeconds: 0 } });
    const account = SEED.accounts.mca.name;
    const { names } = (await adminCall(emulator.url, "POST", `billingAccounts/${account}/billingProfiles`, { count: n })) as { names: string[] };
    const token = SEED.users.grace.token;

    const stacks = {} as Record<Mode, TestStack>;
    try {
        for (const mode of MODES) {
            const stack = await TestStack.create({
                programDir: PROGRAM,
                stack: `bench-${mode}`,
                env: { AZURE_EMAIL_INVOICING_ENDPOINT: emulator.url, AZURE_EMAIL_INVOICING_TOKEN: token },
            });
            stacks[mode] = stack;
            await stack.config("mode", mode);
            await stack.config("billingAccountName", account);
            await stack.config("profiles", JSON.stringify(names));
            await stack.config("manager", MANAGER);
        }

        const labels = ["up (create)", "preview (no change)", "refresh", "destroy"] as const;
        type Label = (typeof labels)[number];
        const results = {} as Record<Label, Record<Mode, Measured>>;
        for (const l of labels) results[l] = { ours: { ms: [], calls: [] }, plugin: { ms: [], calls: [] }, noop: { ms: [], calls: [] } };
        /** Runs one operation on each stack in turn; keeps the request log of the first cycle. */
        const measure = async (label: Label, cycle: number, run: (s: TestStack) => Promise<CommandResult>) => {
            for (const mode of MODES) {
                await adminCall(emulator.url, "DELETE", "requests");
                process.stderr.write(`[bench] cycle ${cycle + 1}/${repeat}: ${label} (${mode})...`);
                const t0 = process.hrtime.bigint();
                const r = await run(stacks[mode]);
                const ms = Number(process.hrtime.bigint() - t0) / 1e6;
                process.stderr.write(` ${seconds(ms)} s\n`);
                if (r.code !== 0) throw new Error(`${label} (${mode}) exited ${r.code}:\n${r.output}`);
                const log = (await adminCall(emulator.url, "GET", "requests")).value as RequestLogEntry[];
                results[label][mode].ms.push(ms);
                if (cycle === 0) results[label][mode].calls = log;
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
        const rows = Object.entries(results).map(([label, r]) => {
            const floor = median(r.noop.ms);
            const cells = [label];
            for (const mode of ["ours", "plugin"] as const) cells.push(seconds(median(r[mode].ms)));
            cells.push(seconds(floor));
            for (const mode of ["ours", "plugin"] as const) cells.push(ratio(median(r[mode].ms), floor));
            for (const mode of ["ours", "plugin"] as const) {
                const calls = r[mode].calls;
                cells.push(`${calls.length} (${calls.filter((c) => c.method !== "GET").length})`);
            }
            cells.push((r.plugin.calls.length / resources).toFixed(1));
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
                    "billing API calls, dynamic (writes)",
                    "plugin (writes)",
                    "plugin calls/resource",
                ],
                rows,
                { rightAlign: [1, 2, 3, 4, 5, 6, 7, 8] },
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
                Object.entries(results).map(([label, r]) => [label, byOp(r.ours.calls), byOp(r.plugin.calls)]),
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
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: unknown) => {
        process.stderr.write(`bench/pulumi: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
    });
}
