/**
 * The PostgreSQL ledger: one database shared by many workers on many hosts
 * (node-postgres, a small pool, no ORM).
 *
 * - A claim is one statement: the candidates are locked with
 *   `FOR UPDATE SKIP LOCKED` (so workers claiming at the same instant take
 *   different deliveries and never wait for each other) and updated in the
 *   same statement, each adding one to `attempts`, its fencing token.
 * - Leases expire by the database's clock (`now()`), the one clock every
 *   worker shares; a worker's own clock never decides.
 * - A verdict batch is one statement; each verdict is applied only while
 *   `attempts` still equals its claim's.
 * - A read-only ledger is a session with `default_transaction_read_only`,
 *   so the server itself refuses any write.
 *
 * Opening refuses (ConfigurationError, exit 2) a schema that holds tables
 * and no ledger, and a ledger written by a newer version. A server that
 * cannot be reached is a LedgerError (exit 1) after a few attempts; one that
 * refuses the credentials or the certificate, at once.
 */
import * as fs from "node:fs";
import { Pool, type PoolClient, type PoolConfig } from "pg";
import type { BillingProfileRef } from "../../billing/names";
import { ConfigurationError, LedgerError } from "../../errors";
import { profileKey, type InvoicePlan } from "../facts";
import { sleep } from "../../sleep";
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
import type { PostgresConnection, PostgresLedgerLocation } from "./location";
import { POSTGRES_APPLICATION, POSTGRES_MIGRATION_LOCK, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./migrations/postgres";
import { byPlan, toDeliveryRow, toRunRow, toStoredInvoice, type DeliveryColumns } from "./rows";

/** pgpass's helpers, which read a password file the libpq way (permissions checked, `*` wildcards). */
interface PgPassHelper {
    usePgPass(stats: fs.Stats, file: string): boolean;
    getPassword(connInfo: { host: string; port: number; database: string; user: string }, stream: NodeJS.ReadableStream, cb: (password: string | undefined) => void): void;
}

/** Where {@link passwordOf} takes the password from, for a message (never the password itself). */
function passwordSourceOf(c: PostgresConnection): string {
    if (c.password !== undefined) return "the ledger URL";
    if (c.envPassword !== undefined) return "PGPASSWORD";
    return `the password file ${c.passfile}`;
}

/** The password libpq would use: the URL's, then `PGPASSWORD`, then the password file. */
export async function passwordOf(c: PostgresConnection): Promise<string | undefined> {
    if (c.password !== undefined) return c.password;
    if (c.envPassword !== undefined) return c.envPassword;
    let stat: fs.Stats;
    try {
        stat = fs.statSync(c.passfile);
    } catch {
        return undefined;
    }
    const helper = require("pgpass/lib/helper") as PgPassHelper;
    if (!helper.usePgPass(stat, c.passfile)) return undefined;
    // libpq matches a Unix-socket connection against "localhost".
    const host = c.host.startsWith("/") ? "localhost" : c.host;
    return new Promise((resolve) => helper.getPassword({ host, port: c.port, database: c.database, user: c.user }, fs.createReadStream(c.passfile), resolve));
}

interface PgFailure {
    code?: string;
    message?: string;
    severity?: string;
}

/** SQLSTATEs and socket codes a later attempt may clear. */
const RETRYABLE = /^(08|57P0[1-3]|53|40001|40P01|55P03|ECONN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND)/;
const RETRYABLE_MESSAGE = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error/i;

/** What to do about a driver error, in the user's words. */
function describePg(err: PgFailure, c: PostgresConnection): { message: string; retryable: boolean } {
    const code = err.code ?? "";
    const message = err.message ?? String(err);
    // Not retried: a refused password does not become right, and repeating it can lock the account.
    if (code === "28P01") {
        return {
            message: `the server refused the credentials of user ${c.user} (${message}): the password came from ${passwordSourceOf(c)}; correct it there (or give it in PGPASSWORD, the password file ${c.passfile}, or the URL in the config file or environment)`,
            retryable: false,
        };
    }
    if (code === "28000") {
        return { message: `the server refused the credentials of user ${c.user} (${message}): the server does not admit this user to database ${c.database} from here; ask its administrator to (pg_hba.conf), or connect as a user it admits`, retryable: false };
    }
    if (/client password must be a string/i.test(message)) {
        return { message: `the server asks for a password and none is given: set PGPASSWORD, add it to the password file ${c.passfile}, or put it in the URL in the config file or environment`, retryable: false };
    }
    if (code === "3D000") return { message: `the database ${c.database} does not exist (${message}): create it, or name another in the URL`, retryable: false };
    if (code === "42501") return { message: `user ${c.user} lacks a privilege the ledger needs (${message}): see "Running the reconciler in production" in the README`, retryable: false };
    const tls = describeTls(err, c);
    if (tls) return { message: tls, retryable: false };
    if (RETRYABLE.test(code) || RETRYABLE_MESSAGE.test(message)) return { message: `cannot reach ${c.hostaddr ?? c.host}:${c.port}: ${message}`, retryable: true };
    return { message: code ? `${message} (${code})` : message, retryable: false };
}

/** OpenSSL's verdicts (Node.js's `err.code`) that mean: no authority this ledger trusts signed the server's certificate. */
const UNTRUSTED_CERTIFICATE = new Set([
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "CERT_UNTRUSTED",
    "CERT_SIGNATURE_FAILURE",
    "CERT_REJECTED",
    "INVALID_CA",
]);

/**
 * A TLS failure in the user's words, or undefined when `err` is none. None
 * is worth retrying: the same certificate comes back next time.
 */
function describeTls(err: PgFailure, c: PostgresConnection): string | undefined {
    const code = err.code ?? "";
    const message = err.message ?? String(err);
    const mode = `sslmode=${c.sslmode}`;
    if (message === "The server does not support SSL connections") {
        return `the server does not accept TLS connections, and ${mode} needs TLS: turn ssl on in the server's configuration, or, for a server on loopback only, use sslmode=disable`;
    }
    if (UNTRUSTED_CERTIFICATE.has(code)) {
        const trusted =
            c.sslrootcert === undefined || c.sslrootcert === "system"
                ? "no sslrootcert is given, so only the public certificate authorities are trusted"
                : `the certificate authority in sslrootcert ${c.sslrootcert} did not sign it`;
        return `the server's certificate is not trusted with ${mode} (${message}; ${code}): ${trusted}. Give the certificate of the authority that signed the server's certificate as sslrootcert=<file> in the URL (or PGSSLROOTCERT)`;
    }
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
        return `the server's certificate does not name ${c.host} (${message}), and ${mode} checks the host name: connect by a name the certificate holds (host=<name>, with hostaddr=<address> to choose the address), or use sslmode=verify-ca to check only the authority`;
    }
    if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
        return `the server's certificate is not valid now (${message}; ${code}): renew it on the server (or correct this machine's clock)`;
    }
    if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return `the TLS handshake with ${c.hostaddr ?? c.host}:${c.port} failed (${message}; ${code}) with ${mode}`;
    return undefined;
}

