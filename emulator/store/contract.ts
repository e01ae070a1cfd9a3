/**
 * What the emulator keeps its state in, behind one small interface (after
 * Azurite's metadata stores), so handlers never know whether it lives in
 * memory (memory.ts) or on disk (file.ts).
 */
import type { EmulatorState } from "../model";

export interface EmulatorStore {
    /**
     * Runs `fn` on the current state and returns its result. `fn` must not
     * change the state nor keep a reference to it after returning.
     */
    read<T>(fn: (state: Readonly<EmulatorState>) => T): T;
    /**
     * Runs `fn` on a draft of the state and commits its changes when `fn`
     * returns: all or nothing. If `fn` throws, every change it made is undone
     * (in memory and on disk) and the error propagates. If persisting fails,
     * the change is undone too, and the error propagates. Costs what `fn`
     * changes, not the size of the state.
     *
     * Rules for `fn`: it must be synchronous (a returned promise is refused
     * and rolled back); it must not call `update` again; the draft and the
     * objects reached through it are proxies, valid only until `fn` returns
     * (copy them with `copyOf`, not `structuredClone`, which refuses
     * proxies); arrays in the state hold elements only. The value `fn`
     * returns comes back with drafts replaced by the state's own objects:
     * do not change it, nor keep it past the next change.
     */
    update<T>(fn: (draft: EmulatorState) => T): T;
    /** A deep copy of the whole state (what `GET /_emulator/state` returns). */
    snapshot(): EmulatorState;
    /** Where the state is kept: the snapshot file's path, or undefined for memory. */
    readonly location: string | undefined;
    /**
     * Releases the store. Every change is already durable when `update`
     * returns; the file store also folds its journal into the snapshot, so a
     * cleanly closed directory holds the snapshot file only. Further updates
     * fail.
     */
    close(): Promise<void>;
}
