/**
 * The HTTP transport: Azure's own pipeline (`@azure/core-rest-pipeline`) with
 * its retry policy (exponential backoff for 408/5xx and connection errors,
 * `Retry-After` honoured on 429/503), client request ids, user agent and
 * redaction-aware logging, plus the right authentication per service:
 *
 * - ARM and Graph over https: `bearerTokenAuthenticationPolicy` with the
 *   service's own scope (`<endpoint>/.default`), so Graph gets a Graph token and
 *   ARM an ARM token.
 * - The emulator over http on loopback: the same credential, attached by a
 *   small policy, because the Azure policy (rightly) refuses to send a bearer
 *   token over plain http. Configuration only allows http for loopback hosts.
 * - Document downloads: no `Authorization` header at all (the URL carries its
 *   own signature, and the ARM token must never leave ARM).
 *
 * Every attempt is bounded in time and size by {@link boundedResponsePolicy}
 * (see there), so that no server can hang a run or exhaust its memory. Every
 * attempt to ARM first takes a token of the client's bucket
 * ({@link rateLimitPolicy}), so a run stays under ARM's per-principal limits.
 */
import type { Readable } from "node:stream";
import {
    RestError,
    bearerTokenAuthenticationPolicy,
    createDefaultHttpClient,
    createHttpHeaders,
    createPipelineFromOptions,
    createPipelineRequest,
    formDataPolicyName,
    isRestError,
    type HttpClient,
    type Pipeline,
    type PipelinePolicy,
    type PipelineRequest,
    type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { ENV, STACK_CONFIG, isLoopbackHost, type ClientSettings, type CredentialSettings, type LimitKey } from "../config";
import { AzureApiError } from "../errors";
import { formatByteSize, formatDuration } from "../units";
import { TokenBucket } from "./rateLimit";

export const USER_AGENT_PREFIX = "azure-email-invoicing/0.1";

/** What came back, with the body read as text (or bytes for documents). */
export interface RawResponse {
    status: number;
    /** Lower-cased header names. */
    headers: Record<string, string>;
    /** The body, when there was one, as text. */
    bodyText?: string;
    /** The body parsed as JSON, or undefined when empty or not JSON. */
    json?: unknown;
    /** `x-ms-request-id`, else `x-ms-correlation-request-id`, else Graph's `request-id`. */
    requestId?: string;
    url: string;
}

/** A credential that always returns the same bearer token (emulator principals, CI-issued tokens). */
export function staticTokenCredential(token: string): TokenCredential {
    return {
        async getToken() {
            return { token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 };
        },
    };
}

/** A credential as settings describe it. `DefaultAzureCredential` is loaded only when used. */
export function credentialFrom(settings: CredentialSettings): TokenCredential {
    if (settings.kind === "token") return staticTokenCredential(settings.token);
    // Loaded lazily: msal is heavy and the emulator path never needs it.
    const { DefaultAzureCredential } = require("@azure/identity") as typeof import("@azure/identity");
    return new DefaultAzureCredential();
}

/** Attaches `Authorization: Bearer` over plain http. Only ever installed for loopback endpoints. */
function loopbackBearerPolicy(credential: TokenCredential, scope: string): PipelinePolicy {
    return {
        name: "loopbackBearerPolicy",
        async sendRequest(request, next) {
            const token = await credential.getToken(scope, { abortSignal: request.abortSignal });
            // A credential from signInBounded() never gives null; this keeps one that is not bounded honest.
            if (!token) throw new SignInError(scope, { cause: new Error("the credential returned no token") });
            request.headers.set("Authorization", `Bearer ${token.token}`);
            return next(request);
        },
    };
}

/** Signing in failed or took too long: the error names the sign-in, not the service the request was for. */
class SignInError extends Error {
    constructor(
        readonly scope: string,
        readonly why: { timeoutMs: number } | { cause: unknown },
    ) {
        super("timeoutMs" in why ? `no token within ${formatDuration(why.timeoutMs)}` : why.cause instanceof Error ? why.cause.message : String(why.cause), "cause" in why ? { cause: why.cause } : undefined);
    }
}

/**
 * Bounds each sign-in of `credential` by `timeoutMs`. A credential makes its
 * own requests (to a managed identity endpoint, to Entra ID, or runs the
 * Azure CLI), outside the pipeline's attempts and their limits, and
 * DefaultAzureCredential sets none of its own: against a managed identity
 * endpoint that accepts the connection and never answers, it waits for good.
 * The credential is told to stop through its abort signal; a caller's abort
 * ends the wait at once. A failure, or a credential that returns no token,
 * becomes a {@link SignInError}, which the retry policy passes through (a
 * sign-in is not an attempt of the request).
 */
function signInBounded(credential: TokenCredential, timeoutMs: number): TokenCredential {
    return {
        getToken(scopes, options) {
            const scope = Array.isArray(scopes) ? scopes.join(" ") : (scopes as string);
            const outer = options?.abortSignal;
            const stop = new AbortController();
            return new Promise<AccessToken>((resolve, reject) => {
                const end = (settle: () => void) => {
                    clearTimeout(timer);
                    outer?.removeEventListener("abort", onAbort);
                    settle();
                };
                const onAbort = () => {
                    stop.abort();
                    end(() => reject(abortError()));
                };
                const timer = setTimeout(() => {
                    stop.abort();
                    end(() => reject(new SignInError(scope, { timeoutMs })));
                }, timeoutMs);
                if (outer?.aborted) return onAbort();
                outer?.addEventListener("abort", onAbort);
                credential.getToken(scopes, { ...options, abortSignal: stop.signal }).then(
                    (token) => end(() => (token ? resolve(token) : reject(new SignInError(scope, { cause: new Error("the credential returned no token") })))),
                    (err: unknown) => end(() => reject(new SignInError(scope, { cause: err }))),
                );
            });
        },
    };
}

function abortError(): Error {
    const err = new Error("The operation was aborted.");
    err.name = "AbortError";
    return err;
}

function scopeFor(endpoint: string): string {
    return `${endpoint}/.default`;
}

/** Every status: the policy below reads each body itself, under its limits. */
const EVERY_STATUS = new Set([Number.POSITIVE_INFINITY]);

/** What one pipeline's answers may be: the size cap and the setting that sets it. */
interface BodyLimit {
    maxBytes: number;
    /** `JSON body` or `document`, for messages. */
    what: string;
    setting: LimitKey;
}

/** Why an attempt was cut off by {@link boundedResponsePolicy}. */
interface CutOff {
    limit: "request" | "idle";
    ms: number;
}

/** The timeout behind a RestError the policy raised (the retry policy retries it as `ETIMEDOUT`). */
const cutOffs = new WeakMap<Error, CutOff>();
/** The body the policy read, by response. */
const bodies = new WeakMap<PipelineResponse, Buffer>();
/** Attempts made for a request, so the final error can say how many. */
const attemptsOf = new WeakMap<PipelineRequest, number>();

/** A body larger than its cap. Not a RestError: the retry policy passes it through untouched (a retry would not shrink it). */
class TooLargeError extends Error {
    constructor(
        readonly limit: BodyLimit,
        readonly declared: number | undefined,
    ) {
        super(`larger than ${formatByteSize(limit.maxBytes)}`);
    }
}

/**
 * Gives the response its `bodyAsText` as the body decoded when first read.
 * Decoding a document's bytes as UTF-8 costs about as much as reading them
 * (2 ms for a 100 KB PDF), and only JSON and error answers are ever read as
 * text; the pipeline's later policies and our error paths read it as before.
 */
function textOnDemand(response: PipelineResponse, body: Buffer): void {
    let text: string | undefined | null;
    let decoded = false;
    Object.defineProperty(response, "bodyAsText", {
        configurable: true,
        enumerable: true,
        get: () => {
            if (!decoded) {
                text = body.length > 0 ? body.toString("utf8") : undefined;
                decoded = true;
            }
            return text;
        },
        set: (value: string | undefined | null) => {
            text = value;
            decoded = true;
        },
    });
}

/**
 * Bounds one attempt of a request in time and size. It sits after the Sign
 * phase, next to the HTTP client and inside the pipeline's retry policy, so
 * each attempt gets its own budget and a timed-out attempt is retried like a
 * dropped connection (the policy raises `ETIMEDOUT`, which the retry
 * strategy counts), at most `maxRetries` times.
 *
 * - Until the headers arrive: the pipeline's own per-request `timeout`.
 * - The body: the pipeline has no limit on it (it buffers any body whole,
 *   and waits for each byte as long as a server likes), so this policy asks
 *   for every body as a stream and reads it itself: at most the attempt's
 *   remaining time in all, at most `bodyIdleTimeoutInMs` between two chunks,
 *   and never more than the cap: a `Content-Length` over the cap is refused
 *   before a byte is read, and a body without one is cut off the moment it
 *   passes the cap. Cutting off aborts the request through the pipeline's
 *   abort signal, which destroys the socket.
 * - A server's `Retry-After` is clamped to `maxRetryAfterInMs`, so that a
 *   429 cannot make the retry policy sleep for days.
 */
function boundedResponsePolicy(settings: ClientSettings, limit: BodyLimit): PipelinePolicy {
    const { requestTimeoutInMs, bodyIdleTimeoutInMs } = settings.limits;
    return {
        name: "boundedResponsePolicy",
        async sendRequest(request, next) {
            attemptsOf.set(request, (attemptsOf.get(request) ?? 0) + 1);
            const started = Date.now();
            const outer = request.abortSignal;
            const attempt = new AbortController();
            const follow = () => attempt.abort();
            outer?.addEventListener("abort", follow);
            if (outer?.aborted) attempt.abort();
            request.abortSignal = attempt.signal;
            request.timeout = requestTimeoutInMs;
            request.streamResponseStatusCodes = EVERY_STATUS;
            try {
                let response: PipelineResponse;
                try {
                    response = await next(request);
                } catch (err) {
                    // The pipeline's timeout aborts without saying so: an abort nobody asked for is it.
                    if (isAbort(err) && !attempt.signal.aborted && !outer?.aborted) throw timedOut(request, { limit: "request", ms: requestTimeoutInMs });
                    throw err;
                }
                clampRetryAfter(response, settings.retry.maxRetryAfterInMs);
                const stream = response.readableStreamBody as Readable | undefined;
                response.readableStreamBody = undefined;
                const body = stream
                    ? await readBounded(stream, response, limit, {
                          remainingMs: Math.max(1, requestTimeoutInMs - (Date.now() - started)),
                          idleMs: bodyIdleTimeoutInMs,
                          abort: () => attempt.abort(),
                          outer,
                      }).catch((err: unknown) => {
                          if (err instanceof TooLargeError || (err as Error | undefined)?.name === "RestError") throw err;
                          if (outer?.aborted) throw err;
                          throw new RestError(`the answer broke off: ${err instanceof Error ? err.message : String(err)}`, { code: "ECONNRESET", request });
                      })
                    : Buffer.alloc(0);
                bodies.set(response, body);
                textOnDemand(response, body);
                return response;
            } finally {
                outer?.removeEventListener("abort", follow);
                request.abortSignal = outer;
            }
        },
    };

    function timedOut(request: PipelineRequest, cut: CutOff): RestError {
        const err = new RestError(`no ${cut.limit === "idle" ? "data" : "answer"} within ${formatDuration(cut.ms)}`, { code: "ETIMEDOUT", request });
        cutOffs.set(err, cut);
        return err;
    }

    /** Reads a body under the cap and the time limits; rejects with TooLargeError or a timed-out RestError. */
    function readBounded(
        stream: Readable,
        response: PipelineResponse,
        cap: BodyLimit,
        t: { remainingMs: number; idleMs: number; abort: () => void; outer?: AbortSignalLike },
    ): Promise<Buffer> {
        const declared = declaredLength(response);
        return new Promise<Buffer>((resolve, reject) => {
            const chunks: Buffer[] = [];
            let size = 0;
            let settled = false;
            let idle: NodeJS.Timeout | undefined;
            const finish = (err?: unknown) => {
                if (settled) return;
                settled = true;
                clearTimeout(total);
                clearTimeout(idle);
                stream.off("data", onData);
                if (err === undefined) return resolve(Buffer.concat(chunks, size));
                // Stop reading: abort the request (the client destroys the socket) and drop what arrived.
                t.abort();
                stream.destroy();
                chunks.length = 0;
                reject(err);
            };
            const total = setTimeout(() => finish(timedOut(response.request, { limit: "request", ms: requestTimeoutInMs })), t.remainingMs);
            const rearm = () => {
                clearTimeout(idle);
                idle = setTimeout(() => finish(timedOut(response.request, { limit: "idle", ms: t.idleMs })), t.idleMs);
            };
            const onData = (chunk: Buffer | string) => {
                const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
                size += b.length;
                if (size > cap.maxBytes) return finish(new TooLargeError(cap, declared));
                chunks.push(b);
                rearm();
            };
            if (declared !== undefined && declared > cap.maxBytes) return finish(new TooLargeError(cap, declared));
            stream.on("data", onData);
            stream.once("end", () => finish());
            stream.once("error", (err) => finish(err));
            stream.once("close", () => finish(new Error("the connection closed before the end of the body")));
            rearm();
        });
    }
}

type AbortSignalLike = NonNullable<PipelineRequest["abortSignal"]>;

function isAbort(err: unknown): boolean {
    return err instanceof Error && err.name === "AbortError";
}

/** The body length a response declares, when it is the length of what we read (no content encoding). */
function declaredLength(response: PipelineResponse): number | undefined {
    if (response.headers.get("content-encoding")) return undefined;
    const h = response.headers.get("content-length");
    if (h === undefined || !/^\d+$/.test(h)) return undefined;
    return Number(h);
}

/** The headers a server says how long to wait in, and their units (ms), as the retry policy reads them. */
const RETRY_AFTER_HEADERS = [["retry-after-ms", 1], ["x-ms-retry-after-ms", 1], ["retry-after", 1000]] as const;

/** Clamps the headers the retry policy waits on to `maxMs`: a server does not decide how long we sleep. */
function clampRetryAfter(response: PipelineResponse, maxMs: number): void {
    for (const [name, unitMs] of RETRY_AFTER_HEADERS) {
        const v = response.headers.get(name);
        if (v === undefined) continue;
        const n = Number(v);
        if (Number.isFinite(n) && n >= 0) {
            if (n * unitMs > maxMs) response.headers.set(name, String(Math.floor(maxMs / unitMs)));
        } else {
            const at = Date.parse(v);
            if (!Number.isFinite(at) || at - Date.now() > maxMs) response.headers.set(name, String(Math.floor(maxMs / 1000)));
        }
    }
}

/**
 * Paces the attempts of one pipeline by `bucket` (rateLimit.ts): each attempt
 * waits for a token before it is sent (outside its request timeout), and a
 * 429 with `Retry-After` (already clamped by {@link boundedResponsePolicy})
 * pauses the bucket for every request, not only the throttled one.
 */
function rateLimitPolicy(bucket: TokenBucket): PipelinePolicy {
    return {
        name: "rateLimitPolicy",
        async sendRequest(request, next) {
            // The caller's own signal (an AbortSignal; the pipeline types it loosely): a deadline stops the wait too.
            await bucket.take(request.abortSignal as AbortSignal | undefined);
            const response = await next(request);
            if (response.status === 429) bucket.pause(retryAfterMs(response) ?? 0);
            return response;
        },
    };
}

/** A response's `Retry-After` (or its millisecond forms) in ms from now, when it has one. */
function retryAfterMs(response: PipelineResponse): number | undefined {
    for (const [name, unitMs] of RETRY_AFTER_HEADERS) {
        const v = response.headers.get(name);
        if (v === undefined) continue;
        const n = Number(v);
        if (Number.isFinite(n) && n >= 0) return n * unitMs;
        const at = Date.parse(v);
        if (Number.isFinite(at)) return Math.max(0, at - Date.now());
    }
    return undefined;
}

function pipelineFor(settings: ClientSettings, endpoint: string | undefined, credential: TokenCredential | undefined, limit: BodyLimit, bucket?: TokenBucket): Pipeline {
    const pipeline = createPipelineFromOptions({
        retryOptions: {
            maxRetries: settings.retry.maxRetries,
            retryDelayInMs: settings.retry.retryDelayInMs,
            maxRetryDelayInMs: settings.retry.maxRetryDelayInMs,
        },
        userAgentOptions: { userAgentPrefix: USER_AGENT_PREFIX },
        // Never follow a redirect with our credentials attached.
        redirectOptions: { maxRetries: 0 },
    });
    // Nothing here sends form data, and the policy's check of each body loads Node's fetch implementation (20 ms) into the process.
    pipeline.removePolicy({ name: formDataPolicyName });
    if (endpoint && credential) {
        const scope = scopeFor(endpoint);
        const signIn = signInBounded(credential, settings.limits.requestTimeoutInMs);
        const policy = endpoint.startsWith("https://")
            ? bearerTokenAuthenticationPolicy({ credential: signIn, scopes: scope })
            : loopbackBearerPolicy(signIn, scope);
        pipeline.addPolicy(policy, { phase: "Sign" });
    }
    // Before the bounds: waiting for a token is not part of an attempt's time limit.
    if (bucket) pipeline.addPolicy(rateLimitPolicy(bucket), { afterPhase: "Sign" });
    pipeline.addPolicy(boundedResponsePolicy(settings, limit), { afterPhase: "Sign" });
    return pipeline;
}

function lowerHeaders(h: { toJSON(): Record<string, string> }): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h.toJSON())) out[k.toLowerCase()] = v;
    return out;
}

