/**
 * Where the client talks to and as whom. Configuration enters at the edges,
 * so that what a run uses is decided once, in one place, and inner modules
 * can be tested without an environment: the CLI, the Pulumi provider's
 * `configure()` and tests call {@link resolveSettings} once with what they
 * have, and pass the typed result down. Nothing below this module reads
 * `process.env`.
 *
 * Precedence, per setting: explicit options > Pulumi stack config
 * (`azure-email-invoicing:endpoint`, `:graphEndpoint`, `:token`,
 * `:graphToken`, `:requestTimeout`, `:operationTimeout`, `:maxDocumentSize`,
 * `:maxResponseSize`, `:maxRequestsPerSecond`, `:requestBurst`) > environment
 * (`AZURE_EMAIL_INVOICING_ENDPOINT`, `_GRAPH_ENDPOINT`, `_TOKEN`,
 * `_GRAPH_TOKEN`, `_REQUEST_TIMEOUT`, `_OPERATION_TIMEOUT`,
 * `_MAX_DOCUMENT_SIZE`, `_MAX_RESPONSE_SIZE`, `_MAX_REQUESTS_PER_SECOND`,
 * `_REQUEST_BURST`) >
 * defaults (real ARM and Graph with `DefaultAzureCredential`, and the limits
 * of {@link DEFAULT_LIMITS}).
 */
import { z } from "zod";
import { ConfigurationError } from "./errors";
import { formatByteSize, formatDuration, parseByteSize, parseDuration } from "./units";

/** Azure Resource Manager in the public cloud. */
export const DEFAULT_ARM_ENDPOINT = "https://management.azure.com";
/** Microsoft Graph in the public cloud. */
export const DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com";

/** The Pulumi config namespace of this package. */
export const CONFIG_NAMESPACE = "azure-email-invoicing";

/** Environment variable names, in one place. */
export const ENV = {
    endpoint: "AZURE_EMAIL_INVOICING_ENDPOINT",
    graphEndpoint: "AZURE_EMAIL_INVOICING_GRAPH_ENDPOINT",
    token: "AZURE_EMAIL_INVOICING_TOKEN",
    graphToken: "AZURE_EMAIL_INVOICING_GRAPH_TOKEN",
    requestTimeout: "AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT",
    operationTimeout: "AZURE_EMAIL_INVOICING_OPERATION_TIMEOUT",
    maxDocumentSize: "AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE",
    maxResponseSize: "AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE",
    maxRequestsPerSecond: "AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND",
    requestBurst: "AZURE_EMAIL_INVOICING_REQUEST_BURST",
} as const;

/** Stack config keys, in one place. */
export const STACK_CONFIG = {
    endpoint: `${CONFIG_NAMESPACE}:endpoint`,
    graphEndpoint: `${CONFIG_NAMESPACE}:graphEndpoint`,
    token: `${CONFIG_NAMESPACE}:token`,
    graphToken: `${CONFIG_NAMESPACE}:graphToken`,
    requestTimeout: `${CONFIG_NAMESPACE}:requestTimeout`,
    operationTimeout: `${CONFIG_NAMESPACE}:operationTimeout`,
    maxDocumentSize: `${CONFIG_NAMESPACE}:maxDocumentSize`,
    maxResponseSize: `${CONFIG_NAMESPACE}:maxResponseSize`,
    maxRequestsPerSecond: `${CONFIG_NAMESPACE}:maxRequestsPerSecond`,
    requestBurst: `${CONFIG_NAMESPACE}:requestBurst`,
} as const;

/** The reconciler's flag for each limit, for messages that say how to change one. */
export const LIMIT_FLAGS: Partial<Record<keyof SettingsLayer, string>> = {
    requestTimeout: "--request-timeout",
    operationTimeout: "--operation-timeout",
    maxDocumentSize: "--max-document-size",
    maxRequestsPerSecond: "--max-requests-per-second",
    requestBurst: "--request-burst",
};

/** How requests are authenticated. */
export type CredentialSettings =
    /** A fixed bearer token (the emulator's principals, or a token you obtained yourself). */
    | { kind: "token"; token: string }
    /** `DefaultAzureCredential` from `@azure/identity`: environment, workload identity, managed identity, Azure CLI... */
    | { kind: "azure" };

