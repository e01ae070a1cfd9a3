/**
 * Where the emulator keeps its state, behind one small interface (after
 * Azurite's metadata stores) so handlers never know whether it lives in memory
 * or on disk.
 *
 * Two implementations:
 * - {@link createMemoryStore}: the state lives and dies with the process;
 * - {@link openFileStore}: the state lives in a directory as a snapshot
 *   (`emulator-state.json`) plus a journal of the changes made since
 *   (`emulator-state.journal`), so a restart on the same directory finds the
 *   same state and the same tokens. One store per directory, held by
 *   `.lock` until it is closed.
 *
 * A change costs what it changes, not the size of the state:
 * - **all or nothing** comes from an undo log. `update` hands its function a
 *   draft: a proxy over the live state that saves the old value of every
 *   property before it is first written. When the function throws, the saved
 *   values are put back; when it returns, the log is dropped. Nothing is
 *   copied or serialized whole.
 * - **durability** (file store) comes from the journal. The changes of a
 *   committed update (the records added, removed or changed, by position in
 *   their collection; small top-level values whole) are appended as one JSON
 *   line and `fdatasync`ed before `update` returns, so before the server
 *   answers. The snapshot is rewritten only when the journal has grown past
 *   it (amortised: each journal byte pays for at most one snapshot byte), at
 *   open and at a clean close, always atomically (temp file, fsync, rename).
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
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigurationError } from "../provider/billing/configurationError";
import { EmulatorState, migrateState } from "./model";

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

// ---------------------------------------------------------------------------
// Drafts: an undo log behind a proxy

/** Every draft proxy ever handed out, mapped to the object it stands for. */
const TARGETS = new WeakMap<object, object>();

function isObject(v: unknown): v is object {
    return typeof v === "object" && v !== null;
}

function isPlainObject(v: object): boolean {
    const proto = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

/**
 * Replaces drafts inside a value (about to be stored, or returned by `fn`)
 * with the objects they stand for, so the state never holds a proxy. Walks
 * the containers that are not drafts themselves: values `fn` built.
 */
function undraft(value: unknown, seen?: Set<object>): unknown {
    if (!isObject(value)) return value;
    const target = TARGETS.get(value);
    if (target) return target;
    if (!seen) seen = new Set();
    else if (seen.has(value)) return value;
    seen.add(value);
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
            const u = undraft(value[i], seen);
            if (u !== value[i]) value[i] = u;
        }
    } else if (isPlainObject(value)) {
        const record = value as Record<string, unknown>;
        for (const k of Object.keys(record)) {
            const u = undraft(record[k], seen);
            if (u !== record[k]) record[k] = u;
        }
    }
    return value;
}

/** Where an object sits in the state: under which top-level key, and in which record of a collection. */
interface Where {
    /** The top-level key (`invoices`, `settings`, ...); undefined for the state itself. */
    top: string | undefined;
    /** The element of the top-level array this object is (or is inside); undefined above that level or outside arrays. */
    record: object | undefined;
    /** The record's index when it was reached. */
    index: number;
}

interface Saved {
    had: boolean;
    value: unknown;
}

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

/**
 * One run of `update`: hands out drafts, saves what they overwrite (for
 * rollback) and, when the store persists, notes where each write happened
 * (for the journal).
 */
class Transaction {
    private active = true;
    private readonly proxies = new Map<object, object>();
    private readonly where = new Map<object, Where>();
    private readonly undo = new Map<object, Map<string | symbol, Saved>>();
    /** Arrays written, with their length before the first write. */
    private readonly lengths = new Map<unknown[], number>();
    /** Per top-level key: whether the value itself (a collection's membership) changed, and which records changed (with their index). */
    private readonly touched = new Map<string, { structure: boolean; records: Map<object, number> }>();
    private readonly handler: ProxyHandler<object>;

