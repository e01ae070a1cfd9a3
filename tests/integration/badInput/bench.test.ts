/**
 * Bad flags to the benchmarks, as a user runs them (`node dist/bench/<name>.js`):
 * each is refused at once, before anything starts, with exit status 2, a
 * message naming the flag and what it takes, the usage, and no stack;
 * `--help` prints the usage and runs nothing. A refused run that started
 * its emulator, SMTP sink, PostgreSQL or Pulumi first would take seconds
 * and leave output behind: the runs here must finish with an empty stdout.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const BENCH = path.join(__dirname, "..", "..", "..", "bench");

function run(name: string, argv: string[]) {
    const r = spawnSync(process.execPath, [path.join(BENCH, `${name}.js`), ...argv], { encoding: "utf8", timeout: 30_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CASES: Array<{ name: string; argv: string[]; message: RegExp }> = [
    { name: "reconciler", argv: ["--pdf-kb", "abc"], message: /--pdf-kb must be a number from 1 to 20480, not 'abc'/ },
    { name: "reconciler", argv: ["--concurrency", "51"], message: /--concurrency must be a whole number from 1 to 50, not '51'/ },
    { name: "reconciler", argv: ["--invoice", "4000"], message: /Unknown option '--invoice'/ },
    { name: "pulumi", argv: ["--modes", "dynamic,fast"], message: /--modes takes a comma-separated list of dynamic, plugin, noop, padded, not 'fast'/ },
    { name: "pulumi", argv: ["--operations", "refresh"], message: /--operations must include up/ },
    { name: "pulumi", argv: ["--profiles", "5000"], message: /--profiles must be a whole number from 1 to 1000, not '5000'/ },
    { name: "scale", argv: ["--rate", "0"], message: /--rate must be a number from 0.1 to 100000, not '0'/ },
    { name: "ledger", argv: ["--workers", "1"], message: /--workers must be a whole number from 2 to 32, not '1'/ },
    { name: "emulator", argv: ["--invoices", "100,x"], message: /--invoices takes comma-separated whole numbers from 3 to 200000, not 'x'/ },
    { name: "limits", argv: ["--document-mb", "10"], message: /--document-mb must be over the 25 MB cap .*, not '10'/ },
];

describe("bad benchmark flags", () => {
    for (const c of CASES) {
        it(`${c.name} ${c.argv.join(" ")}: exit 2, the flag named, the usage, nothing run`, () => {
            const r = run(c.name, c.argv);
            expect(r.code, r.stderr).to.equal(2);
            expect(r.stderr).to.match(new RegExp(`^bench/${c.name}: `));
            expect(r.stderr).to.match(c.message);
            expect(r.stderr).to.include(`usage: node dist/bench/${c.name}.js [--`);
            expect(r.stderr, "no stack").not.to.match(/\n\s+at /);
            expect(r.stdout).to.equal("");
        });
    }

    it("--help prints the usage, exit 0, and runs nothing", () => {
        const r = run("reconciler", ["--help"]);
        expect(r.code).to.equal(0);
        expect(r.stdout).to.equal("usage: node dist/bench/reconciler.js [--invoices 2000] [--rounds 3] [--pdf-kb 100] [--concurrency 5] [--pending-polls 0] [--cpu-prof DIR]\n");
        expect(r.stderr).to.equal("");
    });
});
