/**
 * The deliver step: sends the open deliveries of a profile and records each
 * verdict, through the ledger contract only.
 *
 * A **send slot** covers one message from the start of its SMTP
 * transaction to its recorded verdict. There are `sendConcurrency` send
 * slots per worker, shared by every profile of the pass, and a slot is given
 * back only once the verdict is committed. So at any instant at most
 * `sendConcurrency` messages of a worker are between "the SMTP server may
 * have it" and "the ledger says sent": that is the worker's whole duplicate
 * window. A **claim slot** covers a delivery from its claim (`planned` ->
 * `sending`) to its verdict; there are three times as many, so the next two
 * invoices' PDFs are downloaded and encoded while the current one's messages
 * are on the wire, and a send slot that frees finds its next message ready.
 * (With twice as many, one invoice ahead, a download answered late left the
 * send slots idle: at 20,000 deliveries the benchmark's reconciler waited
 * 3 to 6 s of a 50 s run with nothing to send, and about half that with
 * three times as many; four times as many did no better.) A claim
 * waiting for a send slot has not reached the SMTP server: a worker that
 * dies then leaves it to be taken over once its lease expires, never sent.
 * These rules keep the window:
 *
 * 1. Claims are made for free claim slots only (`claimNext(limit = free
 *    claim slots)`), in one statement, once `sendConcurrency` of them are
 *    free (so a claim is a batch, not one statement per message, while the
 *    claims still held keep every send slot busy); nothing more is claimed
 *    ahead, so a worker holds at most `3 x sendConcurrency` claims, and
 *    the PDFs and prepared messages of at most `sendConcurrency + 1`
 *    invoices (its load slots; the document size cap bounds each).
 * 2. Verdicts may be written together (whatever arrives while a write is in
 *    progress goes into the next transaction), but a message's send slot
 *    stays taken until its own verdict is committed. Batching verdicts never
 *    lets more messages be in flight; it only makes fewer transactions.
 * 3. While a claim is held, its lease is extended every third of the lease
 *    length, in one statement for all of them, so a slow SMTP transaction is
 *    not taken over by another worker.
 * 4. Every verdict carries the claim's attempt number (its fencing token).
 *    A worker whose claim was taken over (it was paused or cut off past its
 *    lease) records nothing over the newer attempt, and says so.
 * 5. If the ledger becomes unreachable, nothing new is claimed; the messages
 *    in flight finish, and their verdicts are kept and retried with backoff
 *    ({@link LedgerGuard}). A verdict of an accepted message that cannot be
 *    written at all is reported with its Message-ID (`unrecorded`), and
 *    {@link AcceptedUnrecorded} lists the ones still waiting, for a process
 *    that must exit first.
 */
import type { BillingClient } from "../billing/client";
import { MailDeliveryError, isRetryable } from "../errors";
import type { InvoiceFacts } from "./facts";
import type { Claim, DeliveryRow, Ledger, Verdict, VerdictResult, Worker } from "./ledger/contract";
import type { MessageSender } from "./mailer";
import type { BillingProfileRef } from "../billing/names";
import { invoiceMessage, type MessageSettings } from "./message";
import { prepareInvoice, rawFor, type PreparedInvoice } from "./message/encoded";
import type { LedgerGuard, OutageEvent } from "./outage";
import type { ProfileTarget } from "./scope";
import { sleep } from "../sleep";
import { describeError } from "./summary";

/** A delivery as events name it. */
export type DeliveryRef = Pick<DeliveryRow, "billingAccountName" | "billingProfileName" | "invoiceName" | "recipient" | "messageId" | "attempts">;