/** Retry and polling behaviour; defaults suit real Azure. */
export interface RetrySettings {
    /** Retries after the first attempt for 408/429/5xx and connection errors. Default 4. */
    maxRetries: number;
    /** Base delay of the exponential backoff, ms. Default 1000. Retry-After always wins. */
    retryDelayInMs: number;
    /** Cap on one backoff delay, ms. Default 30000. */
    maxRetryDelayInMs: number;
    /** Cap on a server's `Retry-After` (throttling, and the polls of a long-running operation), ms. Default 60000. */
    maxRetryAfterInMs: number;
    /** Delay between polls when Azure sends no Retry-After, ms. Default 1000. */
    lroDefaultPollInMs: number;
}

/**
 * Time and size limits of every request (ARM, Graph and document downloads),
 * so that no server can hang a run or exhaust its memory.
 */
export interface Limits {
    /**
     * Longest one attempt of a request may take, from sending it to the last
     * byte of the answer, ms. A timed-out attempt is retried like a
     * connection failure (at most `maxRetries` times). Default 60000 (60 s).
     */
    requestTimeoutInMs: number;
    /** Longest pause between two chunks of an answer's body, ms: the request timeout when shorter. Default 30000. */
    bodyIdleTimeoutInMs: number;
    /** Longest a long-running operation is polled, polls included, ms. Default 900000 (15 min). */
    operationTimeoutInMs: number;
    /** Largest invoice document (PDF) downloaded, bytes. Default 25 MB (25,000,000). */
    maxDocumentBytes: number;
    /** Largest JSON body read from ARM or Graph, bytes. Default 32 MB (32,000,000). */
    maxResponseBytes: number;
    /** Most pages one list is read to; beyond it a server is taken to be paging forever. Default 10,000. */
    maxPages: number;
    /**
     * ARM requests per second (every attempt, retries too), the refill of the
     * client's token bucket. Default 25, ARM's documented read refill per
     * principal; divide it among workers that share a principal.
     */
    maxRequestsPerSecond: number;
    /** Tokens the bucket holds: requests that may go at once after a quiet spell. Default 250 (ARM's read bucket); 1 spaces every request. */
    requestBurst: number;
}

/** Everything the billing client needs. Immutable once resolved. */
export interface ClientSettings {
    /** ARM base URL without a trailing slash. */
    endpoint: string;
    /** Microsoft Graph base URL without a trailing slash. */
    graphEndpoint: string;
    /** How ARM requests are authenticated (scope `<endpoint>/.default`). */
    credential: CredentialSettings;
    /** How Graph requests are authenticated (scope `<graphEndpoint>/.default`). */
    graphCredential: CredentialSettings;
    retry: RetrySettings;
    limits: Limits;
    /**
     * Where each setting came from, for diagnostics (never the token itself),
     * and the name of each limit's setting as its source spells it, for
     * messages that say how to change it.
     */
    sources: { endpoint: Source; graphEndpoint: Source; credential: Source; graphCredential: Source; limits: Record<LimitKey, string> };
}

export type Source = "explicit" | "stack" | "environment" | "default";

/** One layer of settings as a caller has them; every field optional. */
export interface SettingsLayer {
    endpoint?: string;
    graphEndpoint?: string;
    /** A static ARM bearer token. */
    token?: string;
    /** A static Graph bearer token (only needed when Graph is not served by the ARM endpoint's origin). */
    graphToken?: string;
    /** {@link Limits.requestTimeoutInMs} as a duration, e.g. `60s`. */
    requestTimeout?: string;
    /** {@link Limits.operationTimeoutInMs} as a duration, e.g. `15m`. */
    operationTimeout?: string;
    /** {@link Limits.maxDocumentBytes} as a size, e.g. `25MB` (MB = 10^6 bytes; MiB accepted). */
    maxDocumentSize?: string;
    /** {@link Limits.maxResponseBytes} as a size, e.g. `32MB`. */
    maxResponseSize?: string;
    /** {@link Limits.maxRequestsPerSecond}, e.g. `25` or `12.5`. */
    maxRequestsPerSecond?: string;
    /** {@link Limits.requestBurst}, a whole number, e.g. `250`. */
    requestBurst?: string;
}