/** An SQL value for a list of names compared case-insensitively. */
const lower = (s: string) => s.toLowerCase();

export class PostgresLedger implements Ledger {
    readonly kind = "postgres" as const;
    readonly location: string;

    private constructor(
        private readonly where: PostgresLedgerLocation,
        private readonly pool: Pool,
        readonly readOnly: boolean,
    ) {
        this.location = where.display;
    }

    /** The pool settings of a location: every connection setting explicit, the password looked up when connecting. */
    static poolConfig(where: PostgresLedgerLocation, readOnly: boolean): PoolConfig {
        const c = where.connection;
        const options = [c.options, readOnly ? "-c default_transaction_read_only=on" : undefined].filter(Boolean).join(" ");
        return {
            // libpq's hostaddr: the address to connect to; the certificate is checked against host (location.ts).
            host: c.hostaddr ?? c.host,
            port: c.port,
            user: c.user,
            database: c.database,
            password: () => passwordOf(c).then((p) => p ?? (undefined as unknown as string)),
            ssl: c.ssl,
            options: options || undefined,
            application_name: c.applicationName,
            connectionTimeoutMillis: c.connectTimeoutSeconds * 1000,
            // Every statement has a time limit, on the server and on the client.
            statement_timeout: 60_000,
            query_timeout: 70_000,
            keepAlive: true,
            // A small pool: claims, verdicts and the lease heartbeat of one worker.
            max: 4,
            idleTimeoutMillis: 30_000,
        };
    }

