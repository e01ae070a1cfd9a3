/**
 * The SQLite ledger: one file (better-sqlite3, WAL mode), safe for several
 * processes on one host. The embedded default.
 *
 * - Writers are serialised by SQLite; a claim is one `BEGIN IMMEDIATE`
 *   transaction that reads the candidates and compare-and-sets each on its
 *   attempt number, so two processes never both hold a delivery.
 * - A lease is stale when it expired by this host's clock, or when its holder
 *   ran on this host in a process that is gone (so a killed run's claims are
 *   taken over by the next pass at once, without waiting out the lease).
 * - `synchronous = NORMAL` in WAL mode is durable against a killed process;
 *   an operating-system crash may lose the last commits, which can only
 *   re-send a message (same Message-ID), since WAL keeps commits in order.
 *
 * Opening refuses, with a {@link ConfigurationError} naming the ledger's
 * source, the path and what to do: a file that is not a SQLite database, a
 * damaged one, another application's database (never writing into it), a
 * ledger written by a newer version, a path below a regular file, and (for
 * writing) a read-only location.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import type { BillingProfileRef } from "../../billing/names";
import { ConfigurationError, LedgerError } from "../../errors";
import { profileKey, type InvoicePlan } from "../facts";
import {
    OPEN_STATES,
    sqlStates,
    zeroCounts,
    type Claim,
    type ClaimExclusions,
    type DeliveryFilter,
    type DeliveryRow,
    type Ledger,
    type PendingCount,
    type RunRow,
    type StateCounts,
    type StoredInvoice,
    type Verdict,
    type VerdictResult,
    type Worker,
} from "./contract";
import { SQLITE_APPLICATION_ID, SQLITE_LEDGER_TABLES, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from "./migrations/sqlite";
import { byPlan, toDeliveryRow, toRunRow, toStoredInvoice, type DeliveryColumns } from "./rows";

/** Where a SQLite ledger is, and where that setting came from (for messages). */
export interface SqliteLocation {
    /** Absolute path of the file. */
    file: string;
    /** Where the path came from, as the user knows it, e.g. `--ledger` or `AZURE_EMAIL_INVOICING_LEDGER`. */
    source: string;
}

export interface SqliteOpenOptions {
    /** Read only: never creates, migrates or writes; every write throws. */
    readOnly?: boolean;
    /** This host's clock for leases and times, ms. Default Date.now. */
    clock?: () => number;
}

/** Whether a process with this pid exists on this host. */
export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** The holder of a `sending` lease as SQLite keeps it. */
export interface SqliteLease {
    owner: string | null;
    expiresAt: number | null;
    /** The holder's host and pid; null in ledgers from before they were kept apart (then read from `host/pid/run` owners). */
    host: string | null;
    pid: number | null;
}

/**
 * Whether a `sending` lease may be taken over: it expired, or its holder ran
 * on this host in another process that no longer exists. A holder in this
 * same process (another run) is alive until its lease expires. Pure apart
 * from `alive`.
 */
export function leaseIsStale(lease: SqliteLease, now: number, me: { host: string; pid: number }, alive: (pid: number) => boolean = processAlive): boolean {
    if (!lease.owner || lease.expiresAt === null || lease.expiresAt <= now) return true;
    let host = lease.host;
    let pid = lease.pid;
    if (host === null || pid === null) {
        // An owner written before host and pid had columns of their own: `host/pid/run`.
        const parts = lease.owner.split("/");
        if (parts.length < 3) return false;
        pid = Number(parts[parts.length - 2]);
        host = parts.slice(0, parts.length - 2).join("/");
    }
    if (host !== me.host || !Number.isInteger(pid)) return false;
    if (pid === me.pid) return false;
    return !alive(pid);
}

