/**
 * Raw-HTTP helpers for the emulator's integration tests. Every answer that
 * goes through {@link EmulatorHttp} is checked against the shared contract:
 * a request id on every response, a declared status, and a body that parses
 * with the schema for that status (or, for errors, as one of Azure's three
 * error bodies). Tests therefore cannot pass on an answer a real client would
 * reject.
 */
import { expect } from "chai";
import { API_VERSION, matchOperation, operations, responseSchema, type OperationId } from "../../../provider/billing/contract";
import type { BillingProfileRef } from "../../../provider/billing/names";
import { parseErrorBody } from "../../../provider/billing/schemas";
import { SEED, type SeedUserKey } from "../../../emulator";

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Answer {
    status: number;
    headers: Headers;
    /** Parsed JSON, or undefined for an empty body. */
    body: any;
    text: string;
}

/** Which (operation, status) pairs the tests have seen, across all files. */
export const seen = new Set<string>();

const OPERATION_RESULT = /\/operationResults\/(putBillingProfile|createBillingRoleAssignment|invoiceDownload)_[^/]+$/i;
const LRO_OPERATIONS: Record<string, OperationId> = {
    putbillingprofile: "putBillingProfile",
    createbillingroleassignment: "createBillingRoleAssignment",
    invoicedownload: "downloadInvoice",
};

/** Asserts that one answer is one a client built on the contract accepts. */
export function assertContract(method: string, url: URL, answer: Answer): void {
    expect(answer.headers.get("x-ms-request-id"), `x-ms-request-id on ${method} ${url.pathname}`).to.match(GUID);
    expect(answer.headers.get("x-ms-correlation-request-id"), "x-ms-correlation-request-id").to.be.a("string").and.not.empty;
    if (url.pathname.startsWith("/_emulator") || url.pathname.startsWith("/_blob")) return;
    if (answer.status >= 400) {
        expect(parseErrorBody(answer.body), `error body of ${method} ${url.pathname}: ${answer.text}`).to.not.equal(undefined);
        return;
    }
    const lro = OPERATION_RESULT.exec(url.pathname);
    if (lro) {
        const op = operations[LRO_OPERATIONS[lro[1].toLowerCase()]];
        if (answer.status === 202) {
            expect(answer.text, "a pending operation answers without a body").to.equal("");
        } else {
            expect(answer.status, `operation result status`).to.equal(200);
            const final = "final" in op ? op.final : undefined;
            expect(final, `${op.id} declares a final schema`).to.not.equal(undefined);
            const r = final!.safeParse(answer.body);
            expect(r.success, `${op.id} operation result parses with the final schema: ${answer.text}`).to.equal(true);
        }
        seen.add(`${op.id}:result:${answer.status}`);
        return;
    }
    const m = matchOperation(method, url.pathname);
    expect(m && "operation" in m, `${method} ${url.pathname} is a contract operation`).to.equal(true);
    if (!m || !("operation" in m)) return;
    const schema = responseSchema(m.operation, answer.status);
    expect(schema, `${m.operation.id} declares status ${answer.status}`).to.not.equal(undefined);
    if (schema === null) {
        expect(answer.text, `${m.operation.id} ${answer.status} has no body`).to.equal("");
    } else if (schema) {
        const r = schema.safeParse(answer.body);
        expect(r.success, `${m.operation.id} ${answer.status} body parses with the contract: ${r.success ? "" : r.error.message}`).to.equal(true);
    }
    seen.add(`${m.operation.id}:${answer.status}`);
}

export interface CallOptions {
    /** Token of a principal; `null` sends no Authorization header. Default: none. */
    token?: string | null;
    /** A seeded user whose token to send. */
    as?: SeedUserKey;
    query?: Record<string, string | undefined>;
    /** JSON body. */
    body?: unknown;
    /** A raw body string (sent as is). */
    rawBody?: string;
    /** `null` leaves api-version out; default 2024-04-01 for ARM paths. */
    apiVersion?: string | null;
    headers?: Record<string, string>;
}

export class EmulatorHttp {
    constructor(readonly base: string) {}

