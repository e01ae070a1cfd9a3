/**
 * The durable ledger of the reconciler: which invoice was planned for whom,
 * and what became of each delivery. SQLite (better-sqlite3) in WAL mode, one
 * file, safe for several processes on one host.
 *
 * States of a delivery:
 *
 *     planned --claim--> sending --250--> sent
 *        ^                  |  \--5xx--> failed
 *        |---4xx/conn-------/
 *     planned --profile opted out--> cancelled
 *
 * - A plan (the invoice row and one `planned` row per recipient) is written in
 *   one transaction before anything is sent; an invoice that has a row is
 *   never planned again, so its recipients are frozen at first planning.
 * - `sending` means the SMTP transaction may be in flight. A process claims a
 *   delivery by a single conditional UPDATE (planned -> sending, or a stale
 *   `sending` whose holder is dead -> sending), so two reconcilers never both
 *   hold it. The holder is `host/pid/run`; a lease is stale when it expired,
 *   or when its holder runs on this host and that process is gone.
 *
 * Failure contract: every method is one statement or one transaction, so a
 * process killed at any instant leaves either the state before or after it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
import { ConfigurationError } from "../errors";
import { InvoiceFacts, type InvoicePlan, type ProfileRef, type UnresolvedRecipient } from "./plan";

/** The schema version this code writes and reads. */
export const LEDGER_SCHEMA_VERSION = 1;

/** Delivery states, as stored. */
export const DeliveryState = z.enum(["planned", "sending", "sent", "failed", "cancelled"]);
export type DeliveryState = z.infer<typeof DeliveryState>;

/**
 * The default ledger path: `$XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite`,
 * with `XDG_STATE_HOME` defaulting to `~/.local/state` (the XDG base directory
 * rule for state that should persist between runs).
 */