function requestIdOf(headers: Record<string, string>): string | undefined {
    return headers["x-ms-request-id"] ?? headers["x-ms-correlation-request-id"] ?? headers["request-id"];
}

/** One request as {@link TransportOptions.onRequest} sees it: from sending to the end of the body, retries included. */
export interface RequestTiming {
    operation: string;
    method: string;
    /** The final status; 0 when no answer came (connection failure, timeout, cut off). */
    status: number;
    /** Milliseconds since the Unix epoch, with fractions. */
    start: number;
    end: number;
}

export interface TransportOptions {
    httpClient?: HttpClient;
    credential?: TokenCredential;
    /** Told of every request once it is over (a trace; never changes what is sent). */
    onRequest?: (timing: RequestTiming) => void;
}

const epochMs = () => performance.timeOrigin + performance.now();

/**
 * Sends requests for the billing client. One instance per client; holds the
 * pipelines and the HTTP client (whose agents keep connections alive), nothing
 * per request.
 */
export class Transport {
    private readonly arm: Pipeline;
    private readonly graph: Pipeline;
    private readonly anonymous: Pipeline;
    private readonly http: HttpClient;
    private readonly onRequest: TransportOptions["onRequest"];
    /** Signing in uses a credential the caller gave, not one the settings describe. */
    private readonly givenCredential: boolean;

