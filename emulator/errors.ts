/**
 * The emulator's one factory for error responses (after Azurite's
 * StorageErrorFactory). Handlers throw an {@link EmulatorError}; the server
 * turns any thrown value into a response with {@link errorReply}, which stamps
 * the request id. Nothing else writes an error body.
 *
 * Azure's billing service is known to answer with three JSON error bodies;
 * the emulator uses each where there is a source for it, and the ARM
 * envelope where there is none (README.md names the source of each):
 * - the ARM envelope `{error:{code,message,target,details}}`: every error
 *   but the ones below, request bodies that fail validation included;
 * - a bare `{code,message}`: an unknown document on invoice download, as
 *   recorded from Azure;
 * - an ASP.NET validation problem `{title,status,errors}`: a request body
 *   that fails validation, only with the setting `validationErrors:
 *   "problem"` (no Microsoft document shows it, and Microsoft's SDKs cannot
 *   read it, but clients meet it, so the client's handling stays tested).
 * Graph errors are the ARM envelope plus Graph's `innerError`; the document
 * links (a Storage-like endpoint) answer Storage's XML error.
 */
import { z } from "zod";
import { armError, type ArmErrorDetail } from "../provider/billing/schemas";

/** Which body an error is written as. */
export type ErrorShape = "arm" | "bare" | "problem" | "storage";

/** Which front of the emulator answered: decides Graph's and Storage's variants. */
export type ErrorApi = "arm" | "graph" | "storage" | "admin";

export interface ErrorInit {
    status: number;
    code: string;
    message: string;
    shape?: ErrorShape;
    target?: string;
    /** Extra response headers (`WWW-Authenticate`, `Retry-After`, `Allow`). */
    headers?: Record<string, string>;
    /** For `problem`: messages by property path, e.g. `properties.invoiceRecipients[0]`. */
    fields?: Record<string, string[]>;
    /** The ARM envelope's `details`: one entry per reason. */
    details?: ArmErrorDetail[];
}

/** An error the emulator answers on purpose. Anything else thrown becomes a 500. */
export class EmulatorError extends Error {
    override readonly name = "EmulatorError";
    readonly status: number;
    readonly code: string;
    readonly shape: ErrorShape;
    readonly target?: string;
    readonly headers: Record<string, string>;
    readonly fields?: Record<string, string[]>;
    readonly details?: ArmErrorDetail[];

    constructor(init: ErrorInit) {
        super(init.message);
        this.status = init.status;
        this.code = init.code;
        this.shape = init.shape ?? "arm";
        this.target = init.target;
        this.headers = init.headers ?? {};
        this.fields = init.fields;
        this.details = init.details;
    }
}

/** The catalogue of errors the emulator answers; each says what to do. */
export const fail = {
    /** 400 in the ARM envelope. */
    badRequest(code: string, message: string, target?: string): EmulatorError {
        return new EmulatorError({ status: 400, code, message, target });
    },

    /**
     * 400 for a request body that fails validation: in the ARM envelope, one
     * `details` entry per property (the property as `target`), or as an
     * ASP.NET validation problem with the setting `validationErrors: "problem"`.
     */
    validationProblem(fields: Record<string, string[]>): EmulatorError {
        return new EmulatorError({
            status: 400,
            code: "ValidationFailed",
            message: "One or more validation errors occurred.",
            shape: "problem",
            fields,
        });
    },

    /** 401, with the `WWW-Authenticate` challenge ARM sends. */
    unauthenticated(code: string, message: string, description: string): EmulatorError {
        return new EmulatorError({
            status: 401,
            code,
            message,
            headers: {
                "WWW-Authenticate": `Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="${description}"`,
            },
        });
    },

    /** 403 `AuthorizationFailed`. */
    forbidden(message: string): EmulatorError {
        return new EmulatorError({ status: 403, code: "AuthorizationFailed", message });
    },

    notFound(code: string, message: string): EmulatorError {
        return new EmulatorError({ status: 404, code, message });
    },

    /** 404 as a bare `{code,message}`, as Azure answers for an unknown invoice document. */
    documentNotFound(message: string): EmulatorError {
        return new EmulatorError({ status: 404, code: "DocumentNotFound", message, shape: "bare" });
    },

    methodNotAllowed(method: string, path: string, allow: string[]): EmulatorError {
        return new EmulatorError({
            status: 405,
            code: "MethodNotAllowed",
            message: `The requested resource does not support http method '${method}' at '${path}'. Allowed: ${allow.join(", ")}.`,
            headers: { Allow: allow.join(", ") },
        });
    },

    /** 421: the request names a host that is not this emulator (DNS rebinding). */
    misdirected(host: string, own: string[]): EmulatorError {
        return new EmulatorError({
            status: 421,
            code: "MisdirectedRequest",
            message: `This emulator answers only for ${own.join(" and ")}, not for Host '${host}'. Use one of those addresses (a page served from another name must not reach it).`,
        });
    },

    /** 403: a request a web page sent (an `Origin` that is not the emulator's own). */
    foreignOrigin(origin: string, own: string[]): EmulatorError {
        return new EmulatorError({
            status: 403,
            code: "ForeignOrigin",
            message: `Requests from web pages are refused: Origin '${origin}' is not ${own.join(" or ")}. The emulator hands out tokens, so only local programs may call it.`,
        });
    },

    /** 415: an admin write that does not say it is JSON. */
    unsupportedMediaType(contentType: string | undefined): EmulatorError {
        return new EmulatorError({
            status: 415,
            code: "UnsupportedMediaType",
            message: `An admin request other than GET needs 'Content-Type: application/json', also with an empty body${contentType ? `, not '${contentType}'` : " (none was sent)"}; only a DELETE without a body needs none.`,
        });
    },

    conflict(code: string, message: string): EmulatorError {
        return new EmulatorError({ status: 409, code, message });
    },

    /** 409 whose ARM envelope lists each reason in `details`. */
    conflictWithDetails(code: string, message: string, details: ArmErrorDetail[]): EmulatorError {
        return new EmulatorError({ status: 409, code, message, details });
    },

    /** An injected fault (`POST /_emulator/faults`). */
    injected(status: 429 | 500 | 503, retryAfterSeconds?: number): EmulatorError {
        const byStatus = {
            429: ["TooManyRequests", "The request was throttled: too many requests. Retry after the time in the Retry-After header."],
            500: ["InternalServerError", "The server encountered an internal error. Retry the request."],
            503: ["ServiceUnavailable", "The service is temporarily unavailable. Retry the request later."],
        } as const;
        const [code, message] = byStatus[status];
        return new EmulatorError({
            status,
            code,
            message: `${message} (fault injected by the emulator)`,
            headers: retryAfterSeconds !== undefined ? { "Retry-After": String(retryAfterSeconds) } : {},
        });
    },

    /** 403 in Storage's XML, for a document link whose signature or expiry is wrong. */
    storageAuthFailed(detail: string): EmulatorError {
        return new EmulatorError({
            status: 403,
            code: "AuthenticationFailed",
            message: "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
            target: detail,
            shape: "storage",
        });
    },

    storageNotFound(message: string): EmulatorError {
        return new EmulatorError({ status: 404, code: "BlobNotFound", message, shape: "storage" });
    },

    internal(message: string): EmulatorError {
        return new EmulatorError({ status: 500, code: "InternalServerError", message });
    },
};