    /**
     * Connects (a few attempts with backoff when the server cannot be
     * reached), checks that the selected schema is ours or empty, and (for
     * writing) applies the missing schema steps under an advisory lock.
     * Read only: resolves to undefined when the schema holds no ledger yet.
     */
    static async open(where: PostgresLedgerLocation, options: { readOnly?: boolean; connectAttempts?: number } = {}): Promise<PostgresLedger | undefined> {
        const readOnly = options.readOnly === true;
        const pool = new Pool(PostgresLedger.poolConfig(where, readOnly));
        // An idle connection the server drops (a restart, pg_terminate_backend) must not end the process;
        // the next query gets a fresh connection.
        pool.on("error", () => undefined);
        const ledger = new PostgresLedger(where, pool, readOnly);
        try {
            const attempts = options.connectAttempts ?? 4;
            for (let i = 1; ; i++) {
                try {
                    const present = await ledger.inspect();
                    if (readOnly) {
                        if (!present) {
                            await pool.end();
                            return undefined;
                        }
                    } else {
                        await ledger.migrate();
                    }
                    return ledger;
                } catch (err) {
                    if (!(err instanceof LedgerError) || !err.retryable || i >= attempts) throw err;
                    await sleep(500 * 2 ** (i - 1));
                }
            }
        } catch (err) {
            await pool.end().catch(() => undefined);
            if (err instanceof LedgerError) {
                throw new LedgerError({ ledger: `${where.display} (${where.source.label})`, message: err.message.startsWith(`ledger ${where.display}: `) ? err.message.slice(`ledger ${where.display}: `.length) : err.message, retryable: err.retryable, code: err.code });
            }
            throw err;
        }
    }

    private failure(err: unknown): LedgerError | ConfigurationError {
        if (err instanceof LedgerError || err instanceof ConfigurationError) return err;
        const d = describePg(err as PgFailure, this.where.connection);
        return new LedgerError({ ledger: this.location, message: d.message, retryable: d.retryable, code: (err as PgFailure).code });
    }

    private async q<R>(sql: string, args: unknown[] = []): Promise<R[]> {
        try {
            return (await this.pool.query(sql, args)).rows as R[];
        } catch (err) {
            throw this.failure(err);
        }
    }

