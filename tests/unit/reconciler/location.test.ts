import { expect } from "chai";
import { ConfigurationError } from "../../../provider/errors";
import { defaultLedgerPath, isPostgresUrl, redactUrl, resolveLedgerLocation, type LedgerSource, type PostgresLedgerLocation } from "../../../provider/reconciler/ledger/location";
import { thrownBy } from "../../support/thrown";

const FLAG: LedgerSource = { kind: "flag", label: "--ledger" };
const ENV: LedgerSource = { kind: "env", label: "AZURE_EMAIL_INVOICING_LEDGER" };

function resolve(text: string, options: { source?: LedgerSource; env?: Record<string, string>; allowInsecure?: boolean } = {}) {
    return resolveLedgerLocation({
        value: { text, source: options.source ?? FLAG, baseDir: "/work" },
        env: { HOME: "/home/u", ...(options.env ?? {}) },
        allowInsecure: options.allowInsecure === true,
        allowInsecureHint: "--allow-insecure-ledger",
        passwordHint: "put it in PGPASSWORD",
    });
}

function pg(text: string, options: Parameters<typeof resolve>[1] = {}): PostgresLedgerLocation {
    const l = resolve(text, options);
    if (l.kind !== "postgres") throw new Error(`not postgres: ${text}`);
    return l;
}

const refusal = (fn: () => unknown) => thrownBy(fn, ConfigurationError);

