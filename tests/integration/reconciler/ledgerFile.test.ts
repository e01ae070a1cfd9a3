/**
 * Bad ledger files: each is refused with exit status 2 and a message that
 * names where the setting came from (`--ledger`, the config file,
 * `AZURE_EMAIL_INVOICING_LEDGER`), the path and what to do, before any
 * billing API call or message, and the file is left as it was. Read-only and
 * full file systems are real: small tmpfs mounts (as root, where `chmod`
 * stops no write). A disk that fills up mid-pass still gets its summary
 * (text and `--json`) naming the ledger error, exit 1, and loses nothing.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { LEDGER_ENV } from "../../../provider/reconciler/ledger/location";
import { countByMessageId, deferred, killSpawned, ledgerRows, runCli, spawnCli, startWorld, type World } from "./world";

const FAST = ["--since", "2000-01-01", "--retry-delay", "10ms"];

/** A tmpfs of `size` mounted at `dir` (root only: the tests that need one fail elsewhere, they never skip). */
function mountTmpfs(dir: string, size: string): void {
    if (process.getuid?.() !== 0) throw new Error("these tests mount a small tmpfs (a read-only and a full file system), which needs root; run them as root, as CI does");
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir]);
}

function unmount(dir: string): void {
    try {
        execFileSync("umount", [dir]);
    } catch {
        // Not mounted (the test failed before): nothing to do.
    }
}

