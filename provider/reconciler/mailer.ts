/**
 * Sending invoice emails over SMTP with nodemailer's pooled transport, and
 * the one place SMTP failures are classified, so each is retried or given up on for one reason:
 *
 * - a 4xx reply (and 503) or a connection failure -> {@link MailDeliveryError}
 *   with `retryable: true`: retried with backoff within the run, left
 *   planned for the next run if it keeps failing;
 * - a 5xx reply to `RCPT TO` or `DATA` -> `retryable: false`: that recipient
 *   (or that message) is refused for good and recorded as failed;
 * - failures that would hit every message alike (credentials refused, TLS
 *   impossible, the sender refused) -> {@link ConfigurationError}: the run
 *   stops sending and leaves every delivery planned.
 *
 * Settings enter here only through {@link resolveSmtpSettings}, which the CLI
 * calls with its environment, so nothing below reads `process.env`. The password comes from `SMTP_URL`,
 * `SMTP_PASSWORD` or the file named by `SMTP_PASSWORD_FILE`, never a flag.
 */
import { Readable } from "node:stream";
import * as nodemailer from "nodemailer";
import type { SendMailOptions, SMTPPoolOptions, Transporter } from "nodemailer";
import { ERR_ACCESS_DENIED, isPermanentResponseCode, type ErrorCode } from "nodemailer/lib/errors";
import { isLoopbackHost } from "../config";
import { ConfigurationError, MailDeliveryError } from "../errors";
import { installFastDataEscaping } from "./dataStream";
import type { RawMessage } from "./message/encoded";
import { mailboxProblem } from "./routing";

/** Environment variable names of the mail settings, in one place. */
export const SMTP_ENV = {
    url: "SMTP_URL",
    password: "SMTP_PASSWORD",
    passwordFile: "SMTP_PASSWORD_FILE",
    from: "INVOICE_MAIL_FROM",
} as const;

/** How the connection is protected, for the log line and the tests. */
export type SmtpTlsMode = "implicit-tls" | "starttls-required" | "starttls-if-offered" | "plaintext";

/** Resolved SMTP settings. `transport` holds the password: never print it; print `display`. */
export interface SmtpSettings {
    transport: SMTPPoolOptions & { pool: true };
    /** The URL without the password, safe to print. */
    display: string;
    /** The default `From` header (undefined only with `senderOptional`). */
    from: string | undefined;
    tls: SmtpTlsMode;
    loopback: boolean;
}

/** What {@link resolveSmtpSettings} reads. */
export interface SmtpSettingsInput {
    env: Record<string, string | undefined>;
    /** `--from`; wins over `INVOICE_MAIL_FROM`. */
    from?: string;
    /** True when every message names its own sender (per-profile routing): no sender is then not an error. */
    senderOptional?: boolean;
    /** `--allow-insecure-smtp`: allow plaintext or unverified TLS off loopback. */
    allowInsecure?: boolean;
    /** Parallel SMTP connections (pool size). Default 5. */
    maxConnections?: number;
    /** Reads `SMTP_PASSWORD_FILE` (the CLI passes fs.readFileSync). */
    readFile: (path: string) => string;
}

/**
 * Checks a `From` value: `address` or `Display Name <address>`, one mailbox,
 * no line breaks. Returns it trimmed, or throws {@link ConfigurationError}.
 */
export function parseFrom(value: string, setting: string): string {
    const problem = mailboxProblem(value);
    if (problem) throw new ConfigurationError(setting, problem.replace("is not an address", "is not a sender address"));
    return value.trim();
}

/**
 * Reads `SMTP_URL` (nodemailer's URL form: `smtp://[user@]host[:port][?options]`
 * or `smtps://...`), the password, and the sender, and applies the TLS rule:
 * off loopback, a plaintext or unverified connection is refused unless
 * `allowInsecure`; `smtp://` to a remote host gets `requireTLS` (STARTTLS or
 * fail). Throws {@link ConfigurationError} naming the setting.
 */
