/**
 * One emulator per data directory: `dir/.lock` holds the pid of the process
 * that has the directory open, from open to close. Two emulators on one
 * directory would each append to the journal and fold it into the snapshot
 * with their own state, and one would silently lose the other's answered
 * changes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigurationError } from "../../provider/billing/configurationError";
import { readIfExists, tempName } from "./files";

/** The lock that keeps a second emulator out of a directory in use, holding the owner's pid. */
export const LOCK_FILE = ".lock";

/** The lock files this process holds. */
const HELD_LOCKS = new Set<string>();

/**
 * Whether the process with this pid holds its lock: it runs (EPERM: it runs,
 * as another user), and if it is this process, this process took the lock
 * (a container restarted with the same pid left a lock it never took).
 */
function isRunning(pid: number, file: string): boolean {
    if (pid === process.pid) return HELD_LOCKS.has(file);
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** The pid a lock file names, or undefined when it names none. */
function lockOwner(file: string): number | undefined {
    const text = readIfExists(file);
    if (text === undefined) return undefined;
    const pid = Number(text.trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes `dir/.lock` for this process, or fails with a ConfigurationError
 * naming the directory and the process that holds it. Two emulators on one
 * directory would each append to the journal and fold it into the snapshot
 * with their own state, and one would silently lose the other's answered
 * changes.
 *
 * The lock file appears whole (written beside it, then hard-linked into
 * place, which fails if it exists), so its pid is never read half-written. A
 * lock whose pid no longer runs was left by a killed emulator (`kill -9`, a
 * crash): it is taken over. The takeover renames the stale file away first
 * and checks it still named the dead pid, so two emulators taking over the
 * same stale lock cannot both win.
 */
export function acquireLock(dir: string): string {
    const file = path.resolve(dir, LOCK_FILE);
    const mine = tempName(file);
    fs.writeFileSync(mine, `${process.pid}\n`, { mode: 0o644 });
    try {
        for (let attempt = 0; attempt < 5; attempt++) {
            try {
                fs.linkSync(mine, file);
                HELD_LOCKS.add(file);
                return file;
            } catch (err) {
                if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
            }
            const owner = lockOwner(file);
            if (owner !== undefined && isRunning(owner, file)) {
                throw new ConfigurationError(
                    "emulator dataDir",
                    `${dir} is in use by another emulator (process ${owner}${owner === process.pid ? ", this one" : ""}, see ${file}); ` +
                        `stop it or choose another data directory. If no emulator runs on it, delete ${file}.`,
                );
            }
            // Stale: move it aside, and keep it only if it still was the stale one (not a lock just taken by another emulator).
            const aside = tempName(`${file}.stale`);
            try {
                fs.renameSync(file, aside);
            } catch (err) {
                if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
                throw err;
            }
            const moved = lockOwner(aside);
            if (moved !== owner && moved !== undefined && isRunning(moved, file)) {
                try {
                    fs.linkSync(aside, file);
                } catch {
                    // Yet another emulator holds it now; the next attempt names it.
                }
            }
            fs.rmSync(aside, { force: true });
        }
        throw new ConfigurationError("emulator dataDir", `could not take ${file}: other emulators keep starting on ${dir}; start one at a time.`);
    } finally {
        fs.rmSync(mine, { force: true });
    }
}

/** Gives the lock up, if this process still holds it. */
export function releaseLock(file: string): void {
    if (!HELD_LOCKS.delete(file)) return;
    if (lockOwner(file) === process.pid) fs.rmSync(file, { force: true });
}
