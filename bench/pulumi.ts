/**
 * Benchmark of the two resources through the real Pulumi engine, against
 * no-op dynamic resources with the same inputs (the engine's floor).
 * Not a test: it prints tables.
 *
 *     node dist/bench/pulumi.js [--profiles 100] [--repeat 3]
 *         [--modes dynamic,plugin,noop] [--operations up,preview,refresh,destroy]
 *         [--skip-checkpoints] [--pad 327]
 *
 * `--modes` runs a subset of the stacks (the ratios need `noop`), or adds
 * `padded`: the no-op resources with one more input of `--pad` characters,
 * so that their state is as large as ours (327 gives about 3,410 bytes per
 * resource, as ours has), which shows what of our time is the state's size;
 * `--operations` a subset of the cycle (up always runs: the others need what
 * it creates). `--skip-checkpoints` runs every stack with
 * `PULUMI_SKIP_CHECKPOINTS=true`: the engine then writes the state once, at
 * the end of each operation, instead of after every step (the file backend
 * rewrites the whole checkpoint each time, a cost that grows with the stack).
 * The header says which was used, and when and where the run was made.
 *
 * Setup (not timed): one emulator (Retry-After 0), `--profiles` billing
 * profiles per stack that calls the billing API, added on the MCA account
 * through its admin API (`POST /_emulator/billingAccounts/{ba}/billingProfiles
 * {count}`, at most 1,000 a call; grace, the account owner, owns them all and
 * is the caller), so no stack finds another's settings or assignments, and
 * three stacks of bench/programs/stack, each in its own temporary file backend
 * (the no-op stack calls nothing, so its profile names are made up, of the
 * same length, and not seeded):
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
 * (bench/breakdown.ts), with the CPU the emulator spent serving it (it stands
 * in for Azure, but on the same cores as the engine and the provider).
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
import { UsageError, benchFlags, listFlag, wholeNumberFlag } from "./args";
import { runWhenMain } from "./entry";

const PROGRAM = path.join(REPO_ROOT, "bench", "programs", "stack");
const MANAGER = "jane@contoso.com";
type Mode = "ours" | "plugin" | "noop" | "padded";
const MODES: readonly Mode[] = ["ours", "plugin", "noop", "padded"];
const MODE_LABEL: Record<Mode, string> = { ours: "dynamic", plugin: "plugin", noop: "no-op floor", padded: "padded floor" };
/** The names `--modes` takes. */
const MODE_FLAG: Record<string, Mode> = { dynamic: "ours", plugin: "plugin", noop: "noop", padded: "padded" };
const isNoop = (r: StateResource) => r.type.startsWith("pulumi-nodejs:dynamic/bench:");
/** Which state entries are the stack's 2N resources, per mode. */
const OF_MODE: Record<Mode, (r: StateResource) => boolean> = {
    ours: (r) => r.type === SETTING_TYPE || r.type === ASSIGNMENT_TYPE,
    plugin: (r) => r.type === PLUGIN_SETTING_TYPE || r.type === PLUGIN_ASSIGNMENT_TYPE,
    noop: isNoop,
    padded: isNoop,
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
    /** CPU the emulator (this process, otherwise idle while the CLI runs) spent serving the operation, first cycle. */
    emulatorCpuMs?: number;
}

const LABELS = ["up (create)", "preview (no change)", "refresh", "destroy"] as const;
type Label = (typeof LABELS)[number];
/** The names `--operations` takes. */
const OPERATION_FLAG: Record<string, Label> = { up: "up (create)", preview: "preview (no change)", refresh: "refresh", destroy: "destroy" };

/** The least billing API calls per profile (one setting, one assignment) each operation needs (see the module comment). */
const LEAST_CALLS_PER_PROFILE: Record<Label, number> = { "up (create)": 6, "preview (no change)": 0, refresh: 2, destroy: 3 };

