/**
 * Where the emulator keeps its state, behind one small interface
 * (contract.ts), so handlers never know whether it lives in memory or on
 * disk:
 *
 * - contract.ts: what every store promises (`read`, all-or-nothing `update`,
 *   `snapshot`, `close`);
 * - undo.ts: how `update` is all or nothing without copying the state (an
 *   undo log behind a proxy), and how it tells the journal what changed;
 * - drafts.ts: which stored object each draft stands for (the model's
 *   indexes are of the stored arrays);
 * - memory.ts: {@link createMemoryStore}, the state in memory only;
 * - file.ts: {@link openFileStore}, the state in a directory as a snapshot
 *   plus a journal (journal.ts, changes.ts), held by a lock (lock.ts), written
 *   with the primitives of files.ts.
 */
export type { EmulatorStore } from "./contract";
export { applyChange, type StoreChange } from "./changes";
export { createMemoryStore } from "./memory";
export { STATE_FILE, openFileStore, readStateDir } from "./file";
export { JOURNAL_FILE } from "./journal";
export { LOCK_FILE } from "./lock";
