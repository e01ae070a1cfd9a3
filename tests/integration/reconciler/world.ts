/**
 * The reconciler's test world: a real emulator (HTTP, port 0), a real SMTP
 * sink (smtp-server over TCP, port 0), a temporary ledger folder, and ways to
 * run `azure-email-invoicing reconcile` in-process or as a child process.
 * Profiles are opted in through the Azure-facing API with the owner's token,
 * never through admin shortcuts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { simpleParser, type ParsedMail } from "mailparser";
import type { BillingClient } from "../../../provider/billing/client";
import type { DeliveryRow } from "../../../provider/reconciler/ledger/contract";
import { SqliteLedger } from "../../../provider/reconciler/ledger/sqlite";
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from "../../../cli/smtp-sink";
import { main } from "../../../cli/main";
import { SEED, startTestEmulator, type RequestLogEntry, type TestEmulator } from "../../support/emulator";

export { SEED };
export type SeedUser = keyof typeof SEED.users;
export type SeedProfile = keyof typeof SEED.profiles;

/** The compiled CLI, for child processes. */
export const CLI = path.resolve(__dirname, "../../../cli/main.js");

export const FROM = "Contoso Billing <billing@contoso.com>";

export interface World {
    emulator: TestEmulator;
    sink: SmtpSink;
    dir: string;
    ledger: string;
    /** A billing client acting as a seeded user, with the fast retries of tests/support/emulator.ts. */
    client(user: SeedUser): BillingClient;
    /** The environment a reconciler needs, with the token of `user` (default: grace, the MCA account owner). */
    env(user?: SeedUser): Record<string, string>;
    /** Opts a profile in (PUT through the Azure-facing API with the profile owner's token). */
    optIn(profile: SeedProfile, invoiceRecipients?: string[]): Promise<void>;
    /** Issues a new invoice dated now (admin API), returning its name. */
    issueInvoice(profile: SeedProfile): Promise<string>;
    /** Azure-facing requests the emulator logged. */
    requests(): Promise<RequestLogEntry[]>;
    clearRequests(): Promise<void>;
    close(): Promise<void>;
}

/** The owner of each seeded profile (who may change its opt-in). */
export const PROFILE_OWNER: Record<SeedProfile, SeedUser> = { operations: "alice", research: "dave", partner: "rupert" };

export async function startWorld(sinkOptions: SmtpSinkOptions = {}): Promise<World> {
    // Retry-After 0 on long-running operations: the tests poll without waiting.
    const emulator = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
    const sink = await startSmtpSink({ keep: true, ...sinkOptions });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-reconciler-"));
    const clients = new Map<SeedUser, BillingClient>();
    const client = (user: SeedUser) => {
        let c = clients.get(user);
        if (!c) {
            c = emulator.client(user);
            clients.set(user, c);
        }
        return c;
    };
    return {
        emulator,
        sink,
        dir,
        ledger: path.join(dir, "state", "ledger.sqlite"),
        client,
        env: (user = "grace") => ({
            AZURE_EMAIL_INVOICING_ENDPOINT: emulator.url,
            AZURE_EMAIL_INVOICING_TOKEN: SEED.users[user].token,
            SMTP_URL: sink.url,
            INVOICE_MAIL_FROM: FROM,
            PATH: process.env.PATH ?? "",
        }),
        async optIn(profile, invoiceRecipients = []) {
            await client(PROFILE_OWNER[profile]).updateInvoiceEmailSettings(SEED.profiles[profile], { invoiceEmailOptIn: true, invoiceRecipients });
        },
        async issueInvoice(profile) {
            const p = SEED.profiles[profile];
            const inv = (await emulator.admin.issueInvoice(p.billingAccountName, p.billingProfileName)) as { name: string };
            return inv.name;
        },
        requests: () => emulator.admin.requests(),
        clearRequests: () => emulator.admin.clearRequests(),
        async close() {
            await sink.close();
            await emulator.close();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

class Capture extends Writable {
    text = "";
    isTTY?: boolean;
    constructor(tty = false) {
        super();
        if (tty) this.isTTY = true;
    }
    override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
        this.text += chunk.toString();
        cb();
    }
}

/** Runs `azure-email-invoicing <argv>` in this process, capturing its output. */
export async function runCli(argv: string[], env: Record<string, string>, options: { tty?: boolean; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new Capture();
    const stderr = new Capture(options.tty);
    const code = await main(argv, { stdout, stderr, env, cwd: options.cwd ?? process.cwd() });
    return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A CLI child process, its output so far and its end. */
export type CliChild = ChildProcess & { output: () => string; stdoutText: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> };

/** Children started by {@link spawnCli} that have not ended yet. */
const running = new Set<CliChild>();

/**
 * Starts `azure-email-invoicing <argv>` as a child process. Suites that call
 * it run {@link killSpawned} in `afterEach`, so a failed assertion leaves no
 * process behind.
 */
export function spawnCli(argv: string[], env: Record<string, string>): CliChild {
    const child = spawn(process.execPath, [CLI, ...argv], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stdout = "";
    child.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    // "close", not "exit": the output pipes are drained by then.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
    const cli = Object.assign(child, { output: () => out, stdoutText: () => stdout, exited });
    running.add(cli);
    void exited.then(() => running.delete(cli));
    return cli;
}

/** SIGKILLs every child of {@link spawnCli} still running and waits for each to end. For `afterEach`. */
export async function killSpawned(): Promise<void> {
    const survivors = [...running];
    for (const child of survivors) child.kill("SIGKILL");
    await Promise.all(survivors.map((c) => c.exited));
}

/**
 * Polls `cond` every 10 ms until it holds; fails after `timeoutMs` with what
 * was awaited (`what`, or its value when a function, e.g. a child's output).
 */
export async function until(cond: () => boolean, what: string | (() => string), timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`);
        await new Promise((r) => setTimeout(r, 10));
    }
}

/** Opens the world's (SQLite) ledger read only. Throws when there is no ledger yet (no run stored a plan). */
export function openWorldLedger(world: World): SqliteLedger {
    const ledger = SqliteLedger.open({ file: world.ledger, source: "the test" }, { readOnly: true });
    if (!ledger) throw new Error(`no ledger at ${world.ledger}: no reconcile run has stored a plan`);
    return ledger;
}

/** Every delivery in the world's ledger. Throws when there is no ledger yet (no run stored a plan). */
export async function ledgerRows(world: World): Promise<DeliveryRow[]> {
    const ledger = openWorldLedger(world);
    try {
        return await ledger.deliveries();
    } finally {
        await ledger.close();
    }
}

/** Parses every message the sink accepted. */
export async function parsedMessages(sink: SmtpSink): Promise<ParsedMail[]> {
    return Promise.all(sink.messages.map((m) => simpleParser(m.raw)));
}

/** Counts accepted messages per Message-ID. */
export function countByMessageId(sink: SmtpSink): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of sink.messages) counts.set(m.messageId ?? "?", (counts.get(m.messageId ?? "?") ?? 0) + 1);
    return counts;
}

/** A promise with its resolve function, for hooks that wait for the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
    let resolve!: (v: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
}

/** Mail addresses of seeded users, lower-cased. */
export function mailOf(...users: SeedUser[]): string[] {
    return users.map((u) => (SEED.users[u].mail ?? "").toLowerCase());
}
