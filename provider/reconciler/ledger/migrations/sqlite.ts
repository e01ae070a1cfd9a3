/**
 * The SQLite ledger's schema, as numbered steps. A ledger records the steps
 * it has (`schema_version`, one row); opening it applies the missing ones in
 * one transaction, and refuses a ledger with a step this code does not know
 * (written by a newer version). A step, once released, never changes: a new
 * column or state is a new step.
 *
 * Names compare case-insensitively (`COLLATE NOCASE`), as ARM's do.
 */
import { sqlStates } from "../contract";

/**
 * `PRAGMA application_id` of a ledger: the file's own claim to be one, so
 * that another application's SQLite database is never taken for ours
 * ("AEI1" in ASCII). Ledgers from before step 2 carry 0 and are recognised by
 * their tables.
 */
export const SQLITE_APPLICATION_ID = 0x41454931;

/** The tables a ledger of step 1 has: how a ledger from before `application_id` is told from another application's database. */
export const SQLITE_LEDGER_TABLES = ["schema_version", "invoices", "deliveries", "runs"] as const;

export interface SqliteMigration {
    version: number;
    /** What the step adds, for the log. */
    summary: string;
    sql: string;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
    {
        version: 1,
        summary: "invoices, deliveries and runs",
        sql: `
CREATE TABLE schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE invoices (
    billing_account_name TEXT NOT NULL COLLATE NOCASE,
    billing_profile_name TEXT NOT NULL COLLATE NOCASE,
    invoice_name         TEXT NOT NULL COLLATE NOCASE,
    facts                TEXT NOT NULL,
    unresolved           TEXT NOT NULL,
    planned_at           TEXT NOT NULL,
    planned_by           TEXT NOT NULL,
    PRIMARY KEY (billing_account_name, billing_profile_name, invoice_name)
);
CREATE TABLE deliveries (
    id                   INTEGER PRIMARY KEY,
    billing_account_name TEXT NOT NULL COLLATE NOCASE,
    billing_profile_name TEXT NOT NULL COLLATE NOCASE,
    invoice_name         TEXT NOT NULL COLLATE NOCASE,
    recipient            TEXT NOT NULL,
    recipient_key        TEXT NOT NULL,
    reasons              TEXT NOT NULL,
    message_id           TEXT NOT NULL UNIQUE,
    state                TEXT NOT NULL CHECK (state IN (${sqlStates()})),
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
CREATE INDEX deliveries_by_profile_state ON deliveries (billing_account_name, billing_profile_name, state);
CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    summary     TEXT
);
`,
    },
    {
        version: 2,
        summary: "worker ids, and the holder's host and process kept apart from its id",
        sql: `
ALTER TABLE deliveries ADD COLUMN lease_host TEXT;
ALTER TABLE deliveries ADD COLUMN lease_pid INTEGER;
ALTER TABLE runs ADD COLUMN worker_id TEXT;
CREATE INDEX deliveries_to_claim ON deliveries (billing_account_name, billing_profile_name, state, invoice_name, recipient_key);
PRAGMA application_id = ${SQLITE_APPLICATION_ID};
`,
    },
];

/** The newest step this code knows. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;
