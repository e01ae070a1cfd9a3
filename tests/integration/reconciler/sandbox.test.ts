/**
 * `azure-email-invoicing sandbox` as a child process: its env file drives a
 * real reconcile, whose mail lands as .eml files in the mail folder.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { simpleParser } from "mailparser";
import { SEED } from "../../../emulator";
import { createBillingClient } from "../../../provider/billing/client";
import { resolveSettings, settingsFromEnvironment } from "../../../provider/config";
import { killSpawned, runCli, spawnCli, until, type CliChild } from "./world";

/** Waits until the sandbox says it is ready; fails with its output if it ends first or takes too long. */
async function ready(child: CliChild): Promise<void> {
    await until(
        () => {
            if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the sandbox ended before it was ready:\n${child.output()}`);
            return child.stdoutText().includes("press Ctrl-C");
        },
        () => `the sandbox to be ready; its output:\n${child.output()}`,
    );
}

/** Reads `export KEY='value'` lines. */
function readEnvFile(file: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^export ([A-Z_]+)='((?:[^']|'\\'')*)'$/.exec(line);
        if (m) env[m[1]] = m[2].replace(/'\\''/g, "'");
    }
    return env;
}

describe("reconciler: sandbox command", function () {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-sandbox-"));
    });
    afterEach(async () => {
        await killSpawned();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("runs the emulator and an SMTP sink, prints and writes the environment, and stops cleanly on SIGTERM", async () => {
        const envFile = path.join(dir, "sandbox.env");
        const mailDir = path.join(dir, "mail");
        // --env-out: on Node 20, node itself refuses a missing --env-file path anywhere in argv.
        const child = spawnCli(["sandbox", "--env-out", envFile, "--mail-dir", mailDir], { PATH: process.env.PATH ?? "" });
        try {
            await ready(child);
            const env = readEnvFile(envFile);
            expect(Object.keys(env).sort()).to.deep.equal(
                ["AZURE_EMAIL_INVOICING_ENDPOINT", "AZURE_EMAIL_INVOICING_GRAPH_ENDPOINT", "AZURE_EMAIL_INVOICING_TOKEN", "INVOICE_MAIL_FROM", "SMTP_URL"].sort(),
            );
            for (const [k, v] of Object.entries(env)) expect(child.stdoutText()).to.include(`export ${k}='${v}'`);
            expect(env.AZURE_EMAIL_INVOICING_TOKEN).to.equal(SEED.users.alice.token); // owner of the first MCA profile
            expect(env.AZURE_EMAIL_INVOICING_ENDPOINT).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
            expect(env.SMTP_URL).to.match(/^smtp:\/\/127\.0\.0\.1:\d+$/);
            expect(fs.statSync(envFile).mode & 0o777).to.equal(0o600);
            expect(child.stdoutText()).to.include(`mail is written to ${mailDir}`);

            // Opt in with the printed owner token, as a user would, then reconcile with the printed environment.
            const client = createBillingClient(resolveSettings({ env: settingsFromEnvironment(env) }));
            await client.updateInvoiceEmailSettings(SEED.profiles.operations, { invoiceEmailOptIn: true, invoiceRecipients: [] });
            const r = await runCli(["reconcile", "--since", "2000-01-01", "--ledger", path.join(dir, "ledger.sqlite")], { ...env, PATH: process.env.PATH ?? "" });
            expect(r.code, r.stderr).to.equal(0);
            const files = fs.readdirSync(mailDir).filter((f) => f.endsWith(".eml"));
            expect(files).to.have.length(9);
            const mail = await simpleParser(fs.readFileSync(path.join(mailDir, files[0])));
            expect(mail.attachments[0].filename).to.match(/^G\d{9}\.pdf$/);
            expect(mail.attachments[0].content.subarray(0, 5).toString()).to.equal("%PDF-");
        } finally {
            child.kill("SIGTERM");
        }
        const exit = await child.exited;
        expect(exit.code, child.output()).to.equal(0);
        expect(fs.existsSync(envFile), "env file removed on a clean stop").to.equal(false);
        expect(child.output()).to.match(/sandbox stopped \(SIGTERM\)/);
    });

    it("accepts --env-file as well (on Node 20 only for a path that exists), and refuses bad flags", async () => {
        const envFile = path.join(dir, "existing.env");
        fs.writeFileSync(envFile, "");
        // --mail-dir inside the test's folder: the default is a new temporary folder, kept after the sandbox stops.
        const child = spawnCli(["sandbox", "--env-file", envFile, "--mail-dir", path.join(dir, "mail"), "--port", "0", "--smtp-port", "0"], { PATH: process.env.PATH ?? "" });
        try {
            await ready(child);
            expect(readEnvFile(envFile)).to.have.property("SMTP_URL");
        } finally {
            child.kill("SIGINT");
        }
        expect((await child.exited).code, child.output()).to.equal(0);
        for (const argv of [["--port", "70000"], ["--smtp-port", "x"], ["--bogus"], ["--env-file", envFile, "--env-out", envFile]]) {
            const r = await runCli(["sandbox", ...argv], {});
            expect(r.code, argv.join(" ")).to.equal(2);
        }
    });
});
