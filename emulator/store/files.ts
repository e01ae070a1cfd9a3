/**
 * Durable file primitives the file store and its lock are built from:
 * complete writes, atomic replacement (temp file, fsync, rename, fsync of the
 * directory), unique temporary names, and reading a file that may not exist.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export function writeAll(fd: number, bytes: Buffer, position: number): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** Makes a rename or unlink in `dir` durable (where the platform allows fsync on a directory). */
export function fsyncDir(dir: string): void {
    let fd: number | undefined;
    try {
        fd = fs.openSync(dir, "r");
        fs.fsyncSync(fd);
    } catch {
        // Not supported here (e.g. Windows): the rename is still atomic.
    } finally {
        if (fd !== undefined) fs.closeSync(fd);
    }
}

let tempCounter = 0;
export function tempName(file: string): string {
    return `${file}.${process.pid}.${++tempCounter}.tmp`;
}

/** Writes `text` to `file` so that readers see the old or the new content, never a mix. */
export function writeAtomically(file: string, text: string): void {
    const tmp = tempName(file);
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
        writeAll(fd, Buffer.from(text), 0);
        fs.fsyncSync(fd);
    } catch (err) {
        fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    fs.closeSync(fd);
    try {
        fs.renameSync(tmp, file);
    } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
    }
    fsyncDir(path.dirname(file));
}

/** The text of `file`, or undefined when it does not exist; other read errors propagate. */
export function readIfExists(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
    }
}
