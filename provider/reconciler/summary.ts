/**
 * What a pass reports: one {@link ProfileSummary} per billing profile in
 * scope, the totals, and the exit status they give.
 */
import type { BillingProfileRef } from "../billing/names";
import { AzureApiError, ConfigurationError, LedgerError, MailDeliveryError, ValidationError } from "../errors";
import type { UnresolvedRecipient } from "./facts";
import type { ExcludedRecipient, InvoiceWindow, SkippedInvoice } from "./plan";

/** One profile's outcome in a pass. */
export interface ProfileSummary {
    billingAccountName: string;
    billingProfileName: string;
    displayName: string | null;
    /** Null when the profile could not be read. */
    optedIn: boolean | null;
    invoicesInWindow: number;
    /** Invoices planned by this pass. */
    newInvoices: number;
    /** Recipients of the new invoices (null when none were planned). */
    recipients: number | null;
    /** Deliveries planned by this pass. */
    planned: number;
    sent: number;
    failed: number;
    /** Open after the pass: planned, or claimed by a worker that is gone. Deliveries another live worker is sending are that worker's to report. */
    pending: number;
    cancelled: number;
    unresolved: UnresolvedRecipient[];
    /** Invoices Azure listed that cannot be planned (no valid date, or a name not of Azure's form): reported, never sent. */
    skippedInvoices: SkippedInvoice[];
    /** Recipients of the new invoices the routing's `exclude` left out. */
    excluded: ExcludedRecipient[];
    /** Things worth a look that are not errors (an `exclude` that matched nobody). */
    warnings: string[];
    errors: string[];
}

/** A delivery as a dry run prints it (`--dry-run --json`). */
export interface DryRunDelivery {
    billingAccountName: string;
    billingProfileName: string;
    invoiceName: string;
    recipient: string;
    /** Why this recipient: role names, "invoiceRecipients" (an additional recipient), "extraRecipients" (the routing). */
    reasons: string[];
}

/** The counts of a pass, summed over its profiles. */
export interface RunTotals {
    planned: number;
    sent: number;
    failed: number;
    pending: number;
    cancelled: number;
    unresolved: number;
}

/** The outcome of a pass. */
export interface RunSummary {
    runId: string;
    /** Who ran it (`--worker-id`). */
    workerId?: string;
    dryRun: boolean;
    window: InvoiceWindow;
    startedAt: string;
    finishedAt: string;
    profiles: ProfileSummary[];
    /** Errors not tied to one profile (listing accounts, SMTP configuration, the ledger). */
    errors: string[];
    /** Warnings not tied to one profile (a routing entry for a profile not in scope). */
    warnings: string[];
    totals: RunTotals;
    /** Dry run only: the deliveries a real pass would send now. */
    plannedDeliveries: DryRunDelivery[];
    /** True when a stop request ended the pass early. */
    stopped: boolean;
}

export function emptyProfileSummary(ref: BillingProfileRef, displayName: string | null, optedIn: boolean | null): ProfileSummary {
    return {
        billingAccountName: ref.billingAccountName,
        billingProfileName: ref.billingProfileName,
        displayName,
        optedIn,
        invoicesInWindow: 0,
        newInvoices: 0,
        recipients: null,
        planned: 0,
        sent: 0,
        failed: 0,
        pending: 0,
        cancelled: 0,
        unresolved: [],
        skippedInvoices: [],
        excluded: [],
        warnings: [],
        errors: [],
    };
}

export function totalsOf(profiles: readonly ProfileSummary[]): RunTotals {
    const totals: RunTotals = { planned: 0, sent: 0, failed: 0, pending: 0, cancelled: 0, unresolved: 0 };
    for (const s of profiles) {
        totals.planned += s.planned;
        totals.sent += s.sent;
        totals.failed += s.failed;
        totals.pending += s.pending;
        totals.cancelled += s.cancelled;
        totals.unresolved += s.unresolved.length;
    }
    return totals;
}

/**
 * The exit status of a pass: 0 when nothing failed or stayed pending and no
 * profile broke; 1 otherwise. A dry run sends nothing, so only a broken
 * profile (or listing, or ledger) makes it 1.
 */
export function exitCodeOf(summary: RunSummary): number {
    const t = summary.totals;
    const broken = summary.errors.length > 0 || summary.profiles.some((p) => p.errors.length > 0);
    if (summary.dryRun) return broken ? 1 : 0;
    return t.failed > 0 || t.pending > 0 || broken ? 1 : 0;
}

/** A short message for an error of the catalogue (or anything else). */
export function describeError(err: unknown): string {
    if (
        err instanceof AzureApiError ||
        err instanceof ValidationError ||
        err instanceof ConfigurationError ||
        err instanceof MailDeliveryError ||
        err instanceof LedgerError
    ) {
        return err.message;
    }
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
