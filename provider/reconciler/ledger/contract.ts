/**
 * The ledger contract: what the reconciler's executor may ask of the durable
 * record of who was sent what. Two backends implement it, SQLite (`sqlite.ts`,
 * one file on one host, the embedded default) and PostgreSQL (`postgres.ts`,
 * shared by many workers on many hosts); the executor knows only this file.
 *
 * States of a delivery (one invoice to one recipient):
 *
 *     planned --claim--> sending --250--> sent
 *        ^                  |  \--5xx--> failed
 *        +---4xx/conn-------+
 *     planned --opted out / `ledger cancel`--> cancelled
 *
 * Rules every backend keeps (the conformance suite in
 * tests/integration/reconciler/ledger.conformance.ts holds them):
 *
 * - **Plans are written once.** {@link Ledger.recordPlans} stores an invoice
 *   and its deliveries in one transaction; an invoice that already has a plan
 *   (any case of its names) is left as it is, so two planners agree on one.
 * - **Claims are exclusive and carry a fencing token.** {@link Ledger.claimNext}
 *   turns `planned` deliveries (and `sending` ones whose lease is stale) into
 *   `sending` held by one worker, in one statement, and adds one to
 *   `attempts`. That attempt number is the claim's token.
 * - **Verdicts are fenced.** {@link Ledger.record} writes `sent`, `failed` or
 *   `released` only while the delivery's `attempts` still equals the token:
 *   a worker whose lease was taken over records nothing over the newer
 *   attempt, and learns so (`fenced`). Writing the same verdict again (after a
 *   lost reply) is recognised as already recorded.
 * - **Leases expire by the ledger's clock.** On PostgreSQL, the database's
 *   `now()`; on SQLite (one host), this host's clock, and a holder on this
 *   host whose process is gone is stale at once.
 * - **Every method is one statement or one transaction**, so a process killed
 *   at any instant leaves the state before or after it.
 *
 * Failure contract: a method throws {@link LedgerError} when the ledger
 * cannot be read or written (`retryable` when a later attempt may succeed:
 * a dropped connection, a restarting server, a busy database) and
 * {@link ConfigurationError} when it is not a ledger this version can use.
 */
import { z } from "zod";
import type { BillingProfileRef } from "../../billing/names";
import { InvoiceFacts, UnresolvedRecipient, type InvoicePlan } from "../facts";

/** Every delivery state, in lifecycle order. The SQL CHECK, the zod enum and the counts are derived from this list. */
export const DELIVERY_STATES = ["planned", "sending", "sent", "failed", "cancelled"] as const;

/** A delivery state, as stored. */
export const DeliveryState = z.enum(DELIVERY_STATES);
export type DeliveryState = z.infer<typeof DeliveryState>;

/** The states of a delivery not yet done: to send, or being sent. */
export const OPEN_STATES = ["planned", "sending"] as const satisfies readonly DeliveryState[];

/** The states as an SQL list, `'planned', 'sending', ...`, for CHECK constraints and IN clauses. */
export function sqlStates(states: readonly DeliveryState[] = DELIVERY_STATES): string {
    return states.map((s) => `'${s}'`).join(", ");
}

/** Counts of deliveries by state. */
export type StateCounts = Record<DeliveryState, number>;

/** A count of zero for every state. */
export function zeroCounts(): StateCounts {
    return Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as StateCounts;
}

/** One delivery as stored (camel-cased). The shape `ledger --json` prints, the same on both backends. */
export const DeliveryRow = z.object({
    id: z.number(),
    billingAccountName: z.string(),
    billingProfileName: z.string(),
    invoiceName: z.string(),
    recipient: z.string(),
    recipientKey: z.string(),
    reasons: z.array(z.string()),
    messageId: z.string(),
    state: DeliveryState,
    /** How many times a worker claimed it; the current claim's fencing token. */
    attempts: z.number(),
    /** The worker holding a `sending` delivery. */
    leaseOwner: z.string().nullable(),
    /** When that lease expires (ms since the epoch, by the ledger's clock). */
    leaseExpiresAt: z.number().nullable(),
    plannedAt: z.string(),
    updatedAt: z.string(),
    sentAt: z.string().nullable(),
    smtpResponse: z.string().nullable(),
    lastError: z.string().nullable(),
});
export type DeliveryRow = z.infer<typeof DeliveryRow>;

/** One stored invoice plan. */
export const StoredInvoice = z.object({
    facts: InvoiceFacts,
    unresolved: z.array(UnresolvedRecipient),
    plannedAt: z.string(),
    /** The run that planned it. */
    plannedBy: z.string(),
});
export type StoredInvoice = z.infer<typeof StoredInvoice>;