    constructor(
        readonly settings: ClientSettings,
        options: TransportOptions = {},
    ) {
        this.onRequest = options.onRequest;
        this.givenCredential = options.credential !== undefined;
        const armCredential = options.credential ?? credentialFrom(settings.credential);
        // One DefaultAzureCredential serves both audiences; a static token only its own.
        const graphCredential =
            options.credential ??
            (settings.graphCredential === settings.credential || (settings.graphCredential.kind === "azure" && settings.credential.kind === "azure")
                ? armCredential
                : credentialFrom(settings.graphCredential));
        this.http = options.httpClient ?? createDefaultHttpClient();
        const json: BodyLimit = { maxBytes: settings.limits.maxResponseBytes, what: "JSON body", setting: "maxResponseSize" };
        // ARM limits each principal; Graph and the document links are other services with their own.
        const bucket = new TokenBucket({ perSecond: settings.limits.maxRequestsPerSecond, burst: settings.limits.requestBurst });
        this.arm = pipelineFor(settings, settings.endpoint, armCredential, json, bucket);
        this.graph = pipelineFor(settings, settings.graphEndpoint, graphCredential, json);
        this.anonymous = pipelineFor(settings, undefined, undefined, { maxBytes: settings.limits.maxDocumentBytes, what: "document", setting: "maxDocumentSize" });
    }

