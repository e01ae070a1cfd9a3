/**
 * The reconciler against SMTP servers that refuse, defer and drop, and a
 * billing profile it cannot read. The SMTP server is real (smtp-server over
 * TCP); it answers 451/421/550 or closes the connection for chosen
 * recipients or messages.
 */
import { expect } from "chai";
import * as net from "node:net";
import { SEED, countByMessageId, ledgerRows, mailOf, runCli, startWorld, type World } from "./world";

const OPS = SEED.profiles.operations;
const FAST = ["--since", "2000-01-01", "--retry-delay", "10ms"];
const [ALICE, BOB, CAROL] = mailOf("alice", "bob", "carol");

describe("reconciler: SMTP failures and broken profiles", function () {
    let world: World;
    afterEach(() => world?.close());

    it("retries 451, 421 and dropped connections within the run: every message delivered exactly once", async () => {
        const rcptAttempts = new Map<string, number>();
        const seenData = new Set<string>();
        world = await startWorld({
            onRcpt(address) {
                const n = (rcptAttempts.get(address) ?? 0) + 1;
                rcptAttempts.set(address, n);
                // Bob's first two recipient commands are deferred.
                if (address === BOB && n <= 2) return { code: 451, message: "4.3.0 mailbox busy, try again later" };
                return undefined;
            },
            onMessage(message) {
                const id = message.messageId ?? "";
                const first = !seenData.has(id);
                seenData.add(id);
                // Carol's messages: the connection drops at the end of the first DATA of each.
                if (message.to.includes(CAROL) && first) return "drop";
                // Alice's messages: the server shuts the channel (421) at the first DATA of each.
                if (message.to.includes(ALICE) && first) return { code: 421, message: "4.3.2 service shutting down" };
                return undefined;
            },
        });
        await world.optIn("operations");
        const r = await runCli(["reconcile", ...FAST, "--ledger", world.ledger], world.env("grace"));
        expect(r.code, r.stderr).to.equal(0);

        const counts = countByMessageId(world.sink);
        expect(counts.size).to.equal(9);
        for (const [id, n] of counts) expect(n, id).to.equal(1);
        const stored = await ledgerRows(world);
        expect(stored.every((d) => d.state === "sent")).to.equal(true);
        expect(new Set(stored.map((d) => d.messageId))).to.deep.equal(new Set(counts.keys()));
        const attempts = (who: string) => stored.filter((d) => d.recipientKey === who).map((d) => d.attempts);
        expect(attempts(CAROL)).to.deep.equal([2, 2, 2]);
        expect(attempts(ALICE)).to.deep.equal([2, 2, 2]);
        expect(attempts(BOB).reduce((a, b) => a + b, 0)).to.equal(3 + 2);
        expect(r.stderr).to.match(/will retry .* 451 4\.3\.0 mailbox busy/);
    });

    it("records a 550 for one recipient as failed, delivers the others, exits non-zero, and does not retry it", async () => {
        world = await startWorld({ onRcpt: (address) => (address === BOB ? { code: 550, message: "5.1.1 no such mailbox" } : undefined) });
        await world.optIn("operations");
        const r = await runCli(["reconcile", ...FAST, "--ledger", world.ledger], world.env("grace"));
        expect(r.code, r.stderr).to.equal(1);
        expect(r.stderr).to.match(/failed G\d+ to bob@contoso.com: .*550 5\.1\.1 no such mailbox/);
        expect(r.stdout).to.match(/K7QM-4T2X-BG7-PGB\s+Contoso Operations Billing\s+yes\s+3\s+3\s+3\s+9\s+6\s+3\s+0/);
        expect(new Set(world.sink.messages.map((m) => m.to[0]))).to.deep.equal(new Set([ALICE, CAROL]));
        const bob = (await ledgerRows(world)).filter((d) => d.recipientKey === BOB);
        expect(bob.map((d) => [d.state, d.attempts])).to.deep.equal([
            ["failed", 1],
            ["failed", 1],
            ["failed", 1],
        ]);
        expect(bob[0].lastError).to.include("550 5.1.1 no such mailbox");

        // A failed delivery is final: the next run neither retries it nor fails because of it.
        const again = await runCli(["reconcile", ...FAST, "--ledger", world.ledger], world.env("grace"));
        expect(again.code, again.stderr).to.equal(0);
        expect((await ledgerRows(world)).filter((d) => d.recipientKey === BOB).map((d) => d.attempts)).to.deep.equal([1, 1, 1]);
    });

    it("leaves a message still deferred after --max-attempts planned, exits non-zero, and delivers it on the next run", async () => {
        let deferCarol = true;
        world = await startWorld({ onRcpt: (address) => (deferCarol && address === CAROL ? { code: 451, message: "4.7.1 greylisted" } : undefined) });
        await world.optIn("operations");
        const r = await runCli(["reconcile", ...FAST, "--max-attempts", "2", "--ledger", world.ledger], world.env("grace"));
        expect(r.code, r.stderr).to.equal(1);
        expect(r.stderr).to.match(/pending G\d+ to carol@contoso.com: still failing after 2 attempts/);
        const carol = (await ledgerRows(world)).filter((d) => d.recipientKey === CAROL);
        expect(carol.map((d) => [d.state, d.attempts])).to.deep.equal([
            ["planned", 2],
            ["planned", 2],
            ["planned", 2],
        ]);
        expect(carol[0].lastError).to.include("451 4.7.1 greylisted");
        expect(world.sink.accepted).to.equal(6);

        deferCarol = false;
        const again = await runCli(["reconcile", ...FAST, "--ledger", world.ledger], world.env("grace"));
        expect(again.code, again.stderr).to.equal(0);
        expect(world.sink.accepted).to.equal(9);
        expect((await ledgerRows(world)).every((d) => d.state === "sent")).to.equal(true);
    });

    it("cancels planned deliveries once the profile is opted out, and sends them to nobody", async () => {
        world = await startWorld({ onRcpt: (address) => (address === CAROL ? { code: 451, message: "4.7.1 greylisted" } : undefined) });
        await world.optIn("operations");
        expect((await runCli(["reconcile", ...FAST, "--max-attempts", "1", "--ledger", world.ledger], world.env("grace"))).code).to.equal(1);
        await world.client("alice").updateInvoiceEmailSettings(OPS, { invoiceEmailOptIn: false, invoiceRecipients: [] });
        const r = await runCli(["reconcile", ...FAST, "--ledger", world.ledger, "--json"], world.env("grace"));
        expect(r.code, r.stderr).to.equal(0);
        expect(JSON.parse(r.stdout).totals).to.include({ cancelled: 3, pending: 0, sent: 0 });
        expect((await ledgerRows(world)).filter((d) => d.recipientKey === CAROL).map((d) => d.state)).to.deep.equal(["cancelled", "cancelled", "cancelled"]);
        expect(world.sink.accepted).to.equal(6);
    });

    it("keeps going when one profile cannot be read, and says which role is missing", async () => {
        world = await startWorld();
        await world.optIn("operations");
        await world.optIn("partner");
        const partner = SEED.profiles.partner;
        // Grace owns the MCA account only: the MPA profile answers 403.
        const r = await runCli(
            ["reconcile", ...FAST, "--ledger", world.ledger, "--profile", `${partner.billingAccountName}/${partner.billingProfileName}`, "--profile", `${OPS.billingAccountName}/${OPS.billingProfileName}`],
            world.env("grace"),
        );
        expect(r.code, r.stderr).to.equal(1);
        expect(world.sink.accepted).to.equal(9);
        expect(r.stdout).to.match(new RegExp(`error: ${partner.billingAccountName}/${partner.billingProfileName}: cannot read the billing profile: .*403`));
        expect(r.stdout).to.match(/role on the billing profile/);
    });

    it("leaves everything planned when the SMTP server is down, and delivers once it is back", async () => {
        world = await startWorld();
        await world.optIn("operations");
        // Down: a port that stays ours and drops every connection at once (a port just closed
        // could be taken by another process on a shared machine).
        let connections = 0;
        const down = net.createServer((socket) => {
            connections++;
            socket.destroy();
        });
        await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
        try {
            const port = (down.address() as net.AddressInfo).port;
            const r = await runCli(["reconcile", ...FAST, "--max-attempts", "2", "--ledger", world.ledger], { ...world.env("grace"), SMTP_URL: `smtp://127.0.0.1:${port}` });
            expect(r.code, r.stderr).to.equal(1);
            expect(connections, "the reconciler tried the server").to.be.at.least(1);
        } finally {
            await new Promise((resolve) => down.close(resolve));
        }
        expect((await ledgerRows(world)).map((d) => d.state)).to.deep.equal(new Array(9).fill("planned"));
        const up = await runCli(["reconcile", ...FAST, "--ledger", world.ledger], world.env("grace"));
        expect(up.code, up.stderr).to.equal(0);
        expect(world.sink.accepted).to.equal(9);
    });
});
