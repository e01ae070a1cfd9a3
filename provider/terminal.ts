/**
 * Text as it may be written to a terminal (pure). Text from a server (a
 * billing profile's display name, an invoice name, an error message) reaches
 * people through the reconciler's output and through the Pulumi CLI's
 * diagnostics, and a contributor on a billing profile can put escape
 * sequences and line breaks into it.
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
 * `\u202e`) instead of acting. Applying it twice changes nothing more. For
 * every human-readable line that can hold text from a server (display names,
 * invoice names, error messages); JSON output is exact and needs none
 * (JSON.stringify escapes controls itself).
 */
export function terminalSafe(text: string): string {
    return text.replace(TERMINAL_CONTROLS, (c) => {
        if (c === "\r") return "\\r";
        if (c === "\n") return "\\n";
        const code = c.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
    });
}
