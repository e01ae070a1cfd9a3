/**
 * An invoice's message with its parts MIME-encoded once, for all of the
 * invoice's recipients.
 *
 * nodemailer encodes every message it is given from scratch: the plain-text
 * and HTML parts as quoted-printable, the PDF as base64 in 76-column lines.
 * The PDF (about 100 KB, 140 KB encoded) is most of that work, and it is the
 * same for every recipient of an invoice. {@link encodeParts} runs
 * nodemailer's own composer once on the message and keeps each leaf part as
 * the bytes nodemailer wrote for it (its part headers, the blank line and the
 * encoded content). The result is the same message options with every part
 * given as nodemailer's `raw` (pre-encoded) content: composing it again for a
 * recipient ({@link addressed}) builds only the tree of multiparts, the
 * boundaries and the top-level headers, and copies each part as it is.
 *
 * So the message a recipient receives is the one nodemailer would have
 * composed from the plain options, byte for byte: the same top-level
 * headers, the same part headers, the same encoded content. Only what
 * nodemailer makes fresh for every message differs: the random boundaries and
 * `Date` (a unit test composes both with one boundary and date and compares
 * the bytes).
 */
import { PassThrough } from "node:stream";
import type { SendMailOptions } from "nodemailer";
import type { InvoiceMessage } from "./index";

/** What we use of nodemailer's MIME node (`nodemailer/lib/mime-node`). */
interface MimeNodeLike {
    childNodes: MimeNodeLike[];
    stream(output: NodeJS.WritableStream, options: Record<string, never>, done: (err?: Error | null) => void): void;
}

/** nodemailer's composer, which turns message options into a MIME tree. */
function compose(message: SendMailOptions): MimeNodeLike {
    const MailComposer = require("nodemailer/lib/mail-composer") as new (mail: SendMailOptions) => { compile(): MimeNodeLike };
    return new MailComposer(message).compile();
}

/** The leaf parts of a MIME tree, in the order the composer wrote them. */
function leavesOf(node: MimeNodeLike): MimeNodeLike[] {
    return node.childNodes.length > 0 ? node.childNodes.flatMap(leavesOf) : [node];
}

/** What one part writes into a message: its headers, a blank line and its encoded content, exactly. */
function bytesOf(node: MimeNodeLike): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const out = new PassThrough();
        const chunks: Buffer[] = [];
        out.on("data", (c: Buffer | string) => chunks.push(typeof c === "string" ? Buffer.from(c) : c));
        node.stream(out, {}, (err) => (err ? reject(err) : resolve(Buffer.concat(chunks))));
    });
}

/**
 * The message with its text, HTML and attachments encoded once (see the
 * module comment). The structure is the composer's for these options:
 * `multipart/mixed` holding `multipart/alternative` (text, then HTML) and
 * the attachments in order, so the leaves map back to them in that order.
 * Throws when the message has a part of another kind (an `alternatives`
 * list, an iCal event, an embedded image): they would need the tree's own
 * placement, and the invoice message has none.
 */
export async function encodeParts(message: InvoiceMessage): Promise<InvoiceMessage> {
    if (message.alternatives || message.icalEvent || message.amp || message.watchHtml || message.attachments?.some((a) => a.cid || a.raw)) {
        throw new Error("encodeParts: only text, HTML and plain attachments can be encoded once");
    }
    const leaves = leavesOf(compose(message));
    const parts = await Promise.all(leaves.map(bytesOf));
    let next = 0;
    const raw = () => ({ raw: parts[next++] });
    const encoded: SendMailOptions = { ...message };
    if (message.text) encoded.text = raw();
    if (message.html) encoded.html = raw();
    if (message.attachments) encoded.attachments = message.attachments.map(raw);
    if (next !== parts.length) throw new Error(`encodeParts: the composer wrote ${parts.length} parts, the message has ${next}`);
    return encoded;
}