/** What happens while delivering, as it happens. */
export type DeliverEvent =
    | { type: "deliveries"; invoices: number; deliveries: number }
    | { type: "delivery"; outcome: "sent" | "failed" | "retry" | "pending"; delivery: DeliveryRef; detail: string }
    | { type: "invoiceError"; billingAccountName: string; billingProfileName: string; invoiceName: string; message: string }
    | { type: "invoiceDone"; billingAccountName: string; billingProfileName: string; invoiceName: string }
    /** This worker's claim was taken over by a newer attempt: nothing was recorded over it. */
    | { type: "fenced"; delivery: DeliveryRef; accepted: boolean; detail: string }
    /** The SMTP server accepted the message, and the ledger could not be told. */
    | { type: "unrecorded"; delivery: DeliveryRef; smtpResponse: string; error: string }
    | OutageEvent;

/** Claim slots per send slot: the current invoice's claims and two more invoices' (see the module comment). */
export const CLAIMS_PER_SEND_SLOT = 3;

/** How the deliver step behaves. */
export interface DeliverOptions {
    /** Send slots (match the SMTP pool size); claim slots are {@link CLAIMS_PER_SEND_SLOT} times as many. */
    sendConcurrency: number;
    /** Attempts per delivery within a pass for 4xx/connection failures. */
    maxAttempts: number;
    /** First backoff delay; doubled each attempt, capped by `maxRetryDelayMs`. */
    retryDelayMs: number;
    maxRetryDelayMs: number;
    /** Consecutive connection-level failures after which the pass stops sending (the server is down). */
    connectionFailureLimit: number;
}

/**
 * Accepted messages whose `sent` the ledger has not recorded yet. A process
 * that must exit before the ledger is back prints these (with their
 * Message-IDs): they are the ones a later pass would send again.
 */
export class AcceptedUnrecorded {
    private readonly byId = new Map<number, { delivery: DeliveryRef; smtpResponse: string }>();
    add(delivery: DeliveryRef & { id: number }, smtpResponse: string): void {
        this.byId.set(delivery.id, { delivery, smtpResponse });
    }
    delete(id: number): void {
        this.byId.delete(id);
    }
    list(): Array<{ delivery: DeliveryRef; smtpResponse: string }> {
        return [...this.byId.values()];
    }
}

/**
 * Free slots; {@link take} waits until at least `min` are free and takes up
 * to `max` of them. Waiters are served in order, so none is passed over by a
 * later one that asks for fewer.
 */
class Slots {
    private readonly waiting: Array<{ min: number; max: number; resolve: (n: number) => void }> = [];
    constructor(private free: number) {}
    take(max: number, min = 1): Promise<number> {
        const want = { min: Math.max(1, Math.min(min, max)), max };
        if (this.waiting.length === 0 && this.free >= want.min) return Promise.resolve(this.grant(want.max));
        return new Promise((resolve) => this.waiting.push({ ...want, resolve }));
    }
    give(n: number): void {
        this.free += n;
        while (this.waiting.length > 0 && this.free >= this.waiting[0].min) {
            const next = this.waiting.shift()!;
            next.resolve(this.grant(next.max));
        }
    }
    private grant(max: number): number {
        const n = Math.min(this.free, max);
        this.free -= n;
        return n;
    }
}

/** An invoice being delivered in this pass: its stored facts and prepared message, made once while any claim of it is held. */
interface InvoiceWork {
    loaded?: Promise<InvoiceInPass>;
    held: number;
    /** True while it holds a load slot (from before its download until its last claim is done). */
    loadSlot?: boolean;
}

/** An invoice's stored facts and its message composed once (the PDF encoded once), for all its recipients. */
interface InvoiceInPass {
    facts: InvoiceFacts;
    /** The prepared message, or why it cannot be had (the profile's message settings are unusable: no sender). */
    message: { prepared: PreparedInvoice } | { unusable: string };
}

