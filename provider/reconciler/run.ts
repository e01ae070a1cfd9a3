/**
 * The reconciler's executor: a pass is a thin loop around
 * {@link reconcileProfile}, in four steps.
 *
 * 1. **Scope** (`scope.ts`): the billing profiles to reconcile, and how
 *    their invoices are listed.
 * 2. **Plan** and 3. **deliver**, per profile (`profile.ts`, `deliver.ts`):
 *    store the plan of every new invoice, then send every open delivery,
 *    a few profiles at once, sharing the worker's send slots.
 * 4. **Summary** (`summary.ts`): what is still pending, per profile, as the
 *    ledger says; the run's record in the ledger.
 *
 * The executor does I/O only through the billing client, the message sender
 * and the ledger contract; what to send is decided by the pure planner.
 *
 * Failure contract: a broken profile (API error) or invoice (download error)
 * is reported in the summary and the others carry on; a configuration error
 * of SMTP (credentials, TLS, sender) stops the sending and leaves every
 * delivery planned; a lost ledger stops the claiming, lets the messages in
 * flight finish and reports those it could not record. `stop` (SIGINT or
 * SIGTERM) lets in-flight messages finish and starts no new one.
 */
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import type { BillingClient } from "../billing/client";
import type { BillingProfileRef } from "../billing/names";
import type { GraphUser } from "../billing/schemas";
import { profileKey } from "./facts";
import { AcceptedUnrecorded, Deliverer, type DeliverEvent } from "./deliver";
import type { Ledger, Worker } from "./ledger/contract";
import type { MessageSender } from "./mailer";
import { LedgerGuard } from "./outage";
import { DEFAULT_WINDOW_DAYS, invoiceWindow } from "./plan";
import { mapLimit, reconcileProfile, type PassContext } from "./profile";
import { resolveScope } from "./scope";
import { Routing } from "./routing";
import type { AzureCloud, MessageSettings } from "./message";
import { sleep } from "../sleep";
import { describeError, totalsOf, type DryRunDelivery, type ProfileSummary, type RunSummary } from "./summary";

export { exitCodeOf, describeError, type ProfileSummary, type RunSummary, type DryRunDelivery } from "./summary";
export { AcceptedUnrecorded } from "./deliver";

/** The default lease: longer than nodemailer's timeouts let one SMTP transaction last, and extended while it does. */
export const DEFAULT_LEASE_MS = 15 * 60 * 1000;

/** How a pass behaves. Every field has a default. */
export interface ReconcileOptions {
    /** The profiles to reconcile, or "all" the caller can read. Default "all". */
    scope?: BillingProfileRef[] | "all";
    /** First invoice date to consider (YYYY-MM-DD); default {@link DEFAULT_WINDOW_DAYS} days back. */
    since?: string;
    /** Print the plan, send nothing, write nothing. */
    dryRun?: boolean;
    /** Profiles planned and delivered at once (they share the send slots). Default 4. */
    profileConcurrency?: number;
    /** Messages between claim and recorded verdict at once; match the SMTP pool size. Default 5. */
    sendConcurrency?: number;
    /** Attempts per delivery within a pass for 4xx/connection failures. Default 4. */
    maxAttempts?: number;
    /** First backoff delay; doubled each round, capped by `maxRetryDelayMs`. Default 1000. */
    retryDelayMs?: number;
    maxRetryDelayMs?: number;
    /** How long a claim is valid without being extended. Default {@link DEFAULT_LEASE_MS}. */
    leaseMs?: number;
    /** How long a ledger call keeps retrying through an outage before the pass gives the ledger up. Default 2 minutes. */
    ledgerOutageMs?: number;
    /** Parallel Graph lookups. Default 8. */
    graphConcurrency?: number;
    /** Consecutive connection-level failures after which the pass stops sending (the server is down). Default 20. */
    connectionFailureLimit?: number;
    /**
     * Each profile's routing (recipients policy, extra recipients, excludes,
     * locale, From, Reply-To). Default: Azure's rule, English, `deps.from`.
     */
    routing?: Routing;
}

