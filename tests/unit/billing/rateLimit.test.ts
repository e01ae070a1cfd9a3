import { expect } from "chai";
import { TokenBucket, type BucketClock } from "../../../provider/billing/rateLimit";

/** A clock that only moves when a waiter sleeps: the time each token was handed out is exact. */
function fakeClock(): BucketClock & { t: number } {
    const clock = {
        t: 0,
        now: () => clock.t,
        sleep: async (ms: number, signal?: AbortSignal) => {
            if (signal?.aborted) throw signal.reason;
            clock.t += ms;
        },
    };
    return clock;
}

/** When each of `n` requests, asked for at once, gets its token. */
async function times(bucket: TokenBucket, clock: { t: number }, n: number): Promise<number[]> {
    const at: number[] = [];
    await Promise.all(Array.from({ length: n }, () => bucket.take().then(() => at.push(clock.t))));
    return at;
}

describe("billing client: the token bucket (pure)", () => {
    it("lets a full bucket go at once, then one token per 1/rate seconds", async () => {
        const clock = fakeClock();
        const bucket = new TokenBucket({ perSecond: 25, burst: 3 }, clock);
        expect(await times(bucket, clock, 6)).to.deep.equal([0, 0, 0, 40, 80, 120]);
    });

    it("with a burst of 1 never lets more than `perSecond` requests out in any second", async () => {
        const clock = fakeClock();
        const bucket = new TokenBucket({ perSecond: 200, burst: 1 }, clock);
        const at = await times(bucket, clock, 1000);
        for (let i = 0; i + 200 < at.length; i++) expect(at[i + 200] - at[i], `requests ${i} and ${i + 200}`).to.be.at.least(1000);
        expect(at[999]).to.be.closeTo(999 * 5, 1);
    });

    it("refills while idle, up to the burst and no more", async () => {
        const clock = fakeClock();
        const bucket = new TokenBucket({ perSecond: 10, burst: 2 }, clock);
        await times(bucket, clock, 2);
        clock.t += 10_000;
        expect(await times(bucket, clock, 3)).to.deep.equal([10_000, 10_000, 10_100]);
    });

    it("a pause (a 429's Retry-After) holds every request until it ends, and a shorter one never shortens it", async () => {
        const clock = fakeClock();
        const bucket = new TokenBucket({ perSecond: 1000, burst: 100 }, clock);
        bucket.pause(2000);
        bucket.pause(500);
        expect(await times(bucket, clock, 3)).to.deep.equal([2000, 2000, 2000]);
    });

    it("serves requests in the order they asked, and one that gives up does not hold up the rest", async () => {
        const clock = fakeClock();
        const bucket = new TokenBucket({ perSecond: 1, burst: 1 }, clock);
        const order: string[] = [];
        const gone = new AbortController();
        gone.abort(new Error("gave up"));
        const a = bucket.take().then(() => order.push("a"));
        const b = bucket.take(gone.signal).then(
            () => order.push("b"),
            (err: Error) => order.push(`b: ${err.message}`),
        );
        const c = bucket.take().then(() => order.push("c"));
        await Promise.all([a, b, c]);
        expect(order).to.deep.equal(["a", "b: gave up", "c"]);
        expect(clock.t).to.equal(1000);
    });

    it("refuses a rate or burst that could never hand out a token", () => {
        expect(() => new TokenBucket({ perSecond: 0, burst: 1 })).to.throw(RangeError);
        expect(() => new TokenBucket({ perSecond: 1, burst: 0 })).to.throw(RangeError);
    });
});
