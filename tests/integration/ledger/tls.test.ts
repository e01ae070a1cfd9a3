/**
 * The PostgreSQL ledger over TLS, against a real server started with
 * `ssl=on` and a certificate made for this run (dev/postgres.ts: its own
 * certificate authority, a server certificate naming localhost, 127.0.0.1
 * and ::1). The server also listens on 127.0.0.2, which the certificate
 * does not name, and on this machine's own non-loopback address, so "off
 * loopback" is a real connection, not only a parsed URL.
 *
 * What a session is, is asked of the server: `pg_stat_ssl` for the
 * ledger's own pooled connections (found by a unique `application_name`),
 * and the server's connection log for a CLI process that has ended.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigurationError, LedgerError } from "../../../provider/errors";
import { LEDGER_ENV, resolveLedgerLocation, type PostgresLedgerLocation } from "../../../provider/reconciler/ledger/location";
import { PostgresLedger } from "../../../provider/reconciler/ledger/postgres";
import { TEST_PG_PASSWORD, machineAddress, startPostgres, type TestPostgres } from "../../../dev/postgres";
import { runCli, startWorld, type World } from "../reconciler/world";

/** This machine's own address, where the server is reached off loopback (undefined on a machine with loopback only). */
const ADDRESS = machineAddress();

function offLoopback(): string {
    if (!ADDRESS) throw new Error("this machine has no non-loopback IPv4 address, so the server cannot be reached off loopback here: the cases that need one cannot run");
    return ADDRESS;
}

interface Session {
    ssl: boolean;
    version: string | null;
    client_addr: string | null;
}