const digest = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("reconciler: bad ledger files", function () {
    this.timeout(120_000);
    let world: World;
    const mounts: string[] = [];
    beforeEach(async () => {
        world = await startWorld();
        await world.optIn("operations");
    });
    afterEach(async () => {
        await killSpawned();
        for (const m of mounts.splice(0)) unmount(m);
        await world.close();
    });

    /** A real ledger with nine deliveries, made by a pass. */
    async function realLedger(file: string): Promise<void> {
        const r = await runCli(["reconcile", ...FAST, "--ledger", file], world.env("grace"));
        expect(r.code, r.stderr).to.equal(0);
    }

    it("refuses a file that is not a database, a damaged or truncated one, another application's, and a path below a regular file, naming the source, the path and what to do", async () => {
        const dir = world.dir;
        const notDb = path.join(dir, "notes.txt");
        fs.writeFileSync(notDb, "quarterly notes, not a database\n");
        const foreign = path.join(dir, "crm.sqlite");
        const db = new Database(foreign);
        db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Contoso')");
        db.close();
        const real = path.join(dir, "real.sqlite");
        await realLedger(real);
        const truncated = path.join(dir, "truncated.sqlite");
        fs.copyFileSync(real, truncated);
        fs.truncateSync(truncated, 4096 * 2);
        const damaged = path.join(dir, "damaged.sqlite");
        fs.copyFileSync(real, damaged);
        const bytes = fs.readFileSync(damaged);
        bytes.fill(0x5a, 4096 * 2, Math.min(bytes.length - 4096, 4096 * 5));
        fs.writeFileSync(damaged, bytes);
        const aFile = path.join(dir, "a-file");
        fs.writeFileSync(aFile, "x");
        const config = path.join(dir, "reconcile.json");

        const cases: Array<[string, string, RegExp]> = [
            ["a file that is not a database", notDb, /is not a SQLite database: give the ledger a path of its own .*or move that file away/],
            ["a truncated database", truncated, /is damaged or truncated: restore it from a backup, or move it away to start a new ledger/],
            ["a damaged database", damaged, /is damaged or truncated: restore it from a backup/],
            ["another application's SQLite database", foreign, /is a SQLite database that holds tables \(customers\) and is not an azure-email-invoicing ledger: it is left untouched; give the ledger a path of its own/],
            ["a path below a regular file", path.join(aFile, "ledger.sqlite"), /is below .*a-file, which is a file, not a folder: give the ledger a path in a folder/],
        ];
        const before = new Map([notDb, truncated, damaged, foreign, aFile].map((f) => [f, digest(f)]));
        await world.clearRequests();
        for (const [label, file, message] of cases) {
            const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            for (const [source, argv, env] of [
                ["--ledger", ["--ledger", file], {}],
                [LEDGER_ENV, [], { [LEDGER_ENV]: file }],
                [`"ledger" in ${config}`, ["--config", config], {}],
            ] as const) {
                fs.writeFileSync(config, JSON.stringify({ ledger: path.relative(dir, file) }));
                for (const command of [["reconcile", ...FAST], ["reconcile", ...FAST, "--dry-run"], ["ledger"]]) {
                    const r = await runCli([...command, ...argv], { ...world.env("grace"), ...env });
                    const what = `${command.join(" ")} with ${label} from ${source}: ${r.stderr}`;
                    expect(r.code, what).to.equal(2);
                    expect(r.stderr, what).to.match(new RegExp(`^azure-email-invoicing (reconcile|ledger): ${source.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${escaped} `));
                    expect(r.stderr, what).to.match(message);
                }
            }
        }
        for (const [f, d] of before) expect(digest(f), `${f} unchanged`).to.equal(d);
        expect(fs.readdirSync(dir).filter((f) => f.endsWith("-wal") || f.endsWith("-shm")), "no WAL files left behind").to.deep.equal([]);
        expect(world.sink.accepted).to.equal(9);
        expect(await world.requests(), "no billing API call").to.deep.equal([]);
    });

    it("on a read-only file system: reconcile refuses (exit 2, what to do); `ledger` and `--dry-run` read it, since they open it read only", async () => {
        const mount = path.join(world.dir, "ro");
        mountTmpfs(mount, "4m");
        mounts.push(mount);
        const file = path.join(mount, "ledger.sqlite");
        await realLedger(file);
        const before = digest(file);
        execFileSync("mount", ["-o", "remount,ro", mount]);
        await world.clearRequests();
        const r = await runCli(["reconcile", ...FAST, "--ledger", file], world.env("grace"));
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(new RegExp(`--ledger: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} cannot be written \\(a read-only file system or file\\): give the ledger a path on a writable disk`));
        const fresh = await runCli(["reconcile", ...FAST, "--ledger", path.join(mount, "new", "ledger.sqlite")], world.env("grace"));
        expect(fresh.code, fresh.stderr).to.equal(2);
        expect(fresh.stderr).to.match(/cannot create the folder .*\/ro\/new .*the file system is read-only; give the ledger a path on a writable disk/);
        expect(await world.requests(), "no billing API call").to.deep.equal([]);
        const shown = await runCli(["ledger", "--ledger", file, "--json"], {});
        expect(shown.code, shown.stderr).to.equal(0);
        expect((JSON.parse(shown.stdout) as Array<{ state: string }>).map((d) => d.state)).to.deep.equal(new Array(9).fill("sent"));
        const dry = await runCli(["reconcile", ...FAST, "--ledger", file, "--dry-run", "--json"], world.env("grace"));
        expect(dry.code, dry.stderr).to.equal(0);
        expect(JSON.parse(dry.stdout)).to.deep.equal([]);
        expect(digest(file)).to.equal(before);
        expect(world.sink.accepted).to.equal(9);
    });

    for (const json of [true, false]) {
        it(`a disk that fills up mid-pass: the summary (${json ? "--json" : "text"}) names the ledger error, exit 1, and nothing is lost`, async () => {
            // The SMTP server holds its answer to the 4th message; the disk is filled while it waits.
            const reached = deferred();
            const release = deferred();
            await world.close();
            world = await startWorld({
                onMessage: async () => {
                    if (world.sink.accepted === 3) {
                        reached.resolve();
                        await release.promise;
                    }
                    return undefined;
                },
            });
            await world.optIn("operations");
            for (let i = 0; i < 5; i++) await world.issueInvoice("operations"); // 8 invoices x 3 recipients = 24 deliveries
            const mount = path.join(world.dir, "small");
            mountTmpfs(mount, "2m");
            mounts.push(mount);
            const file = path.join(mount, "ledger.sqlite");
            const filler = path.join(mount, "filler");
            // A process of its own: once it has exited, its claims are stale at once for the next pass.
            const child = spawnCli(["reconcile", ...FAST, "--ledger", file, ...(json ? ["--json"] : [])], world.env("grace"));
            await Promise.race([reached.promise, child.exited.then(() => expect.fail(`the reconciler ended first:\n${child.output()}`))]);
            const fd = fs.openSync(filler, "w");
            try {
                for (const chunk = Buffer.alloc(64 * 1024, 1); ; ) fs.writeSync(fd, chunk);
            } catch (err) {
                expect((err as NodeJS.ErrnoException).code).to.equal("ENOSPC");
            } finally {
                fs.closeSync(fd);
            }
            release.resolve();
            const exit = await child.exited;
            expect(exit.code, child.output()).to.equal(1);
            const full = /the ledger was lost during the pass: ledger \S*ledger\.sqlite: the disk holding it is full/;
            if (json) {
                const summary = JSON.parse(child.stdoutText()) as { errors: string[]; totals: { sent: number } };
                expect(summary.errors.join("\n")).to.match(full);
            } else {
                expect(child.stdoutText()).to.match(/^PROFILE +NAME +OPT-IN/);
                expect(child.stdoutText()).to.match(new RegExp(`error: ${full.source}`));
            }
            // Each accepted message the ledger could not record is named, with its Message-ID.
            const unrecorded = new Set([...child.output().matchAll(/accepted but not recorded: G\d+ to \S+ \(Message-ID (<[^>]+>)\): the SMTP server said 250/g)].map((m) => m[1]));
            expect(unrecorded.size, child.output()).to.be.at.least(1);
            // Free the disk: a later pass delivers everything, and sends again only what was accepted but not recorded.
            fs.rmSync(filler);
            const last = spawnCli(["reconcile", ...FAST, "--ledger", file], world.env("grace"));
            expect((await last.exited).code, last.output()).to.equal(0);
            const stored = await ledgerRows({ ...world, ledger: file });
            expect(stored).to.have.length(24);
            expect(stored.filter((d) => d.state !== "sent").map((d) => d.state)).to.deep.equal([]);
            const counts = countByMessageId(world.sink);
            expect(counts.size).to.equal(24);
            for (const [id, n] of counts) if (n > 1) expect(unrecorded.has(id), `${id} sent ${n} times but not reported as unrecorded`).to.equal(true);
        });
    }
});
