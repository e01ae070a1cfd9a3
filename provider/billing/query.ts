/**
 * The list options of the contract's list operations, under the names the
 * Microsoft.Billing 2024-04-01 specification declares for each one (`top`,
 * `skip`, `filter`, `orderBy`), plus ARM's `$skiptoken` on next links:
 *
 * - how an operation declares them ({@link ListOptions}), so that the client
 *   sends only what the contract names and the emulator refuses the rest;
 * - how a request's query is read ({@link readQuery}): a name matches with or
 *   without a leading `$` and in any case, because Microsoft's SDKs send
 *   `top=1` while OData tools send `$top=1`;
 * - the two small grammars both sides share: `filter` (`field eq value`,
 *   clauses joined by `and`, the form Microsoft documents for these lists)
 *   and `orderBy` (`field [asc|desc]`, comma-separated).
 *
 * Pure: no I/O. The client checks a filter before any request; the emulator
 * evaluates it.
 */
import { z } from "zod";

/**
 * What a list operation takes besides its own parameters, as its spec
 * declares. Fields are property names of the listed items: `name`, `id`, or
 * a property under `properties` (also written `properties/x`).
 */
export interface ListOptions {
    /** Whether the spec declares `top` (the page size) and `skip`. */
    readonly paging: boolean;
    /** The fields `filter` may compare with `eq`; undefined when the spec declares no `filter`. */
    readonly filter?: readonly string[];
    /** The fields `orderBy` may sort on; undefined when the spec declares no `orderBy` (or it is refused). */
    readonly orderBy?: readonly string[];
    /**
     * Boolean options (`includeDeleted`, ...) that Microsoft's SDKs send on
     * every call with their default, `false`. Accepted as `true` or `false`
     * and honoured: each would add records the emulator never holds
     * (deleted, pending or resellee accounts, accounts reached through a
     * directory role), so the answer is the same either way.
     */
    readonly flags?: readonly string[];
    /**
     * Options the spec declares for the operation that neither side
     * implements (`count`, `search`, `includeDeleted`, ...): the emulator
     * answers 400 naming them, the client cannot send them.
     */
    readonly refused: readonly string[];
}

/** A bad list option, for the client's validation error or the emulator's 400. */
export class QueryOptionError extends Error {
    constructor(
        readonly option: string,
        message: string,
    ) {
        super(message);
    }
}

// ---------------------------------------------------------------------------
// Reading a query

/** A query name as the contract compares it: no leading `$`, lower case. */
export function canonicalName(name: string): string {
    return name.replace(/^\$/, "").toLowerCase();
}

/** Why a query parameter was not accepted. */
export type QueryProblem =
    | { kind: "unknown"; name: string; accepted: string[] }
    | { kind: "refused"; name: string; accepted: string[] }
    | { kind: "twice"; name: string; given: string[] };

/**
 * Reads a request's query against the names an operation declares
 * (`declared`, as its query schema spells them) and the ones it refuses:
 * each name given is matched case-insensitively, with or without `$`, and
 * returned under its declared spelling. `api-version` is left out (the
 * server checks it on its own). Returns the values, or the first problem.
 */
export function readQuery(
    entries: Iterable<[string, string]>,
    declared: readonly string[],
    refused: readonly string[],
): { values: Record<string, string> } | { problem: QueryProblem } {
    const byCanonical = new Map(declared.map((d) => [canonicalName(d), d]));
    const refusedSet = new Set(refused.map(canonicalName));
    const accepted = declared.filter((d) => d !== "skipToken");
    const values: Record<string, string> = {};
    const givenAs = new Map<string, string>();
    for (const [name, value] of entries) {
        if (name.toLowerCase() === "api-version") continue;
        const key = byCanonical.get(canonicalName(name));
        if (!key) {
            const kind = refusedSet.has(canonicalName(name)) ? "refused" : "unknown";
            return { problem: { kind, name, accepted } };
        }
        const before = givenAs.get(key);
        if (before !== undefined) return { problem: { kind: "twice", name: key, given: [before, name] } };
        givenAs.set(key, name);
        values[key] = value;
    }
    return { values };
}

/** The sentence a 400 for a query problem says, naming what the operation does take. */
export function describeQueryProblem(operationId: string, problem: QueryProblem): string {
    const takes = (accepted: string[]) => (accepted.length ? `it takes ${accepted.join(", ")}` : "it takes no query options besides api-version");
    switch (problem.kind) {
        case "unknown":
            return `The query parameter '${problem.name}' is not a parameter of ${operationId} in api-version 2024-04-01; ${takes(problem.accepted)}.`;
        case "refused":
            return `The query option '${problem.name}' of ${operationId} is declared by api-version 2024-04-01 but not supported here; ${takes(problem.accepted)}. Leave it out.`;
        case "twice":
            return `The query parameter '${problem.name}' was given twice (as ${problem.given.map((g) => `'${g}'`).join(" and ")}); give it once.`;
    }
}

