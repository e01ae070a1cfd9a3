/**
 * `azure-email-invoicing emulator` as a user runs it: a child process that
 * prints its URL and the principals' tokens, serves requests, and closes
 * cleanly (exit 0) on SIGTERM or SIGINT.
 */
import { expect } from "chai";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SEED } from "../../../emulator";
import { JOURNAL_FILE, LOCK_FILE, STATE_FILE } from "../../../emulator/store";

const MAIN = path.resolve(__dirname, "../../../cli/main.js");

interface Running {
    child: ChildProcessWithoutNullStreams;
    url: string;
    banner: string;
    output: () => string;
    exit: Promise<number | null>;
}

/**
 * Every child a test started. A test that fails (or times out) halfway
 * never reaches its own kill, so afterEach kills what is still running:
 * no emulator outlives its test, holding a port or a --data lock.
 */
const children = new Set<ChildProcessWithoutNullStreams>();

/** Runs `azure-email-invoicing emulator ARGS` as a child, tracked for afterEach. */
function spawnEmulator(args: string[]): ChildProcessWithoutNullStreams {
    const child = spawn(process.execPath, [MAIN, "emulator", ...args], { stdio: "pipe" });
    children.add(child);
    return child;
}

function isRunning(child: ChildProcessWithoutNullStreams): boolean {
    return child.exitCode === null && child.signalCode === null;
}

/** Starts the command and resolves once its banner is printed. */
function runEmulator(args: string[]): Promise<Running> {
    const child = spawnEmulator(args);
    let out = "";
    let err = "";
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return new Promise((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
            if (m && out.includes("Press Ctrl-C to stop.")) resolve({ child, url: m[1], banner: out, output: () => out, exit });
        });
        child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
        void exit.then((code) => reject(new Error(`emulator exited (${code}) before its banner: ${err}${out}`)));
    });
}

