/**
 * The client's own pace for Azure Resource Manager: a token bucket, like the
 * one ARM throttles each principal with (Microsoft documents a read bucket
 * of 250 tokens refilled at 25 per second). Every attempt of an ARM request
 * (a retry too) takes one token; a request waits, in the order it came, until
 * one is there. A bucket of `burst` tokens refilled at `perSecond` lets at
 * most `burst + perSecond * t` requests out in any `t` seconds; `burst` 1
 * spaces them evenly, one every `1 / perSecond` seconds (so at most
 * `perSecond + 1` fall in any one second).
 *
 * A 429 from ARM with `Retry-After` pauses the whole bucket until then, so
 * the other requests in flight wait too instead of each being throttled in
 * turn (the retry policy waits for the throttled one itself).
 *
 * Pure bookkeeping over an injected clock and timer, so the arithmetic is
 * tested without waiting.
 */

/** How fast ARM requests may go; the defaults are ARM's documented read bucket. */
export interface RateLimit {
    /** Tokens added per second. Default 25. */
    perSecond: number;
    /** Tokens the bucket holds at most (and starts with). Default 250. */
    burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 25, burst: 250 };

/** The clock and timer of a bucket; real time unless a test gives its own. */
export interface BucketClock {
    /** Milliseconds, monotonic. */
    now(): number;
    /** Waits `ms`, or rejects with the signal's reason when it aborts. */
    sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: BucketClock = {
    now: () => performance.now(),
    sleep: (ms, signal) =>
        new Promise<void>((resolve, reject) => {
            if (signal?.aborted) return reject(signal.reason);
            const onAbort = () => {
                clearTimeout(timer);
                reject(signal!.reason);
            };
            const timer = setTimeout(() => {
                signal?.removeEventListener("abort", onAbort);
                resolve();
            }, ms);
            signal?.addEventListener("abort", onAbort, { once: true });
        }),
};

export class TokenBucket {
    private tokens: number;
    private updatedAt: number;
    /** No token is handed out before this time (a server's Retry-After). */
    private pausedUntil = 0;
    /** The requests waiting, in order: each takes the next token. */
    private queue: Promise<void> = Promise.resolve();

    constructor(
        readonly limit: RateLimit,
        private readonly clock: BucketClock = realClock,
    ) {
        if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError(`a rate limit needs perSecond > 0 and burst >= 1, not ${JSON.stringify(limit)}`);
        this.tokens = limit.burst;
        this.updatedAt = clock.now();
    }

    /** Waits for a token and takes it. Requests are served in the order they asked. */
    take(signal?: AbortSignal): Promise<void> {
        const mine = this.queue.then(() => this.takeNow(signal));
        // The next request waits for this one's token, whether it got it or gave up.
        this.queue = mine.catch(() => undefined);
        return mine;
    }

    /** Pauses the bucket for `ms` from now (a 429's Retry-After); never shortens a pause. */
    pause(ms: number): void {
        if (!(ms > 0)) return;
        this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    }

    private refill(now: number): void {
        this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.updatedAt) * this.limit.perSecond) / 1000);
        this.updatedAt = now;
    }

    private async takeNow(signal?: AbortSignal): Promise<void> {
        for (;;) {
            if (signal?.aborted) throw signal.reason;
            const now = this.clock.now();
            this.refill(now);
            const pause = this.pausedUntil - now;
            if (pause > 0) {
                await this.clock.sleep(pause, signal);
                continue;
            }
            if (this.tokens >= 1) {
                this.tokens -= 1;
                return;
            }
            await this.clock.sleep(Math.ceil(((1 - this.tokens) * 1000) / this.limit.perSecond), signal);
        }
    }
}
