/**
 * Many reconciler processes on one PostgreSQL ledger, against faults: three
 * workers with distinct `--worker-id`s sharing a few hundred deliveries,
 * SIGKILLed mid-run and restarted, one SIGSTOPped past its lease and
 * SIGCONTed; the database restarted (`pg_ctl restart`) and its connections
 * dropped (`pg_terminate_backend`) mid-run; a fresh container pointed at an
 * existing ledger. Real processes, a real PostgreSQL server, a real SMTP
 * server; the points of the faults are chosen by what the SMTP server has
 * accepted or holds, never by timers.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SMTPServerSession } from "smtp-server";
import type { SinkVerdict } from "../../../cli/smtp-sink";
import { messageIdFor } from "../../../provider/reconciler/message";
import { startPostgres, type TestPostgres } from "../../../dev/postgres";
import { SEED, countByMessageId, deferred, killSpawned, mailOf, spawnCli, startWorld, until, type CliChild, type World } from "./world";

const OPS = SEED.profiles.operations;
const EXTRA = ["ap@contoso.com", "controller@contoso.com"];
const RECIPIENTS = [...mailOf("alice", "bob", "carol"), ...EXTRA];

interface Row {
    id: string;
    message_id: string;
    state: string;
    attempts: number;
    lease_owner: string | null;
}

describe("reconciler: several workers on one PostgreSQL ledger", function () {
    this.timeout(180_000);
    let pg: TestPostgres;
    let world: World;
    let db: string;
    let expectedIds: string[];
    /** SMTP client names (EHLO) whose messages the server holds at DATA while set. */
    const holding = new Set<string>();
    let held: Array<{ messageId: string; release: (v: SinkVerdict) => void }> = [];
    let heldReached = deferred();

    before(async function () {
        this.timeout(120_000);
        pg = await startPostgres();
    });
    after(async () => {
        await pg?.close();
    });
    afterEach(async () => {
        await killSpawned();
        holding.clear();
        for (const h of held.splice(0)) h.release(undefined);
        await world?.close();
    });

    async function bigWorld(invoices: number, delayMs: number): Promise<void> {
        world = await startWorld({
            onMessage: async (message, session: SMTPServerSession) => {
                if (holding.has(session.hostNameAppearsAs)) {
                    const d = deferred<SinkVerdict>();
                    held.push({ messageId: message.messageId ?? "?", release: d.resolve });
                    heldReached.resolve();
                    return d.promise;
                }
                // A relay takes a while per message, so that the workers have messages in flight at a fault.
                await new Promise((r) => setTimeout(r, delayMs));
                return undefined;
            },
        });
        await world.optIn("operations", EXTRA);
        for (let i = 0; i < invoices - 3; i++) await world.issueInvoice("operations");
        const today = new Date().toISOString().slice(0, 10);
        const all = await world.client("alice").listInvoices(OPS, { periodStartDate: "2000-01-01", periodEndDate: today });
        expect(all).to.have.length(invoices);
        expectedIds = all.flatMap((i) => RECIPIENTS.map((r) => messageIdFor(OPS, i.name, r))).sort();
        db = await pg.createDatabase("workers");
    }

    /** Starts a worker; its SMTP client introduces itself (EHLO) by its worker id, so the server can tell the workers apart. */
    function worker(id: string, extra: string[] = []): CliChild {
        return spawnCli(["reconcile", "--since", "2000-01-01", "--ledger", pg.url(db), "--worker-id", id, "--lease", "2s", "--retry-delay", "10ms", ...extra], {
            ...world.env("grace"),
            ...pg.env,
            SMTP_URL: `${world.sink.url}?name=${id}`,
        });
    }

    const rows = () => pg.sql<Row>(db, "SELECT id, message_id, state, attempts, lease_owner FROM deliveries ORDER BY id");

    it("three workers, SIGKILLed and restarted, one paused past its lease: every delivery sent, duplicates only of messages in flight at a kill, no verdict over a newer attempt", async () => {
        await bigWorld(60, 15); // 60 invoices x 5 recipients = 300 deliveries
        const workers = new Map<string, CliChild>([
            ["w1", worker("w1")],
            ["w2", worker("w2")],
            ["w3", worker("w3")],
        ]);
        const inFlightAtKills = new Set<string>();
        const kill = async (id: string) => {
            const child = workers.get(id)!;
            child.kill("SIGKILL");
            expect((await child.exited).signal).to.equal("SIGKILL");
            for (const r of await rows()) if (r.state === "sending" && r.lease_owner === id) inFlightAtKills.add(r.message_id);
        };
        const accepted = (n: number) => until(() => world.sink.accepted >= n, () => `${n} accepted (${world.sink.accepted}); outputs:\n${[...workers.values()].map((w) => w.output()).join("\n---\n")}`, 60_000);

        // 1. Kill w1 once 30 are accepted, and start a replacement.
        await accepted(30);
        await kill("w1");
        workers.set("w1b", worker("w1b"));

        // 2. Pause w2 while the SMTP server holds one of its messages in flight.
        heldReached = deferred();
        holding.add("w2");
        await heldReached.promise;
        const w2 = workers.get("w2")!;
        w2.kill("SIGSTOP");
        const paused = (await rows()).filter((r) => r.state === "sending" && r.lease_owner === "w2");
        expect(paused.length, "w2 had claims in flight when paused").to.be.at.least(1);

        // 3. Kill w3 once 120 are accepted, and start a replacement.
        await accepted(120);
        await kill("w3");
        workers.set("w3b", worker("w3b"));

        // 4. Once w2's leases expired (the database's clock), another worker takes its claims over.
        const taken = async () => {
            const now = await rows();
            return paused.every((p) => now.find((r) => r.id === p.id)!.attempts > p.attempts);
        };
        for (let waited = 0; !(await taken()); waited++) {
            if (waited > 3000) throw new Error(`w2's claims were not taken over: ${JSON.stringify(await rows())}`);
            // A worker that found nothing left to claim has ended: start one that takes the expired claims.
            if ([...workers.entries()].every(([k, c]) => k === "w2" || c.exitCode !== null || c.signalCode !== null) && !workers.has("w4")) workers.set("w4", worker("w4"));
            await new Promise((r) => setTimeout(r, 10));
        }

        // 5. The server now refuses w2's held messages (451); w2 resumes, and must record nothing over the newer attempts.
        holding.delete("w2");
        const refused = held.map((h) => h.messageId);
        expect(refused.length).to.be.at.least(1);
        for (const h of held.splice(0)) h.release({ code: 451, message: "4.4.2 try again later" });
        w2.kill("SIGCONT");
        const exits = await Promise.all([...workers.entries()].filter(([k]) => !["w1", "w3"].includes(k)).map(async ([k, c]) => [k, (await c.exited).code] as const));
        for (const [k, code] of exits) expect(code, `${k}: ${workers.get(k)!.output()}`).to.be.oneOf([0, 1]);
        expect(w2.output()).to.match(/lost the lease on attempt \d+ \(another worker took the delivery over\): recorded nothing over the newer attempt/);

        // A final pass finishes whatever the kills left claimed.
        const last = worker("final");
        expect((await last.exited).code, last.output()).to.equal(0);

        const stored = await rows();
        expect(stored).to.have.length(300);
        expect(stored.filter((r) => r.state !== "sent").map((r) => `${r.message_id} ${r.state}`)).to.deep.equal([]);
        const counts = countByMessageId(world.sink);
        expect([...counts.keys()].sort()).to.deep.equal(expectedIds);
        const inFlightAtPause = new Set(paused.map((p) => p.message_id));
        for (const [id, n] of counts) {
            if (n > 1) expect(inFlightAtKills.has(id) || inFlightAtPause.has(id), `${id} arrived ${n} times but was in flight at no kill or pause`).to.equal(true);
        }
        // w2's paused claims were taken over; the ones the server refused w2 after the pause (451) were
        // delivered once, by the newer attempt, and w2's "back to planned" was not recorded over it.
        for (const p of paused) expect(stored.find((r) => r.id === p.id)!.attempts, p.message_id).to.be.above(p.attempts);
        for (const id of refused) {
            expect(counts.get(id), id).to.equal(1);
            expect(stored.find((r) => r.message_id === id)!.state, id).to.equal("sent");
        }
        // Each worker recorded its run under its own id.
        const runs = await pg.sql<{ worker_id: string }>(db, "SELECT DISTINCT worker_id FROM runs ORDER BY 1");
        expect(runs.map((r) => r.worker_id)).to.include.members(["w1", "w1b", "w2", "w3", "w3b", "final"]);
    });

    it("the database restarted (pg_ctl restart) and its connections dropped (pg_terminate_backend) mid-run: the workers reconnect and finish, nothing lost, nothing sent twice", async () => {
        await bigWorld(40, 20); // 200 deliveries
        const a = worker("wa");
        const b = worker("wb");
        await until(() => world.sink.accepted >= 40, () => `40 accepted; outputs:\n${a.output()}\n---\n${b.output()}`, 60_000);
        // A restart whose down time lasts until a worker has noticed it (pg_ctl stop, then start).
        await pg.stop();
        await until(() => /ledger unreachable: .*retrying with backoff/.test(`${a.output()}\n${b.output()}`), () => `a worker to notice the ledger is down:\n${a.output()}\n---\n${b.output()}`, 60_000);
        await pg.start();
        await until(() => world.sink.accepted >= 120, () => `120 accepted after the restart; outputs:\n${a.output()}\n---\n${b.output()}`, 60_000);
        expect(await pg.terminateConnections(db)).to.be.at.least(1);
        const [ea, eb] = await Promise.all([a.exited, b.exited]);
        for (const [c, e] of [
            [a, ea],
            [b, eb],
        ] as const) {
            expect(e.signal, c.output()).to.equal(null);
            expect(e.code, c.output()).to.be.oneOf([0, 1]);
        }
        expect(`${a.output()}\n${b.output()}`).to.match(/the ledger is reachable again/);
        const last = worker("final");
        expect((await last.exited).code, last.output()).to.equal(0);
        const stored = await rows();
        expect(stored.filter((r) => r.state !== "sent")).to.deep.equal([]);
        const counts = countByMessageId(world.sink);
        expect([...counts.keys()].sort()).to.deep.equal(expectedIds);
        for (const [id, n] of counts) expect(n, `${id} arrived ${n} times`).to.equal(1);
    });

    it("a fresh container (no local state) pointed at an existing ledger sends nothing that was already sent, and writes no local ledger", async () => {
        await bigWorld(3, 0);
        const first = worker("first");
        expect((await first.exited).code, first.output()).to.equal(0);
        expect(world.sink.accepted).to.equal(15);
        const home = fs.mkdtempSync(path.join(os.tmpdir(), "aei-fresh-home-"));
        try {
            const fresh = spawnCli(["reconcile", "--since", "2000-01-01", "--json"], {
                ...world.env("grace"),
                ...pg.env,
                HOME: home,
                AZURE_EMAIL_INVOICING_LEDGER: pg.url(db),
                AZURE_EMAIL_INVOICING_WORKER_ID: "fresh-pod",
            });
            const exit = await fresh.exited;
            expect(exit.code, fresh.output()).to.equal(0);
            expect(JSON.parse(fresh.stdoutText()).totals).to.include({ planned: 0, sent: 0, pending: 0 });
            expect(JSON.parse(fresh.stdoutText()).workerId).to.equal("fresh-pod");
            expect(world.sink.accepted).to.equal(15);
            expect(fs.readdirSync(home), "nothing written to the container's disk").to.deep.equal([]);
        } finally {
            fs.rmSync(home, { recursive: true, force: true });
        }
    });
});