export function resolveSmtpSettings(input: SmtpSettingsInput): SmtpSettings {
    const raw = input.env[SMTP_ENV.url];
    if (!raw) {
        throw new ConfigurationError(SMTP_ENV.url, "is not set: set it to your SMTP server, e.g. smtps://invoices%40contoso.com@smtp.contoso.com:465 (the sandbox prints one)");
    }
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        throw new ConfigurationError(SMTP_ENV.url, "is not a URL: use smtp://host:port or smtps://host:port");
    }
    if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
        throw new ConfigurationError(SMTP_ENV.url, `uses ${url.protocol.replace(":", "")}: only smtp:// and smtps:// are supported`);
    }
    if (!url.hostname) throw new ConfigurationError(SMTP_ENV.url, "names no host");
    // nodemailer's own parser, so query options (tls.servername, name, ...) mean what nodemailer documents.
    const { parseConnectionUrl } = require("nodemailer/lib/shared") as { parseConnectionUrl: (s: string) => Record<string, unknown> };
    const parsed = parseConnectionUrl(raw) as SMTPPoolOptions;
    const loopback = isLoopbackHost(url.hostname);

    // The password: exactly one source.
    const sources: Array<[string, string]> = [];
    if (url.password) sources.push([SMTP_ENV.url, decodeURIComponent(url.password)]);
    const envPass = input.env[SMTP_ENV.password];
    if (envPass) sources.push([SMTP_ENV.password, envPass]);
    const passFile = input.env[SMTP_ENV.passwordFile];
    if (passFile) {
        let text: string;
        try {
            text = input.readFile(passFile);
        } catch (err) {
            throw new ConfigurationError(SMTP_ENV.passwordFile, `cannot read ${passFile}: ${err instanceof Error ? err.message : String(err)}`);
        }
        sources.push([SMTP_ENV.passwordFile, text.replace(/\r?\n$/, "")]);
    }
    if (sources.length > 1) {
        throw new ConfigurationError(sources[1][0], `the SMTP password is also given by ${sources[0][0]}: give it in one place only`);
    }
    const user = url.username ? decodeURIComponent(url.username) : undefined;
    if (sources.length === 1 && !user) {
        throw new ConfigurationError(sources[0][0], `a password is set but ${SMTP_ENV.url} names no user: use smtp://USER@host:port`);
    }
    const auth = user ? { user, pass: sources[0]?.[1] ?? "" } : undefined;

    const secure = url.protocol === "smtps:";
    const tlsOptions = (parsed.tls ?? {}) as { rejectUnauthorized?: boolean };
    const insecureReasons: string[] = [];
    if (!secure && parsed.ignoreTLS === true) insecureReasons.push("ignoreTLS=true sends in plaintext");
    if (tlsOptions.rejectUnauthorized === false) insecureReasons.push("tls.rejectUnauthorized=false accepts any certificate");
    if (!loopback && !input.allowInsecure && insecureReasons.length > 0) {
        throw new ConfigurationError(SMTP_ENV.url, `${insecureReasons.join("; ")} to ${url.hostname}, which is not loopback: remove it, or pass --allow-insecure-smtp`);
    }
    let tls: SmtpTlsMode;
    const transport: SMTPPoolOptions & { pool: true } = {
        ...parsed,
        pool: true,
        secure,
        maxConnections: input.maxConnections ?? 5,
        maxMessages: 1000,
        // The reconciler retries itself, with the ledger knowing each attempt.
        maxRequeues: 0,
        connectionTimeout: 30_000,
        greetingTimeout: 30_000,
        socketTimeout: 60_000,
        disableFileAccess: true,
        disableUrlAccess: true,
        auth,
    };
    if (secure) {
        tls = "implicit-tls";
    } else if (parsed.ignoreTLS === true) {
        tls = "plaintext";
    } else if (!loopback && !input.allowInsecure) {
        transport.requireTLS = true;
        tls = "starttls-required";
    } else {
        tls = parsed.requireTLS ? "starttls-required" : "starttls-if-offered";
    }
    const display = `${url.protocol}//${user ? `${encodeURIComponent(user)}@` : ""}${url.host}${url.search ? "?…" : ""}`;

    const fromRaw = input.from ?? input.env[SMTP_ENV.from];
    if (!fromRaw && !input.senderOptional) throw new ConfigurationError(SMTP_ENV.from, `is not set: pass --from or set ${SMTP_ENV.from}, e.g. "Contoso Billing <billing@contoso.com>"`);
    const from = fromRaw ? parseFrom(fromRaw, input.from !== undefined ? "--from" : SMTP_ENV.from) : undefined;
    return { transport, display, from, tls, loopback };
}

