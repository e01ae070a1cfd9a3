/**
 * An invoice's message composed once, for all of the invoice's recipients.
 *
 * nodemailer composes every message it is given from scratch: it builds the
 * MIME tree, encodes the plain-text and HTML parts as quoted-printable and
 * the PDF as base64 in 76-column lines, and streams it all through a pipe per
 * part. The PDF (about 100 KB, 140 KB encoded) is most of those bytes, and
 * every part is the same for each recipient of an invoice: only `To`,
 * `Message-ID` and `Date` differ, and they are top-level headers.
 *
 * So {@link prepareInvoice} runs nodemailer's own composer once on the
 * invoice's message, with a boundary base of the invoice's own (random, as
 * nodemailer makes it), and keeps the body below the top-level headers: the
 * multiparts, their boundaries and the encoded parts. A recipient's message
 * ({@link rawFor}) is the header block nodemailer composes for that
 * recipient above those bytes, with the envelope nodemailer derives from
 * the headers. It is the message nodemailer composes from the plain options,
 * byte for byte (a unit test composes both with one boundary base and date
 * and compares the bytes); boundaries need only be unique within a message,
 * so an invoice's messages sharing them is what any recipient could also
 * see from nodemailer.
 */
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import type { SendMailOptions } from "nodemailer";
import type { InvoiceMessage } from "./index";

/** What we use of nodemailer's MIME node (`nodemailer/lib/mime-node`). */
interface MimeNodeLike {
    stream(output: NodeJS.WritableStream, options: Record<string, never>, done: (err?: Error | null) => void): void;
    /** The node's header block, without the blank line after it (for the root: Date, Message-ID and MIME-Version filled in). */
    buildHeaders(): string;
    getEnvelope(): { from: string | false; to: string[] };
    setHeader(key: string, value: unknown): unknown;
}

// Resolved once: a require by package name in a function resolves the path again on every call.
const MailComposer = require("nodemailer/lib/mail-composer") as new (mail: SendMailOptions) => { compile(): MimeNodeLike };
const MimeNode = require("nodemailer/lib/mime-node") as new (contentType?: string, options?: { baseBoundary?: string }) => MimeNodeLike;

/** nodemailer's composer, which turns message options into a MIME tree. */
function compose(message: SendMailOptions): MimeNodeLike {
    return new MailComposer(message).compile();
}

/** Size of the pieces a composed message is kept in. */
const PIECE = 256 * 1024;

/**
 * What a node writes into a message, exactly, in pieces of about 256 KB:
 * the composer writes small chunks (a line, a boundary), and one piece per
 * chunk would be one socket write each; one Buffer for the whole would hold
 * a large PDF's message twice while it is joined.
 */
function piecesOf(node: MimeNodeLike): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
        const out = new PassThrough();
        const pieces: Buffer[] = [];
        let pending: Buffer[] = [];
        let size = 0;
        const cut = () => {
            if (pending.length > 0) pieces.push(pending.length === 1 ? pending[0] : Buffer.concat(pending, size));
            pending = [];
            size = 0;
        };
        out.on("data", (c: Buffer | string) => {
            const b = typeof c === "string" ? Buffer.from(c) : c;
            pending.push(b);
            size += b.length;
            if (size >= PIECE) cut();
        });
        node.stream(out, {}, (err) => {
            if (err) return reject(err);
            cut();
            resolve(pieces);
        });
    });
}

/**
 * The message with each Buffer attachment handed to the composer as a
 * stream of 64 KB pieces. Given a Buffer, nodemailer base64-encodes it in
 * one piece, holding several copies of the whole encoded attachment (a
 * string, its wrapped lines, their bytes) at once; in pieces it encodes as
 * it writes, to the same bytes.
 */
function streamedAttachments(message: InvoiceMessage): SendMailOptions {
    if (!message.attachments?.some((a) => Buffer.isBuffer(a.content))) return message;
    return {
        ...message,
        attachments: message.attachments.map((a) => (Buffer.isBuffer(a.content) ? { ...a, content: Readable.from(chunksOf(a.content), { objectMode: false }) } : a)),
    };
}

function* chunksOf(bytes: Buffer, size = 64 * 1024): Generator<Buffer> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** One recipient's message, ready for the SMTP transaction: its envelope, and its bytes as its own header block and the invoice's shared body. */
export interface RawMessage {
    envelope: { from: string | false; to: string[] };
    messageId: string;
    /** The top-level header block and the blank line after it. */
    head: Buffer;
    /** The invoice's shared body, in pieces (the same Buffers for each of its recipients). */
    body: readonly Buffer[];
}

/** An invoice's messages prepared once: the body every recipient's message shares (see the module comment). */
export interface PreparedInvoice {
    /**
     * nodemailer's root node of the invoice's message with a one-byte stand-in
     * for every part: what composes a recipient's header block, its To,
     * Message-ID and Date set anew for each (never read while another is set:
     * {@link rawFor} is synchronous).
     */
    readonly headers: MimeNodeLike;
    /** The envelope sender nodemailer derives from the message's From. */
    readonly from: string | false;
    /** Everything after the top-level header block and its blank line. */
    readonly body: readonly Buffer[];
}

/** A stand-in for each part when only the top-level headers are composed: they never depend on the parts' bytes. */
const STAND_IN = { raw: Buffer.from("-") };

/** The message options with each part replaced by a stand-in of one byte. */
function skeletonOf(message: SendMailOptions): SendMailOptions {
    return {
        ...message,
        ...(message.text ? { text: STAND_IN } : {}),
        ...(message.html ? { html: STAND_IN } : {}),
        ...(message.attachments ? { attachments: message.attachments.map(() => STAND_IN) } : {}),
    };
}

