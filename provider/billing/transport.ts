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
 */
import {
    bearerTokenAuthenticationPolicy,
    createDefaultHttpClient,
    createHttpHeaders,
    createPipelineFromOptions,
    createPipelineRequest,
    isRestError,
    type HttpClient,
    type Pipeline,
    type PipelinePolicy,
} from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/core-auth";
import { isLoopbackHost, type ClientSettings, type CredentialSettings } from "../config";
import { AzureApiError } from "../errors";

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
            const token = await credential.getToken(scope);
            if (!token) throw new Error(`the credential returned no token for ${scope}`);
            request.headers.set("Authorization", `Bearer ${token.token}`);
            return next(request);
        },
    };
}

function scopeFor(endpoint: string): string {
    return `${endpoint}/.default`;
}

function pipelineFor(settings: ClientSettings, endpoint: string | undefined, credential: TokenCredential | undefined): Pipeline {
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
    if (endpoint && credential) {
        const scope = scopeFor(endpoint);
        const policy = endpoint.startsWith("https://")
            ? bearerTokenAuthenticationPolicy({ credential, scopes: scope })
            : loopbackBearerPolicy(credential, scope);
        pipeline.addPolicy(policy, { phase: "Sign" });
    }
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

/**
 * Sends requests for the billing client. One instance per client; holds the
 * pipelines and the HTTP client, nothing per request.
 */
export class Transport {
    private readonly arm: Pipeline;
    private readonly graph: Pipeline;
    private readonly anonymous: Pipeline;
    private readonly http: HttpClient;

    constructor(
        readonly settings: ClientSettings,
        options: { httpClient?: HttpClient; credential?: TokenCredential } = {},
    ) {
        const armCredential = options.credential ?? credentialFrom(settings.credential);
        // One DefaultAzureCredential serves both audiences; a static token only its own.
        const graphCredential =
            options.credential ??
            (settings.graphCredential === settings.credential || (settings.graphCredential.kind === "azure" && settings.credential.kind === "azure")
                ? armCredential
                : credentialFrom(settings.graphCredential));
        this.http = options.httpClient ?? createDefaultHttpClient();
        this.arm = pipelineFor(settings, settings.endpoint, armCredential);
        this.graph = pipelineFor(settings, settings.graphEndpoint, graphCredential);
        this.anonymous = pipelineFor(settings, undefined, undefined);
    }

    /** Base URL of a service. */
    base(api: "arm" | "graph"): string {
        return api === "arm" ? this.settings.endpoint : this.settings.graphEndpoint;
    }

    /**
     * Sends one JSON request to ARM or Graph. `url` is absolute and must be on
     * the service's origin (callers check). Retries happen inside the pipeline;
     * a connection that still fails becomes an {@link AzureApiError} with status 0.
     */
    async send(api: "arm" | "graph", method: string, url: string, body: unknown, operation: string): Promise<RawResponse> {
        const request = createPipelineRequest({
            url,
            method: method as "GET",
            headers: createHttpHeaders({ Accept: "application/json" }),
            allowInsecureConnection: isLoopbackHttp(url),
        });
        if (body !== undefined) {
            request.headers.set("Content-Type", "application/json");
            request.body = JSON.stringify(body);
        }
        let response;
        try {
            response = await (api === "arm" ? this.arm : this.graph).sendRequest(this.http, request);
        } catch (err) {
            throw connectionError(err, url, operation);
        }
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
     * self-signed, like a SAS link). Returns the bytes of a 200.
     */
    async getDocument(url: string, operation: string): Promise<{ status: number; headers: Record<string, string>; bytes: Buffer }> {
        const request = createPipelineRequest({
            url,
            method: "GET",
            headers: createHttpHeaders({ Accept: "application/pdf, */*" }),
            allowInsecureConnection: isLoopbackHttp(url),
        });
        request.streamResponseStatusCodes = new Set([200]);
        let response;
        try {
            response = await this.anonymous.sendRequest(this.http, request);
        } catch (err) {
            throw connectionError(err, url, operation);
        }
        const headers = lowerHeaders(response.headers);
        if (response.status !== 200 || !response.readableStreamBody) {
            throw new AzureApiError({
                status: response.status,
                code: response.status === 403 ? "DocumentLinkRefused" : `Http${response.status}`,
                message: `GET of the invoice document link answered ${response.status}${response.bodyAsText ? `: ${response.bodyAsText.slice(0, 300)}` : ""}; the link may have expired, request a new download`,
                operation,
                requestId: requestIdOf(headers),
            });
        }
        const chunks: Buffer[] = [];
        for await (const chunk of response.readableStreamBody) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        return { status: 200, headers, bytes: Buffer.concat(chunks) };
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
    const origin = (() => {
        try {
            return new URL(url).origin;
        } catch {
            return url;
        }
    })();
    const status = isRestError(err) && err.statusCode ? err.statusCode : 0;
    return new AzureApiError({
        status,
        code,
        message: `could not reach ${origin}: ${detail}. Check the endpoint setting and that the service (or the emulator) is running`,
        operation,
    });
}