    /** Any request to the emulator, by path (query in `options.query`) or absolute URL. */
    async call(method: string, pathOrUrl: string, options: CallOptions = {}): Promise<Answer> {
        const url = new URL(pathOrUrl, this.base);
        const isArm = url.pathname.startsWith("/providers/");
        if (isArm && options.apiVersion !== null && !url.searchParams.has("api-version")) {
            url.searchParams.set("api-version", options.apiVersion ?? API_VERSION);
        }
        for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
        const headers: Record<string, string> = { ...(options.headers ?? {}) };
        const token = options.as ? SEED.users[options.as].token : options.token;
        if (token) headers.Authorization = `Bearer ${token}`;
        let body: string | undefined = options.rawBody;
        if (options.body !== undefined) {
            body = JSON.stringify(options.body);
            headers["Content-Type"] = "application/json";
        }
        const res = await fetch(url, { method, headers, body });
        const text = await res.text();
        let parsed: unknown;
        if (text && (res.headers.get("content-type") ?? "").includes("json")) parsed = JSON.parse(text);
        const answer: Answer = { status: res.status, headers: res.headers, body: parsed, text };
        assertContract(method, url, answer);
        return answer;
    }

    get(path: string, options?: CallOptions) {
        return this.call("GET", path, options);
    }
    put(path: string, options?: CallOptions) {
        return this.call("PUT", path, options);
    }
    post(path: string, options?: CallOptions) {
        return this.call("POST", path, options);
    }
    delete(path: string, options?: CallOptions) {
        return this.call("DELETE", path, options);
    }

    /** Admin API call; asserts a 2xx unless `expectStatus` says otherwise. */
    async admin(method: string, path: string, body?: unknown, expectStatus?: number): Promise<any> {
        // The emulator wants every admin write declared JSON, an empty one too (only a body-less DELETE is exempt).
        const headers: Record<string, string> = method === "GET" || method === "DELETE" ? {} : { "Content-Type": "application/json" };
        const a = await this.call(method, `/_emulator${path}`, { body, headers });
        if (expectStatus !== undefined) expect(a.status, a.text).to.equal(expectStatus);
        else expect(a.status, `${method} /_emulator${path}: ${a.text}`).to.be.within(200, 299);
        return a.body;
    }

    /** Fetches a URL without any token (document links) and returns the bytes. */
    async raw(url: string): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
        const res = await fetch(url);
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(res.headers.get("x-ms-request-id"), "x-ms-request-id on a document link").to.match(GUID);
        return { status: res.status, headers: res.headers, bytes };
    }
}

// ---------------------------------------------------------------------------
// Paths, written out rather than taken from provider/billing/paths.ts: the
// tests hold the emulator to Azure's literal paths, not to our own builder.

export const BA_PATH = (billingAccountName: string) => `/providers/Microsoft.Billing/billingAccounts/${billingAccountName}`;
export const BP_PATH = (ref: BillingProfileRef) =>
    `${BA_PATH(ref.billingAccountName)}/billingProfiles/${ref.billingProfileName}`;

export const OPS = SEED.profiles.operations;
export const RESEARCH = SEED.profiles.research;
export const PARTNER = SEED.profiles.partner;
export const MCA = SEED.accounts.mca.name;
export const MPA = SEED.accounts.mpa.name;

/** The full id of a profile's role definition, found by its role name as a client must. */
export async function roleDefinitionIdByName(api: EmulatorHttp, ref: { billingAccountName: string; billingProfileName: string }, roleName: string, as: SeedUserKey): Promise<string> {
    const list = await api.get(`${BP_PATH(ref)}/billingRoleDefinitions`, { as });
    expect(list.status, list.text).to.equal(200);
    const def = (list.body.value as Array<{ id: string; properties: { roleName: string } }>).find((d) => d.properties.roleName === roleName);
    expect(def, `role ${roleName} on ${ref.billingProfileName}`).to.not.equal(undefined);
    return def!.id;
}

/** Polls a Location until it stops answering 202 (no waiting: tests run with retryAfterSeconds 0). */
export async function pollToCompletion(api: EmulatorHttp, location: string, as: SeedUserKey, maxPolls = 20): Promise<{ answer: Answer; polls: number }> {
    for (let polls = 1; polls <= maxPolls; polls++) {
        const answer = await api.get(location, { as });
        if (answer.status !== 202) return { answer, polls };
    }
    throw new Error(`operation at ${location} still pending after ${maxPolls} polls`);
}

/** The profile PUT body a careful client sends: the profile as read, minus read-only properties. */
export function putBodyFrom(profile: { properties: Record<string, unknown>; tags?: Record<string, string> | null }, readOnly: readonly string[]): any {
    const properties = { ...profile.properties };
    for (const k of readOnly) delete properties[k];
    return profile.tags ? { properties, tags: profile.tags } : { properties };
}