interface SqliteFailure {
    code?: string;
    message?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** How long a ledger operation waits for another process's lock before it fails with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 30_000;

/**
 * Puts the ledger in WAL mode (it stays so: only a new file needs it). SQLite
 * does not apply the busy timeout to this switch: while another connection
 * holds a write on the file, or switches it too, the switch fails with
 * SQLITE_BUSY at once. Two reconcilers started at once on a new ledger did
 * exactly that (in 21 of 80 pairs of synchronised starts), and one of
 * them exited. So the switch is tried again, after a pause that doubles from
 * 2 ms to 100 ms, until the busy timeout. The pause blocks the thread, as
 * SQLite's own busy wait does: opening the ledger is synchronous.
 */
function switchToWal(db: Database.Database): void {
    const deadline = Date.now() + BUSY_TIMEOUT_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let ms = 2; ; ms = Math.min(ms * 2, 100)) {
        try {
            if (db.pragma("journal_mode", { simple: true }) !== "wal") db.pragma("journal_mode = WAL");
            return;
        } catch (err) {
            if (!(err as SqliteFailure).code?.startsWith("SQLITE_BUSY") || Date.now() + ms > deadline) throw err;
            Atomics.wait(pause, 0, 0, ms);
        }
    }
}

/** What to do about a SQLite error code met while opening, or undefined when it is not about the file itself. */
function openProblem(code: string | undefined, file: string): string | undefined {
    // Extended codes (SQLITE_CORRUPT_INDEX, SQLITE_IOERR_WRITE, ...) mean what their primary code means.
    switch (code?.split("_").slice(0, 2).join("_")) {
        case "SQLITE_NOTADB":
            return `${file} is not a SQLite database: give the ledger a path of its own (a new file is created there), or move that file away`;
        case "SQLITE_CORRUPT":
            return `${file} is damaged or truncated: restore it from a backup, or move it away to start a new ledger (a new ledger sends the invoices in the window again)`;
        case "SQLITE_READONLY":
            return `${file} cannot be written (a read-only file system or file): give the ledger a path on a writable disk`;
        case "SQLITE_CANTOPEN":
            return `cannot open ${file} (a folder, a missing permission, or a read-only file system): give the ledger a path to a file in a writable folder`;
        case "SQLITE_PERM":
        case "SQLITE_AUTH":
            return `${file} cannot be opened with this user's permissions: fix its permissions, or give the ledger another path`;
        default:
            return undefined;
    }
}

export class SqliteLedger implements Ledger {
    readonly kind = "sqlite" as const;
    readonly location: string;
    /** Prepared statements by SQL text: preparing costs more than running. */
    private readonly statements = new Map<string, Database.Statement>();
    private readonly clock: () => number;
    private readonly me = { host: os.hostname(), pid: process.pid };

    private constructor(
        readonly where: SqliteLocation,
        private readonly db: Database.Database,
        readonly readOnly: boolean,
        clock: () => number,
        private readonly onClose?: () => void,
    ) {
        this.location = where.file;
        this.clock = clock;
    }

    /**
     * Opens the ledger at `where.file`. For writing: creates it (and its
     * folder, mode 0700) when missing and applies the missing schema steps in
     * one transaction. Read only: returns undefined when there is no file,
     * and never writes (the handle is `query_only`).
     */
    static open(where: SqliteLocation, options: SqliteOpenOptions & { readOnly: true }): SqliteLedger | undefined;
    static open(where: SqliteLocation, options?: SqliteOpenOptions): SqliteLedger;
    static open(where: SqliteLocation, options: SqliteOpenOptions = {}): SqliteLedger | undefined {
        const { file, source } = where;
        const refuse = (message: string) => new ConfigurationError(source, message);
        const readOnly = options.readOnly === true;
        const stat = statOf(file, refuse);
        if (stat?.isDirectory()) throw refuse(`${file} is a folder: give the ledger the path of a file, e.g. ${path.join(file, "ledger.sqlite")}`);
        if (!stat) {
            if (readOnly) return undefined;
            makeFolder(path.dirname(file), file, refuse);
        }
        // WAL mode writes the -wal and -shm files beside the ledger: its folder must be writable too.
        const unwritable = writeProblem(file, stat !== undefined);
        if (unwritable && !readOnly) throw refuse(unwritable);
        // On a read-only file system SQLite cannot open a WAL ledger even for reading (it needs its
        // -shm file), so a reader opens a copy; nothing can change the original meanwhile.
        const copy = unwritable && readOnly ? readOnlyCopy(file, refuse) : undefined;
        let db: Database.Database;
        try {
            // A read-write handle even for reading: a read-only one leaves -wal/-shm files behind,
            // and `query_only` refuses every write through it.
            db = new Database(copy?.file ?? file, { fileMustExist: readOnly });
        } catch (err) {
            copy?.remove();
            const e = err as SqliteFailure;
            throw refuse(openProblem(e.code, file) ?? `cannot open ${file}: ${e.message ?? String(err)}`);
        }
        const ledger = new SqliteLedger(where, db, readOnly, options.clock ?? Date.now, copy?.remove);
        try {
            ledger.prepare(readOnly);
        } catch (err) {
            db.close();
            copy?.remove();
            if (err instanceof ConfigurationError || err instanceof LedgerError) throw err;
            const e = err as SqliteFailure;
            const problem = openProblem(e.code, file);
            if (problem) throw refuse(problem);
            throw ledger.failure(err);
        }
        return ledger;
    }