const CRLF2 = "\r\n\r\n";

/**
 * Composes the invoice's message once (every part encoded once) and keeps
 * the body its recipients' messages share, with one boundary base of its own
 * (random, as nodemailer makes it). Checks that the header block composed
 * from the stand-ins is exactly the one nodemailer writes above that body,
 * and throws when not: a nodemailer that derived top-level headers from the
 * parts' bytes would be caught here, not in a mailbox.
 */
export async function prepareInvoice(message: InvoiceMessage, baseBoundary = randomBytes(8).toString("hex")): Promise<PreparedInvoice> {
    // The stand-ins below replace text, HTML and attachments: a part of another kind would be left in the headers' tree.
    if (message.alternatives || message.icalEvent || message.amp || message.watchHtml || message.attachments?.some((a) => a.cid || a.raw)) {
        throw new Error("prepareInvoice: only text, HTML and plain attachments can be composed once");
    }
    const probe = { to: "probe@example.invalid", messageId: "<probe@example.invalid>", date: new Date(0), baseBoundary };
    const pieces = await piecesOf(compose({ ...streamedAttachments(message), ...probe }));
    const headers = compose({ ...skeletonOf(message), ...probe });
    const head = Buffer.from(headers.buildHeaders() + CRLF2);
    // The header block is far smaller than a piece, so it is the start of the first.
    const first = pieces[0] ?? Buffer.alloc(0);
    if (first.length < head.length || !first.subarray(0, head.length).equals(head)) {
        throw new Error("prepareInvoice: the header block composed alone differs from the one nodemailer writes");
    }
    pieces[0] = first.subarray(head.length);
    return { headers, from: headers.getEnvelope().from, body: cutAroundStuffing(pieces, head[head.length - 1]) };
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
/** Spots closer than this share one piece: a piece per spot would be a socket write per spot. */
const SPOT_GAP = 4096;

/**
 * Where nodemailer's DATA stream changes bytes in `piece` (`prev`: the byte
 * before it), in order: a bare CR, a bare LF, a dot first on a line. Found
 * with Buffer.indexOf, which is four times faster here than a regular
 * expression over the piece as text (its conversion alone costs more).
 */
function stuffingSpots(piece: Buffer, prev: number): number[] {
    const spots: number[] = [];
    const first = piece[0];
    if ((prev === CR && first !== LF) || (first === DOT && prev === LF)) spots.push(0);
    for (let i = piece.indexOf(LF); i !== -1; i = piece.indexOf(LF, i + 1)) if ((i === 0 ? prev : piece[i - 1]) !== CR || piece[i + 1] === DOT) spots.push(i);
    // A CR that ends the piece is judged against the next piece's first byte.
    for (let i = piece.indexOf(CR); i !== -1 && i + 1 < piece.length; i = piece.indexOf(CR, i + 1)) if (piece[i + 1] !== LF) spots.push(i);
    return spots.sort((a, b) => a - b);
}

/**
 * The body cut again so that the bytes nodemailer's SMTP DATA stream must
 * change are in small pieces of their own. That stream makes every line end
 * CRLF and doubles a dot that starts a line, and it copies the whole chunk it
 * was given into a new one when it changes anything in it: for a body in one
 * piece, 140 KB copied and thrown away for each recipient. The composer
 * leaves such spots in the text and HTML parts (their quoted-printable line
 * breaks are bare LF; a soft line break can put a dot first on a line) and
 * none in the attachment's base64, so the PDF's lines go to the socket as
 * they are. The bytes are the same; only where pieces end differs.
 */
export function cutAroundStuffing(pieces: readonly Buffer[], before: number): Buffer[] {
    const out: Buffer[] = [];
    let prev = before;
    for (const piece of pieces) {
        if (piece.length === 0) continue;
        const spots = stuffingSpots(piece, prev);
        let cut = 0;
        for (let i = 0; i < spots.length; ) {
            const start = spots[i];
            // A spot changes at most the byte after it: the piece holding it ends past that byte.
            let end = start + 2;
            while (++i < spots.length && spots[i] - end < SPOT_GAP) end = Math.max(end, spots[i] + 2);
            end = Math.min(end, piece.length);
            if (start > cut) out.push(piece.subarray(cut, start));
            if (end > start) out.push(piece.subarray(Math.max(start, cut), end));
            cut = Math.max(cut, end);
        }
        if (cut < piece.length) out.push(piece.subarray(cut));
        prev = piece[piece.length - 1];
    }
    return out;
}

/** The envelope recipient nodemailer derives from a To of `to` (an IDN domain in its ASCII form, for one). */
function envelopeRecipients(to: string): string[] {
    // A boundary base of its own, so no random bytes are drawn for a node that never writes a boundary.
    const node = new MimeNode(undefined, { baseBoundary: "-" });
    node.setHeader("To", to);
    return node.getEnvelope().to;
}

/**
 * One recipient's message: nodemailer's own header block for `to` and
 * `messageId` (and `date`, by default now) above the invoice's shared body,
 * with the envelope nodemailer derives from those headers.
 */
export function rawFor(invoice: PreparedInvoice, to: string, messageId: string, date = new Date()): RawMessage {
    const root = invoice.headers;
    root.setHeader("To", to);
    root.setHeader("Message-ID", messageId);
    root.setHeader("Date", date);
    return { envelope: { from: invoice.from, to: envelopeRecipients(to) }, messageId, head: Buffer.from(root.buildHeaders() + CRLF2), body: invoice.body };
}
