/**
 * The file store's journal (`emulator-state.journal`): the changes committed
 * since the snapshot, one JSON line per update, `fdatasync`ed before the
 * update returns, so before the server answers.
 *
 * Crash safety: the journal's first line names the snapshot it continues (by
 * SHA-256 of the snapshot's text). A journal that names another snapshot was
 * left behind by a compaction that finished its snapshot and was stopped
 * before it replaced the journal: its changes are already in the snapshot, and
 * it is ignored. A last line without its newline was being written when the
 * process died, so its update never returned and its request was never
 * answered: it is dropped. Any other line that does not parse is corruption,
 * and opening fails with a message naming the file.
 */
import { createHash } from "node:crypto";
import type { EmulatorState } from "../model";
import { applyChange, type StoreChange } from "./changes";
import { readIfExists } from "./files";

/** The journal of changes since the snapshot, inside the store's directory. */
export const JOURNAL_FILE = "emulator-state.journal";

function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** The journal's first line: its format (1) and the snapshot it continues, by hash. */
export function journalHeader(snapshotText: string): Buffer {
    return Buffer.from(`${JSON.stringify({ journal: 1, base: sha256(snapshotText) })}\n`);
}

/**
 * Applies the journal's complete lines to `state` when the journal continues
 * this snapshot. Returns how many changes it applied.
 */
export function replayJournal(journal: string, snapshotText: string, state: EmulatorState): number {
    const text = readIfExists(journal);
    if (text === undefined) return 0;
    const lines = text.split("\n");
    // The last element is "" after a final newline, or a line cut short by a crash: its update never returned.
    lines.pop();
    if (lines.length === 0) return 0;
    const refuse = (n: number, why: string) =>
        new Error(`${journal} line ${n} is not valid (${why}); the journal is corrupt: delete the data directory or restore it from a copy`);
    let header: { journal?: unknown; base?: unknown };
    try {
        header = JSON.parse(lines[0]);
    } catch (err) {
        throw refuse(1, (err as Error).message);
    }
    if (header.journal !== 1 || typeof header.base !== "string") throw refuse(1, "not a journal header");
    // Left behind by a compaction whose snapshot already holds these changes.
    if (header.base !== sha256(snapshotText)) return 0;
    let applied = 0;
    for (let n = 1; n < lines.length; n++) {
        try {
            const entry = JSON.parse(lines[n]) as { changes?: StoreChange[] };
            if (!Array.isArray(entry.changes)) throw new Error("no changes");
            for (const change of entry.changes) applyChange(state as unknown as Record<string, unknown>, change);
        } catch (err) {
            throw refuse(n + 1, (err as Error).message);
        }
        applied++;
    }
    return applied;
}
