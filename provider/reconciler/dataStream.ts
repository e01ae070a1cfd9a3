/**
 * SMTP's DATA escaping, the same bytes at native speed.
 *
 * Every message nodemailer sends goes through its DATA stream
 * (`nodemailer/lib/smtp-connection/data-stream`), which makes every line end
 * CRLF (a bare CR or a bare LF becomes CRLF) and doubles a dot that starts a
 * line. It does so with a JavaScript loop over every byte of the message:
 * for an invoice's message of 140 KB, 1.9 to 2.7 ms of CPU on this project's
 * machine, about a third of the reconciler's CPU per message, and the part
 * that no composing once can save, since every recipient's message passes
 * through it whole.
 *
 * Only a CR or an LF can start a change: a bare CR, a bare LF, a dot after a
 * line end; the one other spot is a dot first in the whole message. So the
 * same rules, applied at the line ends that Buffer.indexOf finds (native
 * code), give the same bytes in 0.13 to 0.23 ms. {@link installFastDataEscaping}
 * puts that transform on nodemailer's DataStream class, once per process,
 * and only after it gave byte for byte what nodemailer's own gives on
 * probes that take every rule across chunk boundaries: a nodemailer whose
 * escaping differs keeps its own, and the reconciler is only slower. The
 * class is nodemailer's, so any other sender in the process gets the
 * same bytes faster as well.
 */
import type { Transform, TransformCallback } from "node:stream";

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

// nodemailer's own inserts: a CR before a bare LF, an LF after a bare CR (and a doubled dot after it), a doubled dot.
const INSERT_CR = Buffer.from("\r");
const INSERT_LF = Buffer.from("\n");
const INSERT_LF_DOT = Buffer.from("\n.");
const INSERT_DOT = Buffer.from(".");

/** What the transform reads and keeps on nodemailer's DataStream: its counters and the last byte it saw (false before any). */
interface DataStreamState extends Transform {
    inByteCount: number;
    outByteCount: number;
    lastByte: number | false;
}

type TransformMethod = (this: DataStreamState, chunk: Buffer | string, encoding: BufferEncoding, done: TransformCallback) => void;

/**
 * nodemailer's DATA escaping of one chunk: the bytes it pushes and the
 * state it keeps are the same as nodemailer's loop gives, a chunk that needs
 * no change is pushed as it is, one that does as one new Buffer.
 */
export const escapeChunk: TransformMethod = function (this: DataStreamState, input, _encoding, done) {
    if (!input || !input.length) return done();
    const chunk = typeof input === "string" ? Buffer.from(input) : input;
    const len = chunk.length;
    this.inByteCount += len;
    let pieces: Buffer[] | null = null;
    let total = 0;
    let cut = 0;
    // `at` only grows from call to call: a change is made before the byte at `at`.
    const insert = (at: number, bytes: Buffer) => {
        if (pieces === null) pieces = [];
        if (at > cut) {
            pieces.push(chunk.subarray(cut, at));
            total += at - cut;
        }
        pieces.push(bytes);
        total += bytes.length;
        cut = at;
    };
    const last = this.lastByte;
    const first = chunk[0];
    // The first byte is judged against the chunk before (or the start of the message); a first LF is judged below.
    if (last === CR && first !== LF) insert(0, first === DOT ? INSERT_LF_DOT : INSERT_LF);
    else if (first === DOT && (last === LF || last === false)) insert(0, INSERT_DOT);
    let nextCr = chunk.indexOf(CR);
    let nextLf = chunk.indexOf(LF);
    while (nextCr !== -1 || nextLf !== -1) {
        if (nextLf === -1 || (nextCr !== -1 && nextCr < nextLf)) {
            // A CR: the byte after it, unless it is an LF, gets an LF before it. A CR that ends the chunk is judged with the next.
            const after = nextCr + 1;
            if (after < len && chunk[after] !== LF) insert(after, chunk[after] === DOT ? INSERT_LF_DOT : INSERT_LF);
            nextCr = chunk.indexOf(CR, after);
        } else {
            // An LF: a CR before it unless there is one; a dot after it is doubled.
            const prev = nextLf > 0 ? chunk[nextLf - 1] : last;
            if (prev !== CR) insert(nextLf, INSERT_CR);
            const after = nextLf + 1;
            if (after < len && chunk[after] === DOT) insert(after, INSERT_DOT);
            nextLf = chunk.indexOf(LF, after);
        }
    }
    const made = pieces as Buffer[] | null;
    if (made === null) {
        this.outByteCount += len;
        this.push(chunk);
    } else {
        if (cut < len) {
            made.push(chunk.subarray(cut));
            total += len - cut;
        }
        this.outByteCount += total;
        this.push(Buffer.concat(made, total));
    }
    this.lastByte = chunk[len - 1];
    done();
};

/**
 * Probes of every rule, each as the chunks a stream is given: dots first on
 * a line and first in the message, bare CR and bare LF, CRLF, CR CR, each at
 * a chunk's start, end and middle, and an empty chunk.
 */
export const PROBES: readonly (readonly string[])[] = [
    [".a\r\n.b\nc\rd\r.e\r\r\n\n.\r\n"],
    ["x\r", "\n.y", "\r", ".z\n", ".", "\n\r", "\r.", ""],
    ["\n", "\r\n", "..", "\r\r", "\n.", "\r\n"],
    ["a", "\r", "", "b\n", "\r\n.\r\n", ".\n", "q\r"],
    [".\r\n.", "\n", ".\r", "\n.", "x\n\n..\r\r..\n"],
];

/**
 * What a transform pushes for the chunks of one probe, with the counts it
 * keeps: run on a stand-in for the stream (its fields and `push`), so that
 * it is synchronous and the class's method is left as it is while probing.
 */
export function escapeWith(transform: TransformMethod, chunks: readonly (Buffer | string)[]): Buffer {
    const out: Buffer[] = [];
    const state = {
        inByteCount: 0,
        outByteCount: 0,
        lastByte: false as number | false,
        push: (b: Buffer) => out.push(Buffer.from(b)),
    } as unknown as DataStreamState;
    const failed = (err?: Error | null) => {
        if (err) throw err;
    };
    for (const c of chunks) transform.call(state, c, "binary", failed);
    return Buffer.concat([...out, Buffer.from(`|${state.inByteCount}/${state.outByteCount}/${String(state.lastByte)}`)]);
}

/** nodemailer's DataStream class, as far as {@link installOn} uses it. */
export interface DataStreamClass {
    prototype: { _transform: unknown };
}

/**
 * Puts {@link escapeChunk} on `DataStream` when it gives the same bytes,
 * counts and last byte as the class's own transform on every probe, and
 * returns whether it did; a class whose escaping differs, or that fails on
 * a probe, is left as it is.
 */
export function installOn(DataStream: DataStreamClass): boolean {
    const own = DataStream.prototype._transform as TransformMethod;
    if (own === escapeChunk) return true;
    let same: boolean;
    try {
        same = PROBES.every((chunks) => escapeWith(own, chunks).equals(escapeWith(escapeChunk, chunks)));
    } catch {
        // A transform that needs more of its stream than the stand-in gives is not the one this was checked against.
        same = false;
    }
    if (same) DataStream.prototype._transform = escapeChunk;
    return same;
}

let installed: boolean | undefined;

/** {@link installOn} nodemailer's own DataStream, once per process (the answer is kept). Returns whether it is in place. */
export function installFastDataEscaping(): boolean {
    installed ??= installOn(require("nodemailer/lib/smtp-connection/data-stream") as DataStreamClass);
    return installed;
}
