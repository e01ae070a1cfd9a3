/**
 * How a committed change is described (for the file store's journal) and
 * applied again (when a directory is reopened). Pure: plain JSON in, plain
 * JSON out.
 */

/**
 * One committed change as the journal holds it: a top-level value written
 * whole (settings, counters; a collection whose order changed), or the
 * records of a collection removed (old positions), inserted and changed (new
 * positions), applied in that order.
 */
export type StoreChange =
    | { key: string; value: unknown }
    | { key: string; deleted: true }
    | { key: string; removed: number[]; inserted: Array<[number, unknown]>; updated: Array<[number, unknown]> };

/** Applies one journal change to a state (parsed JSON). Throws a plain Error describing what does not fit. */
export function applyChange(state: Record<string, unknown>, change: StoreChange): void {
    if (typeof change !== "object" || change === null || typeof change.key !== "string") throw new Error("a change without a key");
    if ("deleted" in change) {
        delete state[change.key];
        return;
    }
    if ("value" in change) {
        state[change.key] = change.value;
        return;
    }
    const current = state[change.key];
    if (!Array.isArray(current) || !Array.isArray(change.removed) || !Array.isArray(change.inserted) || !Array.isArray(change.updated)) {
        throw new Error(`a change of '${change.key}' that does not fit the state`);
    }
    const removed = new Set(change.removed);
    const next = removed.size === 0 ? current : current.filter((_, i) => !removed.has(i));
    for (const [j, record] of change.inserted) {
        if (!Number.isInteger(j) || j < 0 || j > next.length) throw new Error(`an insertion at ${j} into '${change.key}' of ${next.length}`);
        next.splice(j, 0, record);
    }
    for (const [j, record] of change.updated) {
        if (!Number.isInteger(j) || j < 0 || j >= next.length) throw new Error(`an update at ${j} in '${change.key}' of ${next.length}`);
        next[j] = record;
    }
    state[change.key] = next;
}
