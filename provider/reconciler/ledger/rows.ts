/**
 * Rows as both backends' drivers return them, to the contract's camel-cased
 * shapes. SQLite stores times as ISO text and JSON as text; PostgreSQL as
 * `timestamptz` (a Date) and `jsonb` (parsed): one mapping reads both.
 */
import { DeliveryRow, RunRow, StoredInvoice } from "./contract";

/** A `deliveries` row with its column names. */
export interface DeliveryColumns {
    id: number | string;
    billing_account_name: string;
    billing_profile_name: string;
    invoice_name: string;
    recipient: string;
    recipient_key: string;
    reasons: string | string[];
    message_id: string;
    state: string;
    attempts: number;
    lease_owner: string | null;
    lease_expires_at: number | string | Date | null;
    planned_at: string | Date;
    updated_at: string | Date;
    sent_at: string | Date | null;
    smtp_response: string | null;
    last_error: string | null;
}

/** A time as ISO 8601 text (UTC, milliseconds). */
export function isoOf(value: string | Date): string {
    return value instanceof Date ? value.toISOString() : value;
}

function msOf(value: number | string | Date | null): number | null {
    if (value === null) return null;
    if (value instanceof Date) return value.getTime();
    return Number(value);
}

function json<T>(value: string | T): T {
    return typeof value === "string" ? (JSON.parse(value) as T) : value;
}

export function toDeliveryRow(r: DeliveryColumns): DeliveryRow {
    return DeliveryRow.parse({
        id: Number(r.id),
        billingAccountName: r.billing_account_name,
        billingProfileName: r.billing_profile_name,
        invoiceName: r.invoice_name,
        recipient: r.recipient,
        recipientKey: r.recipient_key,
        reasons: json(r.reasons),
        messageId: r.message_id,
        state: r.state,
        attempts: r.attempts,
        leaseOwner: r.lease_owner,
        leaseExpiresAt: msOf(r.lease_expires_at),
        plannedAt: isoOf(r.planned_at),
        updatedAt: isoOf(r.updated_at),
        sentAt: r.sent_at === null ? null : isoOf(r.sent_at),
        smtpResponse: r.smtp_response,
        lastError: r.last_error,
    });
}

export function toStoredInvoice(r: { facts: unknown; unresolved: unknown; planned_at: string | Date; planned_by: string }): StoredInvoice {
    return StoredInvoice.parse({
        facts: json(r.facts),
        unresolved: json(r.unresolved),
        plannedAt: isoOf(r.planned_at),
        plannedBy: r.planned_by,
    });
}

export function toRunRow(r: { run_id: string; worker_id: string | null; host: string; pid: number; started_at: string | Date; finished_at: string | Date | null; summary: unknown }): RunRow {
    return RunRow.parse({
        runId: r.run_id,
        workerId: r.worker_id ?? `${r.host}/${r.pid}/${r.run_id}`,
        host: r.host,
        pid: r.pid,
        startedAt: isoOf(r.started_at),
        finishedAt: r.finished_at === null ? null : isoOf(r.finished_at),
        summary: r.summary === null ? null : json(r.summary),
    });
}

/** The order `deliveries()` lists in: by plan time, then names (case-insensitive) and recipient. */
export function byPlan(a: DeliveryRow, b: DeliveryRow): number {
    const key = (d: DeliveryRow) => [d.plannedAt, d.billingAccountName.toLowerCase(), d.billingProfileName.toLowerCase(), d.invoiceName.toLowerCase(), d.recipientKey].join("\n");
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
}