/** A nodemailer error, as far as we read it. */
interface SmtpFailure {
    code?: string;
    command?: string;
    response?: string;
    responseCode?: number;
    message?: string;
}

/**
 * What a failure with each of nodemailer's own error codes (its closed
 * catalogue, `nodemailer/lib/errors`) means for a delivery; typed by that
 * catalogue, so a code nodemailer adds fails the build, and a unit test
 * holds the table to the installed version's codes:
 * - `connection`: the connection failed or timed out; retried, and counted
 *   toward the run's limit of connection failures in a row;
 * - `transient`: something a later attempt may not meet again; retried;
 * - `permanent`: the message itself is refused before the server sees it
 *   (malformed address or message, a file or URL it asks for: file and URL
 *   access are disabled here); sending it again changes nothing;
 * - `configuration`: every message would fail alike (credentials, TLS, the
 *   transport's options); the run stops sending and leaves them planned.
 */
export const SMTP_ERROR_CLASSES: Record<ErrorCode, "connection" | "transient" | "permanent" | "configuration"> = {
    ECONNECTION: "connection",
    ETIMEDOUT: "connection",
    ESOCKET: "connection",
    EDNS: "connection",
    EPROXY: "connection",
    ETLS: "configuration",
    EREQUIRETLS: "configuration",
    EAUTH: "configuration",
    ENOAUTH: "configuration",
    EOAUTH2: "configuration",
    EOTP: "configuration",
    ECONFIG: "configuration",
    // Other transports than SMTP: reachable only through a transport misconfigured.
    ESENDMAIL: "configuration",
    ESES: "configuration",
    EPROTOCOL: "transient",
    EABORT: "transient",
    EMAXLIMIT: "transient",
    EFETCH: "transient",
    EENVELOPE: "permanent",
    EMESSAGE: "permanent",
    ESTREAM: "permanent",
    EMAXRECIPIENTS: "permanent",
    EFILEACCESS: "permanent",
    EURLACCESS: "permanent",
};

/** Node's own socket codes, which nodemailer passes on as they are: the connection failed. */
const SOCKET_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE"]);

/** The class of a failure's code: nodemailer's catalogue, Node's socket codes, Node's permission model; undefined for any other. */
function classOf(code: string | undefined): (typeof SMTP_ERROR_CLASSES)[ErrorCode] | undefined {
    if (code === undefined) return undefined;
    if (Object.prototype.hasOwnProperty.call(SMTP_ERROR_CLASSES, code)) return SMTP_ERROR_CLASSES[code as ErrorCode];
    if (SOCKET_CODES.has(code)) return "connection";
    // Node's permission model (--permission) refused the network: no message can go out until it is granted.
    if (code === ERR_ACCESS_DENIED) return "configuration";
    return undefined;
}

/**
 * Classifies a failure of `sendMail` for one recipient (see the module
 * comment). Returns the error to record or throw; never throws itself.
 */
