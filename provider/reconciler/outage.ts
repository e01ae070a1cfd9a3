/**
 * Using the ledger through an outage. A pass that loses its ledger (a
 * dropped connection, a restarting server) keeps retrying each call with
 * backoff for a bounded time, so that the verdicts of messages already
 * accepted by the SMTP server are written once the ledger is back; while it
 * is down the pass claims nothing new. A failure that a retry cannot clear
 * (credentials refused, a full disk), or an outage past the limit, marks
 * the ledger lost for the rest of the pass: every later call fails at once.
 */
import { LedgerError } from "../errors";
import { sleep } from "../sleep";

/** Ledger availability changes, as the pass reports them. */
export type OutageEvent = { type: "ledger"; state: "down" | "up"; message: string };

export class LedgerGuard {
    private downSince: number | undefined;
    /** The error that ended the ledger's use in this pass. */
    lost: LedgerError | undefined;

    constructor(
        private readonly options: {
            /** How long one call keeps retrying a retryable failure. */
            outageMs: number;
            onEvent: (event: OutageEvent) => void;
            /** First backoff delay, doubled up to 5 s. Default 250 ms. */
            firstDelayMs?: number;
        },
    ) {}

    /** True while the last call failed and no call has succeeded since. */
    get down(): boolean {
        return this.downSince !== undefined;
    }

    /**
     * Calls `fn`, retrying a retryable {@link LedgerError} with backoff until
     * the outage limit; `signal` (for calls that start new work, such as
     * claims) gives up early. Throws the error that ended it.
     */
    async call<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
        if (this.lost) throw this.lost;
        let delay = this.options.firstDelayMs ?? 250;
        const started = Date.now();
        for (;;) {
            try {
                const result = await fn();
                if (this.downSince !== undefined) {
                    this.downSince = undefined;
                    this.options.onEvent({ type: "ledger", state: "up", message: "the ledger is reachable again" });
                }
                return result;
            } catch (err) {
                if (!(err instanceof LedgerError)) throw err;
                if (!err.retryable || Date.now() - started + delay > this.options.outageMs) {
                    this.lost ??= err;
                    throw err;
                }
                if (this.downSince === undefined) {
                    this.downSince = Date.now();
                    this.options.onEvent({ type: "ledger", state: "down", message: `${err.message}; retrying with backoff for up to ${Math.round(this.options.outageMs / 1000)} s` });
                }
                if (signal?.aborted) throw err;
                await sleep(delay, signal);
                delay = Math.min(delay * 2, 5000);
            }
        }
    }
}
