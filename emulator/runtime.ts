/**
 * What the emulator keeps only while it runs, outside the store: injected
 * faults, the request log, long-running operations and the cache of rendered
 * PDFs. None of it survives a restart, on purpose: a restarted emulator
 * answers normally, has an empty log and has forgotten its operations (as
 * Azure expires them). Each is bounded, so a long run cannot exhaust memory.
 */
import { z } from "zod";
import { fail, type EmulatorError } from "./errors";
import { OperationTable } from "./lro";

/** `POST /_emulator/faults` body: inject errors into the Azure-facing API. */
export const FaultRule = z.strictObject({
    /** The status to answer: 429 (throttled), 500 or 503. */
    status: z.union([z.literal(429), z.literal(500), z.literal(503)]),
    /** Probability (0..1) that a matching request fails (default 1: every one). Drawn from a seeded PRNG, so runs repeat. */
    rate: z.number().min(0).max(1).default(1),
    /** Adds `Retry-After: n` to the faulted responses. */
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    /** Only these methods fail (default: all). */
    methods: z.array(z.enum(["GET", "PUT", "POST", "DELETE"])).min(1).optional(),
    /** Stop after this many injected faults (default: no limit). */
    count: z.number().int().min(1).optional(),
    /** Seed of the PRNG deciding `rate` (default 1). */
    seed: z.number().int().optional(),
});
export type FaultRule = z.infer<typeof FaultRule>;

/** mulberry32: a tiny deterministic PRNG; the same seed gives the same sequence. */
function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

interface ActiveFault {
    rule: FaultRule;
    random: () => number;
    injected: number;
}

/** The active fault rules. Rules are checked in the order they were added; the first that fires wins. */
export class FaultInjector {
    private active: ActiveFault[] = [];

    add(rule: FaultRule): void {
        this.active.push({ rule, random: prng(rule.seed ?? 1), injected: 0 });
    }

    clear(): void {
        this.active = [];
    }

    /** The rules with how many faults each has injected so far. */
    list(): Array<FaultRule & { injected: number; exhausted: boolean }> {
        return this.active.map((a) => ({ ...a.rule, injected: a.injected, exhausted: a.rule.count !== undefined && a.injected >= a.rule.count }));
    }

    /** Decides for one request: the error to answer, or undefined to serve it normally. */
    next(method: string): EmulatorError | undefined {
        for (const a of this.active) {
            if (a.rule.methods && !a.rule.methods.includes(method.toUpperCase() as never)) continue;
            if (a.rule.count !== undefined && a.injected >= a.rule.count) continue;
            if (a.random() >= a.rule.rate) continue;
            a.injected++;
            return fail.injected(a.rule.status, a.rule.retryAfterSeconds);
        }
        return undefined;
    }
}

/** One Azure-facing request, as `GET /_emulator/requests` lists it. */
export interface RequestLogEntry {
    time: string;
    method: string;
    path: string;
    query: Record<string, string>;
    /**
     * The contract operation id, or `getOperationResult` (polling a
     * Location), `downloadDocument` (a document link), or null when no route
     * matched.
     */
    operation: string | null;
    status: number;
    /** The object id of the authenticated principal, or null. */
    principal: string | null;
    /**
     * Which TCP connection carried the request: 1 for the server's first,
     * counting up. Requests of a client that keeps its connections alive share
     * numbers.
     */
    connection: number;
}

/** How many entries the request log keeps unless told otherwise. */
export const DEFAULT_REQUEST_LOG_LIMIT = 10_000;
/** The most a request log may be told to keep (about 2 GB of entries at most). */
export const MAX_REQUEST_LOG_LIMIT = 10_000_000;

/** The request log, bounded so a long benchmark cannot exhaust memory: the last `limit` entries. */
export class RequestLog {
    private entries: RequestLogEntry[] = [];

    constructor(readonly limit = DEFAULT_REQUEST_LOG_LIMIT) {}

    add(entry: RequestLogEntry): void {
        this.entries.push(entry);
        // Dropped in bulk once twice the limit is held, so that adding stays O(1) however large the limit.
        if (this.entries.length >= 2 * this.limit) this.entries = this.entries.slice(-this.limit);
    }

    list(): RequestLogEntry[] {
        return this.entries.slice(-this.limit);
    }

    clear(): void {
        this.entries = [];
    }
}

/** How many bytes of rendered PDFs the cache keeps at most by default (256 MiB: 2,000 invoices padded to 100 KB fit). */
export const PDF_CACHE_BYTES = 256 * 1024 * 1024;

/** The largest PDF cache that can be asked for (16 GiB). */
export const MAX_PDF_CACHE_BYTES = 16 * 1024 * 1024 * 1024;

/**
 * Rendered PDFs by key, least recently used evicted first once their bytes
 * pass the budget. Rendering is deterministic, so an entry never goes stale.
 */
export class PdfCache {
    private readonly entries = new Map<string, Uint8Array>();
    private bytes = 0;

    constructor(private readonly budget = PDF_CACHE_BYTES) {}

    get(key: string): Uint8Array | undefined {
        const hit = this.entries.get(key);
        if (hit) {
            this.entries.delete(key);
            this.entries.set(key, hit);
        }
        return hit;
    }

    set(key: string, pdf: Uint8Array): void {
        const old = this.entries.get(key);
        if (old) {
            this.bytes -= old.length;
            this.entries.delete(key);
        }
        this.entries.set(key, pdf);
        this.bytes += pdf.length;
        for (const [k, v] of this.entries) {
            if (this.bytes <= this.budget || k === key) break;
            this.entries.delete(k);
            this.bytes -= v.length;
        }
    }
}

/** Numbers the TCP connections of a server in the order they first carry a request. */
export class ConnectionNumbers {
    private readonly numbers = new WeakMap<object, number>();
    private count = 0;

    of(socket: object): number {
        let n = this.numbers.get(socket);
        if (n === undefined) this.numbers.set(socket, (n = ++this.count));
        return n;
    }
}

/** The run-time parts handed to every handler along with the store. */
export interface Runtime {
    faults: FaultInjector;
    requests: RequestLog;
    connections: ConnectionNumbers;
    /** Long-running operations (lro.ts): accepted, pending and recently completed. */
    operations: OperationTable;
    /** Rendered PDFs by `<invoice>/<document>/<padding>`. */
    pdfCache: PdfCache;
}

export function createRuntime(options: { requestLogLimit?: number; pdfCacheBytes?: number } = {}): Runtime {
    return {
        faults: new FaultInjector(),
        requests: new RequestLog(options.requestLogLimit),
        connections: new ConnectionNumbers(),
        operations: new OperationTable(),
        pdfCache: new PdfCache(options.pdfCacheBytes),
    };
}