    /** Pragmas, the checks that this file is a ledger we can use, and (for writing) the schema steps. */
    private prepare(readOnly: boolean): void {
        const db = this.db;
        // Wait for another reconciler's write instead of failing with SQLITE_BUSY.
        db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        db.pragma("synchronous = NORMAL");
        db.pragma("foreign_keys = ON");
        // Reads the header and every page: a file that is not a database, or is damaged or
        // truncated, is refused here, before anything is planned or sent.
        const check = db.pragma("quick_check", { simple: true });
        if (check !== "ok") {
            const detail = String(check).split("\n").filter((l) => l && !l.startsWith("***")).slice(0, 2).join("; ");
            throw new ConfigurationError(this.where.source, openProblem("SQLITE_CORRUPT", this.where.file) + ` (SQLite: ${detail.slice(0, 200)})`);
        }
        const version = this.ownVersion();
        if (version !== undefined && version > SQLITE_SCHEMA_VERSION) {
            throw new ConfigurationError(
                this.where.source,
                `${this.where.file} is a ledger of schema version ${version}, newer than this azure-email-invoicing understands (${SQLITE_SCHEMA_VERSION}): upgrade the package`,
            );
        }
        if (readOnly) {
            db.pragma("query_only = ON");
            if (version === undefined) throw this.notALedger();
            return;
        }
        switchToWal(db);
        const migrate = db.transaction(() => {
            // Read again inside the write lock: another process may have migrated meanwhile.
            const current = this.ownVersion() ?? 0;
            if (current > SQLITE_SCHEMA_VERSION) return;
            for (const step of SQLITE_MIGRATIONS) {
                if (step.version <= current) continue;
                db.exec(step.sql);
                db.prepare("DELETE FROM schema_version").run();
                db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(step.version);
            }
        });
        migrate.immediate();
    }

    /**
     * The schema version of this file as a ledger: undefined for an empty
     * database (a new ledger), and a refusal for another application's
     * database (tables, and no ledger).
     */
    private ownVersion(): number | undefined {
        const tables = (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").all() as Array<{ name: string }>).map(
            (t) => t.name,
        );
        if (tables.length === 0) return undefined;
        const appId = this.db.pragma("application_id", { simple: true }) as number;
        const looksLikeStep1 = SQLITE_LEDGER_TABLES.every((t) => tables.includes(t));
        if (appId !== SQLITE_APPLICATION_ID && !(appId === 0 && looksLikeStep1)) throw this.notALedger(tables);
        const row = this.db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as { version: number | null };
        if (row.version === null) throw this.notALedger(tables);
        return row.version;
    }

    private notALedger(tables: string[] = []): ConfigurationError {
        const holds = tables.length > 0 ? `holds tables (${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", ..." : ""}) and ` : "";
        return new ConfigurationError(
            this.where.source,
            `${this.where.file} is a SQLite database that ${holds}is not an azure-email-invoicing ledger: it is left untouched; give the ledger a path of its own`,
        );
    }

