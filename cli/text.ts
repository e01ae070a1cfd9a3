/**
 * Small text helpers shared by the commands: terminal-safe text, aligned
 * tables and durations as users type them.
 */

/**
 * Characters that act on a terminal instead of printing: C0 controls except
 * tab (ESC starts escape sequences that clear the screen or set the window
 * title; CR and LF let a value forge a line of its own), DEL, C1 controls
 * (U+0080-U+009F, of which U+009B is a one-character ESC [), and the Unicode
 * bidirectional overrides and isolates, which reorder what a reader sees.
 */
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text as it may be written to a terminal: every character of
 * {@link TERMINAL_CONTROLS} is shown as an escape (`\r`, `\n`, `\x1b`,
 * `\u202e`) instead of acting. For every human-readable line that can hold
 * text from a server (display names, invoice names, error messages); JSON
 * output is exact and needs none (JSON.stringify escapes controls itself).
 */
export function terminalSafe(text: string): string {
    return text.replace(TERMINAL_CONTROLS, (c) => {
        if (c === "\r") return "\\r";
        if (c === "\n") return "\\n";
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
    });
}

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