/** A ready-to-write error response. */
export interface ErrorReply {
    status: number;
    headers: Record<string, string>;
    contentType: string;
    body: string;
}

export interface ErrorContext {
    requestId: string;
    clientRequestId?: string;
    api: ErrorApi;
    now: Date;
    /** How a body that fails validation is answered (the setting of that name); default the ARM envelope. */
    validationErrors?: "arm" | "problem";
}

function xmlEscape(s: string): string {
    return s.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c] as string);
}

/**
 * Turns any thrown value into the error response for it. An
 * {@link EmulatorError} keeps its status, code and shape; a
 * {@link z.ZodError} escaping a handler is an emulator bug and answers 500;
 * so does anything else.
 */
export function errorReply(err: unknown, ctx: ErrorContext): ErrorReply {
    const e =
        err instanceof EmulatorError
            ? err
            : fail.internal(
                  err instanceof z.ZodError
                      ? `emulator bug: unexpected validation failure: ${err.message}`
                      : `emulator bug: ${err instanceof Error ? err.message : String(err)}`,
              );
    const headers = { ...e.headers };
    if (e.shape === "storage") {
        const detail = e.target ? `<AuthenticationErrorDetail>${xmlEscape(e.target)}</AuthenticationErrorDetail>` : "";
        const body =
            `<?xml version="1.0" encoding="utf-8"?><Error><Code>${xmlEscape(e.code)}</Code>` +
            `<Message>${xmlEscape(e.message)}\nRequestId:${ctx.requestId}\nTime:${ctx.now.toISOString()}</Message>${detail}</Error>`;
        headers["x-ms-error-code"] = e.code;
        return { status: e.status, headers, contentType: "application/xml", body };
    }
    if (e.shape === "problem" && ctx.validationErrors !== "problem") {
        const fields = Object.entries(e.fields ?? {});
        const details = fields.map(([target, messages]) => ({ code: e.code, message: messages.join(" "), target }));
        const message = `${e.message} ${fields.map(([k, v]) => `${k}: ${v.join(" ")}`).join("; ")}`.trim();
        return {
            status: e.status,
            headers,
            contentType: "application/json; charset=utf-8",
            body: JSON.stringify(armError(e.code, message, fields.length === 1 ? fields[0][0] : undefined, details)),
        };
    }
    if (e.shape === "problem") {
        const body = {
            type: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            title: e.message,
            status: e.status,
            errors: e.fields ?? {},
            traceId: ctx.requestId,
        };
        return { status: e.status, headers, contentType: "application/problem+json; charset=utf-8", body: JSON.stringify(body) };
    }
    if (e.shape === "bare") {
        const body = e.target ? { code: e.code, message: e.message, target: e.target } : { code: e.code, message: e.message };
        return { status: e.status, headers, contentType: "application/json; charset=utf-8", body: JSON.stringify(body) };
    }
    if (ctx.api === "graph") {
        const body = {
            error: {
                code: e.code,
                message: e.message,
                innerError: {
                    date: ctx.now.toISOString().replace(/\.\d{3}Z$/, ""),
                    "request-id": ctx.requestId,
                    "client-request-id": ctx.clientRequestId ?? ctx.requestId,
                },
            },
        };
        return { status: e.status, headers, contentType: "application/json; charset=utf-8", body: JSON.stringify(body) };
    }
    return {
        status: e.status,
        headers,
        contentType: "application/json; charset=utf-8",
        body: JSON.stringify(armError(e.code, e.message, e.target, e.details)),
    };
}
