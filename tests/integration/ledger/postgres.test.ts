/**
 * The PostgreSQL ledger on a throwaway server the tests start: the
 * conformance suite (a database per test), and what is PostgreSQL's own
 * (the schema the URL selects, concurrent migrations, the password sources,
 * dropped connections, a server that is down, wrong credentials).
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigurationError, LedgerError } from "../../../provider/errors";
import { resolveLedgerLocation, type PostgresLedgerLocation } from "../../../provider/reconciler/ledger/location";
import { POSTGRES_SCHEMA_VERSION } from "../../../provider/reconciler/ledger/migrations/postgres";
import { PostgresLedger } from "../../../provider/reconciler/ledger/postgres";
import { TEST_PG_PASSWORD, startPostgres, type TestPostgres } from "../../../dev/postgres";
import { REF, ledgerConformance, plan, worker, type Backend } from "./conformance";

let server: TestPostgres;
before(async function () {
    this.timeout(120_000);
    server = await startPostgres();
});
after(async () => {
    await server?.close();
});

/** A location for a URL, as the config file would give it (so a password may be in it). */
export function pgLocation(url: string, env: Record<string, string> = { PGPASSWORD: TEST_PG_PASSWORD }): PostgresLedgerLocation {
    const l = resolveLedgerLocation({
        value: { text: url, source: { kind: "config", label: '"ledger" in test.json' }, baseDir: "/" },
        env,
        allowInsecure: false,
        allowInsecureHint: "--allow-insecure-ledger",
        passwordHint: "-",
    });
    if (l.kind !== "postgres") throw new Error("not postgres");
    return l;
}

const postgres = (): Backend => ({
    schemaVersion: POSTGRES_SCHEMA_VERSION,
    async fresh() {
        const db = await server.createDatabase();
        const location = pgLocation(server.url(db));
        return {
            open: (options) => PostgresLedger.open(location, { readOnly: options?.readOnly === true }),
            makeForeign: async () => void (await server.sql(db, "CREATE TABLE customers (id int PRIMARY KEY, name text)")),
            makeNewer: async () => void (await server.sql(db, "UPDATE ledger_schema SET version = $1", [POSTGRES_SCHEMA_VERSION + 1])),
            async version() {
                const [t] = await server.sql<{ present: boolean }>(db, "SELECT to_regclass('ledger_schema') IS NOT NULL AS present");
                if (!t.present) return undefined;
                const [row] = await server.sql<{ version: number }>(db, "SELECT version FROM ledger_schema");
                return row?.version;
            },
        };
    },
});

ledgerConformance("PostgreSQL", postgres);

describe("ledger: PostgreSQL's own", function () {
    this.timeout(60_000);

    it("lives in the schema the URL's search_path selects, and several workers starting together migrate once", async () => {
        const db = await server.createDatabase();
        await server.sql(db, "CREATE TABLE customers (id int)");
        await server.sql(db, "CREATE SCHEMA invoicing");
        // public holds another application's table: refused, and left untouched.
        let err: unknown;
        await PostgresLedger.open(pgLocation(server.url(db))).catch((e: unknown) => (err = e));
        expect(err).to.be.instanceOf(ConfigurationError);
        expect(String(err)).to.match(/schema "public" of database "t_\d+_\d+" holds tables \(customers\) and no azure-email-invoicing ledger.*search_path/);
        const location = pgLocation(server.url(db, "options=-c%20search_path%3Dinvoicing"));
        const ledgers = await Promise.all([1, 2, 3, 4].map(() => PostgresLedger.open(location)));
        try {
            const tables = await server.sql<{ table_schema: string; n: string }>(db, "SELECT table_schema, count(*) AS n FROM information_schema.tables WHERE table_schema IN ('public', 'invoicing') GROUP BY 1 ORDER BY 1");
            expect(tables).to.deep.equal([
                { table_schema: "invoicing", n: "4" },
                { table_schema: "public", n: "1" },
            ]);
            expect(await server.sql(db, "SELECT application, version FROM invoicing.ledger_schema")).to.deep.equal([{ application: "azure-email-invoicing", version: POSTGRES_SCHEMA_VERSION }]);
            await ledgers[0]!.recordPlans([plan("G100000001", ["a@x.com"])], "r");
            expect((await ledgers[3]!.deliveries()).length).to.equal(1);
        } finally {
            for (const l of ledgers) await l!.close();
        }
        const missing = pgLocation(server.url(db, "options=-c%20search_path%3Dnowhere"));
        err = undefined;
        await PostgresLedger.open(missing).catch((e: unknown) => (err = e));
        expect(String(err)).to.match(/selects no schema that exists/);
    });

    it("takes the password from PGPASSWORD, the password file, or the URL, and refuses wrong credentials as not worth retrying", async () => {
        const db = await server.createDatabase();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-pgpass-"));
        try {
            const passfile = path.join(dir, "pgpass");
            fs.writeFileSync(passfile, `${server.host}:${server.port}:*:postgres:${TEST_PG_PASSWORD}\n`, { mode: 0o600 });
            for (const [label, url, env] of [
                ["PGPASSFILE", server.url(db), { PGPASSFILE: passfile }],
                ["the URL", `postgres://postgres:${TEST_PG_PASSWORD}@${server.host}:${server.port}/${db}`, {}],
                ["PGPASSWORD", server.url(db), { PGPASSWORD: TEST_PG_PASSWORD }],
            ] as const) {
                const l = await PostgresLedger.open(pgLocation(url, { ...env }));
                expect(await l!.counts(), label).to.deep.include({ planned: 0 });
                await l!.close();
            }
            let err: unknown;
            await PostgresLedger.open(pgLocation(server.url(db), { PGPASSWORD: "wrong" })).catch((e: unknown) => (err = e));
            expect(err).to.be.instanceOf(LedgerError);
            expect((err as LedgerError).retryable).to.equal(false);
            expect(String(err)).to.match(/\("ledger" in test\.json\).*refused the credentials of user postgres/);
            expect(String(err)).to.not.include("wrong");
            err = undefined;
            await PostgresLedger.open(pgLocation(server.url(db), {})).catch((e: unknown) => (err = e));
            expect(String(err)).to.match(/asks for a password and none is given/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("keeps working after its connections are dropped (pg_terminate_backend), and a server that is down is a retryable LedgerError after a few attempts", async () => {
        const db = await server.createDatabase();
        const l = (await PostgresLedger.open(pgLocation(server.url(db))))!;
        try {
            await l.recordPlans([plan("G100000001", ["a@x.com", "b@x.com"])], "r");
            expect(await server.terminateConnections(db)).to.be.at.least(1);
            // The pool's idle connections are gone: the next statement fails once or runs on a new one.
            let claims: Awaited<ReturnType<typeof l.claimNext>> = [];
            for (let i = 0; i < 3 && claims.length === 0; i++) {
                claims = await l.claimNext(REF, worker("w"), 5).catch((e: unknown) => {
                    expect(e).to.be.instanceOf(LedgerError);
                    expect((e as LedgerError).retryable, String(e)).to.equal(true);
                    return [];
                });
            }
            expect(claims).to.have.length(2);
        } finally {
            await l.close();
        }
        let err: unknown;
        const down = pgLocation(`postgres://postgres@127.0.0.1:1/${db}`);
        await PostgresLedger.open(down, { connectAttempts: 2 }).catch((e: unknown) => (err = e));
        expect(err).to.be.instanceOf(LedgerError);
        expect((err as LedgerError).retryable).to.equal(true);
        expect(String(err)).to.match(/cannot reach 127\.0\.0\.1:1/);
    });
});
