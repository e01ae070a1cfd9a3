/**
 * Which object each draft stands for. The undo log (undo.ts) records every
 * draft it hands out here; the model's indexes (model.ts) read it to index
 * the stored arrays, not the drafts of one update. A module of its own, with
 * no imports, so that both can use it without importing each other.
 */

/** Every draft proxy ever handed out, mapped to the object it stands for. */
export const TARGETS = new WeakMap<object, object>();

/** The object a draft stands for; anything else as it is. Reading the result bypasses the undo log, so never write through it. */
export function targetOf<T>(value: T): T {
    return typeof value === "object" && value !== null ? ((TARGETS.get(value) as T | undefined) ?? value) : value;
}
