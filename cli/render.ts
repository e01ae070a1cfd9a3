/**
 * What the reconciler's commands print as results: the summary of a pass,
 * the dry-run listing, and the lines that name one delivery or one
 * recipient who is not mailed.
 */
import type { DeliveryRef } from "../provider/reconciler/deliver";
import { profileLabel, type UnresolvedRecipient } from "../provider/reconciler/facts";
import type { RunSummary } from "../provider/reconciler/run";
import { ADDITIONAL_RECIPIENT_REASON, EXTRA_RECIPIENT_REASON, type SkippedInvoice } from "../provider/reconciler/plan";
import { renderTable, terminalSafe } from "./text";

/**
 * The line reporting a role holder (or listed address) who is not mailed, e.g.
 * `not mailed: Dana (1111…), Billing profile reader on ACCOUNT/PROFILE: the user has no mailbox`.
 */
export function describeUnresolved(u: UnresolvedRecipient, profile: string): string {
    const who = u.displayName && u.principalId ? `${u.displayName} (${u.principalId})` : (u.displayName ?? u.principalId ?? "?");
    return terminalSafe(`not mailed: ${who}, ${u.source} on ${profile}: ${u.reason}`);
}

/** The line reporting an invoice Azure listed that the planner left out, e.g. `skipped invoice X on ACCOUNT/PROFILE: the invoice date ... is not an ISO 8601 date`. */
export function describeSkipped(s: SkippedInvoice, profile: string): string {
    return terminalSafe(`skipped invoice ${s.invoiceName} on ${profile}: ${s.reason}`);
}

/**
 * Why a recipient gets an invoice, in words: `role Billing profile owner`,
 * `additional recipient` (the profile's `invoiceRecipients`), `extra recipient
 * from the config` (the routing's `extraRecipients`), joined by `; `.
 */
export function describeReasons(reasons: readonly string[]): string {
    return reasons
        .map((r) => (r === ADDITIONAL_RECIPIENT_REASON ? "additional recipient" : r === EXTRA_RECIPIENT_REASON ? "extra recipient from the config" : `role ${r}`))
        .join("; ");
}

/** The lines under a summary or dry-run listing: who is not mailed or excluded, skipped invoices, warnings, errors. Terminal-safe. */
function notes(s: RunSummary): string[] {
    const out: string[] = [];
    for (const p of s.profiles) {
        for (const u of p.unresolved) out.push(describeUnresolved(u, profileLabel(p)));
        for (const x of p.excluded ?? []) out.push(terminalSafe(`excluded by the routing: ${x.address} (${describeReasons(x.reasons)}) on ${profileLabel(p)}: matches exclude '${x.pattern}'`));
        for (const k of p.skippedInvoices ?? []) out.push(describeSkipped(k, profileLabel(p)));
        for (const w of p.warnings ?? []) out.push(terminalSafe(`warning: ${profileLabel(p)}: ${w}`));
        for (const e of p.errors) out.push(terminalSafe(`error: ${profileLabel(p)}: ${e}`));
    }
    for (const w of s.warnings ?? []) out.push(terminalSafe(`warning: ${w}`));
    for (const e of s.errors) out.push(terminalSafe(`error: ${e}`));
    return out;
}

/** The summary table and notes printed at the end of a pass. */
export function renderSummary(s: RunSummary, ledger: string | undefined): string {
    const rows = s.profiles.map((p) => [
        p.billingProfileName,
        p.displayName ?? "",
        p.optedIn === null ? "?" : p.optedIn ? "yes" : "no",
        String(p.invoicesInWindow),
        String(p.newInvoices),
        p.recipients === null ? "-" : String(p.recipients),
        String(p.planned),
        String(p.sent),
        String(p.failed),
        String(p.pending),
        String(p.unresolved.length),
    ]);
    const t = s.totals;
    rows.push(["total", "", "", "", "", "", String(t.planned), String(t.sent), String(t.failed), String(t.pending), String(t.unresolved)]);
    const out = [
        renderTable(["PROFILE", "NAME", "OPT-IN", "INVOICES", "NEW", "RECIPIENTS", "PLANNED", "SENT", "FAILED", "PENDING", "NOT MAILED"], rows, {
            rightAlign: [3, 4, 5, 6, 7, 8, 9, 10],
        }),
    ];
    out.push("");
    out.push(terminalSafe(`window: invoices dated ${s.window.start} to ${s.window.end}${ledger ? `; ledger: ${ledger}` : ""}; run ${s.runId}`));
    for (const n of notes(s)) out.push(n);
    if (s.stopped) out.push("stopped by a signal: deliveries not started are left planned for the next run");
    return out.join("\n") + "\n";
}

/** The dry-run listing. */
export function renderDryRun(s: RunSummary): string {
    const items = s.plannedDeliveries;
    const lines = [`dry run: ${items.length} deliveries would be sent (invoices dated ${s.window.start} to ${s.window.end}); nothing was sent or written`];
    if (items.length > 0) {
        lines.push("");
        lines.push(renderTable(["PROFILE", "INVOICE", "RECIPIENT", "WHY"], items.map((d) => [profileLabel(d), d.invoiceName, d.recipient, describeReasons(d.reasons)])));
    }
    for (const n of notes(s)) lines.push(n);
    return lines.join("\n") + "\n";
}

/** A delivery as progress lines name it: `G100000001 to ap@contoso.com (Message-ID <...>)`. */
export function describeDelivery(d: DeliveryRef): string {
    return `${d.invoiceName} to ${d.recipient} (Message-ID ${d.messageId})`;
}

/**
 * The line for a message the SMTP server accepted and the ledger could not
 * record: a later pass sends it again, with the same Message-ID.
 */
export function describeUnrecorded(d: DeliveryRef, smtpResponse: string, error: string): string {
    return `accepted but not recorded: ${describeDelivery(d)}: the SMTP server said ${smtpResponse}; the ledger could not be written (${error}); a later pass sends it again with the same Message-ID`;
}
