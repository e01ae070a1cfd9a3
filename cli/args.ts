/**
 * What every command does first: parse its flags strictly (node's
 * util.parseArgs, no positionals), answer `--help`, and on a bad flag print
 * the message and the usage and exit 2. Plus the one signal wait the
 * long-running commands share.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { CommandIo } from "./io";
import { terminalSafe } from "./text";

/**
 * A flag or combination of flags the command cannot run with; the message
 * names the flag and says what it takes. Commands print it with their usage
 * and exit 2; so do the benchmarks.
 */
export class UsageError extends Error {
    override readonly name = "UsageError";
}

/**
 * A whole-number flag's value in `[min, max]`, or undefined when the flag is
 * absent. `flag` is as the user types it (`--concurrency`). A blank value is
 * refused, not read as 0.
 */
export function wholeNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    const n = value.trim() === "" ? NaN : Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not '${value}'`);
    return n;
}

type Options = NonNullable<ParseArgsConfig["options"]>;
const HELP = { help: { type: "boolean", short: "h" } } as const;
type WithHelp<O extends Options> = O & typeof HELP;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: WithHelp<O>; strict: true; allowPositionals: false }>>["values"];

/**
 * Parses `argv` for `command`. Returns the flag values, or the exit code when
 * the command is already done: 0 after `--help`, 2 after a bad flag.
 */
export function parseCommandArgs<const O extends Options>(command: string, usage: string, argv: string[], options: O, io: CommandIo): Values<O> | number {
    let values: Values<O>;
    try {
        ({ values } = parseArgs({ args: argv, options: { ...options, ...HELP } as WithHelp<O>, strict: true, allowPositionals: false }));
    } catch (err) {
        io.stderr.write(terminalSafe(`azure-email-invoicing ${command}: ${err instanceof Error ? err.message : String(err)}`) + `\n\n${usage}\n`);
        return 2;
    }
    if ((values as { help?: boolean }).help) {
        io.stdout.write(`${usage}\n`);
        return 0;
    }
    return values;
}

/** Resolves with the first SIGINT or SIGTERM, then stops listening. */
export function waitForSignal(): Promise<NodeJS.Signals> {
    return new Promise((resolve) => {
        const on = (signal: NodeJS.Signals) => {
            process.off("SIGINT", on);
            process.off("SIGTERM", on);
            resolve(signal);
        };
        process.on("SIGINT", on);
        process.on("SIGTERM", on);
    });
}