/** One reconcile pass as the ledger keeps it. */
export const RunRow = z.object({
    runId: z.string(),
    workerId: z.string(),
    host: z.string(),
    pid: z.number(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    summary: z.unknown().nullable(),
});
export type RunRow = z.infer<typeof RunRow>;

/** A filter for {@link Ledger.deliveries} and {@link Ledger.cancel}. Names compare case-insensitively. */
export interface DeliveryFilter {
    profiles?: BillingProfileRef[];
    invoiceName?: string;
    states?: DeliveryState[];
    recipient?: string;
}

/**
 * The worker that claims: its identity goes into lease owners, its lease
 * length decides when another worker may take a silent claim over.
 */
export interface Worker {
    /** `--worker-id`, default `host/pid/run`. */
    id: string;
    /** This host's name and this process's id: on SQLite (one host), a claim whose process is gone is stale at once. */
    host: string;
    pid: number;
    /** How long a claim stays valid without being extended. */
    leaseMs: number;
}

/** A delivery claimed by a worker. `attempt` is the fencing token every verdict carries. */
export interface Claim {
    row: DeliveryRow;
    attempt: number;
}

/** What became of a claimed delivery. */
export type Verdict =
    | { claim: Claim; outcome: "sent"; smtpResponse: string }
    | { claim: Claim; outcome: "failed"; error: string }
    /** Back to `planned` (a temporary failure, or not attempted), keeping the reason. */
    | { claim: Claim; outcome: "released"; error: string | null };

/**
 * The result of one verdict: `recorded`, or `fenced` when the claim's
 * attempt is no longer the delivery's (another worker took it over, or it
 * was cancelled): nothing was written.
 */
export type VerdictResult = "recorded" | "fenced";

/** What {@link Ledger.claimNext} leaves alone. */
export interface ClaimExclusions {
    /** Delivery ids (backing off, or given up on in this pass). */
    ids?: readonly number[];
    /** Lower-cased invoice names (whose PDF cannot be had in this pass). */
    invoices?: readonly string[];
}

/** Open deliveries of one profile, as the summary counts them. */
export interface PendingCount {
    /** `planned`, or `sending` with a stale lease: what a pass would send now. */
    pending: number;
    /** The invoices of those. */
    invoices: number;
    /** `sending` under a live lease of another worker: that worker's to report. */
    heldByOthers: number;
}

/** Which backend a ledger is, and where, safe to print (no password). */
export interface LedgerIdentity {
    kind: "sqlite" | "postgres";
    /** A path, or a URL without its password. */
    location: string;
}

/** The ledger contract (see the module comment for the rules every method keeps). */
export interface Ledger extends LedgerIdentity {
    /** True when opened for reading only: every write throws. */
    readonly readOnly: boolean;

    // Runs
    startRun(runId: string, worker: Worker): Promise<void>;
    finishRun(runId: string, summary: unknown): Promise<void>;
    runs(): Promise<RunRow[]>;

    // Plans
    /** Lower-cased names of the invoices of a profile that already have a plan. */
    plannedInvoiceNames(ref: BillingProfileRef): Promise<Set<string>>;
    /**
     * Stores invoice plans in one transaction. An invoice that already has a
     * plan is left as it is, recipients included. Returns how many invoices
     * and deliveries were newly planned.
     */
    recordPlans(plans: readonly InvoicePlan[], runId: string): Promise<{ invoices: number; deliveries: number }>;
    /** The stored plan of an invoice. */
    invoice(ref: BillingProfileRef, invoiceName: string): Promise<StoredInvoice | undefined>;

    // Deliveries
    /** `planned` and `sending` deliveries of a profile, by invoice then recipient. */
    openDeliveries(ref: BillingProfileRef): Promise<DeliveryRow[]>;
    /**
     * Claims up to `limit` claimable deliveries of a profile (planned, or
     * sending with a stale lease), by invoice then recipient, skipping what
     * `exclude` names and rows another worker is claiming at this instant.
     * One statement or transaction; each claim's attempt is its fencing token.
     */
    claimNext(ref: BillingProfileRef, worker: Worker, limit: number, exclude?: ClaimExclusions): Promise<Claim[]>;
    /** Extends the leases of claims still held (token matching); returns the ids still held. One statement. */
    extendLeases(worker: Worker, claims: readonly Claim[]): Promise<Set<number>>;
    /** Records verdicts in one transaction, each fenced by its claim's attempt. Results in the order given. */
    record(verdicts: readonly Verdict[]): Promise<VerdictResult[]>;
    /** Cancels the `planned` deliveries of a profile that is no longer opted in. Returns how many. */
    cancelOptedOut(ref: BillingProfileRef, reason: string): Promise<number>;
    /**
     * Cancels the `planned` deliveries matching a filter (an operator's
     * `ledger cancel`), with the reason. Never touches sent, failed or
     * in-flight ones. Returns the deliveries cancelled.
     */
    cancel(filter: DeliveryFilter, reason: string): Promise<DeliveryRow[]>;
    /** Open deliveries per profile, keyed by {@link profileKey}; `worker` is who asks (its own claims are not "others"). */
    pending(refs: readonly BillingProfileRef[], worker: Worker): Promise<Map<string, PendingCount>>;
    /** Deliveries matching a filter, oldest plan first. */
    deliveries(filter?: DeliveryFilter): Promise<DeliveryRow[]>;
    /** One delivery by id. */
    delivery(id: number): Promise<DeliveryRow | undefined>;
    /** Counts by state, for some profiles or all. */
    counts(profiles?: readonly BillingProfileRef[]): Promise<StateCounts>;

    /** Closes the ledger; pending statements finish first. Idempotent. */
    close(): Promise<void>;
}