    constructor(
        private readonly root: Record<string, unknown>,
        private readonly track: boolean,
    ) {
        const tx = this;
        this.handler = {
            get(target, key) {
                const value: unknown = Reflect.get(target, key);
                // Also after the update: a kept draft hands out drafts, whose writes then throw.
                return isObject(value) ? tx.wrap(value, target, key) : value;
            },
            set(target, key, value) {
                const v = undraft(value);
                tx.write(target, key, v);
                // Three arguments: set on the target itself, not through the proxy again.
                return Reflect.set(target, key, v);
            },
            deleteProperty(target, key) {
                tx.write(target, key, undefined);
                return Reflect.deleteProperty(target, key);
            },
            defineProperty(target, key, descriptor) {
                const d = "value" in descriptor ? { ...descriptor, value: undraft(descriptor.value) } : descriptor;
                tx.write(target, key, d.value);
                return Reflect.defineProperty(target, key, d);
            },
        };
    }

    draft(): EmulatorState {
        if (this.track) this.where.set(this.root, { top: undefined, record: undefined, index: -1 });
        return this.proxyOf(this.root) as unknown as EmulatorState;
    }

    private proxyOf(target: object): object {
        let proxy = this.proxies.get(target);
        if (!proxy) {
            proxy = new Proxy(target, this.handler);
            this.proxies.set(target, proxy);
            TARGETS.set(proxy, target);
        }
        return proxy;
    }

    private wrap(value: object, parent: object, key: string | symbol): object {
        const known = this.proxies.get(value);
        if (known) return known;
        if (this.track) {
            const p = this.where.get(parent) as Where;
            let w: Where = p;
            if (p.top === undefined) w = { top: String(key), record: undefined, index: -1 };
            else if (p.record === undefined && Array.isArray(parent)) w = { top: p.top, record: value, index: Number(key) };
            this.where.set(value, w);
        }
        return this.proxyOf(value);
    }

    private save(target: object, saved: Map<string | symbol, Saved>, key: string | symbol): void {
        if (!saved.has(key)) saved.set(key, { had: Object.prototype.hasOwnProperty.call(target, key), value: (target as Record<string | symbol, unknown>)[key] });
    }

    private write(target: object, key: string | symbol, value: unknown): void {
        if (!this.active) {
            throw new TypeError("emulator store: the state was changed through a draft after its update returned; change state inside store.update only");
        }
        let saved = this.undo.get(target);
        if (!saved) this.undo.set(target, (saved = new Map()));
        if (Array.isArray(target)) {
            if (!this.lengths.has(target)) this.lengths.set(target, target.length);
            if (key === "length") {
                // A shorter length drops elements without a trap per element: save them first.
                const next = Number(value);
                for (let i = Number.isInteger(next) && next >= 0 ? next : target.length; i < target.length; i++) this.save(target, saved, String(i));
            } else {
                this.save(target, saved, key);
            }
        } else {
            this.save(target, saved, key);
        }
        if (this.track) {
            const w = this.where.get(target) as Where;
            const top = w.top ?? String(key);
            let t = this.touched.get(top);
            if (!t) this.touched.set(top, (t = { structure: false, records: new Map() }));
            if (w.record === undefined) t.structure = true;
            else t.records.set(w.record, w.index);
        }
    }

    /** Puts back every saved value: the state is as before `update`. */
    rollback(): void {
        for (const [target, saved] of this.undo) {
            const t = target as Record<string | symbol, unknown>;
            for (const [key, s] of saved) {
                if (s.had) t[key] = s.value;
                else delete t[key];
            }
        }
        for (const [array, length] of this.lengths) array.length = length;
    }

    /** Ends the transaction: its drafts no longer accept writes. */
    end(): void {
        this.active = false;
    }

    /** The array's elements before this transaction. */
    private before(array: unknown[]): unknown[] {
        const saved = this.undo.get(array);
        const length = this.lengths.get(array);
        if (!saved || length === undefined) return array;
        const out = new Array<unknown>(length);
        for (let i = 0; i < length; i++) {
            const s = saved.get(String(i));
            out[i] = s ? s.value : array[i];
        }
        return out;
    }