describe("ledger location", () => {
    it("defaults to $XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite, else ~/.local/state", () => {
        expect(defaultLedgerPath({ XDG_STATE_HOME: "/var/state" }, "/home/u")).to.equal("/var/state/azure-email-invoicing/ledger.sqlite");
        expect(defaultLedgerPath({}, "/home/u")).to.equal("/home/u/.local/state/azure-email-invoicing/ledger.sqlite");
        expect(defaultLedgerPath({ XDG_STATE_HOME: "relative" }, "/home/u")).to.equal("/home/u/.local/state/azure-email-invoicing/ledger.sqlite");
    });

    it("recognises a PostgreSQL URL before taking a value for a path", () => {
        expect(isPostgresUrl("postgres://h/db")).to.equal(true);
        expect(isPostgresUrl("POSTGRESQL://h/db")).to.equal(true);
        expect(isPostgresUrl("postgres:/h/db")).to.equal(false);
        expect(resolve("state/ledger.sqlite")).to.deep.include({ kind: "sqlite", file: "/work/state/ledger.sqlite" });
        expect(resolve("postgres://db.example.com/ledger").kind).to.equal("postgres");
        expect(refusal(() => resolve("mysql://db.example.com/ledger")).message).to.match(/^--ledger: .*a URL the ledger does not support/);
    });

    it("reads libpq's parameters, with PG* variables filling in what the URL leaves out", () => {
        const l = pg("postgresql://alice@127.0.0.1:6543/books?application_name=rec&connect_timeout=3&options=-c%20search_path%3Dledger", {
            env: { PGUSER: "bob", PGDATABASE: "other", PGPORT: "1", PGPASSWORD: "pw" },
        });
        expect(l.connection).to.deep.include({ host: "127.0.0.1", port: 6543, user: "alice", database: "books", applicationName: "rec", connectTimeoutSeconds: 3, options: "-c search_path=ledger", envPassword: "pw", passfile: "/home/u/.pgpass" });
        expect(l.local).to.equal(true);
        const fromEnv = pg("postgres:///", { env: { PGHOST: "/var/run/postgresql", PGUSER: "bob", PGPORT: "5433", PGPASSFILE: "/etc/pgpass" } });
        expect(fromEnv.connection).to.deep.include({ host: "/var/run/postgresql", port: 5433, user: "bob", database: "bob", passfile: "/etc/pgpass", ssl: false, sslmode: "disable" });
        expect(fromEnv.local).to.equal(true);
    });

    it("keeps libpq's sslmode meanings: require encrypts without verifying, verify-full verifies, and no sslmode off loopback verifies", () => {
        expect(pg("postgres://db.example.com/l?sslmode=require").connection.ssl).to.deep.include({ rejectUnauthorized: false });
        const full = pg("postgres://db.example.com/l?sslmode=verify-full").connection;
        expect(full.ssl).to.not.have.property("rejectUnauthorized");
        expect(full.ssl).to.include({ servername: "db.example.com" });
        expect(pg("postgres://db.example.com/l").connection).to.deep.include({ sslmode: "verify-full" });
        expect(pg("postgres://db.example.com/l", { env: { PGSSLMODE: "require" } }).connection.sslmode).to.equal("require");
        expect(pg("postgres://127.0.0.1/l").connection).to.deep.include({ sslmode: "disable", ssl: false });
        expect(refusal(() => pg("postgres://db.example.com/l?sslmode=verify-ca")).message).to.match(/sslrootcert/);
        expect(refusal(() => pg("postgres://db.example.com/l?sslmode=sometimes")).message).to.match(/sslmode 'sometimes' is not one of disable, allow, prefer, require, verify-ca, verify-full/);
    });

    it("follows libpq where node-postgres would not: no TLS on a Unix socket, hostaddr connected to while host is checked, sslrootcert=system, a readable root certificate", () => {
        const socket = pg("postgres://%2Fvar%2Frun%2Fpostgresql/l?sslmode=verify-full").connection;
        expect(socket).to.deep.include({ host: "/var/run/postgresql", ssl: false, sslmode: "verify-full" });

        const addr = pg("postgres://db.example.com/l?hostaddr=10.1.2.3&sslmode=verify-full");
        expect(addr.connection).to.deep.include({ host: "db.example.com", hostaddr: "10.1.2.3" });
        expect(addr.connection.ssl).to.include({ servername: "db.example.com" });
        expect(addr.local).to.equal(false);
        // Off loopback is where the connection goes.
        expect(pg("postgres://db.example.com/l?hostaddr=127.0.0.1").local).to.equal(true);
        expect(refusal(() => pg("postgres://localhost/l?hostaddr=10.1.2.3&sslmode=disable")).message).to.match(/sslmode=disable to 10\.1\.2\.3, which is not loopback/);
        expect(pg("postgres:///l", { env: { PGHOSTADDR: "10.1.2.3" } }).connection).to.deep.include({ host: "10.1.2.3", hostaddr: "10.1.2.3" });
        expect(refusal(() => pg("postgres://h/l?hostaddr=db.example.com")).message).to.match(/hostaddr 'db\.example\.com' is not a numeric IP address/);

        const system = pg("postgres://127.0.0.1/l?sslrootcert=system").connection;
        expect(system).to.deep.include({ sslmode: "verify-full", sslrootcert: "system" });
        expect(system.ssl).to.not.have.property("rejectUnauthorized");
        expect(refusal(() => pg("postgres://db.example.com/l?sslmode=require&sslrootcert=system")).message).to.match(/sslrootcert=system .* use sslmode=verify-full/);
        expect(refusal(() => pg("postgres://db.example.com/l?sslmode=verify-ca")).message).to.match(/^--ledger: .*sslmode=verify-ca checks .* none is named: give sslrootcert=/);
        expect(refusal(() => pg("postgres://db.example.com/l?sslmode=verify-full&sslrootcert=missing.crt")).message).to.match(/sslrootcert \/work\/missing\.crt cannot be read \(ENOENT\)/);
    });

    it("refuses plaintext off loopback unless allowed, naming the source and the flag", () => {
        for (const mode of ["disable", "allow", "prefer"]) {
            const err = refusal(() => pg(`postgres://db.example.com/l?sslmode=${mode}`, { source: ENV }));
            expect(err.setting).to.equal("AZURE_EMAIL_INVOICING_LEDGER");
            expect(err.message).to.match(new RegExp(`sslmode=${mode} to db.example.com, which is not loopback.*--allow-insecure-ledger`));
        }
        expect(pg("postgres://db.example.com/l?sslmode=disable", { allowInsecure: true }).connection.ssl).to.equal(false);
    });

    it("refuses a password on the command line, but takes one from the environment or the config file", () => {
        for (const url of ["postgres://alice:s3cret@db.example.com/l", "postgres://alice@db.example.com/l?password=s3cret"]) {
            const err = refusal(() => pg(url));
            expect(err.message).to.match(/^--ledger: the URL carries a password.*PGPASSWORD/);
            expect(err.message).to.not.include("s3cret");
        }
        expect(pg("postgres://alice:s%40cret@db.example.com/l", { source: ENV }).connection.password).to.equal("s@cret");
        expect(pg("postgres://alice:s3cret@db.example.com/l", { source: { kind: "config", label: '"ledger" in /etc/r.json' } }).display).to.equal("postgres://alice:***@db.example.com/l");
    });

    it("refuses malformed URLs with the fix, never echoing a password", () => {
        expect(refusal(() => pg("postgres://db.example.com:99999/l")).message).to.match(/'postgres:\/\/db\.example\.com:99999\/l' is not a URL|port/);
        expect(refusal(() => pg("postgres://db.example.com/l?colour=blue")).message).to.match(/unknown parameter 'colour'/);
        expect(refusal(() => pg("postgres://a,b/l")).message).to.match(/several hosts/);
        expect(refusal(() => pg("postgres://h/l?connect_timeout=soon")).message).to.match(/connect_timeout 'soon'/);
        expect(refusal(() => resolve("  ")).message).to.match(/is empty/);
        expect(redactUrl("postgres://u:pw@h/d?password=pw&sslmode=require")).to.equal("postgres://u:***@h/d?password=***&sslmode=require");
        expect(redactUrl("postgres://u:pw@[bad")).to.not.include("pw");
    });
});
