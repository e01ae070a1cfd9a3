/**
 * The reconciler's DATA escaping against nodemailer's own: the same bytes,
 * counts and last byte for any input in any chunks, and put on nodemailer's
 * class only when the probes agree.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { PROBES, escapeChunk, escapeWith, installFastDataEscaping, installOn, type DataStreamClass } from "../../../provider/reconciler/dataStream";

const MODULE = "nodemailer/lib/smtp-connection/data-stream";

/** A copy of nodemailer's DataStream module loaded afresh, so its transform is nodemailer's own whatever this process installed. */
function freshDataStream(): DataStreamClass {
    const file = require.resolve(MODULE);
    const cached = require.cache[file];
    delete require.cache[file];
    try {
        return require(file) as DataStreamClass;
    } finally {
        require.cache[file] = cached;
    }
}

type Transform = Parameters<typeof escapeWith>[0];
const nodemailers = (): Transform => freshDataStream().prototype._transform as Transform;

/** A small seeded generator (mulberry32), so a failure names an input that can be run again. */
function random(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const show = (chunks: readonly (Buffer | string)[]) => JSON.stringify(chunks.map(String));

describe("reconciler DATA escaping (nodemailer's rules at native speed)", () => {
    it("gives what nodemailer's own DATA stream gives for 20,000 random inputs in random chunks: bytes, counts and last byte", () => {
        const own = nodemailers();
        const next = random(20261203);
        const alphabet = "a.\r\n";
        for (let k = 0; k < 20000; k++) {
            const text = Array.from({ length: Math.floor(next() * 48) }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
            const chunks: (Buffer | string)[] = [];
            for (let at = 0; at < text.length; ) {
                const size = next() < 0.1 ? 0 : 1 + Math.floor(next() * 9);
                const piece = text.slice(at, at + size);
                chunks.push(next() < 0.2 ? piece : Buffer.from(piece));
                at += size;
            }
            const expected = escapeWith(own, chunks);
            const actual = escapeWith(escapeChunk, chunks);
            if (!actual.equals(expected)) expect.fail(`input ${show(chunks)}: nodemailer ${JSON.stringify(String(expected))}, ours ${JSON.stringify(String(actual))}`);
        }
    });

    it("gives the same bytes for an invoice-sized message, and pushes a chunk that needs no change as it is", () => {
        const own = nodemailers();
        const clean = Buffer.from(randomBytes(100 * 1024).toString("base64").replace(/.{76}/g, "$&\r\n"));
        const dirty = Buffer.concat([Buffer.from("=\n.x\n"), clean, Buffer.from("\r.\n")]);
        for (const chunks of [[clean], [dirty], [clean.subarray(0, 7777), clean.subarray(7777)], [dirty.subarray(0, 4), dirty.subarray(4)]]) {
            expect(escapeWith(escapeChunk, chunks).equals(escapeWith(own, chunks)), `${chunks.length} chunks of ${chunks[0].length}`).to.equal(true);
        }
        const pushed: Buffer[] = [];
        const state = { inByteCount: 0, outByteCount: 0, lastByte: 0x0a, push: (b: Buffer) => pushed.push(b) };
        escapeChunk.call(state as never, clean, "binary", () => undefined);
        expect(pushed).to.have.length(1);
        expect(pushed[0]).to.equal(clean);
        expect(state).to.include({ inByteCount: clean.length, outByteCount: clean.length, lastByte: clean[clean.length - 1] });
    });

    it("puts itself on a DataStream class only when every probe agrees; a class that escapes otherwise, or fails on a probe, keeps its own", () => {
        const passThrough: Transform = function (chunk, _encoding, done) {
            const b = Buffer.from(chunk);
            this.inByteCount += b.length;
            this.outByteCount += b.length;
            this.push(b);
            this.lastByte = b[b.length - 1];
            done();
        };
        // Each probe on its own would catch a transform that copies its input.
        for (const chunks of PROBES) expect(escapeWith(passThrough, chunks).equals(escapeWith(nodemailers(), chunks)), show(chunks)).to.equal(false);
        const other: DataStreamClass = { prototype: { _transform: passThrough } };
        expect(installOn(other)).to.equal(false);
        expect(other.prototype._transform).to.equal(passThrough);

        const throwing: Transform = function () {
            throw new Error("needs this.options");
        };
        const failing: DataStreamClass = { prototype: { _transform: throwing } };
        expect(installOn(failing)).to.equal(false);
        expect(failing.prototype._transform).to.equal(throwing);

        const fresh = freshDataStream();
        expect(fresh.prototype._transform).to.not.equal(escapeChunk);
        expect(installOn(fresh)).to.equal(true);
        expect(fresh.prototype._transform).to.equal(escapeChunk);
    });

    it("is in place on nodemailer's own DataStream class once installed, and the answer is kept", () => {
        expect(installFastDataEscaping()).to.equal(true);
        expect((require(MODULE) as DataStreamClass).prototype._transform).to.equal(escapeChunk);
        expect(installFastDataEscaping()).to.equal(true);
    });
});
