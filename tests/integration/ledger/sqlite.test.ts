/**
 * The SQLite ledger: the conformance suite on a temporary file, and what is
 * SQLite's own (WAL mode, its application id, ledgers of schema step 1,
 * read-only opening that never creates, a holder whose process is gone).
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { SQLITE_APPLICATION_ID, SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION } from "../../../provider/reconciler/ledger/migrations/sqlite";
import { SqliteLedger, leaseIsStale } from "../../../provider/reconciler/ledger/sqlite";
import { REF, ledgerConformance, plan, worker, type Backend } from "./conformance";

const dirs: string[] = [];
after(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-ledger-"));
    dirs.push(dir);
    return path.join(dir, "nested", "ledger.sqlite");
}

function versionOf(file: string): number | undefined {
    if (!fs.existsSync(file)) return undefined;
    const db = new Database(file, { readonly: true });
    try {
        const t = db.prepare("SELECT name FROM sqlite_master WHERE name = 'schema_version'").get();
        return t ? (db.prepare("SELECT version FROM schema_version").get() as { version: number }).version : undefined;
    } finally {
        db.close();
    }
}

const sqlite = (): Backend => ({
    schemaVersion: SQLITE_SCHEMA_VERSION,
    async fresh() {
        const file = tempFile();
        return {
            open: async (options) => SqliteLedger.open({ file, source: "--ledger" }, { readOnly: options?.readOnly === true }),
            async makeForeign() {
                fs.mkdirSync(path.dirname(file), { recursive: true });
                const db = new Database(file);
                db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
                db.close();
            },
            async makeNewer() {
                const db = new Database(file);
                db.prepare("UPDATE schema_version SET version = ?").run(SQLITE_SCHEMA_VERSION + 1);
                db.close();
            },
            version: async () => versionOf(file),
        };
    },
});

ledgerConformance("SQLite", sqlite);

/** The file is a new ledger: WAL mode, the ledger's application id, the current schema step. */
function expectNewLedger(file: string): void {
    const db = new Database(file, { readonly: true });
    try {
        expect(db.pragma("journal_mode", { simple: true })).to.equal("wal");
        expect(db.pragma("application_id", { simple: true })).to.equal(SQLITE_APPLICATION_ID);
        expect(db.prepare("SELECT version FROM schema_version").all()).to.deep.equal([{ version: SQLITE_SCHEMA_VERSION }]);
    } finally {
        db.close();
    }
}

