/**
 * `ledger migrate`: copies a SQLite ledger into a PostgreSQL one, so a team
 * that moves off one host keeps its history. One transaction on the target;
 * rows already there (the same invoice, the same Message-ID, the same run)
 * are left alone, so a rerun changes nothing. Then every source row is read
 * back from the target and compared field by field (JSON values by content:
 * PostgreSQL's jsonb keeps keys in an order of its own).
 *
 * Run it while no reconciler writes to the source: a delivery claimed after
 * the copy would be missing from the target.
 */
import { isDeepStrictEqual } from "node:util";
import { profileKey } from "../facts";
import type { DeliveryRow } from "./contract";
import type { PostgresLedger } from "./postgres";
import type { SqliteLedger } from "./sqlite";

export interface MigrationReport {
    /** Rows in the source. */
    source: { invoices: number; deliveries: number; runs: number };
    /** Rows this run added to the target (0 each on a rerun). */
    added: { invoices: number; deliveries: number; runs: number };
    /** Source rows the target holds differently (empty when the copy is exact). */
    mismatches: string[];
}

const COMPARED: Array<keyof DeliveryRow> = [
    "id",
    "billingAccountName",
    "billingProfileName",
    "invoiceName",
    "recipient",
    "recipientKey",
    "reasons",
    "messageId",
    "state",
    "attempts",
    "leaseOwner",
    "leaseExpiresAt",
    "plannedAt",
    "updatedAt",
    "sentAt",
    "smtpResponse",
    "lastError",
];

/** Copies `source` into `target` and verifies the copy (see the module comment). */
export async function migrateLedger(source: SqliteLedger, target: PostgresLedger): Promise<MigrationReport> {
    const invoices = await source.allInvoices();
    const deliveries = await source.deliveries();
    const runs = await source.runs();
    const added = await target.importFrom({ invoices, deliveries, runs });
    const mismatches: string[] = [];
    const copied = new Map((await target.deliveries()).map((d) => [d.messageId, d]));
    for (const d of deliveries) {
        const t = copied.get(d.messageId);
        if (!t) {
            mismatches.push(`delivery ${d.id} (${d.invoiceName} to ${d.recipient}) is missing`);
            continue;
        }
        const differ = COMPARED.filter((k) => !isDeepStrictEqual(d[k], t[k]));
        if (differ.length > 0) mismatches.push(`delivery ${d.id} (${d.invoiceName} to ${d.recipient}) differs in ${differ.join(", ")}`);
    }
    for (const inv of invoices) {
        const t = await target.invoice(inv.ref, inv.invoiceName);
        if (!t) mismatches.push(`invoice ${profileKey(inv.ref)}/${inv.invoiceName} is missing`);
        else if (!isDeepStrictEqual(t, inv.stored)) mismatches.push(`invoice ${profileKey(inv.ref)}/${inv.invoiceName} differs`);
    }
    const targetRuns = new Map((await target.runs()).map((r) => [r.runId, r]));
    for (const r of runs) {
        const t = targetRuns.get(r.runId);
        if (!t) mismatches.push(`run ${r.runId} is missing`);
        else if (!isDeepStrictEqual(t, r)) mismatches.push(`run ${r.runId} differs`);
    }
    return { source: { invoices: invoices.length, deliveries: deliveries.length, runs: runs.length }, added, mismatches };
}
