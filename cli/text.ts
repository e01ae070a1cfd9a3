/**
 * Small text helpers shared by the commands: terminal-safe text, aligned
 * tables and durations as users type them.
 */
import { terminalSafe } from "../provider/terminal";

/** Text from a server as it may be written to a terminal: one rule for the commands and the provider's errors. */
export { terminalSafe };

/** Renders rows as left-aligned columns under a header and a rule. Cells are made {@link terminalSafe}. */
export function renderTable(header: string[], rows: string[][], options: { rightAlign?: number[] } = {}): string {
    const right = new Set(options.rightAlign ?? []);
    rows = rows.map((r) => r.map(terminalSafe));
    // A loop, not Math.max(...): a spread of many rows overflows the call stack.
    const widths = header.map((h) => h.length);
    for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], (r[i] ?? "").length);
    const fmt = (r: string[]) =>
        r
            .map((c, i) => (right.has(i) ? c.padStart(widths[i]) : i === r.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [fmt(header), fmt(widths.map((w) => "-".repeat(w))), ...rows.map(fmt)].join("\n");
}

/** Durations as users type them (`30s`, `5m`): one parser for flags, stack config and the environment. */
export { parseDuration } from "../provider/units";