    /** A driver error as the catalogue's {@link LedgerError}. */
    private failure(err: unknown): LedgerError {
        if (err instanceof LedgerError) return err;
        const e = err as SqliteFailure;
        const code = e.code;
        let message = e.message ?? String(err);
        let retryable = false;
        if (code === "SQLITE_FULL") message = `the disk holding it is full (${message}): free space; nothing recorded is lost`;
        else if (code?.startsWith("SQLITE_BUSY") || code?.startsWith("SQLITE_LOCKED")) retryable = true;
        else if (code?.startsWith("SQLITE_IOERR")) message = `a disk error (${message})`;
        else if (code === "SQLITE_READONLY") message = `it cannot be written (${message})`;
        return new LedgerError({ ledger: this.location, message, retryable, code });
    }

    /** Runs `fn`, translating driver errors. */
    private run<T>(fn: () => T): Promise<T> {
        try {
            return Promise.resolve(fn());
        } catch (err) {
            return Promise.reject(this.failure(err));
        }
    }

    private stmt(sql: string): Database.Statement {
        let st = this.statements.get(sql);
        if (!st) {
            st = this.db.prepare(sql);
            this.statements.set(sql, st);
        }
        return st;
    }

    private hasColumns(): boolean {
        // Read-only handles may look at a ledger of step 1, whose deliveries lack the lease host and pid.
        const v = this.db.prepare("SELECT MAX(version) AS version FROM schema_version").get() as { version: number };
        return v.version >= 2;
    }

    async close(): Promise<void> {
        if (this.db.open) this.db.close();
        this.onClose?.();
    }

    // -----------------------------------------------------------------------
    // Runs

    startRun(runId: string, worker: Worker): Promise<void> {
        return this.run(() => {
            this.stmt("INSERT OR IGNORE INTO runs (run_id, host, pid, started_at, worker_id) VALUES (?, ?, ?, ?, ?)").run(runId, worker.host, worker.pid, iso(this.clock()), worker.id);
        });
    }

    finishRun(runId: string, summary: unknown): Promise<void> {
        return this.run(() => {
            this.stmt("UPDATE runs SET finished_at = ?, summary = ? WHERE run_id = ?").run(iso(this.clock()), JSON.stringify(summary), runId);
        });
    }

    runs(): Promise<RunRow[]> {
        return this.run(() => {
            const workerId = this.hasColumns() ? "worker_id" : "NULL AS worker_id";
            const rows = this.stmt(`SELECT run_id, ${workerId}, host, pid, started_at, finished_at, summary FROM runs ORDER BY started_at, run_id`).all() as Parameters<typeof toRunRow>[0][];
            return rows.map(toRunRow);
        });
    }

    // -----------------------------------------------------------------------
    // Plans

    plannedInvoiceNames(ref: BillingProfileRef): Promise<Set<string>> {
        return this.run(() => {
            const rows = this.stmt("SELECT invoice_name FROM invoices WHERE billing_account_name = ? AND billing_profile_name = ?").all(
                ref.billingAccountName,
                ref.billingProfileName,
            ) as Array<{ invoice_name: string }>;
            return new Set(rows.map((r) => r.invoice_name.toLowerCase()));
        });
    }