export function defaultLedgerPath(env: Record<string, string | undefined>, home = os.homedir()): string {
    const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(home, ".local", "state");
    return path.join(base, "azure-email-invoicing", "ledger.sqlite");
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invoices (
    billing_account_name TEXT NOT NULL COLLATE NOCASE,
    billing_profile_name TEXT NOT NULL COLLATE NOCASE,
    invoice_name         TEXT NOT NULL COLLATE NOCASE,
    facts                TEXT NOT NULL,
    unresolved           TEXT NOT NULL,
    planned_at           TEXT NOT NULL,
    planned_by           TEXT NOT NULL,
    PRIMARY KEY (billing_account_name, billing_profile_name, invoice_name)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id                   INTEGER PRIMARY KEY,
    billing_account_name TEXT NOT NULL COLLATE NOCASE,
    billing_profile_name TEXT NOT NULL COLLATE NOCASE,
    invoice_name         TEXT NOT NULL COLLATE NOCASE,
    recipient            TEXT NOT NULL,
    recipient_key        TEXT NOT NULL,
    reasons              TEXT NOT NULL,
    message_id           TEXT NOT NULL UNIQUE,
    state                TEXT NOT NULL CHECK (state IN ('planned', 'sending', 'sent', 'failed', 'cancelled')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    lease_owner          TEXT,
    lease_expires_at     INTEGER,
    planned_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    sent_at              TEXT,
    smtp_response        TEXT,
    last_error           TEXT,
    UNIQUE (billing_account_name, billing_profile_name, invoice_name, recipient_key),
    FOREIGN KEY (billing_account_name, billing_profile_name, invoice_name)
        REFERENCES invoices (billing_account_name, billing_profile_name, invoice_name)
);
CREATE INDEX IF NOT EXISTS deliveries_by_profile_state ON deliveries (billing_account_name, billing_profile_name, state);
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    summary     TEXT
);
`;

/** One delivery as stored (camel-cased). The shape `ledger --json` prints. */
export const DeliveryRow = z.object({
    id: z.number(),
    billingAccountName: z.string(),
    billingProfileName: z.string(),
    invoiceName: z.string(),
    recipient: z.string(),
    recipientKey: z.string(),
    reasons: z.array(z.string()),
    messageId: z.string(),
    state: DeliveryState,
    attempts: z.number(),
    leaseOwner: z.string().nullable(),
    leaseExpiresAt: z.number().nullable(),
    plannedAt: z.string(),
    updatedAt: z.string(),
    sentAt: z.string().nullable(),
    smtpResponse: z.string().nullable(),
    lastError: z.string().nullable(),
});
export type DeliveryRow = z.infer<typeof DeliveryRow>;

interface RawDeliveryRow {
    id: number;
    billing_account_name: string;
    billing_profile_name: string;
    invoice_name: string;
    recipient: string;
    recipient_key: string;
    reasons: string;
    message_id: string;
    state: string;
    attempts: number;
    lease_owner: string | null;
    lease_expires_at: number | null;
    planned_at: string;
    updated_at: string;
    sent_at: string | null;
    smtp_response: string | null;
    last_error: string | null;
}

function toRow(r: RawDeliveryRow): DeliveryRow {
    return DeliveryRow.parse({
        id: r.id,
        billingAccountName: r.billing_account_name,
        billingProfileName: r.billing_profile_name,
        invoiceName: r.invoice_name,
        recipient: r.recipient,
        recipientKey: r.recipient_key,
        reasons: JSON.parse(r.reasons),
        messageId: r.message_id,
        state: r.state,
        attempts: r.attempts,
        leaseOwner: r.lease_owner,
        leaseExpiresAt: r.lease_expires_at,
        plannedAt: r.planned_at,
        updatedAt: r.updated_at,
        sentAt: r.sent_at,
        smtpResponse: r.smtp_response,
        lastError: r.last_error,
    });
}

/** Who holds a lease, and how a reader decides whether a lease is stale. */
export interface LeaseHolder {
    /** `host/pid/runId`. */
    owner: string;
    /** How long a claim is valid without a verdict (longer than any SMTP transaction). */
    leaseMs: number;
}

/** The lease owner string of this process and run. */
export function leaseOwner(runId: string, host = os.hostname(), pid = process.pid): string {
    return `${host}/${pid}/${runId}`;
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

/**
 * Whether a `sending` lease may be taken over: it expired, or its holder ran
 * on this host in another process that no longer exists. A holder in this
 * same process (another run) is treated as alive until its lease expires.
 * Pure apart from `alive`.
 */
export function leaseIsStale(
    lease: { owner: string | null; expiresAt: number | null },
    now: number,
    me: { host: string; pid: number },
    alive: (pid: number) => boolean = processAlive,
): boolean {
    if (!lease.owner || lease.expiresAt === null || lease.expiresAt <= now) return true;
    const parts = lease.owner.split("/");
    if (parts.length < 3) return true;
    const pid = Number(parts[parts.length - 2]);
    const host = parts.slice(0, parts.length - 2).join("/");
    if (host !== me.host || !Number.isInteger(pid)) return false;
    if (pid === me.pid) return false;
    return !alive(pid);
}

/** Counts of deliveries by state. */
export type StateCounts = Record<DeliveryState, number>;

/** A filter for {@link Ledger.deliveries}. */
export interface DeliveryFilter {
    profiles?: ProfileRef[];
    invoiceName?: string;
    states?: DeliveryState[];
    recipient?: string;
}

/** One stored invoice plan. */
export interface StoredInvoice {
    facts: InvoiceFacts;
    unresolved: UnresolvedRecipient[];
    plannedAt: string;
    plannedBy: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class Ledger {
    /** Prepared statements by SQL text: preparing costs more than running. */
    private readonly statements = new Map<string, Database.Statement>();

    private constructor(
        readonly path: string,
        private readonly db: Database.Database,
    ) {}

    private stmt(sql: string): Database.Statement {
        let st = this.statements.get(sql);
        if (!st) {
            st = this.db.prepare(sql);
            this.statements.set(sql, st);
        }
        return st;
    }

    /**
     * Opens (creating when missing, with its folder) the ledger at `file`,
     * in WAL mode. Refuses a ledger written by a newer schema version.
     */
    static open(file: string): Ledger {
        fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
        let db: Database.Database;
        try {
            db = new Database(file);
        } catch (err) {
            throw new ConfigurationError("--ledger", `cannot open ${file}: ${err instanceof Error ? err.message : String(err)}`);
        }
        Ledger.configure(db);
        db.pragma("journal_mode = WAL");
        const ledger = new Ledger(file, db);
        ledger.migrate();
        return ledger;
    }

    /**
     * Opens an existing ledger for reading, or returns undefined when there is
     * none. Never creates the file and never changes its content (dry runs,
     * `azure-email-invoicing ledger`).
     */
    static openExisting(file: string): Ledger | undefined {
        if (!fs.existsSync(file)) return undefined;
        let db: Database.Database;
        try {
            // Read-write handle without writes: a read-only handle would leave -wal/-shm files behind.
            db = new Database(file, { fileMustExist: true });
        } catch (err) {
            throw new ConfigurationError("--ledger", `cannot open ${file}: ${err instanceof Error ? err.message : String(err)}`);
        }
        Ledger.configure(db);
        const ledger = new Ledger(file, db);
        const version = ledger.schemaVersion();
        if (version === undefined) {
            db.close();
            throw new ConfigurationError("--ledger", `${file} is not a reconciler ledger (no schema_version table)`);
        }
        ledger.checkVersion(version);
        return ledger;
    }

    private static configure(db: Database.Database): void {
        // Wait for another reconciler's write instead of failing with SQLITE_BUSY.
        db.pragma("busy_timeout = 30000");
        // In WAL mode NORMAL is durable against a killed process (the case the
        // reconciler promises); an OS crash may lose the last commits, which at
        // worst resends a message with the same Message-ID.
        db.pragma("synchronous = NORMAL");
        db.pragma("foreign_keys = ON");
    }

    private schemaVersion(): number | undefined {
        const table = this.stmt("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
        if (!table) return undefined;
        const row = this.stmt("SELECT MAX(version) AS version FROM schema_version").get() as { version: number | null };
        return row.version ?? undefined;
    }

    private checkVersion(version: number): void {
        if (version > LEDGER_SCHEMA_VERSION) {
            throw new ConfigurationError(
                "--ledger",
                `${this.path} has schema version ${version}, newer than this azure-email-invoicing understands (${LEDGER_SCHEMA_VERSION}); upgrade the package`,
            );
        }
    }

    private migrate(): void {
        const tx = this.db.transaction(() => {
            const version = this.schemaVersion();
            if (version !== undefined) {
                this.checkVersion(version);
                // Future versions migrate here, one step at a time.
                return;
            }
            this.db.exec(SCHEMA);
            this.stmt("INSERT INTO schema_version (version) VALUES (?)").run(LEDGER_SCHEMA_VERSION);
        });
        tx.immediate();
    }

    close(): void {
        if (this.db.open) this.db.close();
    }

    // -----------------------------------------------------------------------
    // Runs

    startRun(runId: string, now: number, host = os.hostname(), pid = process.pid): void {
        this.stmt("INSERT OR IGNORE INTO runs (run_id, host, pid, started_at) VALUES (?, ?, ?, ?)").run(runId, host, pid, iso(now));
    }

    finishRun(runId: string, now: number, summary: unknown): void {
        this.stmt("UPDATE runs SET finished_at = ?, summary = ? WHERE run_id = ?").run(iso(now), JSON.stringify(summary), runId);
    }

    // -----------------------------------------------------------------------
    // Plans

    /** Lower-cased names of the invoices of a profile that already have a plan. */
    plannedInvoiceNames(ref: ProfileRef): Set<string> {
        const rows = this.stmt("SELECT invoice_name FROM invoices WHERE billing_account_name = ? AND billing_profile_name = ?").all(
            ref.billingAccountName,
            ref.billingProfileName,
        ) as Array<{ invoice_name: string }>;
        return new Set(rows.map((r) => r.invoice_name.toLowerCase()));
    }

    /**
     * Stores invoice plans in one transaction. An invoice that already has a
     * plan (another run, or a concurrent reconciler, got there first) is left
     * as it is, recipients included. Returns how many invoices and deliveries
     * were newly planned.
     */
    recordPlans(plans: readonly InvoicePlan[], runId: string, now: number): { invoices: number; deliveries: number } {
        const insertInvoice = this.stmt(
            `INSERT INTO invoices (billing_account_name, billing_profile_name, invoice_name, facts, unresolved, planned_at, planned_by)
             VALUES (@ba, @bp, @inv, @facts, @unresolved, @at, @run) ON CONFLICT DO NOTHING`,
        );
        const insertDelivery = this.stmt(
            `INSERT INTO deliveries (billing_account_name, billing_profile_name, invoice_name, recipient, recipient_key, reasons, message_id,
                                     state, attempts, planned_at, updated_at)
             VALUES (@ba, @bp, @inv, @recipient, @key, @reasons, @messageId, 'planned', 0, @at, @at) ON CONFLICT DO NOTHING`,
        );
        const at = iso(now);
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
                if (inserted.changes !== 1) continue;
                invoices++;
                for (const d of plan.deliveries) {
                    const r = insertDelivery.run({
                        ba: d.billingAccountName,
                        bp: d.billingProfileName,
                        inv: d.invoiceName,
                        recipient: d.recipient,
                        key: d.recipientKey,
                        reasons: JSON.stringify(d.reasons),
                        messageId: d.messageId,
                        at,
                    });
                    deliveries += r.changes;
                }
            }
        });
        tx.immediate();
        return { invoices, deliveries };
    }

    /** The stored plan of an invoice. */
    invoice(ref: ProfileRef, invoiceName: string): StoredInvoice | undefined {
        const row = this.stmt(
            "SELECT facts, unresolved, planned_at, planned_by FROM invoices WHERE billing_account_name = ? AND billing_profile_name = ? AND invoice_name = ?",
        ).get(ref.billingAccountName, ref.billingProfileName, invoiceName) as { facts: string; unresolved: string; planned_at: string; planned_by: string } | undefined;
        if (!row) return undefined;
        return {
            facts: InvoiceFacts.parse(JSON.parse(row.facts)),
            unresolved: JSON.parse(row.unresolved) as UnresolvedRecipient[],
            plannedAt: row.planned_at,
            plannedBy: row.planned_by,
        };
    }

    // -----------------------------------------------------------------------
    // Deliveries

    /** Deliveries of a profile not yet sent, failed or cancelled (`planned` and `sending`), by invoice then recipient. */
    openDeliveries(ref: ProfileRef): DeliveryRow[] {
        const rows = this.stmt(
            `SELECT * FROM deliveries WHERE billing_account_name = ? AND billing_profile_name = ? AND state IN ('planned', 'sending')
             ORDER BY invoice_name, recipient_key`,
        ).all(ref.billingAccountName, ref.billingProfileName) as RawDeliveryRow[];
        return rows.map(toRow);
    }

    /** One delivery by id. */
    delivery(id: number): DeliveryRow | undefined {
        const r = this.stmt("SELECT * FROM deliveries WHERE id = ?").get(id) as RawDeliveryRow | undefined;
        return r ? toRow(r) : undefined;
    }

    /**
     * Claims a delivery for sending, atomically: a `planned` delivery, or a
     * `sending` one whose lease is stale, becomes `sending` held by `holder`,
     * and its attempts count goes up. Returns false when someone else holds
     * it or it is done.
     */
    claim(id: number, holder: LeaseHolder, now: number, isStale: (lease: { owner: string | null; expiresAt: number | null }) => boolean): boolean {
        const current = this.stmt("SELECT state, lease_owner, lease_expires_at FROM deliveries WHERE id = ?").get(id) as
            | { state: string; lease_owner: string | null; lease_expires_at: number | null }
            | undefined;
        if (!current) return false;
        const until = now + holder.leaseMs;
        if (current.state === "planned") {
            return (
                this.stmt(
                    `UPDATE deliveries SET state = 'sending', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?
                     WHERE id = ? AND state = 'planned'`,
                ).run(holder.owner, until, iso(now), id).changes === 1
            );
        }
        if (current.state === "sending" && isStale({ owner: current.lease_owner, expiresAt: current.lease_expires_at })) {
            // Compare-and-set on the old holder: only one taker wins.
            return (
                this.stmt(
                    `UPDATE deliveries SET state = 'sending', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?,
                            last_error = COALESCE(last_error, 'taken over from ' || COALESCE(lease_owner, '?'))
                     WHERE id = ? AND state = 'sending' AND lease_owner IS ? AND lease_expires_at IS ?`,
                ).run(holder.owner, until, iso(now), id, current.lease_owner, current.lease_expires_at).changes === 1
            );
        }
        return false;
    }

    /** Records a delivery as sent with the server's reply. Sent is final: a later verdict never overrides it. */
    markSent(id: number, smtpResponse: string, now: number): void {
        this.stmt(
            `UPDATE deliveries SET state = 'sent', sent_at = ?, updated_at = ?, smtp_response = ?, lease_owner = NULL, lease_expires_at = NULL
             WHERE id = ? AND state <> 'sent'`,
        ).run(iso(now), iso(now), smtpResponse, id);
    }

    /** Records a permanent refusal (SMTP 5xx). Only by the lease holder. */
    markFailed(id: number, holder: LeaseHolder, error: string, now: number): boolean {
        return (
            this.stmt(
                `UPDATE deliveries SET state = 'failed', last_error = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = ? AND state = 'sending' AND lease_owner = ?`,
            ).run(error, iso(now), id, holder.owner).changes === 1
        );
    }

    /** Puts a delivery back to `planned` after a temporary failure, keeping the reason. Only by the lease holder. */
    release(id: number, holder: LeaseHolder, error: string | null, now: number): boolean {
        return (
            this.stmt(
                `UPDATE deliveries SET state = 'planned', last_error = COALESCE(?, last_error), updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = ? AND state = 'sending' AND lease_owner = ?`,
            ).run(error, iso(now), id, holder.owner).changes === 1
        );
    }

    /** Records why an open delivery could not be attempted (e.g. the PDF download failed), without claiming it. */
    noteError(id: number, error: string, now: number): void {
        this.stmt("UPDATE deliveries SET last_error = ?, updated_at = ? WHERE id = ? AND state = 'planned'").run(error, iso(now), id);
    }

    /** Puts every delivery still held by `holder` back to `planned` (a safety net at the end of a run). */
    releaseAll(holder: LeaseHolder, now: number): number {
        return this.stmt(
            "UPDATE deliveries SET state = 'planned', updated_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE state = 'sending' AND lease_owner = ?",
        ).run(iso(now), holder.owner).changes;
    }

    /** Cancels the `planned` deliveries of a profile that is no longer opted in. Returns how many. */
    cancelPlanned(ref: ProfileRef, reason: string, now: number): number {
        return this.stmt(
            `UPDATE deliveries SET state = 'cancelled', last_error = ?, updated_at = ?
             WHERE billing_account_name = ? AND billing_profile_name = ? AND state = 'planned'`,
        ).run(reason, iso(now), ref.billingAccountName, ref.billingProfileName).changes;
    }

    /** Deliveries matching a filter, oldest plan first. */
    deliveries(filter: DeliveryFilter = {}): DeliveryRow[] {
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
            args.push(...filter.states);
        }
        if (filter.recipient) {
            where.push("recipient_key = ?");
            args.push(filter.recipient.toLowerCase());
        }
        const sql = `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY planned_at, billing_account_name, billing_profile_name, invoice_name, recipient_key`;
        return (this.stmt(sql).all(...args) as RawDeliveryRow[]).map(toRow);
    }

    /** Counts by state, for some profiles or all. */
    counts(profiles?: ProfileRef[]): StateCounts {
        const out: StateCounts = { planned: 0, sending: 0, sent: 0, failed: 0, cancelled: 0 };
        const args: unknown[] = [];
        let where = "";
        if (profiles && profiles.length > 0) {
            where = `WHERE ${profiles.map(() => "(billing_account_name = ? AND billing_profile_name = ?)").join(" OR ")}`;
            for (const p of profiles) args.push(p.billingAccountName, p.billingProfileName);
        }
        const rows = this.stmt(`SELECT state, COUNT(*) AS n FROM deliveries ${where} GROUP BY state`).all(...args) as Array<{ state: DeliveryState; n: number }>;
        for (const r of rows) out[r.state] = r.n;
        return out;
    }
}