// ---------------------------------------------------------------------------
// filter

/** A scalar a filter compares with. */
export type FilterValue = string | number | boolean | null;

/** One `field eq value` of a filter. */
export interface FilterClause {
    field: string;
    value: FilterValue;
}

/** Splits a filter into words and quoted strings (`''` is a quote inside a string). */
function tokens(text: string): Array<{ word: string; quoted: boolean }> {
    const out: Array<{ word: string; quoted: boolean }> = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) {
            i++;
            continue;
        }
        if (c === "'") {
            let s = "";
            i++;
            for (;;) {
                if (i >= text.length) throw new QueryOptionError("filter", `the string starting at position ${out.length + 1} has no closing quote (write a quote inside a string as '')`);
                if (text[i] === "'") {
                    if (text[i + 1] === "'") {
                        s += "'";
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                s += text[i++];
            }
            out.push({ word: s, quoted: true });
            continue;
        }
        let w = "";
        while (i < text.length && !/\s/.test(text[i]) && text[i] !== "'") w += text[i++];
        out.push({ word: w, quoted: false });
    }
    return out;
}

/** The field a filter or orderBy names, as the item holds it (`properties/status` and `status` alike). */
function fieldName(word: string, fields: readonly string[], option: string): string {
    const bare = word.replace(/^properties\//i, "");
    const found = fields.find((f) => f.toLowerCase() === bare.toLowerCase());
    if (!found) throw new QueryOptionError(option, `'${word}' is not a field ${option} can use here; use one of ${fields.join(", ")}`);
    return found;
}

function literal(t: { word: string; quoted: boolean }): FilterValue {
    if (t.quoted) return t.word;
    if (t.word === "true" || t.word === "false") return t.word === "true";
    if (t.word === "null") return null;
    if (/^-?\d+(\.\d+)?$/.test(t.word)) return Number(t.word);
    throw new QueryOptionError("filter", `'${t.word}' is not a value: quote strings ('Due'), or give a number, true, false or null`);
}

/**
 * Parses a filter of the form Microsoft documents for these lists:
 * `field eq value`, clauses joined by `and` (e.g. `status eq 'Due' and
 * isMonthlyInvoice eq true`). Anything else (`or`, `ne`, `gt`, functions,
 * parentheses) is refused with a message naming the supported form.
 */
export function parseFilter(text: string, fields: readonly string[]): FilterClause[] {
    const ts = tokens(text);
    if (ts.length === 0) throw new QueryOptionError("filter", "is empty: give field eq 'value', clauses joined by and");
    const clauses: FilterClause[] = [];
    let i = 0;
    for (;;) {
        const [f, op, v] = [ts[i], ts[i + 1], ts[i + 2]];
        if (!f || !op || !v || f.quoted || op.quoted || op.word.toLowerCase() !== "eq") {
            const got = ts.slice(i, i + 3).map((t) => (t.quoted ? `'${t.word}'` : t.word)).join(" ");
            throw new QueryOptionError("filter", `'${got}' is not supported: only field eq value, clauses joined by and (e.g. status eq 'Due'), is`);
        }
        clauses.push({ field: fieldName(f.word, fields, "filter"), value: literal(v) });
        i += 3;
        if (i >= ts.length) return clauses;
        if (ts[i].quoted || ts[i].word.toLowerCase() !== "and") {
            throw new QueryOptionError("filter", `'${ts[i].word}' is not supported between clauses: join clauses with and`);
        }
        i++;
    }
}

/** The value of a field of a listed item: `name`, `id`, `type`, or a property under `properties`. */
export function fieldOf(item: unknown, field: string): unknown {
    const o = (item ?? {}) as { properties?: Record<string, unknown> } & Record<string, unknown>;
    if (field === "name" || field === "id" || field === "type") return o[field];
    return o.properties?.[field];
}

function sameValue(held: unknown, wanted: FilterValue): boolean {
    if (wanted === null) return held === null || held === undefined;
    // ARM compares names and ids case-insensitively, and so does this.
    if (typeof wanted === "string") return typeof held === "string" && held.toLowerCase() === wanted.toLowerCase();
    return held === wanted;
}

/** True when the item satisfies every clause. */
export function matchesFilter(item: unknown, clauses: readonly FilterClause[]): boolean {
    return clauses.every((c) => sameValue(fieldOf(item, c.field), c.value));
}

// ---------------------------------------------------------------------------
// orderBy

/** One `field [asc|desc]` of an orderBy. */
export interface OrderClause {
    field: string;
    descending: boolean;
}

/** Parses `field [asc|desc]`, comma-separated (e.g. `invoiceDate desc`). */
export function parseOrderBy(text: string, fields: readonly string[]): OrderClause[] {
    const parts = text.split(",").map((p) => p.trim());
    if (parts.some((p) => p === "")) throw new QueryOptionError("orderBy", "has an empty item: give field asc or field desc, comma-separated");
    return parts.map((p) => {
        const words = p.split(/\s+/);
        const dir = (words[1] ?? "asc").toLowerCase();
        if (words.length > 2 || (dir !== "asc" && dir !== "desc")) {
            throw new QueryOptionError("orderBy", `'${p}' is not supported: give field asc or field desc (e.g. invoiceDate desc)`);
        }
        return { field: fieldName(words[0], fields, "orderBy"), descending: dir === "desc" };
    });
}

/** A comparator for the clauses; values compare as strings (ISO dates sort as text), missing ones first. */
export function orderComparator(clauses: readonly OrderClause[]): (a: unknown, b: unknown) => number {
    return (a, b) => {
        for (const c of clauses) {
            const x = fieldOf(a, c.field);
            const y = fieldOf(b, c.field);
            const cmp = x === y ? 0 : x === undefined || x === null ? -1 : y === undefined || y === null ? 1 : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0;
            if (cmp !== 0) return c.descending ? -cmp : cmp;
        }
        return 0;
    };
}

// ---------------------------------------------------------------------------
// Schemas

const whole = (option: string, min: number) =>
    z.coerce
        .number({ error: `must be a whole number (${option}=${min === 0 ? 0 : 1} or more)` })
        .int({ error: `must be a whole number (${option}=${min === 0 ? 0 : 1} or more)` })
        .min(min, { error: `must be ${min} or more` });

/** Runs a grammar as a zod refinement, so a bad option fails validation with the grammar's message. */
function grammar(parse: (s: string) => unknown) {
    return z.string().superRefine((s, ctx) => {
        try {
            parse(s);
        } catch (err) {
            if (!(err instanceof QueryOptionError)) throw err;
            ctx.addIssue({ code: "custom", message: err.message });
        }
    });
}

const topSchema = whole("top", 1).optional();
const skipSchema = whole("skip", 0).optional();
const textSchema = z.string().optional();
const flagSchema = z
    .union([z.boolean(), z.enum(["true", "false"], { error: "must be true or false" }).transform((v) => v === "true")])
    .optional();

/** The schemas of a list's options; an operation's shape holds the ones its spec declares. */
type ListQueryShape = {
    top: typeof topSchema;
    skip: typeof skipSchema;
    filter: typeof textSchema;
    orderBy: typeof textSchema;
    skipToken: typeof textSchema;
};

/**
 * The query schema shape of a list operation's options: `top` (page size,
 * 1 or more) and `skip`, `filter`, `orderBy` and the boolean flags where
 * the spec declares them, and `skipToken` (ARM's `$skiptoken` on next
 * links) always. Only the
 * declared keys exist at run time (the emulator refuses the others); the
 * type names all five, each optional, so callers of every list type alike.
 */
export function listQueryShape(options: ListOptions): ListQueryShape {
    const shape: Partial<Record<keyof ListQueryShape, z.ZodType>> = { skipToken: textSchema };
    if (options.paging) Object.assign(shape, { top: topSchema, skip: skipSchema });
    if (options.filter) shape.filter = grammar((s) => parseFilter(s, options.filter ?? [])).optional();
    if (options.orderBy) shape.orderBy = grammar((s) => parseOrderBy(s, options.orderBy ?? [])).optional();
    for (const flag of options.flags ?? []) (shape as Record<string, z.ZodType>)[flag] = flagSchema;
    return shape as ListQueryShape;
}

/** The options a caller of a list may give (the contract adds the operation's own parameters). */
export interface ListQuery {
    /** Items per page (Azure's page size; next links carry it). */
    top?: number;
    /** Items of the collection to skip before the first page. */
    skip?: number;
    /** `field eq value`, clauses joined by `and`. */
    filter?: string;
    /** `field [asc|desc]`, comma-separated. */
    orderBy?: string;
}
