/**
 * The HTTP front of the emulator: one request listener that routes with the
 * shared contract (`matchOperation`) and runs every Azure-facing request
 * through the same pipeline, in this order:
 *
 * 1. route: a contract operation or an operation result (Location); unknown
 *    path -> 404, known path with another method -> 405;
 * 2. identify the caller from `Authorization: Bearer <token>`;
 * 3. injected faults (`POST /_emulator/faults`);
 * 4. authenticate: no or unknown token -> 401 with `WWW-Authenticate`;
 * 5. ARM only: `api-version=2024-04-01` -> else 400;
 * 6. validate path parameters and query with the operation's schemas -> 400;
 * 7. find the scope (404) and authorize by the billing role matrix (403);
 *    a Location poll is authorized at the scope of the operation it polls,
 *    with the access of the operation that accepted it;
 * 8. validate the body with the operation's schema -> 400 validation problem;
 * 9. the operation's handler;
 * 10. check the answer against the contract: an undeclared status, or a body
 *     that does not parse with the declared schema, is an emulator bug and
 *     answers 500 rather than something a real client would never see.
 *
 * Every response carries `x-ms-request-id` and `x-ms-correlation-request-id`;
 * every error body comes from errors.ts. Admin requests (`/_emulator/...`)
 * and document links (`/_blob/...`) have their own short paths.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { API_VERSION, type AnyOperation, type HttpMethod, type OperationId, matchOperation, operations, responseSchema } from "../provider/billing/contract";
import { propertyPath } from "../provider/billing/names";
import { describeQueryProblem, readQuery } from "../provider/billing/query";
import { handleAdmin } from "./admin";
import { authorize, authorizeOperationResult, resolveScope } from "./authz";
import { checkDocumentLink, isDocumentPath } from "./documents";
import { EmulatorError, errorReply, fail, type ErrorApi } from "./errors";
import { type HandlerContext, type Reply, completeOperation, handlers } from "./handlers";
import { matchOperationResult, pollOperation, acceptedHeaders } from "./lro";
import { LRO_OPERATION, type PrincipalRecord, findInvoiceNamed } from "./model";
import { renderInvoicePdf } from "./pdf";
import type { RequestLogEntry, Runtime } from "./runtime";
import type { EmulatorStore } from "./store";

export interface ServerDeps {
    store: EmulatorStore;
    runtime: Runtime;
    now: () => Date;
    /** Called once per Azure-facing request with a one-line summary. */
    log?: (line: string) => void;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const METHODS: HttpMethod[] = ["GET", "PUT", "POST", "DELETE"];

/** What the pipeline writes: JSON (or nothing) with headers, or raw bytes. */
interface Outgoing {
    status: number;
    headers: Record<string, string>;
    contentType?: string;
    body?: string | Uint8Array;
}

function header(req: IncomingMessage, name: string): string | undefined {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) throw new EmulatorError({ status: 413, code: "RequestEntityTooLarge", message: `The request body exceeds ${MAX_BODY_BYTES} bytes.` });
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
}

function jsonOut(reply: Reply, api: ErrorApi): Outgoing {
    const contentType =
        api === "graph" ? "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8" : "application/json; charset=utf-8";
    return reply.body === undefined
        ? { status: reply.status, headers: reply.headers ?? {} }
        : { status: reply.status, headers: reply.headers ?? {}, contentType, body: JSON.stringify(reply.body) };
}

/** Verifies an answer against the contract (step 10). */
function checkAgainstContract(operation: AnyOperation, status: number, body: unknown, schemaOverride?: z.ZodType): void {
    const schema = schemaOverride ?? responseSchema(operation, status);
    if (schema === undefined) throw fail.internal(`emulator bug: ${operation.id} answered ${status}, which the contract does not declare`);
    if (schema === null) {
        if (body !== undefined) throw fail.internal(`emulator bug: ${operation.id} answered ${status} with a body; the contract declares none`);
        return;
    }
    const r = schema.safeParse(body);
    if (!r.success) {
        const issue = r.error.issues[0];
        throw fail.internal(`emulator bug: the ${operation.id} ${status} body does not match the contract (${issue.path.join(".")}: ${issue.message})`);
    }
}

