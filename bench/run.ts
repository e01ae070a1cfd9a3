/**
 * `npm run bench`: runs every benchmark there is, one after another (never
 * two at once: they measure wall time on the same cores), each in its own
 * process with its defaults and its output passed through. For other
 * arguments run one directly, e.g. `node dist/bench/pulumi.js --profiles 20`.
 *
 * Exit status: 0 when all ran; 1 when one failed (the others still run).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** The benchmarks, in the order they run; a missing one is skipped with a note. */
const BENCHMARKS = [
    { name: "pulumi", file: "pulumi.js", what: "the two resources through the Pulumi engine vs no-op dynamic resources" },
    { name: "reconciler", file: "reconciler.js", what: "the invoice reconciler vs bare nodemailer" },
    { name: "scale", file: "scale.js", what: "reconciler passes over 5,000 billing profiles: calls per pass and the client's pace" },
    { name: "ledger", file: "ledger.js", what: "SQLite vs PostgreSQL ledger, one worker vs several, through a relay with latency" },
    { name: "emulator", file: "emulator.js", what: "what one request costs the emulator at 100 and 2,000 invoices" },
    { name: "limits", file: "limits.js", what: "the reconciler's peak memory with 200 MB invoice documents" },
];

function runOne(file: string): Promise<number> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [file], { stdio: "inherit" });
        child.on("error", () => resolve(1));
        child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
}

async function main(): Promise<number> {
    let failed = 0;
    for (const b of BENCHMARKS) {
        const file = path.join(__dirname, b.file);
        if (!fs.existsSync(file)) {
            process.stdout.write(`\n## ${b.name}: not built (${path.relative(process.cwd(), file)} is missing), skipped\n`);
            continue;
        }
        process.stdout.write(`\n## ${b.name}: ${b.what}\n\n`);
        const t0 = Date.now();
        const code = await runOne(file);
        process.stderr.write(`[bench] ${b.name} finished in ${((Date.now() - t0) / 1000).toFixed(0)} s (exit ${code})\n`);
        if (code !== 0) failed++;
    }
    return failed === 0 ? 0 : 1;
}

if (require.main === module) {
    main().then((code) => {
        process.exitCode = code;
    });
}
