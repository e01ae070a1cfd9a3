/**
 * Crash safety and concurrency, with real processes: reconcilers run as child
 * processes (`node dist/cli/main.js reconcile`) and are killed with SIGKILL
 * at chosen points of a large run, or stopped with SIGTERM, or run two at a
 * time on one ledger. The points are chosen by holding the SMTP server's
 * answer (no timers): the test kills the process while the server holds a
 * recipient or a message.
 */
import { expect } from "chai";
import { messageIdFor } from "../../../provider/reconciler/message";
import { CLAIMS_PER_SEND_SLOT } from "../../../provider/reconciler/deliver";
import type { SinkVerdict } from "../../../cli/smtp-sink";
import { SEED, countByMessageId, deferred, killSpawned, ledgerRows, mailOf, spawnCli, startWorld, until, type CliChild, type World } from "./world";

const OPS = SEED.profiles.operations;
const EXTRA = ["ap@contoso.com", "controller@contoso.com"];
const RECIPIENTS = [...mailOf("alice", "bob", "carol"), ...EXTRA];

/** Waits until the SMTP server holds a command at `gate`; fails if the reconciler ends first. */
async function reachedBy(gate: Gate, child: CliChild): Promise<void> {
    const ended = child.exited.then((e) => {
        throw new Error(`the reconciler ended (${e.signal ?? `exit ${e.code}`}) before the SMTP server held a command:\n${child.output()}`);
    });
    ended.catch(() => undefined);
    await Promise.race([gate.reached, ended]);
}

/** A gate the SMTP server's hooks wait at while it is closed. */
class Gate {
    private reachedD = deferred();
    private releaseD = deferred<SinkVerdict>();
    closedAt: number | undefined;
    wait(): Promise<SinkVerdict> {
        this.reachedD.resolve();
        return this.releaseD.promise;
    }
    get reached(): Promise<void> {
        return this.reachedD.promise;
    }
    /** Opens the gate: every held command gets `verdict`. */
    open(verdict: SinkVerdict): void {
        this.closedAt = undefined;
        this.releaseD.resolve(verdict);
        this.reachedD = deferred();
        this.releaseD = deferred<SinkVerdict>();
    }
}

