/**
 * How a benchmark runs as a program: `node dist/bench/<name>.js [flags]`
 * calls its `main` with the flags. `--help` (or `-h`) prints the usage and
 * exits 0 without running anything; a bad flag (args.ts) prints its message
 * and the usage and exits 2; any other failure prints its stack, named by the
 * benchmark, and exits 1. Only the module node was started with runs: a
 * benchmark imported by another for its helpers does not start.
 */
import { UsageError } from "./args";

export function runWhenMain(mod: NodeModule, name: string, usage: string, main: (argv: string[]) => Promise<void>): void {
    if (require.main !== mod) return;
    const argv = process.argv.slice(2);
    const usageText = `usage: node dist/bench/${name}.js ${usage}\n`;
    if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(usageText);
        return;
    }
    main(argv).catch((err: unknown) => {
        if (err instanceof UsageError) {
            process.stderr.write(`bench/${name}: ${err.message}\n\n${usageText}`);
            process.exitCode = 2;
            return;
        }
        process.stderr.write(`bench/${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
    });
}
