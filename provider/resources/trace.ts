/**
 * Where the dynamic-provider process spends its time, for `bench/pulumi.ts`
 * and for anyone asking why an `up` is slow. With
 * `AZURE_EMAIL_INVOICING_TRACE_FILE` set to a path in the environment of the
 * `pulumi` command, the provider process appends one JSON line to that file
 * per event:
 *
 * - `{"type":"load", start, end}`: loading this package into the process;
 * - `{"type":"call", kind, method, start, end, cpuMs}`: one engine call of
 *   the provider (check, diff, create, read, update, delete), with the
 *   process's CPU time so far;
 * - `{"type":"request", operation, method, status, start, end}`: one billing
 *   API (or Graph, or document) request, from sending it to the end of its
 *   body, retries included.
 *
 * Times are milliseconds since the Unix epoch, with fractions, so lines of
 * several processes (and the benchmark's own clock) can be compared. Off by
 * default; nothing is recorded without the variable.
 *
 * host.ts imports this module first, so {@link LOAD_STARTED_AT} is taken
 * before the rest of the package is loaded.
 */
import * as fs from "node:fs";

/** The environment variable naming the trace file. */
export const TRACE_FILE_ENV = "AZURE_EMAIL_INVOICING_TRACE_FILE";

/** Now, in milliseconds since the Unix epoch, with fractions. */
export function epochMs(): number {
    return performance.timeOrigin + performance.now();
}

/** When this package began to load into the process. */
export const LOAD_STARTED_AT = epochMs();

/** One line of a trace file. */
export type TraceEvent =
    | { type: "load"; pid: number; start: number; end: number }
    | { type: "call"; pid: number; kind: string; method: string; start: number; end: number; cpuMs: number; failed?: boolean }
    | { type: "request"; pid: number; operation: string; method: string; status: number; start: number; end: number };

/** Appends events to a trace file, one JSON line each (synchronously, so a killed process loses none). */
export class Tracer {
    constructor(private readonly file: string) {}

    write(event: TraceEvent): void {
        try {
            fs.appendFileSync(this.file, JSON.stringify(event) + "\n");
        } catch {
            // A trace is a diagnostic: failing to write it never fails the provider.
        }
    }

    /** Times one provider call. */
    async call<T>(kind: string, method: string, fn: () => Promise<T>): Promise<T> {
        const start = epochMs();
        let failed = false;
        try {
            return await fn();
        } catch (err) {
            failed = true;
            throw err;
        } finally {
            const cpu = process.cpuUsage();
            this.write({ type: "call", pid: process.pid, kind, method, start, end: epochMs(), cpuMs: (cpu.user + cpu.system) / 1000, ...(failed ? { failed } : {}) });
        }
    }
}

/** Reads a trace file's events (for the benchmark); a missing file has none. */
export function readTrace(file: string): TraceEvent[] {
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as TraceEvent);
}