describe("reconciler: crash safety and concurrency (child processes)", function () {
    this.timeout(120_000);
    let world: World;
    let expectedIds: string[];
    const rcptGate = new Gate();
    const dataGate = new Gate();
    let holdRcpt = false;
    let holdDataAt: number | undefined;

    async function bigWorld(extraInvoices: number): Promise<void> {
        world = await startWorld({
            onRcpt: () => (holdRcpt ? rcptGate.wait() : undefined),
            onMessage: () => (holdDataAt !== undefined && world.sink.accepted >= holdDataAt ? dataGate.wait() : undefined),
        });
        await world.optIn("operations", EXTRA);
        for (let i = 0; i < extraInvoices; i++) await world.issueInvoice("operations");
        const today = new Date().toISOString().slice(0, 10);
        const invoices = await world.client("alice").listInvoices(OPS, { periodStartDate: "2000-01-01", periodEndDate: today });
        expect(invoices).to.have.length(3 + extraInvoices);
        expectedIds = invoices.flatMap((i) => RECIPIENTS.map((r) => messageIdFor(OPS, i.name, r))).sort();
    }
    const args = () => ["reconcile", "--since", "2000-01-01", "--ledger", world.ledger, "--retry-delay", "10ms"];
    afterEach(async () => {
        // A failed assertion may leave children running and SMTP commands held: kill, release, then stop the servers.
        await killSpawned();
        holdRcpt = false;
        holdDataAt = undefined;
        rcptGate.open(undefined);
        dataGate.open(undefined);
        await world?.close();
    });

    it("SIGKILL at several points of a large run loses nothing; only messages in flight at a kill are sent twice, with the same Message-ID", async () => {
        await bigWorld(27); // 30 invoices x 5 recipients = 150 deliveries
        const inFlightAtKills = new Set<string>();
        const killWhile = async (gate: Gate, verdictAfterKill: SinkVerdict) => {
            const child = spawnCli(args(), world.env("grace"));
            await reachedBy(gate, child);
            child.kill("SIGKILL");
            const exit = await child.exited;
            expect(exit.signal).to.equal("SIGKILL");
            const held = (await ledgerRows(world)).filter((d) => d.state === "sending");
            for (const d of held) inFlightAtKills.add(d.messageId);
            // The server answers the held commands to a dead client (and may keep those messages).
            gate.open(verdictAfterKill);
            await new Promise((r) => setImmediate(r));
            return held;
        };

        // 1. Every recipient command held: the plan is stored, nothing has been accepted.
        holdRcpt = true;
        const held1 = await killWhile(rcptGate, undefined);
        holdRcpt = false;
        expect(await ledgerRows(world)).to.have.length(150);
        // The first claim takes every claim slot at once, before any message starts: three invoices' 5
        // recipients each for the 5 send slots of the default --concurrency, the current one and two ahead.
        expect(held1.length).to.equal(CLAIMS_PER_SEND_SLOT * 5);
        expect(new Set(held1.map((d) => d.invoiceName)).size).to.equal(CLAIMS_PER_SEND_SLOT);
        expect(world.sink.accepted).to.equal(0);

        // 2. Messages held after their data (in the SMTP transaction) once 40 were accepted; the server keeps them.
        holdDataAt = 40;
        await killWhile(dataGate, undefined);
        holdDataAt = undefined;
        expect(world.sink.accepted).to.be.at.least(41);

        // 3. The same once 100 were accepted, but the server refuses the held ones.
        holdDataAt = 100;
        await killWhile(dataGate, { code: 451, message: "4.4.2 connection lost" });
        holdDataAt = undefined;

        // A final run finishes what was planned.
        const last = spawnCli(args(), world.env("grace"));
        const exit = await last.exited;
        expect(exit.code, last.output()).to.equal(0);

        const stored = await ledgerRows(world);
        expect(stored).to.have.length(150);
        expect(stored.filter((d) => d.state !== "sent").map((d) => `${d.invoiceName}|${d.recipient}|${d.state}`)).to.deep.equal([]);
        const counts = countByMessageId(world.sink);
        expect([...counts.keys()].sort()).to.deep.equal(expectedIds);
        const duplicates = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
        for (const id of duplicates) expect(inFlightAtKills.has(id), `${id} sent twice but was not in flight at a kill`).to.equal(true);
    });

    it("two reconcilers started at once on one ledger never both send a delivery", async () => {
        await bigWorld(17); // 20 invoices x 5 recipients = 100 deliveries
        const a = spawnCli([...args(), "--json"], world.env("grace"));
        const b = spawnCli([...args(), "--json"], world.env("grace"));
        const [ea, eb] = await Promise.all([a.exited, b.exited]);
        expect(ea.code, a.output()).to.equal(0);
        expect(eb.code, b.output()).to.equal(0);
        const counts = countByMessageId(world.sink);
        expect([...counts.keys()].sort()).to.deep.equal(expectedIds);
        for (const [id, n] of counts) expect(n, `${id} delivered ${n} times`).to.equal(1);
        expect((await ledgerRows(world)).every((d) => d.state === "sent" && d.attempts === 1)).to.equal(true);
        // What each says it sent adds up to the deliveries, and the plan was made once.
        const [sa, sb] = [a, b].map((c) => JSON.parse(c.stdoutText()).totals as { sent: number; planned: number });
        expect(sa.sent + sb.sent).to.equal(100);
        expect(sa.planned + sb.planned).to.equal(100);
    });

    it("--watch delivers later invoices on later passes; SIGTERM finishes the message in flight and leaves the ledger consistent", async () => {
        await bigWorld(0);
        const child = spawnCli([...args(), "--watch", "--interval", "1s"], world.env("grace"));
        await until(() => world.sink.accepted >= 15, () => `15 accepted messages (${world.sink.accepted} so far); reconciler output:\n${child.output()}`);
        const later: string[] = [];
        for (let i = 0; i < 4; i++) later.push(await world.issueInvoice("operations"));
        // Hold the first message of a later pass in its SMTP transaction, then ask the process to stop.
        holdDataAt = 20;
        await reachedBy(dataGate, child);
        child.kill("SIGTERM");
        await until(() => child.output().includes("SIGTERM: finishing the messages in flight"), () => `the reconciler to acknowledge SIGTERM; its output:\n${child.output()}`);
        dataGate.open(undefined);
        holdDataAt = undefined;
        const exit = await child.exited;
        expect(exit.signal).to.equal(null);
        expect(exit.code, child.output()).to.equal(1); // stopped with deliveries left planned
        const stored = await ledgerRows(world);
        expect(stored.filter((d) => d.state === "sending")).to.deep.equal([]);
        const accepted = new Set(world.sink.messages.map((m) => m.messageId));
        for (const d of stored) expect(d.state === "sent", `${d.messageId} ${d.state}`).to.equal(accepted.has(d.messageId));
        expect(stored.filter((d) => later.includes(d.invoiceName) && d.state === "sent").length).to.be.at.least(5);
        expect(stored.some((d) => d.state === "planned")).to.equal(true);
        expect(child.output()).to.match(/stopped by a signal/);

        // A run afterwards completes the rest without sending anything twice.
        const last = spawnCli(args(), world.env("grace"));
        expect((await last.exited).code, last.output()).to.equal(0);
        const counts = countByMessageId(world.sink);
        expect(counts.size).to.equal(35);
        for (const [id, n] of counts) expect(n, id).to.equal(1);
    });
});
