/**
 * The reconciler's executor: the only part that does I/O (habit 5). One
 * pass ({@link reconcileOnce}) is level-based (controller-runtime's contract):
 * it reads the desired state from the billing API, stores the plan of every
 * new invoice in the ledger, then delivers every open delivery in scope. It
 * never branches on what changed since the last pass.
 *
 * Order of a pass, and why it is crash-safe:
 * 1. Read the profiles in scope; for each opted-in profile, list the invoices
 *    in the window; for the invoices without a plan, resolve the recipients
 *    (role definitions, role assignments, Graph) and store the plans, one
 *    transaction per profile. Nothing is sent before its plan is stored.
 * 2. For each invoice with open deliveries: download the PDF once, then for
 *    each delivery claim it (planned -> sending, one UPDATE), send it, and
 *    record the verdict (sent with the server's reply, failed for a 5xx,
 *    back to planned for a 4xx or a connection failure, retried with backoff
 *    within the pass). A process killed anywhere leaves each delivery
 *    planned (sent by the next pass), sending (its lease is taken over by the
 *    next pass once the holder is gone: the one case that can send twice,
 *    with the same Message-ID), or done.
 *
 * Failure contract: a broken profile (API error) or invoice (download error)
 * is reported in the summary and the others carry on; a configuration error
 * of SMTP (credentials, TLS, sender) stops the sending and leaves every
 * delivery planned. `stop` (SIGINT/SIGTERM) lets in-flight messages finish
 * and starts no new one.
 */
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import type { BillingClient } from "../billing/client";
import { parseBillingProfileId } from "../billing/paths";
import type { BillingProfile, GraphUser } from "../billing/schemas";
import { AzureApiError, ConfigurationError, MailDeliveryError, ValidationError, isRetryable } from "../errors";
import { sleep } from "../sleep";
import { leaseIsStale, leaseOwner, type DeliveryRow, type Ledger, type LeaseHolder } from "./ledger";
import type { MessageSender } from "./mailer";
import { buildMessage } from "./message";
import {
    DEFAULT_WINDOW_DAYS,
    invoiceWindow,
    isOptedIn,
    newInvoicesOf,
    planProfile,
    principalsToResolve,
    profileKey,
    resolveRecipients,
    type InvoiceWindow,
    type PlannedDelivery,
    type ProfileRef,
    type SkippedInvoice,
    type UnresolvedRecipient,
} from "./plan";

/** How a pass behaves. Every field has a default. */
export interface ReconcileOptions {
    /** The profiles to reconcile, or "all" the caller can read. Default "all". */
    scope?: ProfileRef[] | "all";
    /** First invoice date to consider (YYYY-MM-DD); default {@link DEFAULT_WINDOW_DAYS} days back. */
    since?: string;
    /** Print the plan, send nothing, write nothing. */
    dryRun?: boolean;
    /** Invoices worked on at once (each: one download, then its messages together). Default 8. */
    invoiceConcurrency?: number;
    /** Messages in SMTP transactions at once; match the SMTP pool size. Default 5. */
    sendConcurrency?: number;
    /** Attempts per delivery within a pass for 4xx/connection failures. Default 4. */
    maxAttempts?: number;
    /** First backoff delay; doubled each round, capped by `maxRetryDelayMs`. Default 1000. */
    retryDelayMs?: number;
    maxRetryDelayMs?: number;
    /** How long a claim is valid without a verdict. Default 15 minutes (longer than nodemailer's timeouts allow a transaction). */
    leaseMs?: number;
    /** Parallel Graph lookups. Default 8. */
    graphConcurrency?: number;
    /** Consecutive connection-level failures after which the pass stops sending (the server is down). Default 20. */
    connectionFailureLimit?: number;
}

/** What a pass works with. The CLI builds these from flags and environment. */
export interface ReconcileDeps {
    client: BillingClient;
    /** The ledger; optional only in a dry run (then an existing ledger, if any, is only read). */
    ledger?: Ledger;
    /** The SMTP sender; optional only in a dry run. */
    sender?: MessageSender;
    /** The `From` header; required unless dry run. */
    from?: string;
    /** Clock, ms. Default Date.now. */
    now?: () => number;
    /** Graceful stop: no new message starts once aborted. */
    signal?: AbortSignal;
    /** Progress events. */
    onEvent?: (event: RunEvent) => void;
    /** Run id; default a fresh random one. */
    runId?: string;
}

