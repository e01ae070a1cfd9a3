#!/usr/bin/env node
/**
 * The `azure-email-invoicing` command. Each subcommand lives in
 * `cli/commands/<name>.ts` and exports `run(argv, io)`; this file only
 * dispatches, so configuration enters at the edge: each command parses its
 * flags and the environment once and passes typed values down, and nothing
 * below the command reads `process.env`.
 */
import type { CommandIo } from "./io";
import { terminalSafe } from "./text";

interface CommandModule {
    run(argv: string[], io: CommandIo): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => CommandModule }> = {
    emulator: {
        summary: "run the local Azure Billing + Graph emulator",
        load: () => require("./commands/emulator") as CommandModule,
    },
    sandbox: {
        summary: "run the emulator and a local SMTP sink, and print the environment to use them",
        load: () => require("./commands/sandbox") as CommandModule,
    },
    reconcile: {
        summary: "email every new invoice to the people Azure's rule names, once",
        load: () => require("./commands/reconcile") as CommandModule,
    },
    ledger: {
        summary: "show what the reconciler sent to whom and when",
        load: () => require("./commands/ledger") as CommandModule,
    },
};

function usage(): string {
    const lines = ["usage: azure-email-invoicing <command> [options]", "", "commands:"];
    for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
    lines.push("", "Run `azure-email-invoicing <command> --help` for a command's options.");
    return lines.join("\n");
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
    const [name, ...rest] = argv;
    if (!name || name === "--help" || name === "-h" || name === "help") {
        io.stdout.write(usage() + "\n");
        return name ? 0 : 2;
    }
    const command = COMMANDS[name];
    if (!command) {
        io.stderr.write(terminalSafe(`azure-email-invoicing: unknown command '${name}'`) + `\n\n${usage()}\n`);
        return 2;
    }
    return command.load().run(rest, io);
}

/**
 * How long the process may stay once its command is done. Each command closes
 * what it opened, so the process normally ends at once; but a credential's own
 * request is not ours to close: DefaultAzureCredential does not stop a request
 * to a managed identity endpoint that never answers when the client gives up
 * on it, and that socket alone would keep the process alive for good.
 */
export const LINGER_MS = 5000;

if (require.main === module) {
    main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() })
        .then(
            (code) => {
                process.exitCode = code;
            },
            (err: unknown) => {
                // The message may quote a server's answer: its control characters must not act on the terminal.
                process.stderr.write(terminalSafe(`azure-email-invoicing: ${err instanceof Error ? err.message : String(err)}`) + "\n");
                process.exitCode = 1;
            },
        )
        // Unref'd: it never holds the process itself, and it fires only when something else still does.
        .finally(() => setTimeout(() => process.exit(), LINGER_MS).unref());
}
