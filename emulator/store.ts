/**
 * Where the emulator keeps its state, behind one small interface (after
 * Azurite's metadata stores) so handlers never know whether it lives in memory
 * or on disk.
 *
 * Two implementations:
 * - {@link createMemoryStore}: the state lives and dies with the process;
 * - {@link openFileStore}: the state is a JSON file in a directory, rewritten
 *   atomically (temp file, fsync, rename) after every committed change, so a
 *   crash leaves either the old or the new file, never half of one, and a
 *   restart on the same directory finds the same state and the same tokens.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EmulatorState } from "./model";

export interface EmulatorStore {
    /**
     * Runs `fn` on the current state and returns its result. `fn` must not
     * change the state nor keep a reference to it after returning.
     */
    read<T>(fn: (state: Readonly<EmulatorState>) => T): T;
    /**
     * Runs `fn` on the state and commits its changes when `fn` returns: all or
     * nothing. If `fn` throws, the state is restored as it was (in memory and
     * on disk) and the error propagates. If persisting fails, the change is
     * rolled back too, and the error propagates. `fn` must be synchronous and
     * the value it returns must not be kept past the next change.
     */
    update<T>(fn: (draft: EmulatorState) => T): T;
    /** A deep copy of the whole state (what `GET /_emulator/state` returns). */
    snapshot(): EmulatorState;
    /** Where the state is kept: a file path, or undefined for memory. */
    readonly location: string | undefined;
    /** Releases the store. The state is already persisted; this never loses a change. */
    close(): Promise<void>;
}

/**
 * Keeps the live state plus its last committed form as JSON text. A change
 * runs on the live state; on success the new JSON becomes the committed form
 * (and the file store writes it), on failure the live state is restored from
 * the committed JSON. So a commit costs one serialization instead of a deep
 * copy of the state, and a failed change still leaves no trace.
 */
class MemoryStore implements EmulatorStore {
    readonly location: string | undefined = undefined;
    protected state: EmulatorState;
    protected committed: string;

    constructor(state: EmulatorState) {
        this.state = state;
        this.committed = JSON.stringify(state);
    }

    read<T>(fn: (state: Readonly<EmulatorState>) => T): T {
        return fn(this.state);
    }

    update<T>(fn: (draft: EmulatorState) => T): T {
        let result: T;
        let text: string;
        try {
            result = fn(this.state);
            text = JSON.stringify(this.state);
            this.persist(text);
        } catch (err) {
            this.state = JSON.parse(this.committed) as EmulatorState;
            throw err;
        }
        this.committed = text;
        return result;
    }

    /** Hook for stores that persist: throw to refuse the commit. */
    protected persist(_text: string): void {}

    snapshot(): EmulatorState {
        return JSON.parse(this.committed) as EmulatorState;
    }

    async close(): Promise<void> {}
}

/** A store that keeps `initial` in memory only. */
export function createMemoryStore(initial: EmulatorState): EmulatorStore {
    return new MemoryStore(structuredClone(initial));
}

/** The file a file store keeps its state in, inside its directory. */
export const STATE_FILE = "emulator-state.json";

class FileStore extends MemoryStore {
    override readonly location: string;

    constructor(
        state: EmulatorState,
        private readonly file: string,
    ) {
        super(state);
        this.location = file;
    }

    protected override persist(text: string): void {
        writeAtomically(this.file, text);
    }

    /** Writes the current state (used once after seeding). */
    flush(): void {
        writeAtomically(this.file, this.committed);
    }
}

let tempCounter = 0;

/** Writes `text` to `file` so that readers see the old or the new content, never a mix. */
function writeAtomically(file: string, text: string): void {
    const tmp = `${file}.${process.pid}.${++tempCounter}.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
        fs.writeFileSync(fd, text);
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    try {
        fs.renameSync(tmp, file);
    } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
    }
}

/**
 * Opens (or creates) a file store in `dir`. When the directory holds no state
 * yet, `seed()` provides it and it is written at once; otherwise the file is
 * loaded and validated, and `seed` is not called.
 *
 * Fails with a message naming the file when it is not valid emulator state
 * (corrupt, or written by an incompatible version): delete it or use another
 * directory.
 */
export function openFileStore(dir: string, seed: () => EmulatorState): { store: EmulatorStore; created: boolean } {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, STATE_FILE);
    let text: string | undefined;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (text === undefined) {
        const store = new FileStore(seed(), file);
        store.flush();
        return { store, created: true };
    }
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (err) {
        throw new Error(`${file} is not valid JSON (${(err as Error).message}); delete it or choose another data directory`);
    }
    const parsed = EmulatorState.safeParse(raw);
    if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new Error(
            `${file} is not emulator state of this version (${first.path.join(".") || "(root)"}: ${first.message}); delete it or choose another data directory`,
        );
    }
    return { store: new FileStore(parsed.data, file), created: false };
}