/** What a pass works with. The CLI builds these from flags and environment. */
export interface ReconcileDeps {
    client: BillingClient;
    /** The ledger; optional only in a dry run (then an existing ledger, if any, is only read). */
    ledger?: Ledger;
    /** The SMTP sender; optional only in a dry run. */
    sender?: MessageSender;
    /** The `From` header of profiles whose routing names none; required unless dry run or the routing names one for every profile. */
    from?: string;
    /** The Azure cloud the billing API is in, for the portal link in each message; none for the emulator or an unknown endpoint. */
    cloud?: AzureCloud;
    /** Clock for the window, ms. Default Date.now. (Leases are timed by the ledger's own clock.) */
    now?: () => number;
    /** Graceful stop: no new message starts once aborted. */
    signal?: AbortSignal;
    /** Progress events. */
    onEvent?: (event: RunEvent) => void;
    /** Run id; default a fresh random one. */
    runId?: string;
    /** The worker's identity (lease owner, logs); default `host/pid/run`. */
    workerId?: string;
    /** Filled with accepted messages the ledger has not recorded yet, for a process that must exit early. */
    unrecorded?: AcceptedUnrecorded;
}

/** Progress, as it happens. */
export type RunEvent =
    | { type: "scope"; profiles: number }
    | { type: "profile"; profile: ProfileSummary }
    | { type: "error"; message: string }
    | DeliverEvent;

/** How a profile's messages are written: its routing, with the sender the pass was given when the routing names none. */
function messageSettingsOf(routing: Routing, ref: BillingProfileRef, from: string | undefined, cloud: AzureCloud | undefined): MessageSettings {
    const r = routing.forProfile(ref);
    const sender = r.from ?? from;
    // The CLI refuses to start without a sender for every profile; a caller that did not check gets this per delivery.
    if (!sender) throw new Error(`no From address for billing profile ${ref.billingAccountName}/${ref.billingProfileName}: pass --from, set "from" in the config, or set INVOICE_MAIL_FROM`);
    return { from: sender, replyTo: r.replyTo, locale: r.locale, cloud };
}

/** Routing entries for profiles this pass does not reconcile: a likely typo, so a warning. */
function unroutedEntries(routing: Routing, targets: readonly BillingProfileRef[], unreadable: readonly BillingProfileRef[]): string[] {
    const inScope = new Set([...targets, ...unreadable].map(profileKey));
    return routing
        .profiles()
        .filter((ref) => !inScope.has(profileKey(ref)))
        .map((ref) => `the routing entry for ${ref.billingAccountName}/${ref.billingProfileName} matches no billing profile in scope, so it was not used`);
}

/** A fresh run id: sortable by time, unique enough across processes. */
export function newRunId(now = Date.now()): string {
    return `${new Date(now).toISOString().replace(/[-:.]/g, "").replace("T", "-").slice(0, 15)}-${randomBytes(4).toString("hex")}`;
}

/** The default worker id: this host, this process and this run. */
export function defaultWorkerId(runId: string, host = os.hostname(), pid = process.pid): string {
    return `${host}/${pid}/${runId}`;
}

/**
 * One reconcile pass (see the module comment). Returns the summary; throws
 * only for programming errors and a missing ledger/sender outside a dry run.
 */