/** The layer keys that set a limit. */
export type LimitKey = "requestTimeout" | "operationTimeout" | "maxDocumentSize" | "maxResponseSize" | "maxRequestsPerSecond" | "requestBurst";

export const DEFAULT_RETRY: RetrySettings = {
    maxRetries: 4,
    retryDelayInMs: 1000,
    maxRetryDelayInMs: 30000,
    maxRetryAfterInMs: 60000,
    lroDefaultPollInMs: 1000,
};

export const DEFAULT_LIMITS: Limits = {
    requestTimeoutInMs: 60_000,
    bodyIdleTimeoutInMs: 30_000,
    operationTimeoutInMs: 15 * 60_000,
    maxDocumentBytes: 25_000_000,
    maxResponseBytes: 32_000_000,
    maxPages: 10_000,
    maxRequestsPerSecond: 25,
    requestBurst: 250,
};

/** How each limit is read from a layer: its field in {@link Limits}, its kind and the values it admits. */
const LIMIT_SETTINGS: Record<LimitKey, { field: keyof Limits; kind: "duration" | "size" | "rate" | "count"; min: number; max: number }> = {
    requestTimeout: { field: "requestTimeoutInMs", kind: "duration", min: 100, max: 3_600_000 },
    operationTimeout: { field: "operationTimeoutInMs", kind: "duration", min: 1000, max: 24 * 3_600_000 },
    maxDocumentSize: { field: "maxDocumentBytes", kind: "size", min: 1000, max: 1e9 },
    maxResponseSize: { field: "maxResponseBytes", kind: "size", min: 1000, max: 1e9 },
    maxRequestsPerSecond: { field: "maxRequestsPerSecond", kind: "rate", min: 0.1, max: 100_000 },
    requestBurst: { field: "requestBurst", kind: "count", min: 1, max: 100_000 },
};

/** How a limit of each kind is read, written back and explained. */
const LIMIT_KINDS = {
    duration: { parse: parseDuration, format: formatDuration, example: "a duration such as 30s, 5m or 1h" },
    size: { parse: parseByteSize, format: formatByteSize, example: "a size such as 25MB or 32MiB (MB = 10^6 bytes, MiB = 2^20)" },
    rate: { parse: (v: string) => (/^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : undefined), format: String, example: "a number of requests per second such as 25 or 12.5" },
    count: { parse: (v: string) => (/^\d+$/.test(v.trim()) ? Number(v) : undefined), format: String, example: "a whole number such as 250" },
} as const;

/**
 * Reads one limit as a user wrote it. Returns the value in ms or bytes, or a
 * reason that says what to write instead.
 */
export function parseLimit(key: LimitKey, value: string): { ok: true; value: number } | { ok: false; reason: string } {
    const spec = LIMIT_SETTINGS[key];
    const { parse, format, example } = LIMIT_KINDS[spec.kind];
    const parsed = parse(value);
    if (parsed === undefined) return { ok: false, reason: `'${value}' is not ${example}` };
    if (parsed < spec.min || parsed > spec.max) return { ok: false, reason: `'${value}' is outside ${format(spec.min)} to ${format(spec.max)}` };
    return { ok: true, value: parsed };
}

/**
 * The provider settings a Pulumi program sets: stack config
 * `azure-email-invoicing:<key>`, or the inputs of an explicit provider
 * resource. One schema per setting, described once; the provider plugin's
 * schema (its `config` and `provider` sections) is generated from it, and
 * both providers read these keys through {@link settingsFromStackConfig}.
 */