    /** Runs `fn` in one transaction on one connection. */
    private async tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
        let client: PoolClient;
        try {
            client = await this.pool.connect();
        } catch (err) {
            throw this.failure(err);
        }
        let broken = false;
        try {
            await client.query("BEGIN");
            const result = await fn(client);
            await client.query("COMMIT");
            return result;
        } catch (err) {
            try {
                await client.query("ROLLBACK");
            } catch {
                broken = true;
            }
            throw this.failure(err);
        } finally {
            client.release(broken);
        }
    }

    /** True when the selected schema holds our ledger; refuses one holding other tables or a newer ledger. */
    private async inspect(): Promise<boolean> {
        const [info] = await this.q<{ schema: string | null; database: string; tables: string[] | null }>(
            `SELECT current_schema() AS schema, current_database() AS database,
                    (SELECT array_agg(c.relname::text ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) AS tables`,
        );
        const refuse = (m: string) => new ConfigurationError(this.where.source.label, m);
        if (!info.schema) {
            throw refuse(`the search_path of ${this.location} selects no schema that exists in database ${info.database}: create the schema (CREATE SCHEMA ...), or fix options=-c search_path=...`);
        }
        const tables = info.tables ?? [];
        if (tables.length === 0) return false;
        const foreign = () =>
            refuse(
                `schema "${info.schema}" of database "${info.database}" holds tables (${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", ..." : ""}) and no azure-email-invoicing ledger: it is left untouched; give the ledger a database or schema of its own (CREATE SCHEMA azure_email_invoicing, and ?options=-c%20search_path%3Dazure_email_invoicing in the URL)`,
            );
        if (!tables.includes("ledger_schema")) throw foreign();
        const rows = await this.q<{ application: string; version: number }>("SELECT application, version FROM ledger_schema");
        if (rows.length !== 1 || rows[0].application !== POSTGRES_APPLICATION) throw foreign();
        if (rows[0].version > POSTGRES_SCHEMA_VERSION) {
            throw refuse(
                `schema "${info.schema}" of database "${info.database}" holds a ledger of schema version ${rows[0].version}, newer than this azure-email-invoicing understands (${POSTGRES_SCHEMA_VERSION}): upgrade the package`,
            );
        }
        return true;
    }

    /** Applies the missing schema steps in one transaction, holding the migration lock of this schema. */
    private async migrate(): Promise<void> {
        await this.tx(async (client) => {
            await client.query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", [POSTGRES_MIGRATION_LOCK]);
            // Another worker may have migrated while this one waited for the lock: look again.
            const present = await this.inspectWith(client);
            const current = present ?? 0;
            for (const step of POSTGRES_MIGRATIONS) {
                if (step.version <= current) continue;
                await client.query(step.sql);
                await client.query("DELETE FROM ledger_schema");
                await client.query("INSERT INTO ledger_schema (application, version) VALUES ($1, $2)", [POSTGRES_APPLICATION, step.version]);
            }
        });
    }

    private async inspectWith(client: PoolClient): Promise<number | undefined> {
        const exists = await client.query("SELECT to_regclass('ledger_schema') IS NOT NULL AS present");
        if (!exists.rows[0].present) return undefined;
        const rows = await client.query("SELECT version FROM ledger_schema");
        return rows.rows[0]?.version as number | undefined;
    }

    async close(): Promise<void> {
        if (!this.pool.ended) await this.pool.end();
    }

    // -----------------------------------------------------------------------
    // Runs

    async startRun(runId: string, worker: Worker): Promise<void> {
        await this.q("INSERT INTO runs (run_id, worker_id, host, pid, started_at) VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING", [runId, worker.id, worker.host, worker.pid]);
    }

    async finishRun(runId: string, summary: unknown): Promise<void> {
        await this.q("UPDATE runs SET finished_at = now(), summary = $2 WHERE run_id = $1", [runId, JSON.stringify(summary)]);
    }

    async runs(): Promise<RunRow[]> {
        const rows = await this.q<Parameters<typeof toRunRow>[0]>("SELECT * FROM runs ORDER BY started_at, run_id");
        return rows.map(toRunRow);
    }

    // -----------------------------------------------------------------------
    // Plans

    async plannedInvoiceNames(ref: BillingProfileRef): Promise<Set<string>> {
        const rows = await this.q<{ name: string }>(
            "SELECT lower(invoice_name) AS name FROM invoices WHERE lower(billing_account_name) = lower($1) AND lower(billing_profile_name) = lower($2)",
            [ref.billingAccountName, ref.billingProfileName],
        );
        return new Set(rows.map((r) => r.name));
    }

    async recordPlans(plans: readonly InvoicePlan[], runId: string): Promise<{ invoices: number; deliveries: number }> {
        if (plans.length === 0) return { invoices: 0, deliveries: 0 };
        return this.tx(async (client) => {
            // One statement for the invoices: those another planner stored first are skipped (ON CONFLICT),
            // and only the ones stored here get deliveries, so concurrent planners agree on one plan.
            const inserted = await client.query(
                `INSERT INTO invoices (billing_account_name, billing_profile_name, invoice_name, facts, unresolved, planned_at, planned_by)
                 SELECT a, p, i, f::jsonb, u::jsonb, now(), $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(a, p, i, f, u)
                 ON CONFLICT (lower(billing_account_name), lower(billing_profile_name), lower(invoice_name)) DO NOTHING
                 RETURNING id, lower(invoice_name) AS key`,
                [
                    plans.map((p) => p.invoice.billingAccountName),
                    plans.map((p) => p.invoice.billingProfileName),
                    plans.map((p) => p.invoice.invoiceName),
                    plans.map((p) => JSON.stringify(p.invoice)),
                    plans.map((p) => JSON.stringify(p.unresolved)),
                    runId,
                ],
            );
            const ids = new Map((inserted.rows as Array<{ id: string; key: string }>).map((r) => [r.key, r.id]));
            const cols: unknown[][] = [[], [], [], [], [], [], [], []];
            for (const plan of plans) {
                const id = ids.get(plan.invoice.invoiceName.toLowerCase());
                if (id === undefined) continue;
                ids.delete(plan.invoice.invoiceName.toLowerCase());
                for (const d of plan.deliveries) {
                    [id, d.billingAccountName, d.billingProfileName, d.invoiceName, d.recipient, d.recipientKey, JSON.stringify(d.reasons), d.messageId].forEach((v, i) => cols[i].push(v));
                }
            }
            let deliveries = 0;
            if (cols[0].length > 0) {
                const r = await client.query(
                    `INSERT INTO deliveries (invoice_id, billing_account_name, billing_profile_name, invoice_name, recipient, recipient_key, reasons, message_id,
                                             state, attempts, planned_at, updated_at)
                     SELECT iid, a, p, i, r, k, rs::jsonb, m, 'planned', 0, now(), now()
                     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS t(iid, a, p, i, r, k, rs, m)
                     ON CONFLICT DO NOTHING`,
                    cols,
                );
                deliveries = r.rowCount ?? 0;
            }
            return { invoices: inserted.rowCount ?? 0, deliveries };
        });
    }

    async invoice(ref: BillingProfileRef, invoiceName: string): Promise<StoredInvoice | undefined> {
        const [row] = await this.q<Parameters<typeof toStoredInvoice>[0]>(
            `SELECT facts, unresolved, planned_at, planned_by FROM invoices
             WHERE lower(billing_account_name) = lower($1) AND lower(billing_profile_name) = lower($2) AND lower(invoice_name) = lower($3)`,
            [ref.billingAccountName, ref.billingProfileName, invoiceName],
        );
        return row ? toStoredInvoice(row) : undefined;
    }

    // -----------------------------------------------------------------------
    // Deliveries

    async openDeliveries(ref: BillingProfileRef): Promise<DeliveryRow[]> {
        const rows = await this.q<DeliveryColumns>(
            `SELECT * FROM deliveries WHERE lower(billing_account_name) = lower($1) AND lower(billing_profile_name) = lower($2) AND state IN (${sqlStates(OPEN_STATES)})
             ORDER BY lower(invoice_name), recipient_key`,
            [ref.billingAccountName, ref.billingProfileName],
        );
        return rows.map(toDeliveryRow);
    }

    async claimNext(ref: BillingProfileRef, worker: Worker, limit: number, exclude: ClaimExclusions = {}): Promise<Claim[]> {
        if (limit <= 0) return [];
        const scope = `lower(billing_account_name) = lower($1) AND lower(billing_profile_name) = lower($2)
                       AND NOT (id = ANY($3::bigint[])) AND NOT (lower(invoice_name) = ANY($4::text[]))`;
        const order = "ORDER BY lower(invoice_name), recipient_key LIMIT $5 FOR UPDATE SKIP LOCKED";
        const rows = await this.q<DeliveryColumns>(
            `WITH planned AS (SELECT id, lower(invoice_name) AS k, recipient_key AS r FROM deliveries WHERE ${scope} AND state = 'planned' ${order}),
                  stale AS (SELECT id, lower(invoice_name) AS k, recipient_key AS r FROM deliveries WHERE ${scope} AND state = 'sending' AND lease_expires_at <= now() ${order}),
                  chosen AS (SELECT id FROM (SELECT * FROM planned UNION ALL SELECT * FROM stale) c ORDER BY k, r LIMIT $5)
             UPDATE deliveries d SET state = 'sending', lease_owner = $6, lease_expires_at = now() + $7 * interval '1 millisecond', attempts = d.attempts + 1,
                    updated_at = now(),
                    last_error = CASE WHEN d.state = 'sending' THEN COALESCE(d.last_error, 'taken over from ' || COALESCE(d.lease_owner, '?')) ELSE d.last_error END
             FROM chosen WHERE d.id = chosen.id
             RETURNING d.*`,
            [ref.billingAccountName, ref.billingProfileName, [...(exclude.ids ?? [])], (exclude.invoices ?? []).map(lower), limit, worker.id, worker.leaseMs],
        );
        return rows
            .map(toDeliveryRow)
            .sort((a, b) => {
                const ka = `${a.invoiceName.toLowerCase()}\n${a.recipientKey}`;
                const kb = `${b.invoiceName.toLowerCase()}\n${b.recipientKey}`;
                return ka < kb ? -1 : ka > kb ? 1 : 0;
            })
            .map((row) => ({ row, attempt: row.attempts }));
    }

    async extendLeases(worker: Worker, claims: readonly Claim[]): Promise<Set<number>> {
        if (claims.length === 0) return new Set();
        const rows = await this.q<{ id: string }>(
            `UPDATE deliveries d SET lease_expires_at = now() + $1 * interval '1 millisecond'
             FROM unnest($2::bigint[], $3::int[]) AS c(id, attempt)
             WHERE d.id = c.id AND d.attempts = c.attempt AND d.state = 'sending'
             RETURNING d.id`,
            [worker.leaseMs, claims.map((c) => c.row.id), claims.map((c) => c.attempt)],
        );
        return new Set(rows.map((r) => Number(r.id)));
    }

    async record(verdicts: readonly Verdict[]): Promise<VerdictResult[]> {
        if (verdicts.length === 0) return [];
        const detail = (v: Verdict) => (v.outcome === "sent" ? v.smtpResponse : v.error);
        // The final SELECT reads the rows as they were before the UPDATE (one snapshot):
        // a verdict not applied is "already recorded" when the row already shows it under this attempt.
        const rows = await this.q<{ n: number; updated: boolean; state: string | null; attempts: number | null }>(
            `WITH v(n, id, attempt, outcome, detail) AS (SELECT * FROM unnest($1::int[], $2::bigint[], $3::int[], $4::text[], $5::text[])),
                  upd AS (
                    UPDATE deliveries d SET
                        state = CASE v.outcome WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed' ELSE 'planned' END,
                        sent_at = CASE WHEN v.outcome = 'sent' THEN now() ELSE d.sent_at END,
                        smtp_response = CASE WHEN v.outcome = 'sent' THEN v.detail ELSE d.smtp_response END,
                        last_error = CASE WHEN v.outcome = 'failed' THEN v.detail WHEN v.outcome = 'released' THEN COALESCE(v.detail, d.last_error) ELSE d.last_error END,
                        updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
                    FROM v WHERE d.id = v.id AND d.attempts = v.attempt AND d.state = 'sending'
                    RETURNING d.id)
             SELECT v.n, (upd.id IS NOT NULL) AS updated, d.state, d.attempts
             FROM v LEFT JOIN upd ON upd.id = v.id LEFT JOIN deliveries d ON d.id = v.id ORDER BY v.n`,
            [verdicts.map((_, i) => i), verdicts.map((v) => v.claim.row.id), verdicts.map((v) => v.claim.attempt), verdicts.map((v) => v.outcome), verdicts.map(detail)],
        );
        const target = { sent: "sent", failed: "failed", released: "planned" } as const;
        return rows.map((r) => {
            const v = verdicts[r.n];
            if (r.updated) return "recorded";
            return r.attempts === v.claim.attempt && r.state === target[v.outcome] ? "recorded" : "fenced";
        });
    }

    async cancelOptedOut(ref: BillingProfileRef, reason: string): Promise<number> {
        const rows = await this.q(
            `UPDATE deliveries SET state = 'cancelled', last_error = $3, updated_at = now()
             WHERE lower(billing_account_name) = lower($1) AND lower(billing_profile_name) = lower($2) AND state = 'planned' RETURNING id`,
            [ref.billingAccountName, ref.billingProfileName, reason],
        );
        return rows.length;
    }

    async cancel(filter: DeliveryFilter, reason: string): Promise<DeliveryRow[]> {
        const { where, args } = whereOf({ ...filter, states: ["planned"] }, 2);
        const rows = await this.q<DeliveryColumns>(`UPDATE deliveries SET state = 'cancelled', last_error = $1, updated_at = now() ${where} RETURNING *`, [reason, ...args]);
        return rows.map(toDeliveryRow).sort(byPlan);
    }

    async pending(refs: readonly BillingProfileRef[], worker: Worker): Promise<Map<string, PendingCount>> {
        const out = new Map<string, PendingCount>();
        for (const ref of refs) out.set(profileKey(ref), { pending: 0, invoices: 0, heldByOthers: 0 });
        if (refs.length === 0) return out;
        const mine = "(state = 'planned' OR lease_expires_at <= now() OR lease_owner = $3)";
        const rows = await this.q<{ a: string; p: string; pending: string; invoices: string; held: string }>(
            `SELECT lower(billing_account_name) AS a, lower(billing_profile_name) AS p,
                    count(*) FILTER (WHERE ${mine}) AS pending,
                    count(DISTINCT lower(invoice_name)) FILTER (WHERE ${mine}) AS invoices,
                    count(*) FILTER (WHERE NOT ${mine}) AS held
             FROM deliveries
             WHERE state IN (${sqlStates(OPEN_STATES)})
               AND (lower(billing_account_name), lower(billing_profile_name)) IN (SELECT lower(x), lower(y) FROM unnest($1::text[], $2::text[]) AS t(x, y))
             GROUP BY 1, 2`,
            [refs.map((r) => r.billingAccountName), refs.map((r) => r.billingProfileName), worker.id],
        );
        for (const r of rows) out.set(`${r.a}/${r.p}`, { pending: Number(r.pending), invoices: Number(r.invoices), heldByOthers: Number(r.held) });
        return out;
    }

    async deliveries(filter: DeliveryFilter = {}): Promise<DeliveryRow[]> {
        const { where, args } = whereOf(filter, 1);
        const rows = await this.q<DeliveryColumns>(
            `SELECT * FROM deliveries ${where} ORDER BY planned_at, lower(billing_account_name), lower(billing_profile_name), lower(invoice_name), recipient_key`,
            args,
        );
        return rows.map(toDeliveryRow);
    }

    async delivery(id: number): Promise<DeliveryRow | undefined> {
        const [row] = await this.q<DeliveryColumns>("SELECT * FROM deliveries WHERE id = $1", [id]);
        return row ? toDeliveryRow(row) : undefined;
    }

    async counts(profiles?: readonly BillingProfileRef[]): Promise<StateCounts> {
        const out = zeroCounts();
        const { where, args } = whereOf({ profiles: profiles ? [...profiles] : undefined }, 1);
        const rows = await this.q<{ state: keyof StateCounts; n: string }>(`SELECT state, count(*) AS n FROM deliveries ${where} GROUP BY state`, args);
        for (const r of rows) out[r.state] = Number(r.n);
        return out;
    }

    /** Every table's rows, for `ledger migrate`'s verification. */
    async snapshot(): Promise<{ invoices: number; deliveries: DeliveryRow[]; runs: RunRow[] }> {
        const [{ n }] = await this.q<{ n: string }>("SELECT count(*) AS n FROM invoices");
        return { invoices: Number(n), deliveries: await this.deliveries(), runs: await this.runs() };
    }

    /**
     * Copies another ledger's content in (`ledger migrate`): invoices,
     * deliveries (keeping their ids, states, attempts and times) and runs,
     * in one transaction. What is already here (same invoice, same
     * Message-ID, same run) is left as it is, so a rerun changes nothing.
     * Returns how many rows of each were added.
     */
    async importFrom(source: { invoices: Array<{ ref: BillingProfileRef; invoiceName: string; stored: StoredInvoice }>; deliveries: DeliveryRow[]; runs: RunRow[] }): Promise<{ invoices: number; deliveries: number; runs: number }> {
        return this.tx(async (client) => {
            const inv = await client.query(
                `INSERT INTO invoices (billing_account_name, billing_profile_name, invoice_name, facts, unresolved, planned_at, planned_by)
                 SELECT a, p, i, f::jsonb, u::jsonb, at::timestamptz, b FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(a, p, i, f, u, at, b)
                 ON CONFLICT (lower(billing_account_name), lower(billing_profile_name), lower(invoice_name)) DO NOTHING`,
                [
                    source.invoices.map((x) => x.ref.billingAccountName),
                    source.invoices.map((x) => x.ref.billingProfileName),
                    source.invoices.map((x) => x.invoiceName),
                    source.invoices.map((x) => JSON.stringify(x.stored.facts)),
                    source.invoices.map((x) => JSON.stringify(x.stored.unresolved)),
                    source.invoices.map((x) => x.stored.plannedAt),
                    source.invoices.map((x) => x.stored.plannedBy),
                ],
            );
            const d = source.deliveries;
            const del = await client.query(
                `INSERT INTO deliveries (id, invoice_id, billing_account_name, billing_profile_name, invoice_name, recipient, recipient_key, reasons, message_id, state, attempts,
                                         lease_owner, lease_expires_at, planned_at, updated_at, sent_at, smtp_response, last_error)
                 SELECT t.id, i.id, t.a, t.p, t.i, t.r, t.k, t.rs::jsonb, t.m, t.s, t.n, t.lo,
                        CASE WHEN t.le IS NULL THEN NULL ELSE to_timestamp(t.le / 1000.0) END, t.pa::timestamptz, t.ua::timestamptz, t.sa::timestamptz, t.sr, t.le2
                 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[],
                             $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
                      AS t(id, a, p, i, r, k, rs, m, s, n, lo, le, pa, ua, sa, sr, le2)
                 JOIN invoices i ON lower(i.billing_account_name) = lower(t.a) AND lower(i.billing_profile_name) = lower(t.p) AND lower(i.invoice_name) = lower(t.i)
                 ON CONFLICT DO NOTHING`,
                [
                    d.map((x) => x.id),
                    d.map((x) => x.billingAccountName),
                    d.map((x) => x.billingProfileName),
                    d.map((x) => x.invoiceName),
                    d.map((x) => x.recipient),
                    d.map((x) => x.recipientKey),
                    d.map((x) => JSON.stringify(x.reasons)),
                    d.map((x) => x.messageId),
                    d.map((x) => x.state),
                    d.map((x) => x.attempts),
                    d.map((x) => x.leaseOwner),
                    d.map((x) => x.leaseExpiresAt),
                    d.map((x) => x.plannedAt),
                    d.map((x) => x.updatedAt),
                    d.map((x) => x.sentAt),
                    d.map((x) => x.smtpResponse),
                    d.map((x) => x.lastError),
                ],
            );
            // Ids kept from the source: the sequence continues after the largest.
            await client.query("SELECT setval(pg_get_serial_sequence('deliveries', 'id'), GREATEST((SELECT COALESCE(max(id), 0) FROM deliveries), 1))");
            const r = source.runs;
            const runs = await client.query(
                `INSERT INTO runs (run_id, worker_id, host, pid, started_at, finished_at, summary)
                 SELECT * FROM (SELECT t.id, t.w, t.h, t.p, t.s::timestamptz, t.f::timestamptz, t.sm::jsonb
                                FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[]) AS t(id, w, h, p, s, f, sm)) x
                 ON CONFLICT DO NOTHING`,
                [r.map((x) => x.runId), r.map((x) => x.workerId), r.map((x) => x.host), r.map((x) => x.pid), r.map((x) => x.startedAt), r.map((x) => x.finishedAt), r.map((x) => (x.summary === null ? null : JSON.stringify(x.summary)))],
            );
            return { invoices: inv.rowCount ?? 0, deliveries: del.rowCount ?? 0, runs: runs.rowCount ?? 0 };
        });
    }
}

/** The WHERE clause of a filter, with placeholders from `$first`; names compare case-insensitively. */
function whereOf(filter: DeliveryFilter, first: number): { where: string; args: unknown[] } {
    const where: string[] = [];
    const args: unknown[] = [];
    const next = (v: unknown) => {
        args.push(v);
        return `$${first + args.length - 1}`;
    };
    if (filter.profiles && filter.profiles.length > 0) {
        where.push(
            `(lower(billing_account_name), lower(billing_profile_name)) IN (SELECT lower(x), lower(y) FROM unnest(${next(filter.profiles.map((p) => p.billingAccountName))}::text[], ${next(
                filter.profiles.map((p) => p.billingProfileName),
            )}::text[]) AS t(x, y))`,
        );
    }
    if (filter.invoiceName) where.push(`lower(invoice_name) = lower(${next(filter.invoiceName)})`);
    if (filter.states && filter.states.length > 0) where.push(`state = ANY(${next(filter.states)}::text[])`);
    if (filter.recipient) where.push(`recipient_key = ${next(filter.recipient.trim().toLowerCase())}`);
    return { where: where.length ? `WHERE ${where.join(" AND ")}` : "", args };
}