    /** Base URL of a service. */
    base(api: "arm" | "graph"): string {
        return api === "arm" ? this.settings.endpoint : this.settings.graphEndpoint;
    }

    /**
     * Sends one JSON request to ARM or Graph. `url` is absolute and must be on
     * the service's origin (callers check). Retries happen inside the pipeline;
     * a connection that still fails, or attempts that all timed out, become an
     * {@link AzureApiError} with status 0 (retryable); a body over the cap one
     * with code `ResponseTooLarge` (not retryable). When `signal` aborts (a
     * deadline of the caller), the request stops and its reason is thrown.
     */
    async send(api: "arm" | "graph", method: string, url: string, body: unknown, operation: string, signal?: AbortSignal): Promise<RawResponse> {
        const request = createPipelineRequest({
            url,
            method: method as "GET",
            headers: createHttpHeaders({ Accept: "application/json" }),
            allowInsecureConnection: isLoopbackHttp(url),
            abortSignal: signal,
        });
        if (body !== undefined) {
            request.headers.set("Content-Type", "application/json");
            request.body = JSON.stringify(body);
        }
        let response;
        const start = this.onRequest && epochMs();
        try {
            response = await (api === "arm" ? this.arm : this.graph).sendRequest(this.http, request);
        } catch (err) {
            if (start) this.onRequest!({ operation, method, status: 0, start, end: epochMs() });
            if (signal?.aborted && signal.reason instanceof AzureApiError) throw signal.reason;
            throw this.failure(err, request, operation);
        }
        if (start) this.onRequest!({ operation, method, status: response.status, start, end: epochMs() });
        const headers = lowerHeaders(response.headers);
        const bodyText = response.bodyAsText ?? undefined;
        let json: unknown;
        if (bodyText) {
            try {
                json = JSON.parse(bodyText);
            } catch {
                json = undefined;
            }
        }
        return { status: response.status, headers, bodyText, json, requestId: requestIdOf(headers), url };
    }