export async function reconcileOnce(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<RunSummary> {
    const dryRun = options.dryRun === true;
    if (!dryRun && (!deps.ledger || !deps.sender)) throw new Error("reconcileOnce: a ledger and a sender are required unless dryRun");
    const routing = options.routing ?? new Routing({ fromFlag: deps.from });
    const now = deps.now ?? Date.now;
    const emit = deps.onEvent ?? (() => undefined);
    const runId = deps.runId ?? newRunId(now());
    const worker: Worker = {
        id: deps.workerId ?? defaultWorkerId(runId),
        host: os.hostname(),
        pid: process.pid,
        leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    };
    const startedAt = new Date(now()).toISOString();
    const window = invoiceWindow(new Date(now()), options.since, DEFAULT_WINDOW_DAYS);
    const errors: string[] = [];
    const plannedDeliveries: DryRunDelivery[] = [];
    const ledger = deps.ledger;
    const guard = new LedgerGuard({ outageMs: options.ledgerOutageMs ?? 120_000, onEvent: emit });
    const writing = ledger !== undefined && !dryRun;
    let started = false;
    if (writing) {
        try {
            await guard.call(() => ledger.startRun(runId, worker));
            started = true;
        } catch (err) {
            errors.push(describeError(err));
        }
    }

    // -- 1. Scope --------------------------------------------------------------
    const scope = started || !writing ? await resolveScope(deps.client, options.scope ?? "all", deps.signal) : { targets: [], unreadable: [], errors: [] };
    for (const e of scope.errors) errors.push(e);
    emit({ type: "scope", profiles: scope.targets.length + scope.unreadable.length });
    const warnings = unroutedEntries(routing, scope.targets.map((t) => t.ref), scope.unreadable);
    for (const s of scope.unreadable) emit({ type: "profile", profile: s });

    // -- 2 and 3. Plan and deliver, profile by profile --------------------------
    const graphCache = new Map<string, Promise<GraphUser | null>>();
    const lookupUser = (id: string) => {
        let p = graphCache.get(id);
        if (!p) {
            p = deps.client.tryGetGraphUser(id).then((u) => u ?? null);
            // A failed lookup is not cached: the next profile may try again.
            p.catch(() => graphCache.delete(id));
            graphCache.set(id, p);
        }
        return p;
    };
    const deliverer =
        writing && deps.sender
            ? new Deliverer(
                  {
                      client: deps.client,
                      ledger,
                      guard,
                      sender: deps.sender,
                      messageSettings: (ref) => messageSettingsOf(routing, ref, deps.from, deps.cloud),
                      worker,
                      signal: deps.signal,
                      emit,
                      unrecorded: deps.unrecorded ?? new AcceptedUnrecorded(),
                  },
                  {
                      sendConcurrency: Math.max(1, options.sendConcurrency ?? 5),
                      maxAttempts: Math.max(1, options.maxAttempts ?? 4),
                      retryDelayMs: options.retryDelayMs ?? 1000,
                      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
                      connectionFailureLimit: options.connectionFailureLimit ?? 20,
                  },
              )
            : undefined;
    const ctx: PassContext = {
        client: deps.client,
        ledger,
        guard,
        routing,
        dryRun,
        window,
        runId,
        lookupUser,
        graphConcurrency: options.graphConcurrency ?? 8,
        deliverer,
        plannedDeliveries,
        emitProfile: (profile) => emit({ type: "profile", profile }),
    };
    deliverer?.start();
    try {
        await mapLimit(scope.targets, options.profileConcurrency ?? 4, async (target) => {
            if (deps.signal?.aborted) return;
            await reconcileProfile(ctx, target);
        });
    } finally {
        deliverer?.stop();
    }
    if (deliverer?.stoppedBy) errors.push(deliverer.stoppedBy);

    // -- 4. Summary -------------------------------------------------------------
    const profiles = [...scope.targets.map((t) => t.summary), ...scope.unreadable];
    if (writing && ledger && !guard.lost) {
        try {
            const refs = profiles.filter((s) => s.optedIn !== null);
            const pending = await guard.call(() => ledger.pending(refs, worker));
            for (const s of refs) s.pending = pending.get(profileKey(s))?.pending ?? 0;
        } catch (err) {
            errors.push(`cannot count what is still pending: ${describeError(err)}`);
        }
    }
    if (guard.lost) errors.push(`the ledger was lost during the pass: ${guard.lost.message}`);
    const totals = totalsOf(profiles);
    const summary: RunSummary = {
        runId,
        workerId: worker.id,
        dryRun,
        window,
        startedAt,
        finishedAt: new Date(now()).toISOString(),
        profiles,
        errors,
        warnings,
        totals,
        plannedDeliveries: dryRun ? plannedDeliveries : [],
        stopped: deps.signal?.aborted === true,
    };
    if (started && ledger && !guard.lost) {
        try {
            await guard.call(() => ledger.finishRun(runId, { totals, errors, stopped: summary.stopped }));
        } catch (err) {
            summary.errors.push(`cannot record the end of the run: ${describeError(err)}`);
        }
    }
    return summary;
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
        const summary = await reconcileOnce({ ...deps, runId: undefined, workerId: deps.workerId }, options);
        onPass(summary);
        if (deps.signal?.aborted) return summary;
        await sleep(intervalMs, deps.signal);
        if (deps.signal?.aborted) return summary;
    }
}