export const providerSettingsShape = {
    endpoint: z
        .string()
        .optional()
        .describe(`Azure Resource Manager endpoint (default ${DEFAULT_ARM_ENDPOINT}; environment ${ENV.endpoint}). Plain http only for a local emulator on loopback.`),
    graphEndpoint: z
        .string()
        .optional()
        .describe(
            `Microsoft Graph endpoint (default ${DEFAULT_GRAPH_ENDPOINT}, or the ARM endpoint when that is a loopback emulator; environment ${ENV.graphEndpoint}).`,
        ),
    token: z
        .string()
        .optional()
        .describe(`A static ARM bearer token (environment ${ENV.token}); without one, DefaultAzureCredential signs in. Set it as a secret.`),
    graphToken: z
        .string()
        .optional()
        .describe(
            `A static Microsoft Graph bearer token (environment ${ENV.graphToken}); default: the ARM token when Graph is the emulator's origin, else DefaultAzureCredential. Set it as a secret.`,
        ),
    requestTimeout: z
        .string()
        .optional()
        .describe(
            `Longest one attempt of a request may take, as a duration such as 30s or 2m (default ${formatDuration(DEFAULT_LIMITS.requestTimeoutInMs)}; environment ${ENV.requestTimeout}).`,
        ),
    operationTimeout: z
        .string()
        .optional()
        .describe(
            `Longest a long-running operation is polled, as a duration (default ${formatDuration(DEFAULT_LIMITS.operationTimeoutInMs)}; environment ${ENV.operationTimeout}).`,
        ),
    maxDocumentSize: z
        .string()
        .optional()
        .describe(
            `Largest invoice document downloaded, as a size such as 25MB (default ${formatByteSize(DEFAULT_LIMITS.maxDocumentBytes)}; environment ${ENV.maxDocumentSize}).`,
        ),
    maxResponseSize: z
        .string()
        .optional()
        .describe(
            `Largest JSON body read from ARM or Graph, as a size (default ${formatByteSize(DEFAULT_LIMITS.maxResponseBytes)}; environment ${ENV.maxResponseSize}).`,
        ),
    maxRequestsPerSecond: z
        .string()
        .optional()
        .describe(
            `ARM requests per second, the refill of the client's token bucket (default ${DEFAULT_LIMITS.maxRequestsPerSecond}, ARM's read refill per principal; environment ${ENV.maxRequestsPerSecond}). Divide it among the programs that share a principal.`,
        ),
    requestBurst: z
        .string()
        .optional()
        .describe(
            `ARM requests that may go at once after a quiet spell, the size of that bucket (default ${DEFAULT_LIMITS.requestBurst}, ARM's read bucket; 1 spaces every request; environment ${ENV.requestBurst}).`,
        ),
};

/** Settings that are credentials: secrets in every SDK and in state. */
export const SECRET_SETTINGS: ReadonlyArray<keyof typeof providerSettingsShape> = ["token", "graphToken"];

/** True for 127.0.0.0/8, ::1 and localhost: the only places plain http is allowed. */
export function isLoopbackHost(hostname: string): boolean {
    const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
    return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * A bearer token as RFC 6750 lets it travel in an `Authorization` header:
 * visible ASCII only (no spaces, line breaks, or characters beyond ASCII,
 * which node would refuse later with "Invalid character in header content").
 * The message names the position, never the token.
 */
const tokenSchema = z
    .string()
    .min(1, { error: "is empty" })
    .max(16_384, { error: "is longer than 16384 characters: paste the token alone" })
    .superRefine((t, ctx) => {
        const at = [...t].findIndex((c) => !/^[\x21-\x7e]$/.test(c));
        if (at < 0) return;
        const c = [...t][at];
        const what = /\s/.test(c) ? "whitespace or a line break" : c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? "a control character" : "a character that is not ASCII";
        ctx.addIssue({ code: "custom", message: `contains ${what} at position ${at + 1}: a bearer token is visible ASCII only (RFC 6750); paste the token alone` });
    });

/** The value as it may be printed: any `user:password@` part is masked. */
function redact(value: string): string {
    return value.replace(/\/\/[^/@\s]*@/, "//***@");
}

function parseEndpoint(value: string, setting: string): string {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        throw new ConfigurationError(setting, `'${redact(value)}' is not a URL; use e.g. ${DEFAULT_ARM_ENDPOINT} or the emulator's http://127.0.0.1:PORT`);
    }
    // Before anything prints url.origin: for file:, data: and the like it is the string 'null'.
    if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new ConfigurationError(
            setting,
            `${url.protocol.slice(0, -1)}: URLs are not supported: use an https URL, e.g. ${DEFAULT_ARM_ENDPOINT} (plain http only for a local emulator on 127.0.0.1/localhost)`,
        );
    }
    if (url.username || url.password || url.search || url.hash) {
        throw new ConfigurationError(setting, `${url.origin} must be given without credentials, a query or a fragment`);
    }
    if (url.protocol !== "https:" && !isLoopbackHost(url.hostname)) {
        throw new ConfigurationError(setting, `'${url.origin}' must use https (plain http is only allowed for a local emulator on 127.0.0.1/localhost)`);
    }
    return url.origin + url.pathname.replace(/\/+$/, "");
}