    recordPlans(plans: readonly InvoicePlan[], runId: string): Promise<{ invoices: number; deliveries: number }> {
        return this.run(() => {
            const insertInvoice = this.stmt(
                `INSERT INTO invoices (billing_account_name, billing_profile_name, invoice_name, facts, unresolved, planned_at, planned_by)
                 VALUES (@ba, @bp, @inv, @facts, @unresolved, @at, @run) ON CONFLICT DO NOTHING`,
            );
            const insertDelivery = this.stmt(
                `INSERT INTO deliveries (billing_account_name, billing_profile_name, invoice_name, recipient, recipient_key, reasons, message_id,
                                         state, attempts, planned_at, updated_at)
                 VALUES (@ba, @bp, @inv, @recipient, @key, @reasons, @messageId, 'planned', 0, @at, @at) ON CONFLICT DO NOTHING`,
            );
            const at = iso(this.clock());
            let invoices = 0;
            let deliveries = 0;
            const tx = this.db.transaction(() => {
                for (const plan of plans) {
                    const f = plan.invoice;
                    const inserted = insertInvoice.run({
                        ba: f.billingAccountName,
                        bp: f.billingProfileName,
                        inv: f.invoiceName,
                        facts: JSON.stringify(f),
                        unresolved: JSON.stringify(plan.unresolved),
                        at,
                        run: runId,
                    });
                    // Another run (or a concurrent planner) planned it first: its recipients stand.
                    if (inserted.changes !== 1) continue;
                    invoices++;
                    for (const d of plan.deliveries) {
                        deliveries += insertDelivery.run({
                            ba: d.billingAccountName,
                            bp: d.billingProfileName,
                            inv: d.invoiceName,
                            recipient: d.recipient,
                            key: d.recipientKey,
                            reasons: JSON.stringify(d.reasons),
                            messageId: d.messageId,
                            at,
                        }).changes;
                    }
                }
            });
            tx.immediate();
            return { invoices, deliveries };
        });
    }

    invoice(ref: BillingProfileRef, invoiceName: string): Promise<StoredInvoice | undefined> {
        return this.run(() => {
            const row = this.stmt(
                "SELECT facts, unresolved, planned_at, planned_by FROM invoices WHERE billing_account_name = ? AND billing_profile_name = ? AND invoice_name = ?",
            ).get(ref.billingAccountName, ref.billingProfileName, invoiceName) as Parameters<typeof toStoredInvoice>[0] | undefined;
            return row ? toStoredInvoice(row) : undefined;
        });
    }

    // -----------------------------------------------------------------------
    // Deliveries

    openDeliveries(ref: BillingProfileRef): Promise<DeliveryRow[]> {
        return this.run(() => {
            const rows = this.stmt(
                `SELECT * FROM deliveries WHERE billing_account_name = ? AND billing_profile_name = ? AND state IN (${sqlStates(OPEN_STATES)})
                 ORDER BY invoice_name, recipient_key`,
            ).all(ref.billingAccountName, ref.billingProfileName) as DeliveryColumns[];
            return rows.map(toDeliveryRow);
        });
    }

    private lease(r: DeliveryColumns & { lease_host?: string | null; lease_pid?: number | null }): SqliteLease {
        return { owner: r.lease_owner, expiresAt: r.lease_expires_at === null ? null : Number(r.lease_expires_at), host: r.lease_host ?? null, pid: r.lease_pid ?? null };
    }