/** One profile's delivery state within a pass. */
class ProfileDelivery {
    readonly invoices = new Map<string, InvoiceWork>();
    /** Invoices whose PDF cannot be had in this pass: their deliveries are left for the next. */
    readonly failedInvoices = new Map<string, string>();
    readonly doneInvoices = new Set<string>();
    /** Attempts made in this pass, per delivery id. */
    readonly tries = new Map<number, number>();
    /** Deliveries waiting out a backoff: id -> when they may be claimed again (ms). */
    readonly backoff = new Map<number, number>();
    /** Deliveries given up on for this pass (still failing after `maxAttempts`). */
    readonly exhausted = new Set<number>();
    constructor(readonly target: ProfileTarget) {}
}

/** What the deliver step works with. */
export interface DelivererDeps {
    client: BillingClient;
    ledger: Ledger;
    guard: LedgerGuard;
    sender: MessageSender;
    /** How a profile's messages are written and signed (locale, From, Reply-To, cloud); read when each is sent. */
    messageSettings: (ref: BillingProfileRef) => MessageSettings;
    worker: Worker;
    signal?: AbortSignal;
    emit: (event: DeliverEvent) => void;
    unrecorded: AcceptedUnrecorded;
}

/** The deliver step of one pass (see the module comment). */
export class Deliverer {
    /** Claim slots: a delivery's, from its claim to its verdict. */
    private readonly slots: Slots;
    /** Send slots: a message's, from its SMTP transaction to its committed verdict (the duplicate window). */
    private readonly sendSlots: Slots;
    private readonly claimCapacity: number;
    /** Claims are made once this many slots are free (the send slots): a batch, not one statement per message. */
    private readonly claimBatch: number;
    /**
     * Load slots: an invoice's, from before its PDF is downloaded until its
     * last claim in flight is done. One more than the send slots, so the next
     * invoice is fetched while the others are sent, and the prepared
     * messages held at once (each about 1.4 times its PDF) stay bounded
     * whatever the claims hold.
     */
    private readonly loadSlots: Slots;
    /** Claims given no verdict yet, by delivery id: the leases the heartbeat extends. */
    private readonly held = new Map<number, Claim>();
    /** Claims the heartbeat found taken over. */
    private readonly lostLeases = new Set<number>();
    private heartbeat: NodeJS.Timeout | undefined;
    private beating = false;
    private connectionFailures = 0;
    /** Why sending stopped (SMTP configuration, the server down). */
    stoppedBy: string | undefined;
    private readonly queue: Array<{ verdict: Verdict; resolve: (r: VerdictResult) => void; reject: (e: unknown) => void }> = [];
    private flushing = false;

    constructor(
        private readonly deps: DelivererDeps,
        private readonly options: DeliverOptions,
    ) {
        const send = Math.max(1, options.sendConcurrency);
        this.claimCapacity = CLAIMS_PER_SEND_SLOT * send;
        this.claimBatch = send;
        this.slots = new Slots(this.claimCapacity);
        this.sendSlots = new Slots(send);
        this.loadSlots = new Slots(send + 1);
    }

    /** Starts extending the leases of held claims. */
    start(): void {
        const every = Math.max(20, Math.floor(this.deps.worker.leaseMs / 3));
        this.heartbeat = setInterval(() => void this.beat(), every);
        this.heartbeat.unref();
    }

    /** Stops the heartbeat; every verdict has been written (or reported) by then. */
    stop(): void {
        if (this.heartbeat) clearInterval(this.heartbeat);
        this.heartbeat = undefined;
    }

    /** No new message starts: a stop request, sending stopped, or the ledger lost. */
    stopping(): boolean {
        return this.deps.signal?.aborted === true || this.stoppedBy !== undefined || this.deps.guard.lost !== undefined;
    }

    private async beat(): Promise<void> {
        if (this.beating || this.held.size === 0 || this.deps.guard.down) return;
        this.beating = true;
        try {
            const claims = [...this.held.values()];
            const still = await this.deps.ledger.extendLeases(this.deps.worker, claims);
            for (const c of claims) {
                // A claim whose verdict went to the ledger meanwhile is no longer held: not lost.
                if (!still.has(c.row.id) && this.held.has(c.row.id)) this.lostLeases.add(c.row.id);
            }
        } catch {
            // The ledger is down: the verdicts' own retries report it; the next beat tries again.
        } finally {
            this.beating = false;
        }
    }