function pick<K extends keyof SettingsLayer>(
    key: K,
    layers: Array<[Source, SettingsLayer | undefined]>,
): [Source, string] | undefined {
    for (const [source, layer] of layers) {
        const v = layer?.[key];
        if (v !== undefined && v !== null && v !== "") return [source, v];
    }
    return undefined;
}

/** The name of a setting as the user set it, for error messages. */
function settingName(source: Source | undefined, key: keyof SettingsLayer): string {
    if (source === "stack") return STACK_CONFIG[key];
    if (source === "environment") return ENV[key];
    return key;
}

/** The layer keys, in one place. */
const LAYER_KEYS = Object.keys(ENV) as Array<keyof SettingsLayer>;

/** Reads the environment layer from an environment map (the caller passes `process.env`). */
export function settingsFromEnvironment(env: Record<string, string | undefined>): SettingsLayer {
    const layer: SettingsLayer = {};
    for (const key of LAYER_KEYS) if (env[ENV[key]] !== undefined) layer[key] = env[ENV[key]];
    return layer;
}

/** Reads the stack-config layer from a getter of `azure-email-invoicing:<key>` (e.g. Pulumi's dynamic `Config.get`). */
export function settingsFromStackConfig(get: (key: string) => string | undefined): SettingsLayer {
    const layer: SettingsLayer = {};
    for (const key of LAYER_KEYS) {
        const value = get(STACK_CONFIG[key]);
        if (value !== undefined) layer[key] = value;
    }
    return layer;
}

/** The name of a limit's setting as `source` spells it, with the other ways to set it, for messages. */
function limitSettingName(source: Source, key: LimitKey): string {
    const ways = [STACK_CONFIG[key], ENV[key], LIMIT_FLAGS[key]].filter((w): w is string => w !== undefined);
    return source === "default" || source === "explicit" ? ways.join(", ") : `${settingName(source, key)}`;
}

function resolveLimits(order: Array<[Source, SettingsLayer | undefined]>, overrides: Partial<Limits> | undefined): { limits: Limits; names: Record<LimitKey, string> } {
    const limits: Limits = { ...DEFAULT_LIMITS };
    const names = {} as Record<LimitKey, string>;
    for (const key of Object.keys(LIMIT_SETTINGS) as LimitKey[]) {
        const found = pick(key, order);
        names[key] = limitSettingName(found?.[0] ?? "default", key);
        if (!found) continue;
        const parsed = parseLimit(key, found[1]);
        if (!parsed.ok) throw new ConfigurationError(settingName(found[0], key), parsed.reason);
        limits[LIMIT_SETTINGS[key].field] = parsed.value;
    }
    Object.assign(limits, overrides ?? {});
    limits.bodyIdleTimeoutInMs = Math.min(limits.bodyIdleTimeoutInMs, limits.requestTimeoutInMs);
    return { limits, names };
}

function tokenFrom(found: [Source, string] | undefined, key: "token" | "graphToken"): CredentialSettings | undefined {
    if (!found) return undefined;
    const parsed = tokenSchema.safeParse(found[1]);
    if (!parsed.success) throw new ConfigurationError(settingName(found[0], key), parsed.error.issues[0]?.message ?? "is invalid");
    return { kind: "token", token: parsed.data };
}

/**
 * Resolves the client settings from the layers, highest precedence first.
 * Throws {@link ConfigurationError} naming the setting for a malformed value.
 *
 * When the ARM endpoint is set but the Graph endpoint is not, Graph defaults
 * to the ARM endpoint if that is a loopback emulator (the emulator serves
 * both), and to public Graph otherwise.
 *
 * Each service gets a credential for its own audience. A static `token` is an
 * ARM token; Graph uses `graphToken` when given, the same static token only
 * when Graph is served from the ARM endpoint's origin (the emulator), and
 * otherwise `DefaultAzureCredential` — an ARM token is never sent to Graph.
 */
