/**
 * One billing profile, reconciled: the unit of planning and delivery, as
 * controller-runtime reconciles one key. Level-based: it reads what the
 * billing API says now, stores the plan of every invoice that has none, and
 * delivers every open delivery of the profile, never branching on what
 * changed since the last pass.
 *
 * Failure contract: an API error while planning is reported in the
 * profile's summary and its open deliveries are still delivered (they were
 * planned by an earlier pass); nothing is sent before its plan is stored.
 */
import type { BillingClient } from "../billing/client";
import type { GraphUser } from "../billing/schemas";
import type { Deliverer } from "./deliver";
import type { PlannedDelivery } from "./facts";
import type { Ledger } from "./ledger/contract";
import type { LedgerGuard } from "./outage";
import { isOptedIn, needsRoleHolders, newInvoicesOf, planProfile, principalsToResolve, resolveRecipients, type InvoiceWindow } from "./plan";
import type { Routing } from "./routing";
import type { ProfileTarget } from "./scope";
import { describeError, type DryRunDelivery, type ProfileSummary } from "./summary";

/** What every profile of a pass shares. */
export interface PassContext {
    client: BillingClient;
    /** Absent only in a dry run without a ledger yet. */
    ledger?: Ledger;
    guard: LedgerGuard;
    /** Each profile's routing: who besides or instead of Azure's rule is planned. */
    routing: Routing;
    dryRun: boolean;
    window: InvoiceWindow;
    runId: string;
    /** Graph users by principal id, looked up once per pass. */
    lookupUser: (id: string) => Promise<GraphUser | null>;
    graphConcurrency: number;
    /** Absent in a dry run. */
    deliverer?: Deliverer;
    /** Dry run: the deliveries a real pass would make, collected here. */
    plannedDeliveries: DryRunDelivery[];
    emitProfile: (summary: ProfileSummary) => void;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        for (;;) {
            const i = next++;
            if (i >= items.length) return;
            out[i] = await fn(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return out;
}

/** Plans one profile (storing the plans, or collecting them in a dry run). */
async function planOne(ctx: PassContext, target: ProfileTarget): Promise<void> {
    const { ref, profile, summary } = target;
    const ledger = ctx.ledger;
    if (!isOptedIn(profile)) {
        if (ledger && !ctx.dryRun) {
            summary.cancelled = await ctx.guard.call(() => ledger.cancelOptedOut(ref, "the billing profile is no longer opted in to email invoices"));
        }
        return;
    }
    const invoices = await target.listInvoices(ctx.window);
    const alreadyPlanned = ledger ? await ctx.guard.call(() => ledger.plannedInvoiceNames(ref)) : new Set<string>();
    const { inWindow, fresh, skipped } = newInvoicesOf({ profile, ref, invoices, window: ctx.window, alreadyPlanned });
    summary.invoicesInWindow = inWindow.length;
    summary.skippedInvoices = skipped;
    let recipients: ReturnType<typeof resolveRecipients> | undefined;
    if (fresh.length > 0) {
        // Recipients matter only for new invoices: a pass with nothing new makes no role or Graph calls,
        // and neither does a routing that takes no role holder.
        const routing = ctx.routing.recipientsOf(ref);
        const [roleDefinitions, roleAssignments] = needsRoleHolders(routing.policy)
            ? await Promise.all([ctx.client.listRoleDefinitions(ref), ctx.client.listRoleAssignments(ref)])
            : [[], []];
        const ids = principalsToResolve(roleDefinitions, roleAssignments);
        const found = await mapLimit(ids, ctx.graphConcurrency, ctx.lookupUser);
        const users = new Map(ids.map((id, i) => [id, found[i]] as const));
        recipients = resolveRecipients({ roleDefinitions, roleAssignments, users, invoiceRecipients: profile.properties.invoiceRecipients ?? [], routing });
        summary.recipients = recipients.recipients.length;
        summary.unresolved = recipients.unresolved;
        summary.excluded = recipients.excluded;
        for (const pattern of recipients.unusedExcludes) summary.warnings.push(`exclude '${pattern}' matched no recipient of the profile`);
    }
    const plan = planProfile({ profile, ref, invoices, window: ctx.window, alreadyPlanned, recipients });
    if (ctx.dryRun) {
        summary.newInvoices = plan.plans.length;
        summary.planned = plan.plans.reduce((n, p) => n + p.deliveries.length, 0);
        for (const p of plan.plans) for (const d of p.deliveries) ctx.plannedDeliveries.push(dryRunItem(d));
        for (const row of ledger ? await ledger.openDeliveries(ref) : []) ctx.plannedDeliveries.push(dryRunItem(row));
    } else if (ledger) {
        const stored = await ctx.guard.call(() => ledger.recordPlans(plan.plans, ctx.runId));
        summary.newInvoices = stored.invoices;
        summary.planned = stored.deliveries;
    }
}

/**
 * Reconciles one billing profile: plans it, reports the plan, then (unless
 * a dry run) delivers its open deliveries. Returns its summary, which the
 * deliver step keeps filling while it runs.
 */
export async function reconcileProfile(ctx: PassContext, target: ProfileTarget): Promise<ProfileSummary> {
    try {
        await planOne(ctx, target);
    } catch (err) {
        target.summary.errors.push(describeError(err));
    }
    ctx.emitProfile(target.summary);
    if (ctx.deliverer && target.summary.optedIn === true) await ctx.deliverer.deliverProfile(target);
    return target.summary;
}

function dryRunItem(d: Pick<PlannedDelivery, "billingAccountName" | "billingProfileName" | "invoiceName" | "recipient" | "reasons">): DryRunDelivery {
    return { billingAccountName: d.billingAccountName, billingProfileName: d.billingProfileName, invoiceName: d.invoiceName, recipient: d.recipient, reasons: [...d.reasons] };
}

export { mapLimit };