export function classifySmtpError(err: unknown, recipient?: string): MailDeliveryError | ConfigurationError {
    const e = (err ?? {}) as SmtpFailure;
    const response = (e.response ?? e.message ?? String(err)).replace(/\s+/g, " ").trim();
    const command = e.command;
    if (e.code === "ETLS" && /^STARTTLS/i.test(command ?? "") && typeof e.responseCode === "number") {
        // nodemailer sends STARTTLS whenever TLS is required; a server that does not offer it refuses the command.
        return new ConfigurationError(
            SMTP_ENV.url,
            `TLS is required for an SMTP server that is not on loopback, and this server does not offer it: it answered STARTTLS with "${response}". Use smtps:// if the server offers TLS from the start (usually port 465), or --allow-insecure-smtp to send without TLS`,
        );
    }
    const kind = classOf(e.code);
    if (kind === "configuration") {
        const what = e.code?.includes("AUTH") ? "refused the credentials" : "could not set up the connection as configured";
        return new ConfigurationError(SMTP_ENV.url, `the SMTP server ${what}: ${response}`);
    }
    const code = e.responseCode;
    if (typeof code === "number" && isPermanentResponseCode(code)) {
        if (command && /^MAIL/i.test(command)) {
            return new ConfigurationError(SMTP_ENV.from, `the SMTP server refuses the sender: ${response}; use a sender address the server accepts (--from)`);
        }
        if (command && /^(EHLO|HELO|CONN|GREETING|STARTTLS|AUTH)/i.test(command)) {
            return new ConfigurationError(SMTP_ENV.url, `the SMTP server refuses the session: ${response}`);
        }
        return new MailDeliveryError({ retryable: false, response, responseCode: code, command, code: e.code, recipient });
    }
    if (typeof code === "number" && code >= 400) {
        return new MailDeliveryError({ retryable: true, response, responseCode: code, command, code: e.code, recipient });
    }
    // Permanent: refused before the server saw it; sending it again changes nothing. Anything else
    // (connection, transient, a code of no catalogue) keeps the delivery, so nothing is lost.
    return new MailDeliveryError({ retryable: kind !== "permanent", response, command, code: e.code, recipient });
}

/** What the server said when it accepted a message. */
export interface SentInfo {
    /** The server's final reply, e.g. `250 OK: queued as 1234`. */
    response: string;
    messageId: string;
}

/** Anything that sends one message; the executor only needs this (tests and the benchmark pass the real one). */
export interface MessageSender {
    send(message: RawMessage): Promise<SentInfo>;
    close(): void;
}

/** A raw message as nodemailer sends it: its envelope, its Message-ID, its bytes as they are (the body's pieces never copied). */
function sendMailOptionsOf(message: RawMessage): SendMailOptions {
    return { envelope: message.envelope as SendMailOptions["envelope"], messageId: message.messageId, raw: Readable.from([message.head, ...message.body], { objectMode: false }) };
}

/** The SMTP sender: one pooled nodemailer transport, its DATA escaping at native speed (`dataStream.ts`). */
export class Mailer implements MessageSender {
    private readonly transporter: Transporter;

    constructor(readonly settings: SmtpSettings) {
        installFastDataEscaping();
        this.transporter = nodemailer.createTransport(settings.transport);
    }

    /**
     * Sends one message to its one recipient. Throws {@link MailDeliveryError}
     * (per-message) or {@link ConfigurationError} (every message would fail).
     */
    async send(message: RawMessage): Promise<SentInfo> {
        const to = message.envelope.to.length === 1 ? message.envelope.to[0] : undefined;
        let info: { response?: string; messageId?: string; rejected?: unknown[]; rejectedErrors?: unknown[] };
        try {
            info = (await this.transporter.sendMail(sendMailOptionsOf(message))) as typeof info;
        } catch (err) {
            throw classifySmtpError(err, to);
        }
        if (info.rejected && info.rejected.length > 0) {
            throw classifySmtpError(info.rejectedErrors?.[0] ?? { response: `recipient rejected: ${String(info.rejected[0])}`, responseCode: 550, command: "RCPT TO" }, to);
        }
        return { response: (info.response ?? "").trim(), messageId: info.messageId ?? message.messageId };
    }

    close(): void {
        this.transporter.close();
    }
}