    claimNext(ref: BillingProfileRef, worker: Worker, limit: number, exclude: ClaimExclusions = {}): Promise<Claim[]> {
        return this.run(() => {
            if (limit <= 0) return [];
            const tx = this.db.transaction(() => {
                const now = this.clock();
                const args = [ref.billingAccountName, ref.billingProfileName, JSON.stringify(exclude.ids ?? []), JSON.stringify(exclude.invoices ?? [])] as const;
                const notExcluded = "id NOT IN (SELECT value FROM json_each(?)) AND lower(invoice_name) NOT IN (SELECT value FROM json_each(?))";
                // The deliveries being sent are few (at most the workers' SMTP connections, plus
                // those of processes that died): all are read; the planned ones up to the limit.
                const sending = (
                    this.stmt(`SELECT * FROM deliveries WHERE billing_account_name = ? AND billing_profile_name = ? AND state = 'sending' AND ${notExcluded}`).all([...args]) as DeliveryColumns[]
                ).filter((r) => leaseIsStale(this.lease(r), now, this.me));
                const planned = this.stmt(
                    `SELECT * FROM deliveries WHERE billing_account_name = ? AND billing_profile_name = ? AND state = 'planned' AND ${notExcluded}
                     ORDER BY invoice_name, recipient_key LIMIT ?`,
                ).all([...args, limit]) as DeliveryColumns[];
                const order = (r: DeliveryColumns) => `${r.invoice_name.toLowerCase()}\n${r.recipient_key}`;
                const chosen = [...sending, ...planned].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)).slice(0, limit);
                const take = this.stmt(
                    `UPDATE deliveries SET state = 'sending', lease_owner = ?, lease_host = ?, lease_pid = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?,
                            last_error = CASE WHEN state = 'sending' THEN COALESCE(last_error, 'taken over from ' || COALESCE(lease_owner, '?')) ELSE last_error END
                     WHERE id = ? AND attempts = ? AND state IN (${sqlStates(OPEN_STATES)}) RETURNING *`,
                );
                const claims: Claim[] = [];
                for (const r of chosen) {
                    const row = take.get(worker.id, worker.host, worker.pid, now + worker.leaseMs, iso(now), r.id, r.attempts) as DeliveryColumns | undefined;
                    if (row) claims.push({ row: toDeliveryRow(row), attempt: row.attempts });
                }
                return claims;
            });
            return tx.immediate();
        });
    }

    extendLeases(worker: Worker, claims: readonly Claim[]): Promise<Set<number>> {
        return this.run(() => {
            const until = this.clock() + worker.leaseMs;
            const extend = this.stmt("UPDATE deliveries SET lease_expires_at = ? WHERE id = ? AND attempts = ? AND state = 'sending'");
            const held = new Set<number>();
            this.db.transaction(() => {
                for (const c of claims) if (extend.run(until, c.row.id, c.attempt).changes === 1) held.add(c.row.id);
            }).immediate();
            return held;
        });
    }

    record(verdicts: readonly Verdict[]): Promise<VerdictResult[]> {
        return this.run(() => {
            const at = iso(this.clock());
            const clear = "lease_owner = NULL, lease_expires_at = NULL, lease_host = NULL, lease_pid = NULL";
            const sent = this.stmt(`UPDATE deliveries SET state = 'sent', sent_at = ?, updated_at = ?, smtp_response = ?, ${clear} WHERE id = ? AND attempts = ? AND state = 'sending'`);
            const failed = this.stmt(`UPDATE deliveries SET state = 'failed', last_error = ?, updated_at = ?, ${clear} WHERE id = ? AND attempts = ? AND state = 'sending'`);
            const released = this.stmt(
                `UPDATE deliveries SET state = 'planned', last_error = COALESCE(?, last_error), updated_at = ?, ${clear} WHERE id = ? AND attempts = ? AND state = 'sending'`,
            );
            const current = this.stmt("SELECT state, attempts FROM deliveries WHERE id = ?");
            const target = { sent: "sent", failed: "failed", released: "planned" } as const;
            const tx = this.db.transaction(() =>
                verdicts.map((v): VerdictResult => {
                    const { id } = v.claim.row;
                    const n =
                        v.outcome === "sent"
                            ? sent.run(at, at, v.smtpResponse, id, v.claim.attempt).changes
                            : v.outcome === "failed"
                              ? failed.run(v.error, at, id, v.claim.attempt).changes
                              : released.run(v.error, at, id, v.claim.attempt).changes;
                    if (n === 1) return "recorded";
                    // Written before, by this same claim (a retry after a lost reply), or fenced.
                    const now = current.get(id) as { state: string; attempts: number } | undefined;
                    return now && now.attempts === v.claim.attempt && now.state === target[v.outcome] ? "recorded" : "fenced";
                }),
            );
            return tx.immediate();
        });
    }

    cancelOptedOut(ref: BillingProfileRef, reason: string): Promise<number> {
        return this.run(
            () =>
                this.stmt(
                    `UPDATE deliveries SET state = 'cancelled', last_error = ?, updated_at = ?
                     WHERE billing_account_name = ? AND billing_profile_name = ? AND state = 'planned'`,
                ).run(reason, iso(this.clock()), ref.billingAccountName, ref.billingProfileName).changes,
        );
    }

    cancel(filter: DeliveryFilter, reason: string): Promise<DeliveryRow[]> {
        return this.run(() => {
            const { where, args } = whereOf({ ...filter, states: ["planned"] });
            const rows = this.db.prepare(`UPDATE deliveries SET state = 'cancelled', last_error = ?, updated_at = ? ${where} RETURNING *`).all([reason, iso(this.clock()), ...args]) as DeliveryColumns[];
            return rows.map(toDeliveryRow).sort(byPlan);
        });
    }

    pending(refs: readonly BillingProfileRef[], worker: Worker): Promise<Map<string, PendingCount>> {
        return this.run(() => {
            const now = this.clock();
            const out = new Map<string, PendingCount>();
            const planned = this.stmt(
                "SELECT lower(invoice_name) AS invoice, COUNT(*) AS n FROM deliveries WHERE billing_account_name = ? AND billing_profile_name = ? AND state = 'planned' GROUP BY lower(invoice_name)",
            );
            const sending = this.stmt("SELECT * FROM deliveries WHERE billing_account_name = ? AND billing_profile_name = ? AND state = 'sending'");
            for (const ref of refs) {
                const byInvoice = planned.all(ref.billingAccountName, ref.billingProfileName) as Array<{ invoice: string; n: number }>;
                const invoices = new Set(byInvoice.map((r) => r.invoice));
                const count: PendingCount = { pending: byInvoice.reduce((n, r) => n + r.n, 0), invoices: 0, heldByOthers: 0 };
                for (const r of sending.all(ref.billingAccountName, ref.billingProfileName) as DeliveryColumns[]) {
                    if (r.lease_owner !== worker.id && !leaseIsStale(this.lease(r), now, this.me)) {
                        count.heldByOthers++;
                    } else {
                        count.pending++;
                        invoices.add(r.invoice_name.toLowerCase());
                    }
                }
                count.invoices = invoices.size;
                out.set(profileKey(ref), count);
            }
            return out;
        });
    }

    deliveries(filter: DeliveryFilter = {}): Promise<DeliveryRow[]> {
        return this.run(() => {
            const { where, args } = whereOf(filter);
            const sql = `SELECT * FROM deliveries ${where} ORDER BY planned_at, billing_account_name, billing_profile_name, invoice_name, recipient_key`;
            return (this.stmt(sql).all(args) as DeliveryColumns[]).map(toDeliveryRow);
        });
    }

    delivery(id: number): Promise<DeliveryRow | undefined> {
        return this.run(() => {
            const r = this.stmt("SELECT * FROM deliveries WHERE id = ?").get(id) as DeliveryColumns | undefined;
            return r ? toDeliveryRow(r) : undefined;
        });
    }

    /** Every stored invoice plan with its names, for `ledger migrate`. */
    allInvoices(): Promise<Array<{ ref: BillingProfileRef; invoiceName: string; stored: StoredInvoice }>> {
        return this.run(() =>
            (
                this.stmt("SELECT * FROM invoices ORDER BY planned_at, billing_account_name, billing_profile_name, invoice_name").all() as Array<
                    Parameters<typeof toStoredInvoice>[0] & { billing_account_name: string; billing_profile_name: string; invoice_name: string }
                >
            ).map((r) => ({
                ref: { billingAccountName: r.billing_account_name, billingProfileName: r.billing_profile_name },
                invoiceName: r.invoice_name,
                stored: toStoredInvoice(r),
            })),
        );
    }

    counts(profiles?: readonly BillingProfileRef[]): Promise<StateCounts> {
        return this.run(() => {
            const out = zeroCounts();
            const { where, args } = whereOf({ profiles: profiles ? [...profiles] : undefined });
            const rows = this.stmt(`SELECT state, COUNT(*) AS n FROM deliveries ${where} GROUP BY state`).all(args) as Array<{ state: keyof StateCounts; n: number }>;
            for (const r of rows) out[r.state] = r.n;
            return out;
        });
    }
}

