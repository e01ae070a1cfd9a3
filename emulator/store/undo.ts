/**
 * All or nothing without copying: an undo log behind a proxy.
 *
 * `update` hands its function a draft, a proxy over the live state that
 * saves the old value of every property before it is first written. When the
 * function throws, the saved values are put back; when it returns, the log
 * is dropped. Nothing is copied or serialized whole, so a change costs what
 * it changes, not the size of the state. For a store that persists, the
 * same traps note where each write happened, which gives the journal the
 * records a commit added, removed or changed (`changes()`), again without
 * comparing whole states.
 *
 * Why a proxy and not a copy per update: the simple alternatives cost the
 * size of the state on every write. A deep copy to roll back to
 * (structuredClone), or a JSON snapshot rewritten per change, grows with the
 * invoices a benchmark seeds; and a journal of whole collections would grow
 * the same way. The undo log is the one part of the emulator that is
 * subtle; tests/unit/emulator/store.test.ts holds it to behaving like the
 * plain state (identity, array methods, nested writes, rollback of every
 * kind of change) and to never leaking a proxy into the state.
 */
import type { EmulatorState } from "../model";
import type { StoreChange } from "./changes";
import { TARGETS } from "./drafts";

export function isObject(v: unknown): v is object {
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
export function undraft(value: unknown, seen?: Set<object>): unknown {
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
 * One run of `update`: hands out drafts, saves what they overwrite (for
 * rollback) and, when the store persists, notes where each write happened
 * (for the journal).
 */
export class Transaction {
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