    /** Queues a verdict for the next write; resolves once it is committed (or fenced). */
    private recordVerdict(verdict: Verdict): Promise<VerdictResult> {
        return new Promise((resolve, reject) => {
            this.queue.push({ verdict, resolve, reject });
            if (!this.flushing) {
                this.flushing = true;
                // Verdicts that arrive in the same turn of the event loop share one transaction.
                setImmediate(() => void this.flush());
            }
        });
    }

    private async flush(): Promise<void> {
        while (this.queue.length > 0) {
            const batch = this.queue.splice(0, 500);
            try {
                const results = await this.deps.guard.call(() => this.deps.ledger.record(batch.map((b) => b.verdict)));
                batch.forEach((b, i) => b.resolve(results[i]));
            } catch (err) {
                for (const b of batch) b.reject(err);
            }
        }
        this.flushing = false;
    }

    /**
     * Delivers the open deliveries of one profile: claims as many as there
     * are free slots, sends each, records each verdict, until nothing is
     * left to claim (or the pass stops). Never throws for a delivery's
     * failure: it is recorded, reported and counted.
     */
    async deliverProfile(target: ProfileTarget): Promise<void> {
        const { ledger, guard, worker, signal } = this.deps;
        if (this.stopping()) return;
        const work = new ProfileDelivery(target);
        try {
            const counts = (await guard.call(() => ledger.pending([target.ref], worker))).values().next().value;
            this.deps.emit({ type: "deliveries", invoices: counts?.invoices ?? 0, deliveries: counts?.pending ?? 0 });
        } catch (err) {
            target.summary.errors.push(describeError(err));
            return;
        }
        const inflight = new Set<Promise<void>>();
        for (;;) {
            if (this.stopping()) break;
            const n = await this.slots.take(this.claimCapacity, this.claimBatch);
            if (this.stopping()) {
                this.slots.give(n);
                break;
            }
            const now = Date.now();
            for (const [id, at] of work.backoff) if (at <= now) work.backoff.delete(id);
            let claims: Claim[];
            try {
                claims = await guard.call(
                    () => ledger.claimNext(target.ref, worker, n, { ids: [...work.backoff.keys(), ...work.exhausted], invoices: [...work.failedInvoices.keys()] }),
                    signal,
                );
            } catch (err) {
                this.slots.give(n);
                if (!guard.lost && !signal?.aborted) target.summary.errors.push(describeError(err));
                break;
            }
            if (claims.length < n) this.slots.give(n - claims.length);
            if (claims.length === 0) {
                if (inflight.size === 0 && work.backoff.size === 0) break;
                const waits: Array<Promise<unknown>> = [...inflight];
                if (work.backoff.size > 0) waits.push(sleep(Math.max(0, earliest(work.backoff.values()) - Date.now()), signal));
                await Promise.race(waits);
                continue;
            }
            for (const claim of claims) {
                const key = claim.row.invoiceName.toLowerCase();
                const inv = work.invoices.get(key) ?? { held: 0 };
                inv.held++;
                work.invoices.set(key, inv);
                const task: Promise<void> = this.deliverOne(work, claim)
                    .catch((err: unknown) => {
                        // A programming error for one delivery: report it, keep the others going.
                        target.summary.errors.push(`invoice ${claim.row.invoiceName}: ${describeError(err)}`);
                    })
                    .finally(() => {
                        inflight.delete(task);
                        this.slots.give(1);
                        this.invoiceReleased(work, key, claim.row);
                    });
                inflight.add(task);
            }
        }
        await Promise.all(inflight);
    }