/** The WHERE clause of a filter; names compare case-insensitively (the columns are NOCASE). */
function whereOf(filter: DeliveryFilter): { where: string; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.profiles && filter.profiles.length > 0) {
        where.push(`(${filter.profiles.map(() => "(billing_account_name = ? AND billing_profile_name = ?)").join(" OR ")})`);
        for (const p of filter.profiles) args.push(p.billingAccountName, p.billingProfileName);
    }
    if (filter.invoiceName) {
        where.push("invoice_name = ?");
        args.push(filter.invoiceName);
    }
    if (filter.states && filter.states.length > 0) {
        where.push(`state IN (${filter.states.map(() => "?").join(", ")})`);
        for (const s of filter.states) args.push(s);
    }
    if (filter.recipient) {
        where.push("recipient_key = ?");
        args.push(filter.recipient.trim().toLowerCase());
    }
    return { where: where.length ? `WHERE ${where.join(" AND ")}` : "", args };
}

function statOf(file: string, refuse: (m: string) => ConfigurationError): fs.Stats | undefined {
    try {
        return fs.statSync(file);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        if (code === "ENOTDIR") throw refuse(`${file} is below ${regularFileAbove(file) ?? "a file"}, which is a file, not a folder: give the ledger a path in a folder`);
        if (code === "EACCES") throw refuse(`${file} cannot be reached with this user's permissions: give the ledger a path this user can write`);
        throw refuse(`cannot use ${file}: ${(err as Error).message}`);
    }
}

