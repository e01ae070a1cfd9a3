/**
 * The PostgreSQL ledger's schema, as numbered steps, applied at start in
 * one transaction under an advisory lock (so that workers starting together
 * migrate once). The ledger lives in the schema the connection's
 * `search_path` selects (`public` by default); `ledger_schema` marks it as
 * ours and records the step, so that a schema holding another
 * application's tables is never written into. A step, once released, never
 * changes.
 *
 * Names compare case-insensitively, as ARM's do: unique indexes on
 * `lower(...)`, with no extension required.
 */
import { sqlStates } from "../contract";

/** The value of `ledger_schema.application`: this schema holds our ledger. */
export const POSTGRES_APPLICATION = "azure-email-invoicing";

/** The key of the advisory lock migrations hold, with the schema's name as the second half. */
export const POSTGRES_MIGRATION_LOCK = 0x41454931;

export interface PostgresMigration {
    version: number;
    summary: string;
    sql: string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
    {
        version: 1,
        summary: "invoices, deliveries and runs",
        sql: `
CREATE TABLE ledger_schema (
    application text NOT NULL,
    version     integer NOT NULL
);
CREATE TABLE invoices (
    id                   bigserial PRIMARY KEY,
    billing_account_name text NOT NULL,
    billing_profile_name text NOT NULL,
    invoice_name         text NOT NULL,
    facts                jsonb NOT NULL,
    unresolved           jsonb NOT NULL,
    planned_at           timestamptz NOT NULL,
    planned_by           text NOT NULL
);
CREATE UNIQUE INDEX invoices_by_name ON invoices (lower(billing_account_name), lower(billing_profile_name), lower(invoice_name));
CREATE TABLE deliveries (
    id                   bigserial PRIMARY KEY,
    invoice_id           bigint NOT NULL REFERENCES invoices (id),
    billing_account_name text NOT NULL,
    billing_profile_name text NOT NULL,
    invoice_name         text NOT NULL,
    recipient            text NOT NULL,
    recipient_key        text NOT NULL CHECK (recipient_key = lower(recipient_key)),
    reasons              jsonb NOT NULL,
    message_id           text NOT NULL UNIQUE,
    state                text NOT NULL CHECK (state IN (${sqlStates()})),
    attempts             integer NOT NULL DEFAULT 0,
    lease_owner          text,
    lease_expires_at     timestamptz,
    planned_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    sent_at              timestamptz,
    smtp_response        text,
    last_error           text
);
CREATE UNIQUE INDEX deliveries_by_recipient ON deliveries (invoice_id, recipient_key);
CREATE INDEX deliveries_to_claim ON deliveries (lower(billing_account_name), lower(billing_profile_name), state, lower(invoice_name), recipient_key);
CREATE TABLE runs (
    run_id      text PRIMARY KEY,
    worker_id   text NOT NULL,
    host        text NOT NULL,
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    summary     jsonb
);
`,
    },
];

/** The newest step this code knows. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version;