    /**
     * GETs a document URL without any Authorization header (the URL is
     * self-signed, like a SAS link). Returns the bytes of a 200, at most
     * `maxDocumentBytes` of them (else `DocumentTooLarge`, refused on the
     * `Content-Length` or cut off at the cap, never buffered further).
     */
    async getDocument(url: string, operation: string): Promise<{ status: number; headers: Record<string, string>; bytes: Buffer }> {
        const request = createPipelineRequest({
            url,
            method: "GET",
            headers: createHttpHeaders({ Accept: "application/pdf, */*" }),
            allowInsecureConnection: isLoopbackHttp(url),
        });
        let response;
        const start = this.onRequest && epochMs();
        try {
            response = await this.anonymous.sendRequest(this.http, request);
        } catch (err) {
            if (start) this.onRequest!({ operation, method: "GET", status: 0, start, end: epochMs() });
            throw this.failure(err, request, operation);
        }
        if (start) this.onRequest!({ operation, method: "GET", status: response.status, start, end: epochMs() });
        const headers = lowerHeaders(response.headers);
        if (response.status !== 200) {
            throw new AzureApiError({
                status: response.status,
                code: response.status === 403 ? "DocumentLinkRefused" : `Http${response.status}`,
                message: `GET of the invoice document link answered ${response.status}${response.bodyAsText ? `: ${response.bodyAsText.slice(0, 300)}` : ""}; the link may have expired, request a new download`,
                operation,
                requestId: requestIdOf(headers),
            });
        }
        return { status: 200, headers, bytes: bodies.get(response) ?? Buffer.alloc(0) };
    }