async function main(argv: string[]): Promise<void> {
    const values = benchFlags(argv, {
        profiles: { type: "string" },
        repeat: { type: "string" },
        modes: { type: "string", default: "dynamic,plugin,noop" },
        operations: { type: "string", default: "up,preview,refresh,destroy" },
        "skip-checkpoints": { type: "boolean", default: false },
        pad: { type: "string" },
    });
    // At most 1,000 profiles (2,000 resources): with the engine's per-step checkpoints an up of that many
    // already takes about 11 minutes, and the time grows with N squared.
    const n = wholeNumberFlag("profiles", values.profiles, 100, 1, 1000);
    const repeat = wholeNumberFlag("repeat", values.repeat, 3, 1, 20);
    // Characters of the padded floor's extra input.
    const pad = wholeNumberFlag("pad", values.pad, 327, 1, 100_000);
    const modes = listFlag("modes", values.modes, MODE_FLAG, MODES);
    const labels = listFlag("operations", values.operations, OPERATION_FLAG, LABELS);
    if (!labels.includes("up (create)")) throw new UsageError("--operations must include up: the other operations need the resources it creates");
    if (repeat > 1 && !labels.includes("destroy")) throw new UsageError("--repeat above 1 needs destroy in --operations: each cycle's up creates the resources anew");
    const skipCheckpoints = values["skip-checkpoints"];
    const startedAt = new Date();
    const loadAtStart = os.loadavg();

    process.stderr.write(`[bench] Pulumi CLI...\n`);
    await pulumiToolchain();
    const emulator = await startEmulator({ port: 0, settings: { retryAfterSeconds: 0 }, requestLogLimit: 100_000 });
    const account = SEED.accounts.mca.name;
    /** Profiles of one stack's own: none is shared, so no stack adopts or deletes another's assignment. */
    const newProfiles = async (mode: Mode) => {
        // Same length as the emulator's EX0001-MCA-BP, so the state compares byte for byte.
        if (mode === "noop" || mode === "padded") return Array.from({ length: n }, (_, i) => `NO${String(i + 1).padStart(4, "0")}-MCA-BP`);
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
        for (const mode of modes) {
            const stack = await TestStack.create({
                programDir: PROGRAM,
                stack: `bench-${mode}`,
                env: {
                    AZURE_EMAIL_INVOICING_ENDPOINT: emulator.url,
                    AZURE_EMAIL_INVOICING_TOKEN: token,
                    AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: "100000",
                    AZURE_EMAIL_INVOICING_REQUEST_BURST: "100000",
                    ...(skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {}),
                },
            });
            stacks[mode] = stack;
            // The padded floor is the no-op program with one more input, of `--pad` characters.
            await stack.config("mode", mode === "padded" ? "noop" : mode);
            if (mode === "padded") await stack.config("pad", String(pad));
            await stack.config("billingAccountName", account);
            const seeding = Date.now();
            const profiles = await newProfiles(mode);
            process.stderr.write(`[bench] stack ${mode}: ${n} profiles ready in ${seconds(Date.now() - seeding)} s\n`);
            await stack.config("profiles", JSON.stringify(profiles));
            await stack.config("manager", MANAGER);
        }

        const results = {} as Record<Label, Record<Mode, Measured>>;
        for (const l of LABELS) results[l] = Object.fromEntries(MODES.map((m): [Mode, Measured] => [m, { ms: [], calls: [] }])) as Record<Mode, Measured>;
        const traceFile = path.join(traceDir, "trace.jsonl");
        /** Runs one operation on each stack in turn; keeps the request log (and the dynamic provider's trace) of the first cycle. */
        const measure = async (label: Label, cycle: number, run: (s: TestStack) => Promise<CommandResult>) => {
            for (const mode of modes) {
                await adminCall(emulator.url, "DELETE", "requests");
                const traced = mode === "ours" && cycle === 0;
                fs.rmSync(traceFile, { force: true });
                stacks[mode].setEnv({ [TRACE_FILE_ENV]: traced ? traceFile : undefined });
                process.stderr.write(`[bench] cycle ${cycle + 1}/${repeat}: ${label} (${mode})...`);
                const start = epochMs();
                const cpu = process.cpuUsage();
                const r = await run(stacks[mode]);
                const used = process.cpuUsage(cpu);
                const end = epochMs();
                const ms = end - start;
                process.stderr.write(` ${seconds(ms)} s\n`);
                if (r.code !== 0) throw new Error(`${label} (${mode}) exited ${r.code}:\n${r.output}`);
                const log = (await adminCall(emulator.url, "GET", "requests")).value as RequestLogEntry[];
                results[label][mode].ms.push(ms);
                if (cycle === 0) Object.assign(results[label][mode], { calls: log, emulatorCpuMs: (used.user + used.system) / 1000 });
                if (traced) results[label][mode].breakdown = breakdownOf(readTrace(traceFile), { start, end });
            }
        };

        const state = {} as Record<Mode, { perResource: number; provider: number; total: number; count: number }>;
        for (let cycle = 0; cycle < repeat; cycle++) {
            await measure("up (create)", cycle, (s) => s.up());
            if (cycle === 0) {
                for (const mode of modes) {
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
            if (labels.includes("preview (no change)")) await measure("preview (no change)", cycle, (s) => s.preview(["--expect-no-changes"]));
            if (labels.includes("refresh")) await measure("refresh", cycle, (s) => s.refreshApply());
            if (labels.includes("destroy")) await measure("destroy", cycle, (s) => s.destroy());
        }

        // ------------------------------------------------------------------
        const resources = 2 * n;
        const out: string[] = [];
        const has = (mode: Mode) => modes.includes(mode);
        const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(" ");
        out.push(
            `Pulumi ${PULUMI_VERSION} engine, ${n} billing profiles: ${resources} resources per stack; ${modes.map((m) => MODE_LABEL[m]).join(", ")}; ` +
                `median of ${repeat} cycle${repeat === 1 ? "" : "s"} of ${labels.map((l) => l.split(" ")[0]).join(", ")}; ` +
                (skipCheckpoints ? "PULUMI_SKIP_CHECKPOINTS=true (the state is written once, at the end of each operation)" : "checkpoints after every step (the engine's default)"),
        );
        out.push(
            `Run ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC on ${os.hostname()}: ${os.cpus().length} x ${os.cpus()[0]?.model.trim() ?? "?"}, ` +
                `Node ${process.version}; load average ${load(loadAtStart)} at the start, ${load(os.loadavg())} at the end`,
        );
        out.push("");
        const ratio = (x: number, floor: number) => (x / floor).toFixed(2);
        /** A time with its share per resource beside it: "20.3 (101)", seconds and ms/resource. */
        const timed = (ms: number) => `${seconds(ms)} (${(ms / resources).toFixed(0)})`;
        const apiModes = (["ours", "plugin"] as const).filter(has);
        /** The ratios printed: each stack that calls the API to each floor run, and the padded floor to the floor. */
        const ratioPairs: [Mode, Mode][] = [
            ...(has("noop") ? apiModes.map((m): [Mode, Mode] => [m, "noop"]) : []),
            ...(has("noop") && has("padded") ? [["padded", "noop"] as [Mode, Mode]] : []),
            ...(has("padded") ? apiModes.map((m): [Mode, Mode] => [m, "padded"]) : []),
        ];
        const rows = labels.map((label) => {
            const r = results[label];
            const cells: string[] = [label];
            for (const mode of modes) cells.push(timed(median(r[mode].ms)));
            for (const [x, floor] of ratioPairs) cells.push(ratio(median(r[x].ms), median(r[floor].ms)));
            for (const mode of apiModes) {
                const calls = r[mode].calls;
                cells.push(`${calls.length} (${calls.filter((c) => c.method !== "GET").length})`);
            }
            for (const mode of apiModes) cells.push((r[mode].calls.length / resources).toFixed(1));
            if (apiModes.length) cells.push(((LEAST_CALLS_PER_PROFILE[label] * n) / resources).toFixed(1));
            return cells;
        });
        const headers = [
            "operation",
            ...modes.map((m) => `${MODE_LABEL[m]}, s (ms/resource)`),
            ...ratioPairs.map(([x, floor]) => `${MODE_LABEL[x]} / ${floor === "noop" ? "floor" : MODE_LABEL[floor]}`),
            ...apiModes.map((m) => `billing API calls, ${MODE_LABEL[m]} (writes)`),
            ...apiModes.map((m) => `calls/resource: ${MODE_LABEL[m]}`),
            ...(apiModes.length ? ["least needed"] : []),
        ];
        out.push(renderTable(headers, rows, { rightAlign: headers.map((_, i) => i).slice(1) }));
        out.push("");
        if (has("ours")) {
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
                        "emulator CPU (s)",
                        "provider calls (mean ms)",
                        "requests (mean ms)",
                        "TCP connections",
                    ],
                    labels.map((label) => {
                        const r = results[label];
                        const b = r.ours.breakdown;
                        if (!b) return [label, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"];
                        const calls = [...b.calls].map(([m, c]) => `${m} ${c.count} (${c.meanMs.toFixed(0)})`).join(", ") || "none";
                        return [
                            label,
                            seconds(b.wallMs),
                            part(b.providerMs, b.wallMs),
                            seconds(b.loadMs),
                            part(b.wireMs, b.wallMs),
                            part(b.engineMs, b.wallMs),
                            has("noop") ? seconds(r.noop.ms[0]) : "-",
                            seconds(b.providerCpuMs),
                            seconds(r.ours.emulatorCpuMs ?? 0),
                            calls,
                            b.requests.count ? `${b.requests.count} (${b.requests.meanMs.toFixed(1)})` : "0",
                            String(new Set(r.ours.calls.map((c) => c.connection)).size),
                        ];
                    }),
                    { rightAlign: [1, 2, 3, 4, 5, 6, 7, 8, 10, 11] },
                ),
            );
            out.push("");
        }
        const byOp = (calls: RequestLogEntry[]) => {
            const m = new Map<string, number>();
            for (const c of calls) m.set(c.operation ?? `${c.method} ?`, (m.get(c.operation ?? `${c.method} ?`) ?? 0) + 1);
            return [...m.entries()].map(([k, v]) => `${k} ${v}`).join(", ") || "none";
        };
        if (apiModes.length) {
            out.push(
                renderTable(
                    ["operation", ...apiModes.map((m) => `billing API calls by API operation (${MODE_LABEL[m]})`)],
                    labels.map((label) => [label, ...apiModes.map((m) => byOp(results[label][m].calls))]),
                ),
            );
            out.push("");
        }
        out.push(
            renderTable(
                ["state", "bytes/resource", ...(has("noop") ? ["ratio to floor"] : []), "of which __provider (x2: inputs and outputs)", "checkpoint bytes"],
                modes.map((mode) => [
                    MODE_LABEL[mode],
                    state[mode].perResource.toFixed(0),
                    ...(has("noop") ? [ratio(state[mode].perResource, state.noop.perResource)] : []),
                    `${state[mode].provider.toFixed(0)} x2`,
                    String(state[mode].total),
                ]),
                { rightAlign: has("noop") ? [1, 2, 4] : [1, 3] },
            ),
        );
        process.stdout.write(out.join("\n") + "\n");
    } finally {
        for (const s of Object.values(stacks)) await s.dispose();
        await emulator.close();
        fs.rmSync(traceDir, { recursive: true, force: true });
    }
}

runWhenMain(module, "pulumi", "[--profiles 100] [--repeat 3] [--modes dynamic,plugin,noop] [--operations up,preview,refresh,destroy] [--skip-checkpoints] [--pad 327]", main);