/** Progress, as it happens. */
export type RunEvent =
    | { type: "scope"; profiles: number }
    | { type: "profile"; profile: ProfileSummary }
    | { type: "deliveries"; invoices: number; deliveries: number }
    | { type: "delivery"; outcome: "sent" | "failed" | "retry" | "pending" | "skipped"; delivery: Pick<DeliveryRow, "billingAccountName" | "billingProfileName" | "invoiceName" | "recipient" | "messageId" | "attempts">; detail: string }
    | { type: "invoiceError"; billingAccountName: string; billingProfileName: string; invoiceName: string; message: string }
    | { type: "invoiceDone"; billingAccountName: string; billingProfileName: string; invoiceName: string }
    | { type: "error"; message: string };

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
    /** Open (planned or sending) after the pass. */
    pending: number;
    cancelled: number;
    unresolved: UnresolvedRecipient[];
    /** Invoices Azure listed that cannot be planned (no valid date, or a name not of Azure's form): reported, never sent. */
    skippedInvoices: SkippedInvoice[];
    errors: string[];
}

/** A delivery as a dry run prints it (`--dry-run --json`). */
export interface DryRunDelivery {
    billingAccountName: string;
    billingProfileName: string;
    invoiceName: string;
    recipient: string;
}

/** The outcome of a pass. */
export interface RunSummary {
    runId: string;
    dryRun: boolean;
    window: InvoiceWindow;
    startedAt: string;
    finishedAt: string;
    profiles: ProfileSummary[];
    /** Errors not tied to one profile (listing accounts, SMTP configuration). */
    errors: string[];
    totals: { planned: number; sent: number; failed: number; pending: number; cancelled: number; unresolved: number };
    /** Dry run only: the deliveries a real pass would send now. */
    plannedDeliveries: DryRunDelivery[];
    /** True when a stop request ended the pass early. */
    stopped: boolean;
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
    if (err instanceof AzureApiError || err instanceof ValidationError || err instanceof ConfigurationError || err instanceof MailDeliveryError) return err.message;
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** A fresh run id: sortable by time, unique enough across processes. */
export function newRunId(now = Date.now()): string {
    return `${new Date(now).toISOString().replace(/[-:.]/g, "").replace("T", "-").slice(0, 15)}-${randomBytes(4).toString("hex")}`;
}

/** A counting semaphore (FIFO). */
class Semaphore {
    private readonly waiting: Array<() => void> = [];
    constructor(private free: number) {}
    acquire(): Promise<void> {
        if (this.free > 0) {
            this.free--;
            return Promise.resolve();
        }
        return new Promise((resolve) => this.waiting.push(resolve));
    }
    release(): void {
        const next = this.waiting.shift();
        if (next) next();
        else this.free++;
    }
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

/** The names of a profile as Azure spells them (from its id), falling back to what was asked. */
function refOf(profile: BillingProfile, fallback?: ProfileRef): ProfileRef {
    return parseBillingProfileId(profile.id) ?? { billingAccountName: fallback?.billingAccountName ?? "", billingProfileName: profile.name };
}

function emptySummary(ref: ProfileRef, displayName: string | null, optedIn: boolean | null): ProfileSummary {
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
        errors: [],
    };
}

interface ScopedProfile {
    ref: ProfileRef;
    profile: BillingProfile;
    summary: ProfileSummary;
}

/**
 * One reconcile pass (see the module comment). Returns the summary; throws
 * only for programming errors and a missing ledger/sender outside a dry run.
 */
export async function reconcileOnce(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<RunSummary> {
    const dryRun = options.dryRun === true;
    if (!dryRun && (!deps.ledger || !deps.sender || !deps.from)) throw new Error("reconcileOnce: a ledger, a sender and a From address are required unless dryRun");
    const now = deps.now ?? Date.now;
    const emit = deps.onEvent ?? (() => undefined);
    const runId = deps.runId ?? newRunId(now());
    const startedAt = new Date(now()).toISOString();
    const window = invoiceWindow(new Date(now()), options.since, DEFAULT_WINDOW_DAYS);
    const holder: LeaseHolder = { owner: leaseOwner(runId), leaseMs: options.leaseMs ?? 15 * 60 * 1000 };
    const me = { host: os.hostname(), pid: process.pid };
    const errors: string[] = [];
    const plannedDeliveries: DryRunDelivery[] = [];
    const ledger = deps.ledger;
    if (ledger && !dryRun) ledger.startRun(runId, now());

    // -- 1. Scope --------------------------------------------------------------
    const scoped: ScopedProfile[] = [];
    const unreadable: ProfileSummary[] = [];
    const seen = new Set<string>();
    const addProfile = (profile: BillingProfile, fallback?: ProfileRef) => {
        const ref = refOf(profile, fallback);
        const k = profileKey(ref);
        if (seen.has(k)) return;
        seen.add(k);
        scoped.push({ ref, profile, summary: emptySummary(ref, profile.properties.displayName ?? null, isOptedIn(profile)) });
    };
    const scope = options.scope ?? "all";
    if (scope === "all") {
        try {
            const accounts = await deps.client.listBillingAccounts();
            for (const account of accounts) {
                if (deps.signal?.aborted) break;
                try {
                    const profiles = await deps.client.listBillingProfiles(account.name);
                    for (const p of profiles) {
                        // Listed but not readable (e.g. a role on another profile of the account only).
                        if (p.properties.hasReadAccess === false) continue;
                        addProfile(p, { billingAccountName: account.name, billingProfileName: p.name });
                    }
                } catch (err) {
                    errors.push(`billing account ${account.name}: cannot list its billing profiles: ${describeError(err)}`);
                }
            }
        } catch (err) {
            errors.push(`cannot list billing accounts: ${describeError(err)}`);
        }
    } else {
        for (const ref of scope) {
            if (deps.signal?.aborted) break;
            try {
                addProfile(await deps.client.getBillingProfile(ref), ref);
            } catch (err) {
                const s = emptySummary(ref, null, null);
                s.errors.push(`cannot read the billing profile: ${describeError(err)}`);
                unreadable.push(s);
            }
        }
    }
    emit({ type: "scope", profiles: scoped.length + unreadable.length });
    for (const s of unreadable) emit({ type: "profile", profile: s });

    // -- 2. Plan -------------------------------------------------------------
    const graphCache = new Map<string, Promise<GraphUser | null>>();
    const lookup = (id: string) => {
        let p = graphCache.get(id);
        if (!p) {
            p = deps.client.tryGetGraphUser(id).then((u) => u ?? null);
            // A failed lookup is not cached: the next profile may try again.
            p.catch(() => graphCache.delete(id));
            graphCache.set(id, p);
        }
        return p;
    };
    for (const sp of scoped) {
        if (deps.signal?.aborted) break;
        const { ref, profile, summary } = sp;
        try {
            if (!isOptedIn(profile)) {
                if (ledger && !dryRun) summary.cancelled = ledger.cancelPlanned(ref, "the billing profile is no longer opted in to email invoices", now());
                emit({ type: "profile", profile: summary });
                continue;
            }
            const invoices = await deps.client.listInvoices(ref, { periodStartDate: window.start, periodEndDate: window.end });
            const alreadyPlanned = ledger ? ledger.plannedInvoiceNames(ref) : new Set<string>();
            const { inWindow, fresh, skipped } = newInvoicesOf({ profile, ref, invoices, window, alreadyPlanned });
            summary.invoicesInWindow = inWindow.length;
            summary.skippedInvoices = skipped;
            let recipients: ReturnType<typeof resolveRecipients> | undefined;
            if (fresh.length > 0) {
                // Recipients matter only for new invoices: a pass with nothing new makes no role or Graph calls.
                const [roleDefinitions, roleAssignments] = await Promise.all([deps.client.listRoleDefinitions(ref), deps.client.listRoleAssignments(ref)]);
                const ids = principalsToResolve(roleDefinitions, roleAssignments);
                const found = await mapLimit(ids, options.graphConcurrency ?? 8, lookup);
                const users = new Map(ids.map((id, i) => [id, found[i]] as const));
                recipients = resolveRecipients({ roleDefinitions, roleAssignments, users, invoiceRecipients: profile.properties.invoiceRecipients ?? [] });
                summary.recipients = recipients.recipients.length;
                summary.unresolved = recipients.unresolved;
            }
            const plan = planProfile({ profile, ref, invoices, window, alreadyPlanned, recipients });
            if (dryRun) {
                summary.newInvoices = plan.plans.length;
                for (const p of plan.plans) for (const d of p.deliveries) plannedDeliveries.push(dryRunItem(d));
                summary.planned = plan.plans.reduce((n, p) => n + p.deliveries.length, 0);
                for (const row of ledger?.openDeliveries(ref) ?? []) plannedDeliveries.push(dryRunItem(row));
            } else if (ledger) {
                const stored = ledger.recordPlans(plan.plans, runId, now());
                summary.newInvoices = stored.invoices;
                summary.planned = stored.deliveries;
            }
        } catch (err) {
            summary.errors.push(describeError(err));
        }
        emit({ type: "profile", profile: summary });
    }

    // -- 3. Deliver ------------------------------------------------------------
    let stoppedBy: string | undefined;
    if (!dryRun && ledger && deps.sender && deps.from) {
        const sender = deps.sender;
        const from = deps.from;
        const groups: Array<{ sp: ScopedProfile; invoiceName: string; rows: DeliveryRow[] }> = [];
        for (const sp of scoped) {
            if (sp.summary.optedIn !== true) continue;
            const byInvoice = new Map<string, DeliveryRow[]>();
            for (const row of ledger.openDeliveries(sp.ref)) {
                const k = row.invoiceName.toLowerCase();
                const list = byInvoice.get(k) ?? [];
                list.push(row);
                byInvoice.set(k, list);
            }
            for (const rows of byInvoice.values()) groups.push({ sp, invoiceName: rows[0].invoiceName, rows });
        }
        emit({ type: "deliveries", invoices: groups.length, deliveries: groups.reduce((n, g) => n + g.rows.length, 0) });

        const isStale = (lease: { owner: string | null; expiresAt: number | null }) => leaseIsStale(lease, now(), me);
        const stopping = () => deps.signal?.aborted === true || stoppedBy !== undefined;
        let connectionFailures = 0;
        const connectionLimit = options.connectionFailureLimit ?? 20;
        const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
        // At most this many messages are handed to SMTP at once, so "sending" in the ledger means
        // "in an SMTP transaction (or about to be)", and a stop request leaves the rest planned.
        const slots = new Semaphore(Math.max(1, options.sendConcurrency ?? 5));
        const baseDelay = options.retryDelayMs ?? 1000;
        const maxDelay = options.maxRetryDelayMs ?? 30_000;

        const deliverInvoice = async (group: (typeof groups)[number]) => {
            const { sp } = group;
            const claimable = group.rows.filter((r) => r.state === "planned" || isStale({ owner: r.leaseOwner, expiresAt: r.leaseExpiresAt }));
            if (claimable.length === 0 || stopping()) return;
            const stored = ledger.invoice(sp.ref, group.invoiceName);
            if (!stored) return;
            let pdf: Buffer;
            try {
                // The client checks the bytes are a PDF (AzureApiError InvalidDocument otherwise).
                const { billingAccountName, invoiceName, documentName } = stored.facts;
                pdf = (await deps.client.downloadInvoicePdf({ billingAccountName, invoiceName, documentName: documentName ?? undefined })).bytes;
            } catch (err) {
                const message = `cannot download the PDF of invoice ${group.invoiceName}: ${describeError(err)}`;
                for (const r of claimable) ledger.noteError(r.id, message, now());
                sp.summary.errors.push(message);
                emit({ type: "invoiceError", billingAccountName: sp.ref.billingAccountName, billingProfileName: sp.ref.billingProfileName, invoiceName: group.invoiceName, message });
                return;
            }
            let rows = claimable;
            const attempts = new Map<number, number>();
            const report = (row: DeliveryRow, outcome: "sent" | "failed" | "retry" | "pending", detail: string) =>
                emit({ type: "delivery", outcome, delivery: { ...row, attempts: attempts.get(row.id) ?? row.attempts }, detail });
            for (let round = 1; rows.length > 0; round++) {
                const retry: DeliveryRow[] = [];
                // The recipients of one invoice go out together; the semaphore bounds the transactions.
                // allSettled: every message in flight is recorded before anything else happens.
                const settled = await Promise.allSettled(
                    rows.map(async (row) => {
                        await slots.acquire();
                        try {
                            if (stopping()) return;
                            if (!ledger.claim(row.id, holder, now(), isStale)) return;
                            attempts.set(row.id, (attempts.get(row.id) ?? row.attempts) + 1);
                            const message = buildMessage({ invoice: stored.facts, to: row.recipient, from, messageId: row.messageId, pdf });
                            try {
                                const info = await sender.send(message);
                                ledger.markSent(row.id, info.response, now());
                                connectionFailures = 0;
                                sp.summary.sent++;
                                report(row, "sent", info.response);
                            } catch (err) {
                                if (!(err instanceof MailDeliveryError)) {
                                    // Configuration (credentials, TLS, sender) or unknown: every message would fail alike.
                                    ledger.release(row.id, holder, describeError(err), now());
                                    stoppedBy ??= describeError(err);
                                } else if (isRetryable(err)) {
                                    ledger.release(row.id, holder, err.message, now());
                                    retry.push(row);
                                    if (err.responseCode === undefined && ++connectionFailures >= connectionLimit) {
                                        stoppedBy = `stopped sending after ${connectionFailures} connection failures in a row: ${err.message}`;
                                    }
                                    report(row, "retry", err.message);
                                } else {
                                    ledger.markFailed(row.id, holder, err.message, now());
                                    sp.summary.failed++;
                                    report(row, "failed", err.message);
                                }
                            }
                        } finally {
                            slots.release();
                        }
                    }),
                );
                const broken = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
                if (broken) throw broken.reason;
                if (retry.length === 0 || stopping()) return;
                if (round >= maxAttempts) {
                    for (const row of retry) report(row, "pending", `still failing after ${round} attempts in this run; left planned for the next run`);
                    return;
                }
                await sleep(Math.min(maxDelay, baseDelay * 2 ** (round - 1)), deps.signal);
                rows = retry;
            }
        };
        await mapLimit(groups, options.invoiceConcurrency ?? 8, async (g) => {
            try {
                await deliverInvoice(g);
            } catch (err) {
                // A ledger or programming error for one invoice: report it, keep the others going.
                g.sp.summary.errors.push(`invoice ${g.invoiceName}: ${describeError(err)}`);
            }
            emit({ type: "invoiceDone", billingAccountName: g.sp.ref.billingAccountName, billingProfileName: g.sp.ref.billingProfileName, invoiceName: g.invoiceName });
        });
        ledger.releaseAll(holder, now());
        if (stoppedBy) errors.push(stoppedBy);
    }

    // -- 4. Summary -----------------------------------------------------------------
    const profiles = [...scoped.map((s) => s.summary), ...unreadable];
    if (ledger && !dryRun) {
        for (const s of profiles) {
            if (s.optedIn === null) continue;
            // Pending: planned, or taken by a process that is gone. A delivery another live
            // reconciler is sending right now is that reconciler's to report.
            const open = ledger.openDeliveries({ billingAccountName: s.billingAccountName, billingProfileName: s.billingProfileName });
            s.pending = open.filter((r) => r.state === "planned" || leaseIsStale({ owner: r.leaseOwner, expiresAt: r.leaseExpiresAt }, now(), me)).length;
        }
    }
    const totals = { planned: 0, sent: 0, failed: 0, pending: 0, cancelled: 0, unresolved: 0 };
    for (const s of profiles) {
        totals.planned += s.planned;
        totals.sent += s.sent;
        totals.failed += s.failed;
        totals.pending += s.pending;
        totals.cancelled += s.cancelled;
        totals.unresolved += s.unresolved.length;
    }
    const summary: RunSummary = {
        runId,
        dryRun,
        window,
        startedAt,
        finishedAt: new Date(now()).toISOString(),
        profiles,
        errors,
        totals,
        plannedDeliveries: dryRun ? plannedDeliveries : [],
        stopped: deps.signal?.aborted === true,
    };
    if (ledger && !dryRun) ledger.finishRun(runId, now(), { totals, errors, stopped: summary.stopped });
    return summary;
}

function dryRunItem(d: Pick<PlannedDelivery, "billingAccountName" | "billingProfileName" | "invoiceName" | "recipient">): DryRunDelivery {
    return { billingAccountName: d.billingAccountName, billingProfileName: d.billingProfileName, invoiceName: d.invoiceName, recipient: d.recipient };
}

/**
 * Runs passes until stopped: one pass, then waits `intervalMs` (woken early
 * by the stop signal), and again. Returns the last pass's summary.
 */
export async function reconcileWatch(
    deps: ReconcileDeps,
    options: ReconcileOptions,
    intervalMs: number,
    onPass: (summary: RunSummary) => void,
): Promise<RunSummary> {
    for (;;) {
        const summary = await reconcileOnce({ ...deps, runId: undefined }, options);
        onPass(summary);
        if (deps.signal?.aborted) return summary;
        await sleep(intervalMs, deps.signal);
        if (deps.signal?.aborted) return summary;
    }
}
