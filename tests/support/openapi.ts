/**
 * Checks a JSON value against a definition of Microsoft's OpenAPI 2.0 files
 * (tests/vectors/azure-billing/openapi): every property a definition lists as
 * `required` is present, and every value present has the `type` its schema
 * declares. `$ref` (within a file, to `./other.json`, and to ARM's common
 * types) and `allOf` are followed; properties the spec does not name are
 * allowed, as ARM allows them. Pure, apart from reading the files once.
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../dev/paths";

export const OPENAPI_DIR = path.join(REPO_ROOT, "tests", "vectors", "azure-billing", "openapi");

type Schema = {
    $ref?: string;
    allOf?: Schema[];
    type?: string;
    required?: string[];
    properties?: Record<string, Schema>;
    items?: Schema;
    additionalProperties?: Schema | boolean;
};

const files = new Map<string, { definitions: Record<string, Schema> }>();

/** A spec file by the name refs use (`billingProfile.json`); excerpts are kept as `<name>.definitions.json`. */
function load(name: string): { definitions: Record<string, Schema> } {
    const base = path.basename(name);
    let f = files.get(base);
    if (!f) {
        const whole = path.join(OPENAPI_DIR, base);
        const excerpt = path.join(OPENAPI_DIR, base.replace(/\.json$/, ".definitions.json"));
        f = JSON.parse(fs.readFileSync(fs.existsSync(whole) ? whole : excerpt, "utf8")) as { definitions: Record<string, Schema> };
        files.set(base, f);
    }
    return f;
}

interface Ref {
    file: string;
    name: string;
}

function resolve(ref: string, from: string): Ref {
    const [file, pointer] = ref.split("#");
    const name = pointer.replace(/^\/definitions\//, "");
    if (!file) return { file: from, name };
    // ARM's common types, kept as an excerpt of their definitions.
    if (file.includes("common-types/resource-management/v5/")) return { file: "common-types-v5.json", name };
    return { file: path.basename(file), name };
}

function definition(ref: Ref): Schema {
    const d = load(ref.file).definitions[ref.name];
    if (!d) throw new Error(`${ref.file} has no definition ${ref.name}`);
    return d;
}

function typeOf(v: unknown): string {
    if (Array.isArray(v)) return "array";
    if (v === null) return "null";
    if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
    return typeof v;
}

/** Every problem of `value` against `schema` (empty when it conforms). */
function check(value: unknown, schema: Schema, file: string, at: string, out: string[]): void {
    if (schema.$ref) {
        const ref = resolve(schema.$ref, file);
        check(value, definition(ref), ref.file, at, out);
        return;
    }
    for (const part of schema.allOf ?? []) check(value, part, file, at, out);
    // Azure writes null for a property it has no value for (soldTo: null in Microsoft's own example).
    if (value === null || value === undefined) return;
    const t = typeOf(value);
    if (schema.type) {
        const ok = schema.type === t || (schema.type === "number" && t === "integer");
        if (!ok) {
            out.push(`${at}: is ${t}, the spec says ${schema.type}`);
            return;
        }
    }
    if (t === "object") {
        const o = value as Record<string, unknown>;
        for (const r of schema.required ?? []) if (o[r] === undefined || o[r] === null) out.push(`${at}.${r}: required by the spec, missing`);
        for (const [k, s] of Object.entries(schema.properties ?? {})) if (k in o) check(o[k], s, file, `${at}.${k}`, out);
        if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
            for (const [k, v] of Object.entries(o)) if (!(k in (schema.properties ?? {}))) check(v, schema.additionalProperties, file, `${at}.${k}`, out);
        }
    }
    if (t === "array" && schema.items) (value as unknown[]).forEach((v, i) => check(v, schema.items as Schema, file, `${at}[${i}]`, out));
}

/**
 * The problems of a value against a definition, e.g.
 * `specProblems(body, "billingProfile.json", "BillingProfile")`.
 */
export function specProblems(value: unknown, file: string, name: string): string[] {
    const out: string[] = [];
    check(value, { $ref: `./${file}#/definitions/${name}` }, file, "(body)", out);
    return out;
}

/** Every `required` list the spec files hold, by definition: what {@link specProblems} enforces. */
export function requiredLists(): Array<{ file: string; definition: string; required: string[] }> {
    const out: Array<{ file: string; definition: string; required: string[] }> = [];
    for (const f of fs.readdirSync(OPENAPI_DIR).filter((n) => n.endsWith(".json"))) {
        const defs = (JSON.parse(fs.readFileSync(path.join(OPENAPI_DIR, f), "utf8")) as { definitions: Record<string, Schema> }).definitions;
        for (const [name, d] of Object.entries(defs)) if (d.required?.length) out.push({ file: f, definition: name, required: d.required });
    }
    return out;
}