describe("ledger: SQLite's own", () => {
    it("creates its folder (0700) and file in WAL mode, with its application id", async () => {
        const file = tempFile();
        await SqliteLedger.open({ file, source: "--ledger" }).close();
        expect(fs.statSync(path.dirname(file)).mode & 0o777).to.equal(0o700);
        expectNewLedger(file);
    });

    it("opens a new ledger while another process holds a write on the file: its switch to WAL waits (SQLite gives that switch no busy timeout), then it opens", async () => {
        const file = tempFile();
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        // A new file in SQLite's default journal mode, with a write transaction held, as
        // another reconciler's would be while it creates the same ledger.
        const holder = new Database(file);
        holder.exec("BEGIN IMMEDIATE");
        const opener = [
            `const { SqliteLedger } = require(${JSON.stringify(require.resolve("../../../provider/reconciler/ledger/sqlite"))});`,
            `process.stdout.write("opening\\n");`,
            `const start = Date.now();`,
            `try { SqliteLedger.open({ file: process.argv[1], source: "--ledger" }).close().then(() => process.stdout.write("opened after " + (Date.now() - start) + " ms\\n")); }`,
            `catch (err) { process.stdout.write("failed: " + err.message + "\\n"); process.exitCode = 1; }`,
        ].join("\n");
        const child = spawn(process.execPath, ["-e", opener, file], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
        const opening = new Promise<void>((resolve) => {
            child.stdout.on("data", () => out.includes("opening") && resolve());
            child.on("exit", () => resolve());
        });
        try {
            // Released half a second after the child starts to open: without the wait it has failed by then.
            await opening;
            await new Promise((resolve) => setTimeout(resolve, 500));
        } finally {
            holder.exec("ROLLBACK");
            holder.close();
        }
        expect(await exited, out).to.equal(0);
        const waited = Number(/opened after (\d+) ms/.exec(out)?.[1]);
        expect(waited, out).to.be.at.least(400);
        expectNewLedger(file);
    });

    it("opening read only never creates a ledger, nor leaves files behind", async () => {
        const file = tempFile();
        expect(SqliteLedger.open({ file, source: "--ledger" }, { readOnly: true })).to.equal(undefined);
        expect(fs.existsSync(path.dirname(file))).to.equal(false);
        await SqliteLedger.open({ file, source: "--ledger" }).close();
        const before = fs.readdirSync(path.dirname(file)).sort();
        const ro = SqliteLedger.open({ file, source: "--ledger" }, { readOnly: true })!;
        expect(await ro.counts()).to.deep.include({ planned: 0 });
        await ro.close();
        expect(fs.readdirSync(path.dirname(file)).sort()).to.deep.equal(before);
    });

    it("upgrades a ledger of schema step 1 (from before the application id) and keeps its deliveries", async () => {
        const file = tempFile();
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const db = new Database(file);
        db.pragma("journal_mode = WAL");
        db.exec(SQLITE_MIGRATIONS[0].sql);
        db.prepare("INSERT INTO schema_version (version) VALUES (1)").run();
        db.prepare(
            "INSERT INTO invoices VALUES ('12345678', 'BP-1', 'G100000001', ?, '[]', '2024-06-01T00:00:00.000Z', 'old-run')",
        ).run(JSON.stringify(plan("G100000001", ["a@x.com"]).invoice));
        // A claim of a step-1 worker on this host whose process is gone: its owner is `host/pid/run`.
        db.prepare(
            `INSERT INTO deliveries (billing_account_name, billing_profile_name, invoice_name, recipient, recipient_key, reasons, message_id, state, attempts,
                                     lease_owner, lease_expires_at, planned_at, updated_at)
             VALUES ('12345678', 'BP-1', 'G100000001', 'a@x.com', 'a@x.com', '[]', '<m1@x>', 'sending', 1, ?, ?, '2024-06-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z')`,
        ).run(`${os.hostname()}/999999999/old-run`, Date.now() + 3_600_000);
        db.close();
        // Read only, a step-1 ledger is read as it is.
        const ro = SqliteLedger.open({ file, source: "--ledger" }, { readOnly: true })!;
        expect((await ro.deliveries()).map((d) => d.state)).to.deep.equal(["sending"]);
        await ro.close();
        expect(versionOf(file)).to.equal(1);
        const l = SqliteLedger.open({ file, source: "--ledger" });
        try {
            expect(versionOf(file)).to.equal(SQLITE_SCHEMA_VERSION);
            const [claim] = await l.claimNext(REF, worker("new"), 5);
            expect(claim.row).to.include({ messageId: "<m1@x>", attempts: 2, leaseOwner: "new" });
        } finally {
            await l.close();
        }
    });

    describe("leaseIsStale", () => {
        const me = { host: "h1", pid: 100 };
        const now = 1_000_000;
        const lease = (owner: string | null, expiresAt: number | null, host: string | null = null, pid: number | null = null) => ({ owner, expiresAt, host, pid });
        it("is stale when expired or without holder", () => {
            expect(leaseIsStale(lease("w", now - 1, "h2", 5), now, me, () => true)).to.equal(true);
            expect(leaseIsStale(lease(null, null), now, me, () => true)).to.equal(true);
        });
        it("is stale when the holder ran on this host and its process is gone", () => {
            expect(leaseIsStale(lease("w", now + 1000, "h1", 5), now, me, () => false)).to.equal(true);
            expect(leaseIsStale(lease("w", now + 1000, "h1", 5), now, me, () => true)).to.equal(false);
            // A step-1 owner carries host and pid in its name.
            expect(leaseIsStale(lease("h1/5/r", now + 1000), now, me, () => false)).to.equal(true);
        });
        it("is not stale for another host or for this process until it expires", () => {
            expect(leaseIsStale(lease("w", now + 1000, "h2", 5), now, me, () => false)).to.equal(false);
            expect(leaseIsStale(lease("w", now + 1000, "h1", 100), now, me, () => false)).to.equal(false);
            expect(leaseIsStale(lease("pod-7", now + 1000), now, me, () => false)).to.equal(false);
        });
    });
});