    /** What this transaction changed, for the journal (tracking stores only). */
    changes(): StoreChange[] {
        const out: StoreChange[] = [];
        const rootSaved = this.undo.get(this.root);
        for (const [key, t] of this.touched) {
            if (!Object.prototype.hasOwnProperty.call(this.root, key)) {
                out.push({ key, deleted: true });
                continue;
            }
            const now = this.root[key];
            const replaced = rootSaved?.get(key);
            const oldValue = replaced ? replaced.value : now;
            if (!Array.isArray(now) || !Array.isArray(oldValue)) {
                out.push({ key, value: now });
                continue;
            }
            let change: StoreChange | undefined;
            if (!replaced && !t.structure) {
                // Only records changed, in place: their indices still hold.
                change = { key, removed: [], inserted: [], updated: [...t.records].map(([record, index]) => [index, record] as [number, unknown]) };
            } else if (!replaced && this.appendedOnly(now)) {
                const length = this.lengths.get(now) as number;
                const inserted: Array<[number, unknown]> = [];
                for (let i = length; i < now.length; i++) inserted.push([i, now[i]]);
                const updated = [...t.records].filter(([, index]) => index < length).map(([record, index]) => [index, record] as [number, unknown]);
                change = { key, removed: [], inserted, updated };
            } else {
                change = diffRecords(key, this.before(oldValue), now, t.records);
            }
            if (!change) out.push({ key, value: now });
            else if (!("removed" in change) || change.removed.length + change.inserted.length + change.updated.length > 0) out.push(change);
        }
        return out;
    }

    /** True when the array only grew at its end in this transaction. */
    private appendedOnly(array: unknown[]): boolean {
        const length = this.lengths.get(array);
        if (length === undefined) return true;
        if (array.length < length) return false;
        for (const [key, s] of this.undo.get(array) ?? []) {
            if (s.had || (typeof key === "string" && Number(key) < length)) return false;
        }
        return true;
    }
}

/**
 * The records removed, inserted and changed between two versions of a
 * collection, matched by identity; undefined when kept records changed order
 * (the journal then writes the collection whole).
 */
function diffRecords(key: string, before: unknown[], after: unknown[], dirty: Map<object, number>): StoreChange | undefined {
    const position = new Map<unknown, number>();
    for (let i = 0; i < before.length; i++) {
        if (position.has(before[i])) return undefined;
        position.set(before[i], i);
    }
    const kept = new Uint8Array(before.length);
    const inserted: Array<[number, unknown]> = [];
    const updated: Array<[number, unknown]> = [];
    let last = -1;
    for (let j = 0; j < after.length; j++) {
        const x = after[j];
        const i = position.get(x);
        if (i === undefined || kept[i]) {
            inserted.push([j, x]);
            continue;
        }
        if (i < last) return undefined;
        kept[i] = 1;
        last = i;
        if (isObject(x) && dirty.has(x)) updated.push([j, x]);
    }
    const removed: number[] = [];
    for (let i = 0; i < before.length; i++) if (!kept[i]) removed.push(i);
    return { key, removed, inserted, updated };
}

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

// ---------------------------------------------------------------------------
// Memory store

