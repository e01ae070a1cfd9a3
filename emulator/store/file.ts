/**
 * The file store: the state lives in a directory as a snapshot
 * (`emulator-state.json`) plus a journal of the changes made since
 * (journal.ts), so a restart on the same directory finds the same state and
 * the same tokens. One store per directory, held by `.lock` (lock.ts) until
 * it is closed.
 *
 * Durability: the changes of a committed update (the records added, removed
 * or changed, by position in their collection; small top-level values whole)
 * are appended to the journal as one line and `fdatasync`ed before `update`
 * returns. The snapshot is rewritten only when the journal has grown past it
 * (amortised: each journal byte pays for at most one snapshot byte), at open
 * and at a clean close, always atomically (temp file, fsync, rename).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { EmulatorState, migrateState } from "../model";
import type { StoreChange } from "./changes";
import type { EmulatorStore } from "./contract";
import { fsyncDir, readIfExists, tempName, writeAll, writeAtomically } from "./files";
import { JOURNAL_FILE, journalHeader, replayJournal } from "./journal";
import { acquireLock, releaseLock } from "./lock";
import { MemoryStore } from "./memory";

/** The snapshot file of a file store, inside its directory. */
export const STATE_FILE = "emulator-state.json";
/** The journal is folded into the snapshot once it is larger than the snapshot and than this. */
const MIN_COMPACTION_BYTES = 1024 * 1024;

/** What a directory holds, as a restart would load it. */
interface Loaded {
    state: EmulatorState;
    /** The snapshot's text as read. */
    text: string;
    /** True when the state differs from the snapshot's text (journal replayed, or an older version upgraded). */
    changed: boolean;
}

function parseSnapshot(file: string, text: string): { state: EmulatorState; migrated: boolean } {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (err) {
        throw new Error(`${file} is not valid JSON (${(err as Error).message}); delete it or choose another data directory`);
    }
    const { state, migrated } = migrateState(raw);
    const parsed = EmulatorState.safeParse(state);
    if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new Error(
            `${file} is not emulator state of this version (${first.path.join(".") || "(root)"}: ${first.message}); delete it or choose another data directory`,
        );
    }
    return { state: parsed.data, migrated };
}

function load(dir: string): Loaded | undefined {
    const file = path.join(dir, STATE_FILE);
    const journal = path.join(dir, JOURNAL_FILE);
    const text = readIfExists(file);
    if (text === undefined) return undefined;
    const { state, migrated } = parseSnapshot(file, text);
    const applied = replayJournal(journal, text, state);
    if (applied === 0) return { state, text, changed: migrated };
    const parsed = EmulatorState.safeParse(state);
    if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new Error(`${journal} does not replay to valid state (${first.path.join(".") || "(root)"}: ${first.message}); the journal is corrupt`);
    }
    return { state: parsed.data, text, changed: true };
}

/**
 * The state a directory holds, exactly as an emulator started on it would
 * load it (snapshot plus journal), without changing the directory; undefined
 * when it holds none. Fails like {@link openFileStore} on corrupt files.
 */
export function readStateDir(dir: string): EmulatorState | undefined {
    return load(dir)?.state;
}

class FileStore extends MemoryStore {
    override readonly location: string;
    private readonly journal: string;
    private fd: number | undefined;
    /** Bytes of the journal that hold complete lines (the header included). */
    private journalBytes = 0;
    private headerBytes = 0;
    private compactAt = MIN_COMPACTION_BYTES;
    /** Set when the files on disk can no longer be trusted to follow the state: every later update fails. */
    private broken: Error | undefined;

    constructor(
        state: EmulatorState,
        private readonly dir: string,
        /** The directory lock this store holds until it is closed. */
        private readonly lock: string,
    ) {
        super(state);
        this.location = path.join(dir, STATE_FILE);
        this.journal = path.join(dir, JOURNAL_FILE);
    }

    protected override get tracksChanges(): boolean {
        return true;
    }

    protected override assertWritable(): void {
        super.assertWritable();
        if (this.broken) throw this.broken;
    }

