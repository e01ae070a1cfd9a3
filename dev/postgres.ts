/**
 * A throwaway PostgreSQL server for the tests and benchmarks: `initdb` and `pg_ctl` on a
 * free loopback port in a temporary folder, password authentication over
 * TCP (so credentials are tested for real), stopped and removed by
 * {@link TestPostgres.close}. As root it runs as the `postgres` user (the
 * server refuses to run as root), in a folder that user owns.
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

export interface TestPostgres {
    host: string;
    port: number;
    /** The data folder (for `pg_ctl`). */
    dataDir: string;
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
    if (root) {
        let uid: number;
        let gid: number;
        try {
            uid = Number(execFileSync("id", ["-u", "postgres"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim());
            gid = Number(execFileSync("id", ["-g", "postgres"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim());
        } catch {
            throw new Error("as root, the test server runs as the postgres user (PostgreSQL refuses to run as root), and there is no such user: install Debian's postgresql package, which creates it");
        }
        for (const p of [dir, socketDir, pwfile]) fs.chownSync(p, uid, gid);
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
    const durability = settings.durable ? "-c fsync=on -c synchronous_commit=on" : "-c fsync=off -c full_page_writes=off";
    const options = `-p ${port} -k ${socketDir} -c listen_addresses=${host} ${durability} -c shared_buffers=32MB -c max_connections=60`;
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
        dataDir,
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
