/**
 * `npm start`'s demo (dev/demo.ts), run as a newcomer runs it, twice: each
 * run must succeed on its own (fresh sandbox, backend and stack), leave no
 * process, temporary folder or stack file behind, and tell the story. The
 * demo checks what the emulator holds after each step itself and exits
 * non-zero when a step did not do what it must.
 */
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../dev/paths";
import { TOOLCHAIN_TIMEOUT_MS, pulumiToolchain, testEnvironment } from "../../dev/pulumi-stack";

function runDemo(): Promise<{ code: number; output: string }> {
    const env = testEnvironment(process.env);
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(REPO_ROOT, "dist", "dev", "demo.js")], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, output }));
    });
}

/** Command lines of running processes that mention `text` (the sandbox and pulumi name the run's folder). */
function processesMentioning(text: string): string[] {
    const found: string[] = [];
    for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
            if (cmd.includes(text)) found.push(`${pid}: ${cmd}`);
        } catch {
            // gone meanwhile
        }
    }
    return found;
}

const stackFiles = () => fs.readdirSync(REPO_ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f));

describe("e2e: the demo (npm start)", function () {
    this.timeout(180_000);

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
    });

    for (const run of ["first", "second"]) {
        it(`the ${run} run tells the whole story, exits 0 and leaves nothing behind`, async () => {
            const filesBefore = stackFiles();
            const { code, output } = await runDemo();
            expect(code, output).to.equal(0);
            for (const step of [1, 3, 6, 8, 10, 11]) expect(output).to.include(`== Step ${step}/11`);
            expect(output, "the drift check names the property").to.match(/EmailInvoiceSetting finance-emails update \[diff: ~enabled\]/);
            expect(output).to.match(/sent G\d+ to jane@contoso\.com/);
            expect(output).to.include("Attachment: G");
            expect(output).to.match(/Done in \d+ s\./);

            const dir = /\$DEMO\s+=\s+(\S+)\s+\(removed at the end\)/.exec(output)?.[1];
            expect(dir, "the demo names its folder").to.be.a("string");
            expect(fs.existsSync(dir!), `${dir} removed`).to.equal(false);
            expect(processesMentioning(dir!), "no process of the run (sandbox, pulumi) still running").to.deep.equal([]);
            expect(stackFiles(), "no Pulumi.<stack>.yaml written into the repository").to.deep.equal(filesBefore);
        });
    }
});
