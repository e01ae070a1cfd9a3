/**
 * `azure-email-invoicing sandbox`: the emulator and a local SMTP sink, both on
 * loopback, for trying the reconciler (and the Pulumi resources) offline. It
 * prints the environment to use them as `export` lines on stdout (everything
 * else is a `#` comment, so `eval "$(azure-email-invoicing sandbox)"` style
 * use works), optionally writes the same lines to `--env-file`, and runs until
 * SIGINT or SIGTERM, then closes both servers and removes the env file.
 *
 * The token printed is the one of the owner of the first billing profile of
 * the first MCA billing account (the seeded Operations profile's owner).
 *
 * Exit codes: 0 after a clean stop, 2 for bad flags, 1 when a server cannot start.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startEmulator, type EmulatorHandle } from "../../emulator";
import type { BillingProfileRef } from "../../provider/billing/names";
import { ENV } from "../../provider/config";
import { SMTP_ENV } from "../../provider/reconciler/mailer";
import { recipientRoleOf } from "../../provider/reconciler/plan";
import { parseCommandArgs, waitForSignal } from "../args";
import { survivingWriter, type CommandIo } from "../io";
import { startSmtpSink, type SmtpSink } from "../smtp-sink";
import { terminalSafe } from "../text";

const USAGE = `usage: azure-email-invoicing sandbox [--data DIR] [--mail-dir DIR] [--port N] [--smtp-port N] [--env-file PATH | --env-out PATH]

Runs the local Azure Billing + Graph emulator and a local SMTP sink that
writes each message it receives as an .eml file, both on 127.0.0.1, until
Ctrl-C. Prints the environment variables that point the reconciler and the
Pulumi provider at them, as export lines.

  --data DIR       keep the emulator's state in DIR across restarts (default: in memory)
  --mail-dir DIR   where received mail is written (default: DIR/mail with --data, else a new temporary folder)
  --port N         emulator port (default 0: a free port)
  --smtp-port N    SMTP sink port (default 0: a free port)
  --env-file PATH  also write the export lines to PATH (mode 0600; removed on a clean stop)
  --env-out PATH   the same as --env-file. Node 20 itself aborts with "node: PATH: not found"
                   when any argument is --env-file and PATH does not exist yet (a Node 20
                   bug, fixed in later Node versions), so on Node 20 use --env-out
  -h, --help       show this help`;

/** The sender address the sandbox suggests. */
export const SANDBOX_FROM = "Contoso Billing <billing@contoso.com>";

function port(value: string | undefined, flag: string): number {
    if (value === undefined) return 0;
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`${flag} must be a number from 0 to 65535, not '${value}'`);
    return Number(value);
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The owner token of the first billing profile of the first MCA account, as
 * the emulator lists them.
 */
export function sandboxOwner(emulator: EmulatorHandle): BillingProfileRef & { token: string; userPrincipalName: string } {
    const state = emulator.state();
    const account = state.billingAccounts.find((a) => a.properties.agreementType === "MicrosoftCustomerAgreement") ?? state.billingAccounts[0];
    const profile = state.billingProfiles.find((p) => p.billingAccountName === account?.name);
    if (!account || !profile) throw new Error("the emulator has no billing profile");
    const owner = emulator.principals.find((p) =>
        p.roleAssignments.some((a) => a.billingAccountName === account.name && a.billingProfileName === profile.name && recipientRoleOf(a.roleName) === "owner"),
    );
    if (!owner) throw new Error(`billing profile ${profile.name} has no owner`);
    return { token: owner.token, userPrincipalName: owner.userPrincipalName, billingAccountName: account.name, billingProfileName: profile.name };
}

export async function run(argv: string[], io: CommandIo): Promise<number> {
    const values = parseCommandArgs("sandbox", USAGE, argv, {
        data: { type: "string" },
        "mail-dir": { type: "string" },
        port: { type: "string" },
        "smtp-port": { type: "string" },
        "env-file": { type: "string" },
        "env-out": { type: "string" },
    }, io);
    if (typeof values === "number") return values;
    let ports: { emulator: number; smtp: number };
    try {
        ports = { emulator: port(values.port, "--port"), smtp: port(values["smtp-port"], "--smtp-port") };
        if (values["env-file"] !== undefined && values["env-out"] !== undefined) throw new Error("give --env-file or --env-out, not both");
    } catch (err) {
        io.stderr.write(terminalSafe(`azure-email-invoicing sandbox: ${err instanceof Error ? err.message : String(err)}`) + `\n\n${USAGE}\n`);
        return 2;
    }
    const dataDir = values.data ? path.resolve(io.cwd, values.data) : undefined;
    const mailDir = values["mail-dir"]
        ? path.resolve(io.cwd, values["mail-dir"])
        : dataDir
          ? path.join(dataDir, "mail")
          : fs.mkdtempSync(path.join(os.tmpdir(), "azure-email-invoicing-mail-"));
    const envTarget = values["env-file"] ?? values["env-out"];
    const envFile = envTarget ? path.resolve(io.cwd, envTarget) : undefined;

    let emulator: EmulatorHandle | undefined;
    let sink: SmtpSink | undefined;
    try {
        emulator = await startEmulator({ port: ports.emulator, dataDir });
        sink = await startSmtpSink({ port: ports.smtp, mailDir, keep: false });
    } catch (err) {
        await emulator?.close();
        io.stderr.write(terminalSafe(`azure-email-invoicing sandbox: cannot start: ${err instanceof Error ? err.message : String(err)}`) + "\n");
        return 1;
    }
    try {
        const owner = sandboxOwner(emulator);
        const vars: Array<[string, string]> = [
            [ENV.endpoint, emulator.armEndpoint],
            [ENV.graphEndpoint, emulator.graphEndpoint],
            [ENV.token, owner.token],
            [SMTP_ENV.url, sink.url],
            [SMTP_ENV.from, SANDBOX_FROM],
        ];
        const exportLines = vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join("\n") + "\n";
        // Listen for the stop signal before announcing readiness: whoever reads the output may signal at once.
        const stopped = waitForSignal();
        if (envFile) {
            fs.mkdirSync(path.dirname(envFile), { recursive: true });
            // Written whole, then renamed: a reader never sees half a file. 0600: it holds a token.
            fs.writeFileSync(`${envFile}.tmp`, exportLines, { mode: 0o600 });
            fs.renameSync(`${envFile}.tmp`, envFile);
        }
        // A reader that goes away (`sandbox | head -1`) must not stop the sandbox.
        survivingWriter(io.stdout)(
            [
                `# azure-email-invoicing sandbox: emulator ${emulator.url}, SMTP sink ${sink.url}`,
                `# emulator state: ${emulator.stateFile ?? "in memory (use --data DIR to keep it)"}`,
                `# mail is written to ${mailDir} (one .eml file per message)`,
                `# token: ${owner.userPrincipalName}, owner of billing profile ${owner.billingAccountName}/${owner.billingProfileName}`,
                ...(envFile ? [`# the same lines are in ${envFile} (source it)`] : []),
                `# try: azure-email-invoicing reconcile --dry-run --since 2000-01-01   (profiles start opted out)`,
                `# press Ctrl-C to stop`,
                "",
            ].join("\n") + exportLines,
        );
        const signal = await stopped;
        io.stderr.write(`sandbox stopped (${signal}); mail kept in ${mailDir}\n`);
    } finally {
        await sink.close();
        await emulator.close();
        if (envFile) fs.rmSync(envFile, { force: true });
    }
    return 0;
}
