/**
 * A local SMTP sink: a real SMTP server (the `smtp-server` package) that
 * accepts every message and writes it as an `.eml` file to a folder (the
 * sandbox), keeps it in memory (tests), or only counts it (the benchmark).
 * Loopback only, no TLS, no authentication: it is for development and tests,
 * never for mail from the outside.
 *
 * Tests can make it misbehave per recipient or per message with `onRcpt` and
 * `onMessage`: answer an SMTP error (e.g. 451 or 550) or drop the connection,
 * as real servers do.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { SMTPServer, type SMTPServerSession } from "smtp-server";

/** What the sink does with one recipient or message: accept (undefined), refuse with a reply, or drop the connection. */
export type SinkVerdict = undefined | { code: number; message: string } | "drop";

export interface SmtpSinkOptions {
    /** Interface to bind; loopback only. Default 127.0.0.1. */
    host?: string;
    /** Port; 0 (default) picks a free one. */
    port?: number;
    /** Write each accepted message to `<mailDir>/<seq>-<hash>.eml` (created if missing). */
    mailDir?: string;
    /** Keep each accepted message (raw bytes) in `messages`. Default true unless `mailDir` is set. */
    keep?: boolean;
    /** Decide on each `RCPT TO`. */
    onRcpt?: (address: string, session: SMTPServerSession) => SinkVerdict | Promise<SinkVerdict>;
    /** Decide on each message once its data arrived; it is stored only when accepted. */
    onMessage?: (message: ReceivedMessage, session: SMTPServerSession) => SinkVerdict | Promise<SinkVerdict>;
}

/** One message the sink received. */
export interface ReceivedMessage {
    /** The whole message as sent (headers and body). Empty when `keep` is false. */
    raw: Buffer;
    size: number;
    from: string;
    to: string[];
    /** The `Message-ID` header, angle brackets included, when present. */
    messageId?: string;
    /** The `.eml` file, when written. */
    file?: string;
}

export interface SmtpSink {
    port: number;
    host: string;
    /** `smtp://127.0.0.1:PORT`, for `SMTP_URL`. */
    url: string;
    mailDir?: string;
    /** Accepted messages, in arrival order. */
    readonly messages: ReceivedMessage[];
    /** How many messages were accepted. */
    readonly accepted: number;
    /** Stops listening and closes open connections. */
    close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Reads the `Message-ID` header out of a raw message's header block. */
export function messageIdOf(raw: Buffer): string | undefined {
    const end = raw.indexOf("\r\n\r\n");
    const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 64 * 1024) : end).toString("latin1").replace(/\r\n[ \t]+/g, " ");
    const m = /^message-id:\s*(<[^>\r\n]+>)/im.exec(head);
    return m?.[1];
}

/** Starts the sink; resolves once it listens. */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const host = options.host ?? "127.0.0.1";
    if (!LOOPBACK.has(host)) throw new Error(`the SMTP sink listens on loopback only, not ${host}`);
    const keep = options.keep ?? options.mailDir === undefined;
    if (options.mailDir) fs.mkdirSync(options.mailDir, { recursive: true });
    const messages: ReceivedMessage[] = [];
    let accepted = 0;
    let seq = 0;

    const refuse = (v: { code: number; message: string }) => Object.assign(new Error(v.message), { responseCode: v.code });

    const server: SMTPServer = new SMTPServer({
        secure: false,
        // No STARTTLS (its certificate would be self-signed) and no AUTH: a local sink.
        disabledCommands: ["STARTTLS", "AUTH"],
        authOptional: true,
        logger: false,
        size: 64 * 1024 * 1024,
        banner: "azure-email-invoicing SMTP sink",
        closeTimeout: 1000,
        onRcptTo(address, session, callback) {
            Promise.resolve(options.onRcpt?.(address.address, session)).then(
                (verdict) => {
                    if (verdict === "drop") return drop(session);
                    callback(verdict ? refuse(verdict) : undefined);
                },
                (err: Error) => callback(err),
            );
        },
        onData(stream, session, callback) {
            const chunks: Buffer[] = [];
            stream.on("data", (c: Buffer) => chunks.push(c));
            stream.on("error", (err: Error) => callback(err));
            stream.on("end", () => {
                const raw = Buffer.concat(chunks);
                const envelope = session.envelope;
                const message: ReceivedMessage = {
                    raw,
                    size: raw.length,
                    from: envelope.mailFrom ? envelope.mailFrom.address : "",
                    to: envelope.rcptTo.map((r) => r.address),
                    messageId: messageIdOf(raw),
                };
                Promise.resolve(options.onMessage?.(message, session)).then(
                    (verdict) => {
                        if (verdict === "drop") return drop(session);
                        if (verdict) return callback(refuse(verdict));
                        const n = ++seq;
                        if (options.mailDir) {
                            const hash = createHash("sha256").update(message.messageId ?? raw).digest("hex").slice(0, 12);
                            const file = path.join(options.mailDir, `${String(n).padStart(6, "0")}-${hash}.eml`);
                            // Write then rename: a reader of the folder never sees half a message.
                            fs.writeFileSync(`${file}.tmp`, raw);
                            fs.renameSync(`${file}.tmp`, file);
                            message.file = file;
                        }
                        if (!keep) message.raw = Buffer.alloc(0);
                        messages.push(message);
                        accepted++;
                        callback(null, `OK: queued as ${n}`);
                    },
                    (err: Error) => callback(err),
                );
            });
        },
    });

    function drop(session: SMTPServerSession): void {
        const internal = server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> };
        for (const c of internal.connections) if (c.id === session.id) c._socket.destroy();
    }

    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, host, () => {
            server.off("error", reject);
            resolve();
        });
    });
    // Errors after start (a client vanishing mid-session) are the client's problem, not ours.
    server.on("error", () => undefined);
    const address = server.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return {
        port,
        host,
        url: `smtp://${urlHost}:${port}`,
        mailDir: options.mailDir,
        messages,
        get accepted() {
            return accepted;
        },
        close: () =>
            new Promise<void>((resolve) => {
                const internal = server as unknown as { connections: Set<{ close(): void }> };
                for (const c of internal.connections) c.close();
                server.close(() => resolve());
            }),
    };
}
