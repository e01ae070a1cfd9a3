/**
 * The `ledger` command on both backends (`--csv`, `cancel`, `migrate`), and
 * bad ledger settings: each refused with a clear message and exit status
 * before anything is planned, sent or written.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { startPostgres, type TestPostgres } from "../../../dev/postgres";
import { mailOf, runCli, startWorld, type World } from "./world";

const FAST = ["--since", "2000-01-01", "--retry-delay", "10ms"];
const [, BOB, CAROL] = mailOf("alice", "bob", "carol");

describe("reconciler: the ledger command and ledger settings", function () {
    this.timeout(120_000);
    let pg: TestPostgres;
    let world: World;
    before(async function () {
        this.timeout(120_000);
        pg = await startPostgres();
    });
    after(async () => {
        await pg?.close();
    });
    afterEach(async () => {
        await world?.close();
    });

    /** A world where Bob's address is refused for good (550) and Carol's deferred (451), so every state but sending is present after a pass. */
    async function mixedWorld(): Promise<void> {
        world = await startWorld({
            onRcpt: (address) => (address === BOB ? { code: 550, message: "5.1.1 no such mailbox" } : address === CAROL ? { code: 451, message: "4.7.1 greylisted" } : undefined),
        });
        await world.optIn("operations", ["ap@contoso.com"]);
    }

    for (const backend of ["SQLite", "PostgreSQL"] as const) {
        it(`${backend}: --csv is the audit export; cancel stops planned deliveries by filter, with the reason, and nothing else`, async () => {
            await mixedWorld();
            const ledger = backend === "SQLite" ? world.ledger : pg.url(await pg.createDatabase("cmd"));
            const env = { ...world.env("grace"), ...pg.env };
            const first = await runCli(["reconcile", ...FAST, "--max-attempts", "1", "--ledger", ledger], env);
            expect(first.code, first.stderr).to.equal(1);
            const json = JSON.parse((await runCli(["ledger", "--ledger", ledger, "--json"], pg.env)).stdout) as Array<Record<string, unknown>>;
            expect(json.map((r) => r.state).sort()).to.deep.equal([...Array(3).fill("failed"), ...Array(3).fill("planned"), ...Array(6).fill("sent")]);

            const csv = await runCli(["ledger", "--ledger", ledger, "--csv"], pg.env);
            expect(csv.code, csv.stderr).to.equal(0);
            const lines = csv.stdout.split("\r\n");
            expect(lines[0]).to.equal("time,billing_account,billing_profile,invoice,recipient,state,message_id,attempts,smtp_reply_or_reason,why_chosen");
            expect(lines.at(-1)).to.equal("");
            expect(lines).to.have.length(json.length + 2);
            for (const row of json) {
                const line = lines.find((l) => l.includes(String(row.messageId)))!;
                expect(line, String(row.messageId)).to.be.a("string");
                expect(line).to.include(`,${row.state},`);
                // The last column: why the recipient was chosen, from the reasons the ledger stores.
                const reasons = (row.reasons as string[]).map((r) => (r === "invoiceRecipients" ? "additional recipient" : r === "extraRecipients" ? "extra recipient from the config" : `role ${r}`));
                expect(reasons.length, String(row.messageId)).to.be.greaterThan(0);
                expect(line.endsWith(`,${reasons.join("; ")}`), line).to.equal(true);
                if (row.state === "sent") expect(line).to.match(/,"?250 OK: queued as \d+"?,[^,]+$/);
                if (row.state === "failed") expect(line).to.include("550 5.1.1 no such mailbox");
            }

            const invoice = String(json.find((r) => r.state === "planned")!.invoiceName);
            const missing = await runCli(["ledger", "cancel", "--ledger", ledger, "--invoice", invoice], pg.env);
            expect(missing.code).to.equal(2);
            expect(missing.stderr).to.match(/cancel needs --reason/);
            const cancel = await runCli(["ledger", "cancel", "--ledger", ledger, "--invoice", invoice.toLowerCase(), "--recipient", CAROL.toUpperCase(), "--reason", "address retired"], pg.env);
            expect(cancel.code, cancel.stderr).to.equal(0);
            expect(cancel.stdout).to.match(/cancelled 1 planned deliveries/);
            const again = await runCli(["ledger", "cancel", "--ledger", ledger, "--invoice", invoice, "--recipient", CAROL, "--reason", "address retired"], pg.env);
            expect(again.code).to.equal(1);
            expect(again.stderr).to.match(/no planned deliveries of invoice .* match/);
            // Sent and failed deliveries are never cancelled.
            const sentInvoice = String(json.find((r) => r.state === "sent")!.invoiceName);
            const none = await runCli(["ledger", "cancel", "--ledger", ledger, "--invoice", sentInvoice, "--recipient", BOB, "--reason", "x"], pg.env);
            expect(none.code).to.equal(1);
            const after = JSON.parse((await runCli(["ledger", "--ledger", ledger, "--json", "--state", "cancelled"], pg.env)).stdout) as Array<Record<string, unknown>>;
            expect(after.map((r) => [r.invoiceName, r.recipient, r.lastError])).to.deep.equal([[invoice, CAROL, "cancelled by an operator: address retired"]]);
            const before = world.sink.accepted;
            const second = await runCli(["reconcile", ...FAST, "--max-attempts", "1", "--ledger", ledger, "--json"], env);
            expect(JSON.parse(second.stdout).totals).to.include({ sent: 0, pending: 2 });
            expect(world.sink.accepted).to.equal(before);
        });
    }

    it("ledger migrate copies a SQLite ledger into PostgreSQL exactly; a rerun adds nothing; the PostgreSQL ledger then sends nothing twice", async () => {
        await mixedWorld();
        const env = { ...world.env("grace"), ...pg.env };
        expect((await runCli(["reconcile", ...FAST, "--max-attempts", "1", "--ledger", world.ledger], env)).code).to.equal(1);
        const url = pg.url(await pg.createDatabase("migrate"));
        const first = await runCli(["ledger", "migrate", "--ledger", world.ledger, "--to", url, "--json"], pg.env);
        expect(first.code, first.stderr).to.equal(0);
        const report = JSON.parse(first.stdout);
        expect(report.source).to.deep.equal({ invoices: 3, deliveries: 12, runs: 1 });
        expect(report.added).to.deep.equal(report.source);
        expect(report.mismatches).to.deep.equal([]);
        const rowsOf = async (ledger: string) => JSON.parse((await runCli(["ledger", "--ledger", ledger, "--json"], pg.env)).stdout);
        expect(await rowsOf(url)).to.deep.equal(await rowsOf(world.ledger));
        const rerun = await runCli(["ledger", "migrate", "--ledger", world.ledger, "--to", url], pg.env);
        expect(rerun.code, rerun.stderr).to.equal(0);
        expect(rerun.stdout).to.match(/added 0 invoices, 0 deliveries, 0 runs/);
        expect(rerun.stdout).to.match(/verified/);
        expect(await rowsOf(url)).to.deep.equal(await rowsOf(world.ledger));
        // The team moves to PostgreSQL: the greylisting is over, and only the planned deliveries go out.
        const before = world.sink.accepted;
        const pass = await runCli(["reconcile", ...FAST, "--ledger", url, "--json"], { ...env, SMTP_URL: world.sink.url });
        expect(JSON.parse(pass.stdout).totals).to.include({ planned: 0 });
        expect(world.sink.accepted - before).to.equal(0); // Carol is still greylisted by this sink: nothing sent twice, nothing new
        const refused = await runCli(["ledger", "migrate", "--ledger", url, "--to", url], pg.env);
        expect(refused.code).to.equal(2);
        expect(refused.stderr).to.match(/must be a SQLite file/);
    });

    it("refuses bad ledger settings before anything is planned, sent or written: exit 2 for settings, 1 for a server that is down or refuses the credentials", async () => {
        world = await startWorld();
        await world.optIn("operations");
        await world.clearRequests();
        const db = await pg.createDatabase("bad");
        const cases: Array<[string, string[], Record<string, string>, number, RegExp]> = [
            ["malformed URL", ["--ledger", "postgres://db.example.com:99999/ledger"], {}, 2, /^azure-email-invoicing reconcile: --ledger: 'postgres:\/\/db\.example\.com:99999\/ledger' is not a URL/],
            ["unknown parameter", ["--ledger", "postgres://127.0.0.1/ledger?ssl=1"], {}, 2, /--ledger: .*unknown parameter 'ssl'/],
            ["password on the command line", ["--ledger", `postgres://postgres:hunter2@127.0.0.1:${pg.port}/${db}`], {}, 2, /--ledger: the URL carries a password, and a command line can be read by every user .*PGPASSWORD/],
            ["sslmode=disable off loopback", ["--ledger", "postgres://ledger@db.example.com/ledger?sslmode=disable"], {}, 2, /--ledger: sslmode=disable to db\.example\.com, which is not loopback.*--allow-insecure-ledger/],
            ["no TLS off loopback, from the environment", [], { AZURE_EMAIL_INVOICING_LEDGER: "postgres://ledger@db.example.com/ledger?sslmode=prefer" }, 2, /AZURE_EMAIL_INVOICING_LEDGER: sslmode=prefer to db\.example\.com/],
            ["a URL scheme that is not PostgreSQL", ["--ledger", "mysql://db.example.com/ledger"], {}, 2, /--ledger: .*a URL the ledger does not support/],
            ["a worker id with a space", ["--worker-id", "pod 7", "--ledger", pg.url(db)], {}, 2, /--worker-id: 'pod 7' is not a worker id/],
            ["a lease too short", ["--lease", "10ms", "--ledger", pg.url(db)], {}, 2, /--lease must be a duration of at least 1000 ms/],
            ["server down", ["--ledger", `postgres://postgres@127.0.0.1:1/${db}`], pg.env, 1, /ledger postgres:\/\/postgres@127\.0\.0\.1:1\/\S+ \(--ledger\): cannot reach 127\.0\.0\.1:1/],
            ["wrong credentials", ["--ledger", pg.url(db)], { PGPASSWORD: "wrong-password" }, 1, /\(--ledger\): the server refused the credentials of user postgres/],
        ];
        for (const [label, argv, env, code, message] of cases) {
            const r = await runCli(["reconcile", ...FAST, ...argv], { ...world.env("grace"), ...env });
            expect(r.code, `${label}: ${r.stderr}`).to.equal(code);
            expect(r.stderr, label).to.match(message);
            expect(r.stderr, label).to.not.match(/hunter2|wrong-password/);
            const read = await runCli(["ledger", ...argv.filter((a) => !a.startsWith("--worker-id") && !a.startsWith("--lease") && a !== "pod 7" && a !== "10ms")], { ...env });
            if (!/worker id|lease/.test(label)) expect(read.code, `ledger, ${label}: ${read.stderr}`).to.equal(code);
        }
        expect(world.sink.accepted).to.equal(0);
        expect(await world.requests(), "no billing API call").to.deep.equal([]);
        const [t] = await pg.sql<{ n: string }>(db, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'");
        expect(t.n, "no table created").to.equal("0");
        expect(fs.existsSync(path.dirname(world.ledger))).to.equal(false);
    });
});