    /**
     * Starts a fresh journal after `snapshotText`; with `writeSnapshot`, first
     * writes the state as the new snapshot. Crash-safe at every step: the new
     * journal is complete before it replaces the old one, and an old journal
     * left beside a new snapshot names the old snapshot, so it is ignored.
     */
    compact(writeSnapshot: boolean, snapshotText?: string): void {
        const text = snapshotText ?? JSON.stringify(this.state);
        const header = journalHeader(text);
        const tmp = tempName(this.journal);
        const fd = fs.openSync(tmp, "w+", 0o600);
        try {
            writeAll(fd, header, 0);
            fs.fdatasyncSync(fd);
            if (writeSnapshot) writeAtomically(this.location, text);
        } catch (err) {
            fs.closeSync(fd);
            fs.rmSync(tmp, { force: true });
            throw err;
        }
        try {
            fs.renameSync(tmp, this.journal);
            fsyncDir(this.dir);
        } catch (err) {
            // The snapshot may be new while the journal on disk names the old one: appending to either would lose changes.
            fs.closeSync(fd);
            fs.rmSync(tmp, { force: true });
            this.broken = new Error(`emulator store: could not replace ${this.journal} (${(err as Error).message}); restart the emulator on ${this.dir}`);
            throw this.broken;
        }
        if (this.fd !== undefined) fs.closeSync(this.fd);
        this.fd = fd;
        this.journalBytes = this.headerBytes = header.length;
        this.compactAt = Math.max(MIN_COMPACTION_BYTES, text.length);
    }

    protected override persist(changes: StoreChange[]): void {
        const fd = this.fd as number;
        const line = Buffer.from(`${JSON.stringify({ changes })}\n`);
        try {
            writeAll(fd, line, this.journalBytes);
            fs.fdatasyncSync(fd);
        } catch (err) {
            try {
                fs.ftruncateSync(fd, this.journalBytes);
            } catch (again) {
                this.broken = new Error(`emulator store: ${this.journal} could not be written nor repaired (${(again as Error).message}); restart the emulator on ${this.dir}`);
            }
            throw err;
        }
        this.journalBytes += line.length;
        if (this.journalBytes > this.compactAt) {
            try {
                this.compact(true);
            } catch {
                // The change is durable in the journal already; try again when the journal has doubled.
                this.compactAt = this.journalBytes * 2;
            }
        }
    }

    override async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        try {
            if (this.fd === undefined) return;
            fs.closeSync(this.fd);
            this.fd = undefined;
            if (this.broken) return;
            // Fold the journal into the snapshot, then drop it: a closed directory holds one file.
            if (this.journalBytes > this.headerBytes) writeAtomically(this.location, JSON.stringify(this.state));
            fs.rmSync(this.journal, { force: true });
            fsyncDir(this.dir);
        } finally {
            // Last: the next emulator may start only once the directory is complete.
            releaseLock(this.lock);
        }
    }
}

/**
 * Opens (or creates) a file store in `dir`. When the directory holds no state
 * yet, `seed()` provides it and it is written at once; otherwise the snapshot
 * is loaded, upgraded from an earlier version if needed, the journal
 * replayed, the result validated and written back as the new snapshot, and
 * `seed` is not called.
 *
 * One store per directory: the store holds `dir/.lock` (the owner's pid)
 * from open to close. Fails with a ConfigurationError naming the directory
 * when a running process holds it (this one included); a lock left by a
 * process that no longer runs is taken over.
 *
 * Fails with a message naming the file when the snapshot is not valid
 * emulator state (corrupt, or written by an incompatible version) or the
 * journal is corrupt: delete it or use another directory. The lock is
 * released then.
 */
export function openFileStore(dir: string, seed: () => EmulatorState): { store: EmulatorStore; created: boolean } {
    fs.mkdirSync(dir, { recursive: true });
    const lock = acquireLock(dir);
    try {
        const loaded = load(dir);
        if (!loaded) {
            // A journal without its snapshot belongs to a state that was deleted.
            fs.rmSync(path.join(dir, JOURNAL_FILE), { force: true });
            const store = new FileStore(seed(), dir, lock);
            store.compact(true);
            return { store, created: true };
        }
        const store = new FileStore(loaded.state, dir, lock);
        if (loaded.changed) store.compact(true);
        else store.compact(false, loaded.text);
        return { store, created: false };
    } catch (err) {
        releaseLock(lock);
        throw err;
    }
}