/** Keeps the state in memory; changes run in transactions (undo log). */
class MemoryStore implements EmulatorStore {
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

// ---------------------------------------------------------------------------
// File store

/** The snapshot file of a file store, inside its directory. */
export const STATE_FILE = "emulator-state.json";
/** The journal of changes since the snapshot, inside the same directory. */
export const JOURNAL_FILE = "emulator-state.journal";
/** The lock that keeps a second emulator out of a directory in use, holding the owner's pid. */
export const LOCK_FILE = ".lock";
/** The journal is folded into the snapshot once it is larger than the snapshot and than this. */
const MIN_COMPACTION_BYTES = 1024 * 1024;

function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

function journalHeader(snapshotText: string): Buffer {
    return Buffer.from(`${JSON.stringify({ journal: 1, base: sha256(snapshotText) })}\n`);
}

function writeAll(fd: number, bytes: Buffer, position: number): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** Makes a rename or unlink in `dir` durable (where the platform allows fsync on a directory). */
function fsyncDir(dir: string): void {
    let fd: number | undefined;
    try {
        fd = fs.openSync(dir, "r");
        fs.fsyncSync(fd);
    } catch {
        // Not supported here (e.g. Windows): the rename is still atomic.
    } finally {
        if (fd !== undefined) fs.closeSync(fd);
    }
}

let tempCounter = 0;
function tempName(file: string): string {
    return `${file}.${process.pid}.${++tempCounter}.tmp`;
}

/** Writes `text` to `file` so that readers see the old or the new content, never a mix. */
function writeAtomically(file: string, text: string): void {
    const tmp = tempName(file);
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
        writeAll(fd, Buffer.from(text), 0);
        fs.fsyncSync(fd);
    } catch (err) {
        fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    fs.closeSync(fd);
    try {
        fs.renameSync(tmp, file);
    } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    fsyncDir(path.dirname(file));
}

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

/**
 * Applies the journal's complete lines to `state` when the journal continues
 * this snapshot. Returns how many changes it applied.
 */
function replayJournal(journal: string, snapshotText: string, state: EmulatorState): number {
    let text: string;
    try {
        text = fs.readFileSync(journal, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
        throw err;
    }
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

function load(dir: string): Loaded | undefined {
    const file = path.join(dir, STATE_FILE);
    const journal = path.join(dir, JOURNAL_FILE);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
    }
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

// ---------------------------------------------------------------------------
// The directory lock

/** The lock files this process holds. */
const HELD_LOCKS = new Set<string>();

/**
 * Whether the process with this pid holds its lock: it runs (EPERM: it runs,
 * as another user), and if it is this process, this process took the lock
 * (a container restarted with the same pid left a lock it never took).
 */
function isRunning(pid: number, file: string): boolean {
    if (pid === process.pid) return HELD_LOCKS.has(file);
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** The pid a lock file names, or undefined when it names none. */
function lockOwner(file: string): number | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
    }
    const pid = Number(text.trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes `dir/.lock` for this process, or fails with a ConfigurationError
 * naming the directory and the process that holds it. Two emulators on one
 * directory would each append to the journal and fold it into the snapshot
 * with their own state, and one would silently lose the other's answered
 * changes.
 *
 * The lock file appears whole (written beside it, then hard-linked into
 * place, which fails if it exists), so its pid is never read half-written. A
 * lock whose pid no longer runs was left by a killed emulator (`kill -9`, a
 * crash): it is taken over. The takeover renames the stale file away first
 * and checks it still named the dead pid, so two emulators taking over the
 * same stale lock cannot both win.
 */
function acquireLock(dir: string): string {
    const file = path.resolve(dir, LOCK_FILE);
    const mine = tempName(file);
    fs.writeFileSync(mine, `${process.pid}\n`, { mode: 0o644 });
    try {
        for (let attempt = 0; attempt < 5; attempt++) {
            try {
                fs.linkSync(mine, file);
                HELD_LOCKS.add(file);
                return file;
            } catch (err) {
                if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
            }
            const owner = lockOwner(file);
            if (owner !== undefined && isRunning(owner, file)) {
                throw new ConfigurationError(
                    "emulator dataDir",
                    `${dir} is in use by another emulator (process ${owner}${owner === process.pid ? ", this one" : ""}, see ${file}); ` +
                        `stop it or choose another data directory. If no emulator runs on it, delete ${file}.`,
                );
            }
            // Stale: move it aside, and keep it only if it still was the stale one (not a lock just taken by another emulator).
            const aside = tempName(`${file}.stale`);
            try {
                fs.renameSync(file, aside);
            } catch (err) {
                if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
                throw err;
            }
            const moved = lockOwner(aside);
            if (moved !== owner && moved !== undefined && isRunning(moved, file)) {
                try {
                    fs.linkSync(aside, file);
                } catch {
                    // Yet another emulator holds it now; the next attempt names it.
                }
            }
            fs.rmSync(aside, { force: true });
        }
        throw new ConfigurationError("emulator dataDir", `could not take ${file}: other emulators keep starting on ${dir}; start one at a time.`);
    } finally {
        fs.rmSync(mine, { force: true });
    }
}

/** Gives the lock up, if this process still holds it. */
function releaseLock(file: string): void {
    if (!HELD_LOCKS.delete(file)) return;
    if (lockOwner(file) === process.pid) fs.rmSync(file, { force: true });
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