type AuthResult = { principal: PrincipalRecord } | { principal: undefined; reason: "missing" | "malformed" | "unknown" };

function identify(deps: ServerDeps, authorization: string | undefined): AuthResult {
    if (!authorization) return { principal: undefined, reason: "missing" };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return { principal: undefined, reason: "malformed" };
    const principal = deps.store.read((s) => s.principals.find((p) => p.token === m[1]));
    return principal ? { principal: structuredClone(principal) } : { principal: undefined, reason: "unknown" };
}

function unauthenticated(api: "arm" | "graph", reason: "missing" | "malformed" | "unknown"): EmulatorError {
    const code = api === "graph" ? "InvalidAuthenticationToken" : "AuthenticationFailed";
    switch (reason) {
        case "missing":
            return fail.unauthenticated(
                code,
                "Authentication failed. The 'Authorization' header is missing.",
                "The authentication failed because of missing 'Authorization' header.",
            );
        case "malformed":
            return fail.unauthenticated(
                code,
                "Authentication failed. The 'Authorization' header is provided in an invalid format: use 'Bearer <token>'.",
                "The authentication failed because of an invalid 'Authorization' header.",
            );
        case "unknown":
            return fail.unauthenticated(
                code,
                "Authentication failed. The access token is not valid: no principal of this emulator has it. GET /_emulator/principals lists the tokens.",
                "The access token is invalid.",
            );
    }
}

