/**
 * A throwaway PostgreSQL server for the tests and benchmarks: `initdb` and `pg_ctl` on a
 * free loopback port in a temporary folder, password authentication over
 * TCP (so credentials are tested for real), stopped and removed by
 * {@link TestPostgres.close}. As root it runs as the `postgres` user (the
 * server refuses to run as root), in a folder that user owns.
 *
 * On request it serves TLS (`ssl=on`) with a certificate made at start by
 * Debian's `openssl`: a certificate authority of its own signs a server
 * certificate for `localhost`, `127.0.0.1` and `::1` (and nothing else, so
 * connecting by another address is a host name mismatch), and a second,
 * unrelated authority is made for "the wrong CA". It can also listen on
 * more addresses than 127.0.0.1 (another loopback address, this machine's
 * own non-loopback address), each admitted by `pg_hba.conf` for
 * connections from that address only.
 *
 * The server tools are looked up on PATH, then under
 * /usr/lib/postgresql/<version>/bin (where Debian installs them). A machine
 * without them FAILS the tests that need a server: nothing is skipped.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";

/** The names the TLS server's certificate holds (subjectAltName). */
export const TEST_PG_CERT_NAMES = ["localhost", "127.0.0.1", "::1"] as const;

/** The superuser's password on every test server. */
export const TEST_PG_PASSWORD = "test-superuser-pw";

/** The folder holding `initdb` and `pg_ctl`, or a clear error. */
export function postgresBin(): string {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (dir && fs.existsSync(path.join(dir, "initdb")) && fs.existsSync(path.join(dir, "pg_ctl"))) return dir;
    }
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    for (const v of versions) {
        const dir = path.join(root, v, "bin");
        if (fs.existsSync(path.join(dir, "initdb")) && fs.existsSync(path.join(dir, "pg_ctl"))) return dir;
    }
    throw new Error(
        "PostgreSQL's server tools (initdb, pg_ctl) are on neither PATH nor /usr/lib/postgresql/<version>/bin: install Debian's postgresql package (.ci/run does so when they are missing)",
    );
}

/** A port no one listens on right now (PostgreSQL cannot be told to pick one itself). */
async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

/** The certificates of a TLS test server (PEM files, readable by the test process). */
export interface TestPostgresTls {
    /** The certificate authority that signed the server's certificate: give it as `sslrootcert`. */
    caFile: string;
    /** An authority that signed nothing the server holds: "the wrong CA". */
    otherCaFile: string;
    /** The server's certificate. */
    certFile: string;
}

export interface TestPostgres {
    host: string;
    port: number;
    /** Every address the server listens on (127.0.0.1 first). */
    addresses: string[];
    /** The Unix-socket folder (a `host` for libpq-style URLs). */
    socketDir: string;
    /** The data folder (for `pg_ctl`). */
    dataDir: string;
    /** The certificates, when started with `tls`. */
    tls?: TestPostgresTls;
    /** The server's log so far (with `tls`, `log_connections` is on: one line per connection, saying whether it is TLS). */
    serverLog(): string;
    /** A URL to `database` as the superuser, without the password (set PGPASSWORD to {@link TEST_PG_PASSWORD}). */
    url(database?: string, query?: string): string;
    /** The environment a reconciler needs to reach the server: PGPASSWORD. */
    env: Record<string, string>;
    /** Creates a fresh database; returns its name. */
    createDatabase(prefix?: string): Promise<string>;
    /** Runs SQL as the superuser in `database`. */
    sql<R = Record<string, unknown>>(database: string, text: string, args?: unknown[]): Promise<R[]>;
    /** `pg_ctl restart` (fast shutdown: connections are dropped), waiting until it accepts connections again. */
    restart(): Promise<void>;
    /** The two halves of a restart, for a test that waits for something while the server is down. */
    stop(): Promise<void>;
    start(): Promise<void>;
    /** Ends every connection to `database` but the caller's (`pg_terminate_backend`); returns how many. */
    terminateConnections(database: string): Promise<number>;
    close(): Promise<void>;
}

let counter = 0;

export interface PostgresOptions {
    /**
     * `fsync` on, as a production server runs (every commit reaches the disk):
     * for benchmarks. Tests run without it (a throwaway server; killed
     * processes, restarts and dropped connections are what they exercise).
     */
    durable?: boolean;
    /** `ssl=on`, with certificates made now (see {@link TestPostgresTls}). */
    tls?: boolean;
    /**
     * Addresses to listen on besides 127.0.0.1: another loopback address
     * (`127.0.0.2`, which the certificate does not name), or this machine's
     * own address ({@link machineAddress}) to reach the server off loopback.
     */
    listenAlso?: string[];
}

/**
 * This machine's first non-loopback IPv4 address (what `hostname -I` lists
 * first), or undefined when it has none: a server listening there is
 * reached off loopback, as a database on another host would be.
 */
export function machineAddress(): string | undefined {
    for (const addresses of Object.values(os.networkInterfaces())) {
        for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
    }
    return undefined;
}

/** Runs Debian's openssl; a machine without it fails with the fix. */
function openssl(args: string[], cwd: string): void {
    const r = spawnSync("openssl", args, { cwd, encoding: "utf8", timeout: 60_000 });
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new Error("the TLS test server's certificates are made with openssl, which is not on PATH: install Debian's openssl package (.ci/run does so when it is missing)");
    }
    if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