describe("ledger: PostgreSQL over TLS (a server with ssl=on and a certificate made for this run)", function () {
    this.timeout(120_000);
    let server: TestPostgres;
    let ca: string;
    let otherCa: string;
    /** An empty home folder: no ~/.postgresql/root.crt of this machine's user interferes. */
    let home: string;
    let sessionCount = 0;

    before(async function () {
        this.timeout(180_000);
        server = await startPostgres({ tls: true, listenAlso: ["127.0.0.2", ...(ADDRESS ? [ADDRESS] : [])] });
        ca = server.tls!.caFile;
        otherCa = server.tls!.otherCaFile;
        home = fs.mkdtempSync(path.join(os.tmpdir(), "aei-tls-home-"));
    });
    after(async () => {
        await server?.close();
        if (home) fs.rmSync(home, { recursive: true, force: true });
    });

    /** A unique application_name, so the server's view of one ledger's sessions can be picked out. */
    const appName = () => `aei_tls_${process.pid}_${++sessionCount}`;

    /** `postgres://postgres@HOST:PORT/DB?QUERY` (the password comes from PGPASSWORD). */
    const urlOf = (host: string, db: string, query: string) => `postgres://postgres@${host}:${server.port}/${db}?${query}`;

    /** The location a URL in AZURE_EMAIL_INVOICING_LEDGER names. */
    function location(url: string, env: Record<string, string> = {}): PostgresLedgerLocation {
        const l = resolveLedgerLocation({
            value: { text: url, source: { kind: "env", label: LEDGER_ENV }, baseDir: "/" },
            env: { HOME: home, PGPASSWORD: TEST_PG_PASSWORD, ...env },
            allowInsecure: false,
            allowInsecureHint: "--allow-insecure-ledger",
            passwordHint: "-",
        });
        if (l.kind !== "postgres") throw new Error("not postgres");
        return l;
    }

    /** The server's view of the sessions of one application: TLS or not, and from where. */
    const sessionsOf = (app: string) =>
        server.sql<Session>(
            "postgres",
            "SELECT s.ssl, s.version, host(a.client_addr) AS client_addr FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1",
            [app],
        );

    /** Opens a ledger (creating it), uses it, and returns the server's view of its pooled sessions. */
    async function ledgerSessions(host: string, query: string, env: Record<string, string> = {}): Promise<Session[]> {
        const db = await server.createDatabase("tls");
        const app = appName();
        const ledger = (await PostgresLedger.open(location(urlOf(host, db, `${query}&application_name=${app}`), env)))!;
        try {
            expect(await ledger.counts()).to.deep.include({ planned: 0 });
            // The pool keeps its connections open (idle) until close: they are the ledger's own sessions.
            const sessions = await sessionsOf(app);
            expect(sessions, `sessions of ${app}`).to.not.deep.equal([]);
            return sessions;
        } finally {
            await ledger.close();
        }
    }

    /** What opening a ledger at `url` throws. */
    async function refusal(url: string, env: Record<string, string> = {}): Promise<LedgerError> {
        let err: unknown;
        await PostgresLedger.open(location(url, env)).then(
            (l) => l?.close(),
            (e: unknown) => (err = e),
        );
        expect(err, `opening ${url}`).to.be.instanceOf(LedgerError);
        return err as LedgerError;
    }

    /** The server's connection log lines of one application (log_connections). */
    const connectionsLogged = (app: string) => server.serverLog().split("\n").filter((l) => l.includes("connection authorized") && l.includes(`application_name=${app}`));

    it("sslmode=require encrypts without checking the certificate: every session is TLS, on loopback and off it, with no authority named; prefer takes TLS too; disable does not", async () => {
        for (const host of ["127.0.0.1", "127.0.0.2"]) {
            // 127.0.0.2 is not in the certificate, and no authority is named: require checks neither.
            const sessions = await ledgerSessions(host, "sslmode=require");
            expect(sessions.every((s) => s.ssl && /^TLSv1\.[23]$/.test(s.version ?? "")), `${host}: ${JSON.stringify(sessions)}`).to.equal(true);
        }
        // prefer: node-postgres cannot fall back, so it takes its first choice, unverified TLS.
        expect((await ledgerSessions("127.0.0.1", "sslmode=prefer")).map((s) => s.ssl)).to.not.include(false);
        expect((await ledgerSessions("127.0.0.1", "sslmode=disable")).map((s) => s.ssl)).to.not.include(true);

        const address = offLoopback();
        const l = location(urlOf(address, "x", "sslmode=require"));
        expect(l.local).to.equal(false);
        const off = await ledgerSessions(address, "sslmode=require");
        expect(off.every((s) => s.ssl && s.client_addr === address), JSON.stringify(off)).to.equal(true);
    });

    it("a Unix socket ignores sslmode, as libpq does (the server offers no TLS there): sslmode=require connects in plaintext", async () => {
        const sessions = await ledgerSessions(encodeURIComponent(server.socketDir), "sslmode=require");
        expect(sessions.map((s) => [s.ssl, s.client_addr])).to.deep.equal(sessions.map(() => [false, null]));
    });

    it("verify-ca and verify-full without the authority, or with the wrong one, fail naming the ledger source and what to do, before any table is made, and are not retried", async () => {
        const db = await server.createDatabase("tls");
        const source = new RegExp(`^ledger postgres://postgres@127\\.0\\.0\\.1:${server.port}/${db}\\?\\S+ \\(AZURE_EMAIL_INVOICING_LEDGER\\): `);

        const noCa = await refusal(urlOf("127.0.0.1", db, "sslmode=verify-full"));
        expect(noCa.retryable).to.equal(false);
        expect(noCa.message).to.match(source);
        expect(noCa.message).to.match(/the server's certificate is not trusted with sslmode=verify-full \(unable to verify the first certificate; UNABLE_TO_VERIFY_LEAF_SIGNATURE\): no sslrootcert is given, so only the public certificate authorities are trusted\. Give the certificate of the authority that signed the server's certificate as sslrootcert=<file> in the URL \(or PGSSLROOTCERT\)/);

        for (const mode of ["verify-full", "verify-ca", "require"]) {
            // require with a root certificate checks it as verify-ca does (libpq's rule).
            const wrong = await refusal(urlOf("127.0.0.1", db, `sslmode=${mode}&sslrootcert=${encodeURIComponent(otherCa)}`));
            expect(wrong.retryable, mode).to.equal(false);
            expect(wrong.message, mode).to.match(source);
            expect(wrong.message, mode).to.include(`not trusted with sslmode=${mode}`);
            expect(wrong.message, mode).to.include(`the certificate authority in sslrootcert ${otherCa} did not sign it`);
        }

        // verify-ca without an authority cannot mean anything: refused as a setting, before connecting.
        let err: unknown;
        try {
            location(urlOf("127.0.0.1", db, "sslmode=verify-ca"));
        } catch (e) {
            err = e;
        }
        expect(err).to.be.instanceOf(ConfigurationError);
        expect(String((err as Error).message)).to.match(/^AZURE_EMAIL_INVOICING_LEDGER: '.*': sslmode=verify-ca checks the server's certificate against the certificate authority you name, and none is named: give sslrootcert=<the CA's certificate file>/);

        const [t] = await server.sql<{ n: string }>(db, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'");
        expect(t.n, "no table created").to.equal("0");
    });

    it("verify-full with sslrootcert checks the host name: 127.0.0.1 and localhost work, 127.0.0.2 (not in the certificate) fails naming it, verify-ca to it works", async () => {
        const root = `sslrootcert=${encodeURIComponent(ca)}`;
        for (const host of ["127.0.0.1", "localhost"]) {
            const sessions = await ledgerSessions(host, `sslmode=verify-full&${root}`);
            expect(sessions.every((s) => s.ssl), `${host}: ${JSON.stringify(sessions)}`).to.equal(true);
        }
        const db = await server.createDatabase("tls");
        const mismatch = await refusal(urlOf("127.0.0.2", db, `sslmode=verify-full&${root}`));
        expect(mismatch.retryable).to.equal(false);
        expect(mismatch.message).to.match(/\(AZURE_EMAIL_INVOICING_LEDGER\): the server's certificate does not name 127\.0\.0\.2 \(Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.2 is not in the cert's list: 127\.0\.0\.1, ::1\), and sslmode=verify-full checks the host name: connect by a name the certificate holds .*or use sslmode=verify-ca/);
        // verify-ca checks the authority only.
        expect((await ledgerSessions("127.0.0.2", `sslmode=verify-ca&${root}`)).every((s) => s.ssl)).to.equal(true);
        // The authority may come from PGSSLROOTCERT, as in libpq.
        expect((await ledgerSessions("127.0.0.1", "sslmode=verify-full", { PGSSLROOTCERT: ca })).every((s) => s.ssl)).to.equal(true);
    });

    it("hostaddr is the address connected to and host the name the certificate must hold (libpq's meaning), on loopback and off it", async () => {
        const root = `sslrootcert=${encodeURIComponent(ca)}`;
        // The certificate names localhost, not 127.0.0.2: the name passes, the address is where it goes.
        expect((await ledgerSessions("localhost", `hostaddr=127.0.0.2&sslmode=verify-full&${root}`)).every((s) => s.ssl)).to.equal(true);
        const db = await server.createDatabase("tls");
        const err = await refusal(urlOf("127.0.0.2", db, `hostaddr=127.0.0.2&sslmode=verify-full&${root}`));
        expect(err.message).to.include("does not name 127.0.0.2");
        // Nothing listens on 127.0.0.3: a hostaddr there is not reached, whatever host says.
        let unreachable: unknown;
        await PostgresLedger.open(location(urlOf("localhost", db, `hostaddr=127.0.0.3&sslmode=verify-full&${root}`)), { connectAttempts: 1 }).catch((e: unknown) => (unreachable = e));
        expect(String(unreachable)).to.match(/cannot reach 127\.0\.0\.3:\d+: connect ECONNREFUSED 127\.0\.0\.3/);

        const address = offLoopback();
        // Off loopback is decided by the address connected to, not by the name.
        expect(location(urlOf("localhost", "x", `hostaddr=${address}&sslmode=require`)).local).to.equal(false);
        expect(() => location(urlOf("localhost", "x", `hostaddr=${address}&sslmode=disable`))).to.throw(ConfigurationError, `sslmode=disable to ${address}, which is not loopback`);
        const off = await ledgerSessions("localhost", `hostaddr=${address}&sslmode=verify-full&${root}`);
        expect(off.map((s) => [s.ssl, s.client_addr])).to.deep.equal(off.map(() => [true, address]));
    });

    it("libpq's default root certificate, ~/.postgresql/root.crt, is used when present: verify-full needs no sslrootcert, and require checks against it", async () => {
        const withRoot = fs.mkdtempSync(path.join(os.tmpdir(), "aei-tls-home-"));
        try {
            fs.mkdirSync(path.join(withRoot, ".postgresql"));
            fs.copyFileSync(ca, path.join(withRoot, ".postgresql", "root.crt"));
            expect((await ledgerSessions("127.0.0.1", "sslmode=verify-full", { HOME: withRoot })).every((s) => s.ssl)).to.equal(true);
            fs.copyFileSync(otherCa, path.join(withRoot, ".postgresql", "root.crt"));
            const db = await server.createDatabase("tls");
            const err = await refusal(urlOf("127.0.0.1", db, "sslmode=require"), { HOME: withRoot });
            expect(err.message).to.include(`the certificate authority in sslrootcert ${path.join(withRoot, ".postgresql", "root.crt")} did not sign it`);
        } finally {
            fs.rmSync(withRoot, { recursive: true, force: true });
        }
    });

    describe("the CLI", () => {
        let world: World | undefined;
        afterEach(async () => {
            await world?.close();
            world = undefined;
        });

        it("off loopback, for real: sslmode=disable is refused before connecting (exit 2), require is allowed, and --allow-insecure-ledger allows plaintext", async () => {
            const address = offLoopback();
            const db = await server.createDatabase("tls");
            // A ledger there, empty.
            await (await PostgresLedger.open(location(urlOf("127.0.0.1", db, "sslmode=disable"))))!.close();
            const env = { HOME: home, PGPASSWORD: TEST_PG_PASSWORD };

            const refusedApp = appName();
            const refused = await runCli(["ledger", "--json", "--ledger", urlOf(address, db, `sslmode=disable&application_name=${refusedApp}`)], env);
            expect(refused.code, refused.stderr).to.equal(2);
            expect(refused.stderr).to.include(`azure-email-invoicing ledger: --ledger: sslmode=disable to ${address}, which is not loopback, may send the ledger's traffic (and the password) in plaintext or to an impostor: use sslmode=require or verify-full, or pass --allow-insecure-ledger`);

            const tlsApp = appName();
            const allowed = await runCli(["ledger", "--json", "--ledger", urlOf(address, db, `sslmode=require&application_name=${tlsApp}`)], env);
            expect(allowed.code, allowed.stderr).to.equal(0);
            expect(JSON.parse(allowed.stdout)).to.deep.equal([]);

            const plainApp = appName();
            const insecure = await runCli(["ledger", "--json", "--allow-insecure-ledger", "--ledger", urlOf(address, db, `sslmode=disable&application_name=${plainApp}`)], env);
            expect(insecure.code, insecure.stderr).to.equal(0);

            expect(connectionsLogged(refusedApp), "the refused setting never connected").to.deep.equal([]);
            const tls = connectionsLogged(tlsApp);
            expect(tls).to.not.deep.equal([]);
            for (const line of tls) expect(line).to.match(/SSL enabled \(protocol=TLSv1\.[23]/);
            const plain = connectionsLogged(plainApp);
            expect(plain).to.not.deep.equal([]);
            for (const line of plain) expect(line).to.not.include("SSL enabled");
        });

        it("a certificate that cannot be verified exits 1 naming the ledger source and the fix, and nothing is sent", async () => {
            world = await startWorld();
            await world.optIn("operations");
            const db = await server.createDatabase("tls");
            const r = await runCli(["reconcile", "--since", "2000-01-01", "--ledger", urlOf("127.0.0.1", db, "sslmode=verify-full")], { ...world.env("grace"), HOME: home, PGPASSWORD: TEST_PG_PASSWORD });
            expect(r.code, r.stderr).to.equal(1);
            expect(r.stderr).to.match(/^azure-email-invoicing reconcile: ledger postgres:\/\/postgres@127\.0\.0\.1:\d+\/\S+ \(--ledger\): the server's certificate is not trusted with sslmode=verify-full .*sslrootcert=<file>/);
            expect(world.sink.accepted).to.equal(0);
        });

        it("reconcile end to end over verified TLS: every delivery goes through the SMTP server once and is recorded sent with its Message-ID, and every session of the run was TLS", async () => {
            world = await startWorld();
            await world.optIn("operations", ["ap@contoso.com"]);
            const db = await server.createDatabase("tls");
            const app = appName();
            const url = urlOf("127.0.0.1", db, `sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}&application_name=${app}`);
            const env = { ...world.env("grace"), HOME: home, PGPASSWORD: TEST_PG_PASSWORD };

            const first = await runCli(["reconcile", "--since", "2000-01-01", "--ledger", url, "--json"], env);
            expect(first.code, first.stderr).to.equal(0);
            const totals = JSON.parse(first.stdout).totals;
            expect(totals.sent).to.be.at.least(3);
            expect(totals).to.include({ failed: 0, pending: 0 });

            const rows = await server.sql<{ state: string; message_id: string; recipient: string }>(db, "SELECT state, message_id, recipient FROM deliveries ORDER BY message_id");
            expect(rows).to.have.length(totals.sent);
            expect(rows.map((r) => r.state)).to.deep.equal(rows.map(() => "sent"));
            expect(rows.map((r) => r.recipient)).to.include("ap@contoso.com");
            const received = world.sink.messages.map((m) => m.messageId!).sort();
            expect(received).to.deep.equal(rows.map((r) => r.message_id).sort());

            // A second pass over the same ledger sends nothing again.
            const second = await runCli(["reconcile", "--since", "2000-01-01", "--ledger", url, "--json"], env);
            expect(second.code, second.stderr).to.equal(0);
            expect(JSON.parse(second.stdout).totals).to.include({ sent: 0 });
            expect(world.sink.accepted).to.equal(totals.sent);

            const logged = connectionsLogged(app);
            expect(logged.length).to.be.at.least(2);
            for (const line of logged) expect(line).to.match(/SSL enabled \(protocol=TLSv1\.[23]/);
        });
    });
});
