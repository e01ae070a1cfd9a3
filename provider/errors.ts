/**
 * The closed catalogue of errors this package raises. Every failure
 * a caller can see is one of these five classes, and each says once whether
 * it is worth retrying.
 *
 * - {@link AzureApiError}: Azure (or the emulator) answered with an error, or
 *   could not be reached. Carries HTTP status, ARM code, message, target and
 *   request id. Retryable for 408, 429, 5xx and connection failures.
 * - {@link ValidationError}: an input was malformed. Raised before any request
 *   is made. Never retryable: the caller must change the value.
 * - {@link ConfigurationError}: the endpoint, credential or other setting is
 *   missing or contradictory. Never retryable.
 * - {@link MailDeliveryError}: the SMTP server refused one message or the
 *   connection failed while sending it. Retryable for 4xx replies and
 *   connection failures; a 5xx reply is permanent for that recipient.
 * - {@link LedgerError}: the reconciler's ledger could not be read or
 *   written. Retryable when a later attempt may succeed (a dropped
 *   connection, a restarting server, a busy database); terminal otherwise
 *   (credentials refused, a full disk, a damaged file).
 */
import { z } from "zod";
import { propertyPath } from "./billing/names";

// Shared with the emulator, which imports no module of the provider outside
// the contract; part of this catalogue all the same.
export { ConfigurationError } from "./billing/configurationError";
export { propertyPath };

/** One problem with one input, in the shape Pulumi's `check` reports. */
export interface InputIssue {
    /** The property (dotted path) the problem is about, e.g. `additionalRecipients[1]`. */
    property: string;
    /** What is wrong and how to fix it. */
    reason: string;
}

export class AzureApiError extends Error {
    override readonly name = "AzureApiError";
    /** HTTP status; 0 when no response arrived (connection refused, reset, timeout). */
    readonly status: number;
    /** ARM error code (e.g. `AuthorizationFailed`, `NotFound`), or a synthetic one for bodies without a code. */
    readonly code: string;
    /** Azure's own message, unchanged. */
    readonly azureMessage: string;
    /** ARM `target`, when Azure names the offending field. */
    readonly target?: string;
    /** `x-ms-request-id` (or `x-ms-correlation-request-id`) of the failed response: quote it to Microsoft support. */
    readonly requestId?: string;
    /** The contract operation that failed, e.g. `putBillingProfile`. */
    readonly operation: string;
    /** What the caller was doing when it failed, on what (e.g. `creating EmailInvoiceSetting on billing profile …`). */
    readonly context?: string;
    /** What to do about it (the role to ask for, the inputs to check), when the caller knows. */
    readonly hint?: string;

    constructor(init: {
        status: number;
        code: string;
        message: string;
        operation: string;
        target?: string;
        requestId?: string;
        context?: string;
        hint?: string;
        cause?: unknown;
    }) {
        const where = init.requestId ? ` (request id ${init.requestId})` : "";
        const status = init.status ? `HTTP ${init.status} ` : "";
        const failure = `${init.operation} failed: ${status}${init.code}: ${init.message}${where}`;
        super(init.context ? `${init.context}: Azure ${failure}.${init.hint ? ` ${init.hint}` : ""}` : failure, init.cause === undefined ? undefined : { cause: init.cause });
        this.status = init.status;
        this.code = init.code;
        this.azureMessage = init.message;
        this.operation = init.operation;
        this.target = init.target;
        this.requestId = init.requestId;
        this.context = init.context;
        this.hint = init.hint;
    }

    /**
     * The same failure, said with what the caller was doing (and what to do
     * about it): same status, code, request id and retry verdict; this error
     * is its `cause`.
     */
    withContext(context: string, hint?: string): AzureApiError {
        const { status, code, azureMessage: message, operation, target, requestId } = this;
        return new AzureApiError({ status, code, message, operation, target, requestId, context, hint, cause: this });
    }

    /** True for throttling, server-side and connection failures, which a later attempt may clear. */
    get retryable(): boolean {
        return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
    }

    /** True when the thing addressed does not exist (404). */
    get notFound(): boolean {
        return this.status === 404;
    }

    /** True when the caller lacks the role the operation needs (401/403). */
    get forbidden(): boolean {
        return this.status === 401 || this.status === 403;
    }
}

export class ValidationError extends Error {
    override readonly name = "ValidationError";
    readonly issues: InputIssue[];
    readonly retryable = false;
    /** What was being validated, or done (e.g. `invoice email settings: invalid input`). */
    readonly context?: string;

    constructor(issues: InputIssue[], context?: string, options?: { cause?: unknown }) {
        const list = issues.map((i) => `${i.property}: ${i.reason}`).join("; ");
        super(context ? `${context}: ${list}` : list, options);
        this.issues = issues;
        this.context = context;
    }

    /** The same issues, said with what the caller was doing; this error is its `cause`. */
    withContext(context: string): ValidationError {
        return new ValidationError(this.issues, this.context ? `${context}: ${this.context}` : context, { cause: this });
    }
}

export class MailDeliveryError extends Error {
    override readonly name = "MailDeliveryError";
    /** True for SMTP 4xx replies and connection failures; false for 5xx (the recipient or message is refused for good). */
    readonly retryable: boolean;
    /** The SMTP reply code, when the server answered (e.g. 451, 550); undefined for connection failures. */
    readonly responseCode?: number;
    /** The server's reply line, or the connection failure. */
    readonly response: string;
    /** The SMTP command that failed (`RCPT TO`, `DATA`, `CONN`, ...), when known. */
    readonly command?: string;
    /** nodemailer's error code (`EENVELOPE`, `ECONNECTION`, `ETIMEDOUT`, ...), when known. */
    readonly code?: string;

    constructor(init: { retryable: boolean; response: string; responseCode?: number; command?: string; code?: string; recipient?: string }) {
        const to = init.recipient ? ` to ${init.recipient}` : "";
        const what = init.retryable ? "temporarily refused" : "refused";
        super(`SMTP ${what} the message${to}${init.command ? ` at ${init.command}` : ""}: ${init.response}`);
        this.retryable = init.retryable;
        this.responseCode = init.responseCode;
        this.response = init.response;
        this.command = init.command;
        this.code = init.code;
    }
}

export class LedgerError extends Error {
    override readonly name = "LedgerError";
    /** True when a later attempt may succeed (connection lost, server restarting, database busy). */
    readonly retryable: boolean;
    /** The ledger, as safe to print: a path, or a URL without its password. */
    readonly ledger: string;
    /** The driver's code (`ECONNREFUSED`, `57P01`, `SQLITE_FULL`, ...), when known. */
    readonly code?: string;

    constructor(init: { ledger: string; message: string; retryable: boolean; code?: string }) {
        super(`ledger ${init.ledger}: ${init.message}`);
        this.ledger = init.ledger;
        this.retryable = init.retryable;
        this.code = init.code;
    }
}

/** Whether `err` is worth retrying; unknown errors are treated as terminal. */
export function isRetryable(err: unknown): boolean {
    return err instanceof AzureApiError || err instanceof MailDeliveryError || err instanceof LedgerError ? err.retryable : false;
}

/** Converts zod issues into property-level issues. */
export function issuesFromZod(error: z.ZodError, prefix = ""): InputIssue[] {
    return error.issues.map((issue) => ({
        property: propertyPath(issue.path, prefix),
        reason: issue.message,
    }));
}
