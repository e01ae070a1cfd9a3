/**
 * A PostgreSQL ledger whose server refuses the credentials, against a real
 * server (scram-sha-256) and the CLI as a real process: the wrong password
 * from each place a password comes from (PGPASSWORD, a password file named
 * by PGPASSFILE, the URL in the config file), the ledger named by each
 * source (--ledger, AZURE_EMAIL_INVOICING_LEDGER, the config file).
 *
 * Each run exits 1 with a message naming the ledger, its source, where the
 * password came from and the fix; no password appears in the output;
 * nothing is planned, sent or written; and the server saw exactly one
 * failed authentication per run: refused credentials are not retried (a
 * wrong password does not become right, and repeating it can lock the
 * account), unlike a server that cannot be reached. A server whose
 * pg_hba.conf does not admit the user says that instead of blaming the
 * password.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TEST_PG_PASSWORD, startPostgres, type TestPostgres } from "../../../dev/postgres";
import { killSpawned, runCli, spawnCli, startWorld, type World } from "../reconciler/world";

const WRONG = {
    env: "wrong-pw-from-env-7f3a",
    file: "wrong-pw-from-file-91c2",
    url: "wrong-pw-in-url-44d8",
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("ledger: PostgreSQL refusing the credentials (a real server, the CLI as a process)", function () {
    this.timeout(120_000);
    let server: TestPostgres;
    let world: World;
    /** A home folder of its own: no ~/.pgpass of this machine's user is read. */
    let home: string;

    before(async function () {
        this.timeout(180_000);
        server = await startPostgres();
        world = await startWorld();
        await world.optIn("operations");
        home = fs.mkdtempSync(path.join(os.tmpdir(), "aei-pgcred-"));
    });
    afterEach(killSpawned);
    after(async () => {
        await world?.close();
        await server?.close();
        if (home) fs.rmSync(home, { recursive: true, force: true });
    });

    /** Failed authentications the server has logged so far. */
    const refusals = () => server.serverLog().split("\n").filter((l) => l.includes('password authentication failed for user "postgres"')).length;

    /** Runs `reconcile` as a process; returns its exit status and everything it printed. */
    async function reconcile(argv: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
        const child = spawnCli(["reconcile", "--since", "2000-01-01", ...argv], { ...world.env("grace"), HOME: home, ...env });
        const { code } = await child.exited;
        return { code, output: child.output() };
    }

    const cases: Array<{ label: string; setup: (db: string) => { argv: string[]; env: Record<string, string>; display: string; source: string; from: string } }> = [
        {
            label: "PGPASSWORD, ledger from --ledger",
            setup: (db) => ({
                argv: ["--ledger", server.url(db)],
                env: { PGPASSWORD: WRONG.env },
                display: server.url(db),
                source: "--ledger",
                from: "PGPASSWORD",
            }),
        },
        {
            label: "a password file (PGPASSFILE), ledger from AZURE_EMAIL_INVOICING_LEDGER",
            setup: (db) => {
                const passfile = path.join(home, `pgpass-${db}`);
                fs.writeFileSync(passfile, `${server.host}:${server.port}:*:postgres:${WRONG.file}\n`, { mode: 0o600 });
                return {
                    argv: [],
                    env: { AZURE_EMAIL_INVOICING_LEDGER: server.url(db), PGPASSFILE: passfile },
                    display: server.url(db),
                    source: "AZURE_EMAIL_INVOICING_LEDGER",
                    from: `the password file ${passfile}`,
                };
            },
        },
        {
            label: "the URL in the config file",
            setup: (db) => {
                const config = path.join(home, `config-${db}.json`);
                fs.writeFileSync(config, JSON.stringify({ ledger: `postgres://postgres:${WRONG.url}@${server.host}:${server.port}/${db}` }));
                return {
                    argv: ["--config", config],
                    env: {},
                    display: `postgres://postgres:***@${server.host}:${server.port}/${db}`,
                    source: `"ledger" in ${config}`,
                    from: "the ledger URL",
                };
            },
        },
    ];

    for (const c of cases) {
        it(`the wrong password from ${c.label}: exit 1 at the first refusal, naming the ledger, its source, the password's source and the fix; no password printed; nothing done`, async () => {
            const db = await server.createDatabase("cred");
            const s = c.setup(db);
            await world.clearRequests();
            const before = refusals();

            const r = await reconcile(s.argv, s.env);
            expect(r.code, r.output).to.equal(1);
            expect(r.output).to.match(
                new RegExp(
                    `azure-email-invoicing reconcile: ledger ${escape(s.display)} \\(${escape(s.source)}\\): the server refused the credentials of user postgres \\(password authentication failed for user "postgres"\\): ` +
                        `the password came from ${escape(s.from)}; correct it there \\(or give it in PGPASSWORD, the password file .*, or the URL in the config file or environment\\)`,
                ),
            );
            for (const pw of [...Object.values(WRONG), TEST_PG_PASSWORD]) expect(r.output, "a password in the output").to.not.include(pw);

            // One attempt: the server saw one failed authentication, not a retry loop.
            expect(refusals() - before, server.serverLog()).to.equal(1);
            expect(world.sink.accepted, "nothing sent").to.equal(0);
            expect(await world.requests(), "no billing API call").to.deep.equal([]);
            const [t] = await server.sql<{ n: string }>(db, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'");
            expect(t.n, "no table created").to.equal("0");

            // `ledger` (read only) says the same.
            const read = await runCli(["ledger", ...s.argv], { HOME: home, ...s.env });
            expect(read.code, read.stderr).to.equal(1);
            expect(read.stderr).to.include(`ledger ${s.display} (${s.source}): the server refused the credentials of user postgres`);
            for (const pw of [...Object.values(WRONG), TEST_PG_PASSWORD]) expect(read.stdout + read.stderr).to.not.include(pw);
        });
    }

    it("a server that does not admit the user from this host (pg_hba.conf rejects it): exit 1 at once, saying so rather than asking for another password", async () => {
        const db = await server.createDatabase("cred");
        // Ahead of initdb's lines: this database is refused from 127.0.0.1, whatever the password.
        const hba = path.join(server.dataDir, "pg_hba.conf");
        fs.writeFileSync(hba, `host ${db} all 127.0.0.1/32 reject\n${fs.readFileSync(hba, "utf8")}`);
        await server.sql("postgres", "SELECT pg_reload_conf()");
        const rejected = () => server.serverLog().split("\n").filter((l) => l.includes(`pg_hba.conf rejects connection for host "127.0.0.1", user "postgres", database "${db}"`)).length;
        const before = rejected();
        const r = await reconcile(["--ledger", server.url(db)], { PGPASSWORD: TEST_PG_PASSWORD });
        expect(r.code, r.output).to.equal(1);
        expect(r.output).to.include(
            `ledger ${server.url(db)} (--ledger): the server refused the credentials of user postgres (pg_hba.conf rejects connection for host "127.0.0.1", user "postgres", database "${db}", no encryption): the server does not admit this user to database ${db} from here`,
        );
        expect(r.output).to.not.include(TEST_PG_PASSWORD);
        expect(rejected() - before, server.serverLog()).to.equal(1);
        expect(world.sink.accepted, "nothing sent").to.equal(0);
    });

    it("the right password from the same places opens the ledger: the refusals above were the password's (reconcile with PGPASSWORD, then ledger with a password file)", async () => {
        const db = await server.createDatabase("cred");
        const passfile = path.join(home, `pgpass-ok-${db}`);
        fs.writeFileSync(passfile, `${server.host}:${server.port}:*:postgres:${TEST_PG_PASSWORD}\n`, { mode: 0o600 });
        const r = await reconcile(["--ledger", server.url(db), "--json"], { PGPASSWORD: TEST_PG_PASSWORD });
        expect(r.code, r.output).to.equal(0);
        expect(world.sink.accepted).to.be.greaterThan(0);
        const read = await runCli(["ledger", "--json", "--ledger", server.url(db)], { HOME: home, PGPASSFILE: passfile });
        expect(read.code, read.stderr).to.equal(0);
        expect(JSON.parse(read.stdout)).to.have.length(world.sink.accepted);
    });
});