function checkApiVersion(url: URL): void {
    const v = url.searchParams.get("api-version");
    if (v === null || v === "") {
        throw fail.badRequest("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    }
    if (v !== API_VERSION) {
        throw fail.badRequest(
            "InvalidApiVersionParameter",
            `The api-version '${v}' is invalid. The supported versions are '${API_VERSION}'.`,
        );
    }
}

function firstIssue(error: z.ZodError): { property: string; message: string } {
    const issue = error.issues[0];
    return { property: propertyPath(issue.path), message: issue.message };
}

/** Body validation failures, keyed by property path as ASP.NET does (`$` for the body itself). */
function problemFields(error: z.ZodError): Record<string, string[]> {
    const fields: Record<string, string[]> = {};
    for (const issue of error.issues) {
        const key = issue.path.length === 0 ? "$" : propertyPath(issue.path);
        (fields[key] ??= []).push(issue.message);
    }
    return fields;
}

function parseJsonBody(raw: Buffer): unknown {
    if (raw.length === 0) return undefined;
    try {
        return JSON.parse(raw.toString("utf8"));
    } catch (err) {
        throw fail.validationProblem({ $: [`The request body is not valid JSON: ${(err as Error).message}`] });
    }
}

/**
 * The query of a request, under the names the operation declares (with or
 * without `$`, in any case). ARM operations refuse what they do not declare
 * (400, naming what they take); Graph's take the first value of each name.
 */
function readOperationQuery(operation: AnyOperation, params: URLSearchParams): Record<string, string> {
    const declared = "query" in operation && operation.query ? Object.keys(operation.query.shape) : [];
    const read = readQuery(params, declared, operation.list?.refused ?? []);
    if ("values" in read) return read.values;
    if (operation.api === "graph") {
        const first: Record<string, string> = {};
        for (const [k, v] of params) if (!(k in first)) first[k] = v;
        return first;
    }
    const code = read.problem.kind === "refused" ? "UnsupportedQueryParameter" : "InvalidQueryParameter";
    throw fail.badRequest(code, describeQueryProblem(operation.id, read.problem), read.problem.name);
}

function allowedMethods(pathname: string): string[] {
    return METHODS.filter((m) => {
        const r = matchOperation(m, pathname);
        return r !== undefined && "operation" in r;
    });
}

/** Steps 1-10 for one Azure-facing request. Throws errors for the factory. */
async function azure(deps: ServerDeps, req: IncomingMessage, url: URL, origin: string, raw: Buffer, entry: RequestLogEntry, api: { value: "arm" | "graph" }): Promise<Outgoing> {
    const method = entry.method;
    // 1. route
    const resultRoute = matchOperationResult(url.pathname);
    const match = resultRoute ? undefined : matchOperation(method, url.pathname);
    let operation: AnyOperation | undefined;
    if (resultRoute) {
        entry.operation = "getOperationResult";
        if (method !== "GET") throw fail.methodNotAllowed(method, url.pathname, ["GET"]);
    } else if (!match) {
        throw fail.notFound(
            api.value === "graph" ? "Request_ResourceNotFound" : "NotFound",
            `No operation of the emulated Azure Billing or Graph API matches '${method} ${url.pathname}'.`,
        );
    } else if (!("operation" in match)) {
        throw fail.methodNotAllowed(method, url.pathname, allowedMethods(url.pathname));
    } else {
        operation = match.operation;
        entry.operation = operation.id;
        api.value = operation.api;
    }

    // 2-4. identify, faults, authenticate
    const auth = identify(deps, header(req, "authorization"));
    entry.principal = auth.principal?.id ?? null;
    const fault = deps.runtime.faults.next(method);
    if (fault) throw fault;
    if (!auth.principal) throw unauthenticated(api.value, auth.reason);
    const principal = auth.principal;

    // 5. api-version
    if (api.value === "arm") checkApiVersion(url);

    if (resultRoute) {
        // 7 for a poll: the poller needs the access of the operation it polls (authz.ts, authorizeOperationResult).
        const polled = pollOperation(
            deps.runtime.operations,
            deps.store,
            resultRoute,
            (rec) => deps.store.read((s) => authorizeOperationResult(s, principal, rec)),
            completeOperation(deps.now, origin),
            deps.now(),
        );
        const op = operations[LRO_OPERATION[polled.record.kind]];
        if (polled.status === 202) {
            checkAgainstContract(op, 202, undefined);
            return jsonOut({ status: 202, headers: acceptedHeaders(origin, polled.record, polled.settings) }, "arm");
        }
        checkAgainstContract(op, 200, polled.body, "final" in op ? (op.final as z.ZodType) : undefined);
        return jsonOut({ status: 200, body: polled.body }, "arm");
    }
    if (!operation || !match || !("operation" in match)) throw fail.internal("unreachable: no operation");

    // 6. path parameters and query
    const params = operation.params.safeParse(match.params);
    if (!params.success) {
        const { property, message } = firstIssue(params.error);
        throw fail.badRequest(
            api.value === "graph" ? "Request_BadRequest" : "InvalidParameter",
            `The path parameter ${property} '${match.params[property] ?? ""}' is not valid: it ${message}.`,
            property,
        );
    }
    const rawQuery = readOperationQuery(operation, url.searchParams);
    let query: unknown = {};
    if ("query" in operation && operation.query) {
        const q = operation.query.safeParse(rawQuery);
        if (!q.success) {
            const { property, message } = firstIssue(q.error);
            const given = rawQuery[property];
            throw fail.badRequest(
                api.value === "graph" ? "Request_BadRequest" : "InvalidQueryParameterValue",
                given === undefined
                    ? `The query parameter ${property} is required: it ${message}.`
                    : `The query parameter ${property} '${given}' is not valid: it ${message}.`,
                property,
            );
        }
        query = q.data;
    }

    // 7. scope and authorization
    const paramValues = params.data as Record<string, string>;
    const operationId = operation.id as OperationId;
    const scope = deps.store.read((s) => {
        const sc = resolveScope(s, operationId, paramValues);
        authorize(s, principal, operationId, operation.access, sc);
        return structuredClone(sc);
    });

    // 8. body
    let body: unknown;
    if ("body" in operation && operation.body) {
        const parsed = operation.body.safeParse(parseJsonBody(raw));
        if (!parsed.success) throw fail.validationProblem(problemFields(parsed.error));
        body = parsed.data;
    }

    // 9. handler
    const ctx: HandlerContext = { store: deps.store, runtime: deps.runtime, now: deps.now, origin, url, principal, scope };
    const handler = handlers[operationId] as (ctx: HandlerContext, input: { params: unknown; query: unknown; body: unknown }) => Reply | Promise<Reply>;
    const reply = await handler(ctx, { params: params.data, query, body });

    // 10. contract check
    checkAgainstContract(operation, reply.status, reply.body);
    return jsonOut(reply, api.value);
}

/** A document link: signature and expiry instead of a bearer token. */
async function document(deps: ServerDeps, url: URL, method: string, now: Date, entry: RequestLogEntry): Promise<Outgoing> {
    entry.operation = "downloadDocument";
    if (method !== "GET") throw fail.methodNotAllowed(method, url.pathname, ["GET"]);
    const { key, paddingBytes } = deps.store.read((s) => ({ key: s.blobKey, paddingBytes: s.settings.pdfPaddingBytes }));
    const { invoiceName, documentName } = checkDocumentLink(key, url, now);
    const invoice = deps.store.read((s) => {
        const i = findInvoiceNamed(s, invoiceName);
        return i ? structuredClone(i) : undefined;
    });
    const docs = (invoice?.properties.documents ?? []) as Array<{ name?: string }>;
    if (!invoice || !docs.some((d) => d.name === documentName)) throw fail.storageNotFound("The specified blob does not exist.");
    const cacheKey = `${invoice.name}/${documentName}/${paddingBytes}`;
    let bytes = deps.runtime.pdfCache.get(cacheKey);
    if (!bytes) {
        bytes = await renderInvoicePdf(invoice, documentName, { paddingBytes });
        deps.runtime.pdfCache.set(cacheKey, bytes);
    }
    return {
        status: 200,
        headers: { "x-ms-blob-type": "BlockBlob", "x-ms-version": "2019-02-02", "Accept-Ranges": "bytes" },
        contentType: "application/pdf",
        body: bytes,
    };
}

function write(res: ServerResponse, out: Outgoing, common: Record<string, string>): void {
    const headers: Record<string, string | number> = { ...common, ...out.headers };
    if (out.contentType) headers["Content-Type"] = out.contentType;
    const body =
        out.body === undefined
            ? undefined
            : typeof out.body === "string"
              ? Buffer.from(out.body, "utf8")
              : Buffer.from(out.body.buffer, out.body.byteOffset, out.body.byteLength); // a view: cached PDFs are not copied
    headers["Content-Length"] = body ? body.length : 0;
    res.writeHead(out.status, headers);
    res.end(body);
}

/** The `host:port` forms of the address the connection came in on: `127.0.0.1:PORT` and `localhost:PORT`. */
function ownHosts(req: IncomingMessage): string[] {
    const port = req.socket.localPort ?? 0;
    const address = req.socket.localAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1";
    return [`${address}:${port}`, `localhost:${port}`];
}

/**
 * Refuses what a web page could send, because the emulator hands out
 * tokens and changes state without any: a `Host` that is not one of its own
 * addresses (DNS rebinding: a page on `rebind.evil.example` resolved to
 * 127.0.0.1), an `Origin` of another site, and an admin write that is not
 * declared JSON (a page may send `text/plain`, a form or no body at all
 * without a CORS preflight; `application/json` needs one, which the
 * emulator never grants). A body-less DELETE needs no content type.
 */
function checkCaller(req: IncomingMessage, own: string[], host: string, method: string, isAdmin: boolean): void {
    if (!own.includes(host)) throw fail.misdirected(host, own);
    const origin = header(req, "origin");
    if (origin !== undefined && !own.some((h) => origin.toLowerCase() === `http://${h}`)) throw fail.foreignOrigin(origin, own.map((h) => `http://${h}`));
    if (!isAdmin || method === "GET" || method === "HEAD") return;
    const hasBody = Number(header(req, "content-length") ?? 0) > 0 || header(req, "transfer-encoding") !== undefined;
    if (method === "DELETE" && !hasBody) return;
    const contentType = header(req, "content-type");
    if (!/^application\/json\s*(;|$)/i.test(contentType ?? "")) throw fail.unsupportedMediaType(contentType);
}

/** The request listener of the emulator's HTTP server. */
export function createRequestListener(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
        void serve(deps, req, res).catch((err: unknown) => {
            // Only reached if writing the response itself failed.
            if (!res.headersSent) {
                res.writeHead(500, { "Content-Type": "text/plain" });
                res.end(String(err));
            } else {
                res.destroy();
            }
        });
    };
}

async function serve(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const clientRequestId = header(req, "x-ms-client-request-id") ?? header(req, "client-request-id");
    const correlationId = header(req, "x-ms-correlation-request-id") ?? randomUUID();
    // Links (Location, nextLink, document links) are built from the address the client used when it
    // is one of the emulator's own; any other Host is refused below, before anything is built from it.
    const own = ownHosts(req);
    const host = (header(req, "host") ?? "").toLowerCase();
    const origin = `http://${own.includes(host) ? host : own[0]}`;
    let url: URL;
    try {
        url = new URL(req.url ?? "/", origin);
    } catch {
        url = new URL("/", origin);
    }
    const method = (req.method ?? "GET").toUpperCase();
    const now = deps.now();
    const common: Record<string, string> = { "x-ms-request-id": requestId, "x-ms-correlation-request-id": correlationId };
    if (clientRequestId) common["x-ms-client-request-id"] = clientRequestId;

    const isAdmin = url.pathname === "/_emulator" || url.pathname.startsWith("/_emulator/");
    const isDocument = isDocumentPath(url.pathname);
    const api = { value: (url.pathname.toLowerCase().startsWith("/v1.0/") ? "graph" : "arm") as "arm" | "graph" };
    if (api.value === "graph") {
        common["request-id"] = requestId;
        common["client-request-id"] = clientRequestId ?? requestId;
    }
    const entry: RequestLogEntry = {
        time: now.toISOString(),
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        operation: null,
        status: 0,
        principal: null,
        connection: deps.runtime.connections.of(req.socket),
    };

    let out: Outgoing;
    try {
        checkCaller(req, own, host, method, isAdmin);
        const raw = await readBody(req);
        if (isAdmin) {
            out = jsonOut(await handleAdmin({ store: deps.store, runtime: deps.runtime, now: deps.now, origin }, method, url, raw), "admin");
        } else if (isDocument) {
            out = await document(deps, url, method, now, entry);
        } else {
            out = await azure(deps, req, url, origin, raw, entry, api);
        }
    } catch (err) {
        const errorApi: ErrorApi = isAdmin ? "admin" : isDocument ? "storage" : api.value;
        const validationErrors = deps.store.read((s) => s.settings.validationErrors);
        const e = errorReply(err, { requestId, clientRequestId, api: errorApi, now, validationErrors });
        out = { status: e.status, headers: e.headers, contentType: e.contentType, body: e.body };
    }
    write(res, out, common);

    if (!isAdmin) {
        entry.status = out.status;
        deps.runtime.requests.add(entry);
        if (deps.log) {
            const who = entry.principal ? (deps.store.read((s) => s.principals.find((p) => p.id === entry.principal)?.userPrincipalName) ?? entry.principal) : "-";
            deps.log(`${entry.time} ${method} ${url.pathname}${url.search} -> ${out.status} ${entry.operation ?? "-"} ${who}`);
        }
    }
}