export function resolveSettings(layers: {
    explicit?: SettingsLayer;
    stack?: SettingsLayer;
    env?: SettingsLayer;
    retry?: Partial<RetrySettings>;
    /** Limits in ms and bytes, over every layer (tests, and callers that computed them). */
    limits?: Partial<Limits>;
}): ClientSettings {
    const order: Array<[Source, SettingsLayer | undefined]> = [
        ["explicit", layers.explicit],
        ["stack", layers.stack],
        ["environment", layers.env],
    ];
    const ep = pick("endpoint", order);
    const endpoint = ep ? parseEndpoint(ep[1], settingName(ep[0], "endpoint")) : DEFAULT_ARM_ENDPOINT;

    const gp = pick("graphEndpoint", order);
    let graphEndpoint: string;
    let graphSource: Source;
    if (gp) {
        graphEndpoint = parseEndpoint(gp[1], settingName(gp[0], "graphEndpoint"));
        graphSource = gp[0];
    } else if (isLoopbackHost(new URL(endpoint).hostname)) {
        graphEndpoint = endpoint;
        graphSource = ep?.[0] ?? "default";
    } else {
        graphEndpoint = DEFAULT_GRAPH_ENDPOINT;
        graphSource = "default";
    }

    const tk = pick("token", order);
    const gtk = pick("graphToken", order);
    const credential: CredentialSettings = tokenFrom(tk, "token") ?? { kind: "azure" };
    const sameOrigin = new URL(graphEndpoint).origin === new URL(endpoint).origin;
    const graphCredential: CredentialSettings =
        tokenFrom(gtk, "graphToken") ?? (credential.kind === "token" && sameOrigin ? credential : { kind: "azure" });
    if (credential.kind === "azure" && new URL(endpoint).protocol === "http:") {
        throw new ConfigurationError(
            settingName(ep?.[0], "endpoint"),
            `${endpoint} is a local emulator but no token is set: set ${ENV.token} (or ${STACK_CONFIG.token}) to one of the emulator's principal tokens`,
        );
    }
    if (graphCredential.kind === "azure" && new URL(graphEndpoint).protocol === "http:") {
        throw new ConfigurationError(
            settingName(gp?.[0], "graphEndpoint"),
            `${graphEndpoint} is a local emulator but no Graph token is set: set ${ENV.graphToken} (or ${STACK_CONFIG.graphToken})`,
        );
    }

    const { limits, names } = resolveLimits(order, layers.limits);

    return {
        endpoint,
        graphEndpoint,
        credential,
        graphCredential,
        retry: { ...DEFAULT_RETRY, ...(layers.retry ?? {}) },
        limits,
        sources: {
            endpoint: ep?.[0] ?? "default",
            graphEndpoint: graphSource,
            credential: tk?.[0] ?? "default",
            graphCredential: gtk?.[0] ?? (graphCredential === credential ? (tk?.[0] ?? "default") : "default"),
            limits: names,
        },
    };
}

/** A short description of the settings that is safe to print or log (no token). */
export function describeSettings(s: ClientSettings): string {
    const cred = (c: CredentialSettings) => (c.kind === "token" ? "static bearer token" : "DefaultAzureCredential");
    const l = s.limits;
    return (
        `ARM ${s.endpoint} (${s.sources.endpoint}), Graph ${s.graphEndpoint} (${s.sources.graphEndpoint}), credential: ${cred(s.credential)} (${s.sources.credential}), Graph credential: ${cred(s.graphCredential)} (${s.sources.graphCredential}); ` +
        `limits: request ${formatDuration(l.requestTimeoutInMs)}, operation ${formatDuration(l.operationTimeoutInMs)}, document ${formatByteSize(l.maxDocumentBytes)}, JSON body ${formatByteSize(l.maxResponseBytes)}, ARM ${l.maxRequestsPerSecond} requests/s (burst ${l.requestBurst})`
    );
}