/**
 * A certificate authority and a server certificate it signs (EC P-256: fast
 * to make), plus an unrelated authority, in `dir`. Valid from now for two
 * days: a test server never lives longer.
 */
function makeCertificates(dir: string): TestPostgresTls & { keyFile: string } {
    fs.mkdirSync(dir);
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for (const ca of ["ca", "other-ca"]) {
        openssl(["req", "-x509", ...ec, "-keyout", `${ca}.key`, "-out", `${ca}.crt`, "-days", "2", "-subj", `/CN=azure-email-invoicing test ${ca}`,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
    }
    openssl(["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], dir);
    const san = TEST_PG_CERT_NAMES.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    fs.writeFileSync(path.join(dir, "server.ext"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
    openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext"], dir);
    fs.chmodSync(path.join(dir, "server.key"), 0o600);
    return { caFile: path.join(dir, "ca.crt"), otherCaFile: path.join(dir, "other-ca.crt"), certFile: path.join(dir, "server.crt"), keyFile: path.join(dir, "server.key") };
}

export async function startPostgres(settings: PostgresOptions = {}): Promise<TestPostgres> {
    const bin = postgresBin();
    const root = process.getuid?.() === 0;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-pg-"));
    const dataDir = path.join(dir, "data");
    const socketDir = path.join(dir, "socket");
    fs.mkdirSync(socketDir);
    const pwfile = path.join(dir, "pwfile");
    fs.writeFileSync(pwfile, `${TEST_PG_PASSWORD}\n`, { mode: 0o600 });
    const tls = settings.tls ? makeCertificates(path.join(dir, "tls")) : undefined;
    if (root) {
        let uid: number;
        let gid: number;
        try {
            uid = Number(execFileSync("id", ["-u", "postgres"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim());
            gid = Number(execFileSync("id", ["-g", "postgres"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim());
        } catch {
            throw new Error("as root, the test server runs as the postgres user (PostgreSQL refuses to run as root), and there is no such user: install Debian's postgresql package, which creates it");
        }
        // The server reads its key and certificate as the postgres user (the key must be that user's, mode 0600).
        const owned = [dir, socketDir, pwfile, ...(tls ? [path.dirname(tls.keyFile), tls.keyFile, tls.certFile] : [])];
        for (const p of owned) fs.chownSync(p, uid, gid);
        fs.chmodSync(dir, 0o700);
    }
    const run = (tool: string, args: string[]) => {
        const [cmd, argv] = root ? ["runuser", ["-u", "postgres", "--", path.join(bin, tool), ...args]] : [path.join(bin, tool), args];
        const r = spawnSync(cmd, argv, { encoding: "utf8", timeout: 120_000 });
        if (r.status !== 0) throw new Error(`${tool} ${args.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
        return r.stdout;
    };
    run("initdb", ["-D", dataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--no-instructions"]);
    const port = await freePort();
    const host = "127.0.0.1";
    const addresses = [host, ...(settings.listenAlso ?? []).filter((a) => a !== host)];
    for (const a of addresses) {
        if (net.isIP(a) !== 4) throw new Error(`listenAlso: '${a}' is not an IPv4 address`);
    }
    // initdb admits 127.0.0.1 and ::1; each further address is admitted for connections from itself only.
    const extra = addresses.slice(1).map((a) => `host all all ${a}/32 scram-sha-256\n`).join("");
    if (extra) fs.appendFileSync(path.join(dataDir, "pg_hba.conf"), extra);
    const durability = settings.durable ? "-c fsync=on -c synchronous_commit=on" : "-c fsync=off -c full_page_writes=off";
    const ssl = tls ? ` -c ssl=on -c ssl_cert_file=${tls.certFile} -c ssl_key_file=${tls.keyFile} -c log_connections=on` : "";
    const options = `-p ${port} -k ${socketDir} -c listen_addresses=${addresses.join(",")} ${durability} -c shared_buffers=32MB -c max_connections=60${ssl}`;
    const log = path.join(dir, "server.log");
    const start = () => run("pg_ctl", ["-D", dataDir, "-o", options, "-l", log, "-w", "-t", "60", "start"]);
    start();
    const url = (database = "postgres", query = "") => `postgres://postgres@${host}:${port}/${database}${query ? `?${query}` : ""}`;
    const sql = async <R>(database: string, text: string, args: unknown[] = []) => {
        const client = new Client({ host, port, user: "postgres", password: TEST_PG_PASSWORD, database });
        await client.connect();
        try {
            return (await client.query(text, args)).rows as R[];
        } finally {
            await client.end();
        }
    };
    let closed = false;
    return {
        host,
        port,
        addresses,
        socketDir,
        dataDir,
        tls: tls ? { caFile: tls.caFile, otherCaFile: tls.otherCaFile, certFile: tls.certFile } : undefined,
        serverLog: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""),
        url,
        env: { PGPASSWORD: TEST_PG_PASSWORD },
        async createDatabase(prefix = "t") {
            const name = `${prefix}_${process.pid}_${++counter}`;
            await sql("postgres", `CREATE DATABASE ${name}`);
            return name;
        },
        sql,
        async restart() {
            run("pg_ctl", ["-D", dataDir, "-o", options, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"]);
        },
        async stop() {
            run("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
        },
        async start() {
            start();
        },
        async terminateConnections(database) {
            const rows = await sql<{ n: string }>(
                "postgres",
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                [database],
            );
            return Number(rows[0].n);
        },
        async close() {
            if (closed) return;
            closed = true;
            try {
                run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        },
    };
}