    private invoiceReleased(work: ProfileDelivery, key: string, row: DeliveryRow): void {
        const inv = work.invoices.get(key);
        if (!inv || --inv.held > 0) return;
        work.invoices.delete(key);
        if (inv.loadSlot) {
            inv.loadSlot = false;
            this.loadSlots.give(1);
        }
        if (work.failedInvoices.has(key) || work.doneInvoices.has(key)) return;
        work.doneInvoices.add(key);
        this.deps.emit({ type: "invoiceDone", billingAccountName: row.billingAccountName, billingProfileName: row.billingProfileName, invoiceName: row.invoiceName });
    }

    /**
     * The stored facts of a claimed delivery's invoice and its message, the
     * PDF downloaded and every part encoded once while the invoice has claims
     * held, for all of its recipients.
     */
    private invoiceOf(work: ProfileDelivery, row: DeliveryRow): Promise<InvoiceInPass> {
        const key = row.invoiceName.toLowerCase();
        const inv = work.invoices.get(key)!;
        inv.loaded ??= (async () => {
            await this.loadSlots.take(1);
            inv.loadSlot = true;
            const { ref } = work.target;
            const stored = await this.deps.guard.call(() => this.deps.ledger.invoice(ref, row.invoiceName));
            if (!stored) throw new Error(`the ledger has deliveries of invoice ${row.invoiceName} but not its plan`);
            const { billingAccountName, invoiceName, documentName } = stored.facts;
            // The client checks the bytes are a PDF (AzureApiError InvalidDocument otherwise).
            const { bytes } = await this.deps.client.downloadInvoicePdf({ billingAccountName, invoiceName, documentName: documentName ?? undefined });
            let settings: MessageSettings;
            try {
                settings = this.deps.messageSettings(ref);
            } catch (err) {
                return { facts: stored.facts, message: { unusable: describeError(err) } };
            }
            try {
                // Composed once: only To, Message-ID and Date differ between the invoice's recipients.
                const prepared = await prepareInvoice(invoiceMessage({ ...settings, invoice: stored.facts, pdf: bytes }));
                return { facts: stored.facts, message: { prepared } };
            } catch (err) {
                return { facts: stored.facts, message: { unusable: `cannot compose the message of invoice ${row.invoiceName}: ${describeError(err)}` } };
            }
        })();
        return inv.loaded;
    }

    private async deliverOne(work: ProfileDelivery, claim: Claim): Promise<void> {
        const { target } = work;
        const row = claim.row;
        const delivery: DeliveryRef & { id: number } = { ...row, attempts: claim.attempt };
        this.held.set(row.id, claim);
        const verdict = async (v: Verdict): Promise<VerdictResult | undefined> => {
            this.held.delete(row.id);
            try {
                const result = await this.recordVerdict(v);
                if (result === "fenced") {
                    const accepted = v.outcome === "sent";
                    this.deps.emit({
                        type: "fenced",
                        delivery,
                        accepted,
                        detail: `lost the lease on attempt ${claim.attempt} (another worker took the delivery over): recorded nothing over the newer attempt${
                            accepted ? `; the SMTP server accepted this copy too, so it arrives twice with the same Message-ID ${row.messageId}` : ""
                        }`,
                    });
                }
                return result;
            } catch (err) {
                // The ledger is lost: a delivery left `sending` is taken over once its lease expires,
                // so only an accepted message needs telling (it would be sent again).
                if (v.outcome === "sent") this.deps.emit({ type: "unrecorded", delivery, smtpResponse: v.smtpResponse, error: describeError(err) });
                return undefined;
            }
        };
        const release = (error: string | null) => verdict({ claim, outcome: "released", error });
        if (this.stopping() || this.lostLeases.has(row.id)) {
            await release(null);
            return;
        }
        let invoice: InvoiceInPass;
        try {
            invoice = await this.invoiceOf(work, row);
        } catch (err) {
            const key = row.invoiceName.toLowerCase();
            const message = `cannot download the PDF of invoice ${row.invoiceName}: ${describeError(err)}`;
            if (!work.failedInvoices.has(key)) {
                work.failedInvoices.set(key, message);
                target.summary.errors.push(message);
                this.deps.emit({ type: "invoiceError", billingAccountName: target.ref.billingAccountName, billingProfileName: target.ref.billingProfileName, invoiceName: row.invoiceName, message });
            }
            await release(message);
            return;
        }
        if (this.stopping() || this.lostLeases.has(row.id)) {
            await release(null);
            return;
        }
        if ("unusable" in invoice.message) {
            // The profile's message settings are unusable (no sender): nothing was sent; leave it planned.
            const reason = invoice.message.unusable;
            if (!target.summary.errors.includes(reason)) target.summary.errors.push(reason);
            await release(reason);
            return;
        }
        // The duplicate window opens here: from the SMTP transaction to the committed verdict, in a send slot.
        await this.sendSlots.take(1);
        try {
            await this.sendAndRecord(work, claim, delivery, invoice.message.prepared, verdict, release);
        } finally {
            this.sendSlots.give(1);
        }
    }

