/**
 * The memory store: the state lives and dies with the process. Every
 * `update` runs in a transaction of the undo log (undo.ts); a subclass that
 * persists (the file store) says so with `tracksChanges` and receives each
 * commit's changes in `persist`.
 */
import type { EmulatorState } from "../model";
import type { StoreChange } from "./changes";
import type { EmulatorStore } from "./contract";
import { Transaction, isObject, undraft } from "./undo";

/** Keeps the state in memory; changes run in transactions (undo log). */
export class MemoryStore implements EmulatorStore {
    readonly location: string | undefined = undefined;
    private running = false;
    protected closed = false;

    constructor(protected state: EmulatorState) {}

    /** True when commits need their changes described (a store that persists). */
    protected get tracksChanges(): boolean {
        return false;
    }

    read<T>(fn: (state: Readonly<EmulatorState>) => T): T {
        return fn(this.state);
    }

    update<T>(fn: (draft: EmulatorState) => T): T {
        if (this.running) throw new Error("emulator store: update was called from inside an update; make one update do both changes");
        this.assertWritable();
        const tx = new Transaction(this.state as unknown as Record<string, unknown>, this.tracksChanges);
        this.running = true;
        try {
            const result = fn(tx.draft());
            if (isObject(result) && typeof (result as { then?: unknown }).then === "function") {
                throw new TypeError("emulator store: update takes a synchronous function; it returned a promise (nothing was changed)");
            }
            const out = undraft(result) as T;
            if (this.tracksChanges) {
                const changes = tx.changes();
                if (changes.length > 0) this.persist(changes);
            }
            return out;
        } catch (err) {
            tx.rollback();
            throw err;
        } finally {
            tx.end();
            this.running = false;
        }
    }

    /** Refuses updates the store can no longer take. */
    protected assertWritable(): void {
        if (this.closed) throw new Error("emulator store: closed");
    }

    /** Makes committed changes durable; throw to refuse the commit (it is rolled back). */
    protected persist(_changes: StoreChange[]): void {}

    snapshot(): EmulatorState {
        return JSON.parse(JSON.stringify(this.state)) as EmulatorState;
    }

    async close(): Promise<void> {
        this.closed = true;
    }
}

/** A store that keeps `initial` (copied) in memory only. */
export function createMemoryStore(initial: EmulatorState): EmulatorStore {
    return new MemoryStore(structuredClone(initial));
}
