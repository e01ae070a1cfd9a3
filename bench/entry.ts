/**
 * How a benchmark runs as a program: `node dist/bench/<name>.js [flags]`
 * calls its `main` with the flags; a failure prints its stack, named by the
 * benchmark, and exits 1. Only the module node was started with runs: a
 * benchmark imported by another for its helpers does not start.
 */
export function runWhenMain(mod: NodeModule, name: string, main: (argv: string[]) => Promise<void>): void {
    if (require.main !== mod) return;
    main(process.argv.slice(2)).catch((err: unknown) => {
        process.stderr.write(`bench/${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
    });
}
