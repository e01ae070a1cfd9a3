/**
 * Where one Pulumi operation's wall time went, from the dynamic-provider
 * process's trace (provider/resources/trace.ts): pure arithmetic over the
 * trace's intervals, for bench/pulumi.ts.
 *
 * - **on the wire**: time during which at least one billing API request was
 *   in flight (sent, not yet read to its end);
 * - **in the provider**: time during which the provider was loading this
 *   package or had at least one engine call in progress, minus the time on
 *   the wire: its own code (parsing, building requests and outputs), and
 *   calls waiting for its event loop;
 * - **in the engine**: the rest of the wall time: the CLI, the language host,
 *   the program, the engine's own work and the gRPC between them.
 *
 * Calls overlap (the engine runs several resource operations at once), so
 * these are lengths of unions of intervals, not sums; the three add up to
 * the wall time.
 */
import type { TraceEvent } from "../provider/resources/trace";

export interface Interval {
    start: number;
    end: number;
}

/** The total length of the union of intervals (ms). */
export function unionMs(intervals: readonly Interval[]): number {
    const sorted = [...intervals].filter((i) => i.end > i.start).sort((a, b) => a.start - b.start);
    let total = 0;
    let start = -Infinity;
    let end = -Infinity;
    for (const i of sorted) {
        if (i.start > end) {
            if (end > start) total += end - start;
            start = i.start;
            end = i.end;
        } else if (i.end > end) {
            end = i.end;
        }
    }
    if (end > start) total += end - start;
    return total;
}

/** The breakdown of one operation. */
export interface Breakdown {
    wallMs: number;
    /** Loading the package into the provider process (once per process). */
    loadMs: number;
    providerMs: number;
    wireMs: number;
    engineMs: number;
    /** CPU time of the provider process(es) at their last call (user + system). */
    providerCpuMs: number;
    /** Engine calls of the provider, by method. */
    calls: Map<string, { count: number; meanMs: number }>;
    /** Billing API requests and their mean latency. */
    requests: { count: number; meanMs: number };
}

/** The breakdown of an operation that took `wallMs` (measured from `window.start` to `window.end`), from its trace. */
export function breakdownOf(events: readonly TraceEvent[], window: Interval): Breakdown {
    const inWindow = <T extends Interval>(xs: T[]) => xs.map((x) => ({ ...x, start: Math.max(x.start, window.start), end: Math.min(x.end, window.end) }));
    const loads = inWindow(events.filter((e) => e.type === "load"));
    const calls = inWindow(events.filter((e) => e.type === "call"));
    const requests = inWindow(events.filter((e) => e.type === "request"));
    const wallMs = window.end - window.start;
    const busyMs = unionMs([...loads, ...calls]);
    const wireMs = unionMs(requests);
    const byMethod = new Map<string, { count: number; meanMs: number }>();
    for (const c of calls) {
        const m = byMethod.get(c.method) ?? { count: 0, meanMs: 0 };
        m.meanMs = (m.meanMs * m.count + (c.end - c.start)) / (m.count + 1);
        m.count++;
        byMethod.set(c.method, m);
    }
    const lastCpu = new Map<number, number>();
    for (const c of calls) lastCpu.set(c.pid, Math.max(lastCpu.get(c.pid) ?? 0, c.cpuMs));
    return {
        wallMs,
        loadMs: unionMs(loads),
        providerMs: Math.max(0, busyMs - wireMs),
        wireMs,
        engineMs: Math.max(0, wallMs - busyMs),
        providerCpuMs: [...lastCpu.values()].reduce((a, b) => a + b, 0),
        calls: byMethod,
        requests: { count: requests.length, meanMs: requests.length ? requests.reduce((a, r) => a + (r.end - r.start), 0) / requests.length : 0 },
    };
}