    /** The error of the catalogue for what the pipeline threw. */
    private failure(err: unknown, request: PipelineRequest, operation: string): AzureApiError {
        const origin = originOf(request.url);
        if (err instanceof TooLargeError) {
            const { limit, declared } = err;
            const code = limit.setting === "maxDocumentSize" ? "DocumentTooLarge" : "ResponseTooLarge";
            const how = declared !== undefined ? `its Content-Length is ${declared} bytes` : `it passed the limit while being read, without a Content-Length`;
            return new AzureApiError({
                status: 200,
                code,
                message: `the ${limit.what} from ${origin} is larger than the ${formatByteSize(limit.maxBytes)} limit (${how}); it was refused without reading it whole. If such ${limit.what === "document" ? "documents" : "answers"} are expected, raise ${this.settings.sources.limits[limit.setting]}`,
                operation,
            });
        }
        if (err instanceof SignInError) {
            const graph = err.scope === scopeFor(this.settings.graphEndpoint) && this.settings.graphEndpoint !== this.settings.endpoint;
            const setting = graph ? this.settings.graphCredential : this.settings.credential;
            const credential = this.givenCredential ? "the client's credential" : setting.kind === "azure" ? "DefaultAzureCredential" : "the static token";
            const token = graph ? `${ENV.graphToken} or ${STACK_CONFIG.graphToken}` : `${ENV.token} or ${STACK_CONFIG.token}`;
            const check = `check the sign-in it uses (the AZURE_* environment, the managed identity endpoint, or az login), or set a token (${token})`;
            return "timeoutMs" in err.why
                ? new AzureApiError({
                      status: 0,
                      code: "SignInTimeout",
                      message: `signing in for ${err.scope} with ${credential} gave no token within ${formatDuration(err.why.timeoutMs)} (the request timeout); ${check}. To wait longer, raise ${this.settings.sources.limits.requestTimeout}`,
                      operation,
                  })
                : new AzureApiError({
                      status: 0,
                      code: "SignInFailed",
                      message: `signing in for ${err.scope} with ${credential} failed: ${err.message}; ${check}`,
                      operation,
                      cause: err.why.cause,
                  });
        }
        const cut = err instanceof Error ? cutOffs.get(err) : undefined;
        if (cut) {
            const attempts = attemptsOf.get(request) ?? 1;
            const what = cut.limit === "idle" ? `sent nothing for ${formatDuration(cut.ms)} in the middle of an answer (the idle limit)` : `did not answer within ${formatDuration(cut.ms)} (the request timeout)`;
            return new AzureApiError({
                status: 0,
                code: "RequestTimeout",
                message: `${origin} ${what}, ${attempts === 1 ? "in the only attempt" : `in each of ${attempts} attempts`}. Check that the service is reachable; to wait longer, raise ${this.settings.sources.limits.requestTimeout}`,
                operation,
            });
        }
        return connectionError(err, request.url, operation);
    }
}

function originOf(url: string): string {
    try {
        return new URL(url).origin;
    } catch {
        return url;
    }
}

/**
 * Plain http is allowed for the local emulator only: configuration admits
 * http endpoints on loopback hosts alone, and the client checks document links
 * the same way. The pipeline refuses http unless a request says so.
 */
function isLoopbackHttp(url: string): boolean {
    try {
        const u = new URL(url);
        return u.protocol === "http:" && isLoopbackHost(u.hostname);
    } catch {
        return false;
    }
}

function connectionError(err: unknown, url: string, operation: string): AzureApiError {
    if (err instanceof AzureApiError) return err;
    const code = isRestError(err) ? (err.code ?? "ConnectionFailed") : "ConnectionFailed";
    const detail = err instanceof Error ? err.message : String(err);
    const status = isRestError(err) && err.statusCode ? err.statusCode : 0;
    return new AzureApiError({
        status,
        code,
        message: `could not reach ${originOf(url)}: ${detail}. Check the endpoint setting and that the service (or the emulator) is running`,
        operation,
    });
}