    private async sendAndRecord(
        work: ProfileDelivery,
        claim: Claim,
        delivery: DeliveryRef & { id: number },
        prepared: PreparedInvoice,
        verdict: (v: Verdict) => Promise<VerdictResult | undefined>,
        release: (error: string | null) => Promise<VerdictResult | undefined>,
    ): Promise<void> {
        const { target } = work;
        const row = claim.row;
        const report = (outcome: "sent" | "failed" | "retry" | "pending", detail: string) => this.deps.emit({ type: "delivery", outcome, delivery, detail });
        // It may have waited for its slot: a stop request or a lost lease since then means it is not sent.
        if (this.stopping() || this.lostLeases.has(row.id)) {
            await release(null);
            return;
        }
        const message = rawFor(prepared, row.recipient, row.messageId);
        let response: string;
        try {
            response = (await this.deps.sender.send(message)).response;
        } catch (err) {
            if (!(err instanceof MailDeliveryError)) {
                // Configuration (credentials, TLS, sender) or unknown: every message would fail alike.
                this.stoppedBy ??= describeError(err);
                await release(describeError(err));
            } else if (isRetryable(err)) {
                const released = await release(err.message);
                if (err.responseCode === undefined && ++this.connectionFailures >= this.options.connectionFailureLimit) {
                    this.stoppedBy ??= `stopped sending after ${this.connectionFailures} connection failures in a row: ${err.message}`;
                }
                // Fenced (a newer attempt owns it) or not recorded: it is not this worker's to retry.
                if (released !== "recorded") return;
                const tries = (work.tries.get(row.id) ?? 0) + 1;
                work.tries.set(row.id, tries);
                report("retry", err.message);
                if (tries >= Math.max(1, this.options.maxAttempts)) {
                    work.exhausted.add(row.id);
                    report("pending", `still failing after ${tries} attempts in this run; left planned for the next run`);
                } else if (!this.stopping()) {
                    work.backoff.set(row.id, Date.now() + Math.min(this.options.maxRetryDelayMs, this.options.retryDelayMs * 2 ** (tries - 1)));
                }
            } else if ((await verdict({ claim, outcome: "failed", error: err.message })) === "recorded") {
                target.summary.failed++;
                report("failed", err.message);
            }
            return;
        }
        this.connectionFailures = 0;
        this.deps.unrecorded.add(delivery, response);
        const result = await verdict({ claim, outcome: "sent", smtpResponse: response });
        if (result === undefined) return;
        this.deps.unrecorded.delete(row.id);
        if (result === "recorded") {
            target.summary.sent++;
            report("sent", response);
        }
    }
}

/** The smallest of `values` (a loop: the backoff map holds one entry per delivery, too many to spread into Math.min). */
function earliest(values: Iterable<number>): number {
    let min = Number.POSITIVE_INFINITY;
    for (const v of values) if (v < min) min = v;
    return min;
}