/** The nearest ancestor of `file` that is a regular file, if any. */
function regularFileAbove(file: string): string | undefined {
    for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
        try {
            if (fs.statSync(dir).isFile()) return dir;
        } catch {
            // Missing: keep going up.
        }
    }
    return undefined;
}

function makeFolder(dir: string, file: string, refuse: (m: string) => ConfigurationError): void {
    try {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOTDIR" || code === "EEXIST") {
            throw refuse(`${file} is below ${regularFileAbove(file) ?? dir}, which is a file, not a folder: give the ledger a path in a folder`);
        }
        // A recursive mkdir on a read-only file system may report ENOENT: ask the nearest existing folder.
        let existing = dir;
        while (!fs.existsSync(existing) && existing !== path.dirname(existing)) existing = path.dirname(existing);
        let readOnly = code === "EROFS";
        try {
            fs.accessSync(existing, fs.constants.W_OK);
        } catch (e) {
            readOnly ||= (e as NodeJS.ErrnoException).code === "EROFS";
        }
        if (readOnly) throw refuse(`cannot create the folder ${dir} for ${file}: the file system is read-only; give the ledger a path on a writable disk`);
        if (code === "EACCES" || code === "EPERM") throw refuse(`cannot create the folder ${dir} for ${file}: permission denied; give the ledger a path this user can write`);
        throw refuse(`cannot create the folder ${dir} for ${file}: ${(err as Error).message}`);
    }
}

/** Why the ledger (or, for a new one, its folder) cannot be written, or undefined when it can. */
function writeProblem(file: string, exists: boolean): string | undefined {
    for (const target of exists ? [file, path.dirname(file)] : [path.dirname(file)]) {
        try {
            fs.accessSync(target, fs.constants.W_OK);
        } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code === "EROFS") return `${file} cannot be written (a read-only file system or file): give the ledger a path on a writable disk`;
            if (code === "EACCES" || code === "EPERM") return `${target} cannot be written with this user's permissions: fix its permissions, or give the ledger a path this user can write`;
        }
    }
    return undefined;
}

/** A private copy of a ledger (and its -wal, if any) in a temporary folder, for reading one on a read-only file system. */
function readOnlyCopy(file: string, refuse: (m: string) => ConfigurationError): { file: string; remove: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-ledger-ro-"));
    const remove = () => fs.rmSync(dir, { recursive: true, force: true });
    try {
        const copy = path.join(dir, "ledger.sqlite");
        fs.copyFileSync(file, copy);
        if (fs.existsSync(`${file}-wal`)) fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
        return { file: copy, remove };
    } catch (err) {
        remove();
        throw refuse(`cannot read ${file}: ${(err as Error).message}`);
    }
}
