/**
 * Small text helpers shared by the commands: aligned tables and durations as
 * users type them.
 */

/** Renders rows as left-aligned columns under a header and a rule. */
export function renderTable(header: string[], rows: string[][], options: { rightAlign?: number[] } = {}): string {
    const right = new Set(options.rightAlign ?? []);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const fmt = (r: string[]) =>
        r
            .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : i === r.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)].join("\n");
}

/**
 * Parses a duration: a number and a unit, `ms`, `s`, `m` or `h` (e.g. `30s`,
 * `5m`, `1h`). Returns milliseconds, or undefined when malformed.
 */
export function parseDuration(value: string): number | undefined {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
    if (!m) return undefined;
    const n = Number(m[1]);
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
    const ms = Math.round(n * unit);
    return Number.isFinite(ms) ? ms : undefined;
}