describe("emulator: CLI command", () => {
    afterEach(async () => {
        const survivors = [...children].filter(isRunning);
        children.clear();
        await Promise.all(
            survivors.map(
                (child) =>
                    new Promise<void>((resolve) => {
                        child.once("exit", () => resolve());
                        child.kill("SIGKILL");
                    }),
            ),
        );
    });

    it("prints the URL and a table of principals with tokens, serves, and stops cleanly on SIGTERM", async () => {
        const run = await runEmulator(["--port", "0"]);
        expect(run.banner).to.match(/http:\/\/127\.0\.0\.1:\d+/);
        for (const u of Object.values(SEED.users)) {
            expect(run.banner).to.contain(u.token);
            expect(run.banner).to.contain(u.userPrincipalName);
        }
        expect(run.banner).to.match(/emu-alice\s+alice@contoso\.com\s+alice@contoso\.com\s+Billing profile owner on K7QM-4T2X-BG7-PGB/);
        expect(run.banner).to.match(/emu-kiosk\s+kiosk@contoso\.onmicrosoft\.com\s+\(no mailbox\)/);
        expect(run.banner).to.match(/emu-jane\s+jane@contoso\.com\s+jane@contoso\.com\s+\(no role\)/);
        const r = await fetch(`${run.url}/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01`, { headers: { Authorization: "Bearer emu-alice" } });
        expect(r.status).to.equal(200);
        run.child.kill("SIGTERM");
        expect(await run.exit).to.equal(0);
        expect(run.output()).to.contain("emulator stopped (SIGTERM)");
        expect(run.output(), "one log line per request").to.contain("GET /providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01 -> 200 listBillingAccounts alice@contoso.com");
    });

    it("keeps state in --data across runs and stops on SIGINT", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-cli-"));
        try {
            const first = await runEmulator(["--data", dir, "--quiet"]);
            expect(first.banner).to.contain("new, seeded");
            await fetch(`${first.url}/_emulator/billingAccounts/${SEED.accounts.mca.name}/billingProfiles`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ name: "CLI1-TEST-BP1", displayName: "From the CLI test" }),
            });
            first.child.kill("SIGINT");
            expect(await first.exit).to.equal(0);
            expect(fs.existsSync(path.join(dir, STATE_FILE))).to.equal(true);
            const second = await runEmulator(["--data", dir, "--quiet"]);
            expect(second.banner).to.contain("reopened");
            expect(second.banner).to.contain("CLI1-TEST-BP1 (From the CLI test)");
            second.child.kill("SIGTERM");
            expect(await second.exit).to.equal(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a second emulator process on a --data directory in use, naming it", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-cli-"));
        try {
            const first = await runEmulator(["--data", dir, "--quiet"]);
            try {
                const child = spawnEmulator(["--data", dir, "--quiet"]);
                let out = "";
                child.stdout.on("data", (c: Buffer) => (out += c.toString()));
                child.stderr.on("data", (c: Buffer) => (out += c.toString()));
                const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
                expect(code, out).to.equal(1);
                expect(out).to.contain(dir).and.contain("in use").and.contain(`process ${first.child.pid}`);
                expect(out).to.not.contain("listening on");
                // The first still serves.
                expect((await fetch(`${first.url}/_emulator/settings`)).status).to.equal(200);
            } finally {
                first.child.kill("SIGTERM");
                expect(await first.exit).to.equal(0);
            }
            expect(fs.readdirSync(dir), "the lock is released at close").to.deep.equal([STATE_FILE]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("loses no acknowledged change when killed (SIGKILL) with --data", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-cli-"));
        try {
            const first = await runEmulator(["--data", dir, "--quiet"]);
            const added = await fetch(`${first.url}/_emulator/billingAccounts/${SEED.accounts.mca.name}/billingProfiles`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ name: "KILL-TEST-BP1", displayName: "Before the kill" }),
            });
            expect(added.status).to.equal(201);
            const settings = await fetch(`${first.url}/_emulator/settings`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"pageSize":7}' });
            expect(settings.status).to.equal(200);
            first.child.kill("SIGKILL");
            await first.exit;
            expect(fs.readdirSync(dir).sort(), "no clean close: the journal holds the changes, the lock names the dead process").to.deep.equal(
                [JOURNAL_FILE, LOCK_FILE, STATE_FILE].sort(),
            );
            expect(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8").trim()).to.equal(String(first.child.pid));
            // The killed process's lock is stale: the next emulator takes it over.
            const second = await runEmulator(["--data", dir, "--quiet"]);
            try {
                expect(second.banner).to.contain("KILL-TEST-BP1 (Before the kill)");
                expect(((await (await fetch(`${second.url}/_emulator/settings`)).json()) as { pageSize: number }).pageSize).to.equal(7);
            } finally {
                second.child.kill("SIGTERM");
                expect(await second.exit).to.equal(0);
            }
            expect(fs.readdirSync(dir)).to.deep.equal([STATE_FILE]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("sets pdfPaddingBytes from --pdf-padding-bytes", async () => {
        const run = await runEmulator(["--quiet", "--pdf-padding-bytes", "102400"]);
        try {
            expect(((await (await fetch(`${run.url}/_emulator/settings`)).json()) as { pdfPaddingBytes: number }).pdfPaddingBytes).to.equal(102400);
        } finally {
            run.child.kill("SIGTERM");
            await run.exit;
        }
    });

    it("keeps serving when its stdout is closed (`emulator | head -1`): EPIPE does not kill it", async () => {
        const child = spawnEmulator(["--port", "0"]);
        let err = "";
        child.stderr.on("data", (c: Buffer) => (err += c.toString()));
        const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
        // Like `head -1`: read the first line, then close the pipe.
        const url = await new Promise<string>((resolve, reject) => {
            let out = "";
            child.stdout.on("data", (chunk: Buffer) => {
                out += chunk.toString();
                const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
                if (m) resolve(m[1]);
            });
            void exit.then((code) => reject(new Error(`exited (${code}) before its first line: ${err}`)));
        });
        child.stdout.destroy();
        // Each Azure-facing request prints a log line into the closed pipe.
        for (let i = 0; i < 20; i++) {
            const r = await fetch(`${url}/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01`, { headers: { authorization: `Bearer ${SEED.users.alice.token}` } });
            expect(r.status, err).to.equal(200);
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(isRunning(child), err).to.equal(true);
        child.kill("SIGTERM");
        expect(await exit, err).to.equal(0);
        expect(err).to.not.match(/EPIPE|Unhandled/);
    });

    it("keeps the last --request-log-limit requests", async () => {
        const run = await runEmulator(["--quiet", "--request-log-limit", "3"]);
        try {
            for (let i = 0; i < 5; i++) await fetch(`${run.url}/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01&n=${i}`);
            const log = ((await (await fetch(`${run.url}/_emulator/requests`)).json()) as { value: Array<{ query: { n: string } }> }).value;
            expect(log.map((e) => e.query.n)).to.deep.equal(["2", "3", "4"]);
        } finally {
            run.child.kill("SIGTERM");
            await run.exit;
        }
    });

    it("exits 2 with usage for bad flags", async () => {
        const bad = [["--port", "abc"], ["--nope"], ["--port", "70000"], ["--pdf-padding-bytes", "99999999"], ["--pdf-padding-bytes", "1k"], ["--request-log-limit", "0"], ["--request-log-limit", "20000000"], ["--pdf-cache-bytes", "-1"], ["--pdf-cache-bytes", "1G"], ["--pdf-cache-bytes", "99999999999"]];
        for (const args of bad) {
            const child = spawnEmulator(args);
            let err = "";
            child.stderr.on("data", (c: Buffer) => (err += c.toString()));
            const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
            expect(code, args.join(" ")).to.equal(2);
            expect(err).to.contain("azure-email-invoicing emulator:");
        }
    });
});
