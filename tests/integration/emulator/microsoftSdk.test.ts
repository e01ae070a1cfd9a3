/**
 * The emulator driven by Microsoft's own Python SDK for Azure Billing
 * (azure-mgmt-billing 8.0.0, api-version 2024-04-01): what the SDK sends
 * (its `include…` flags, `top=1`, `filter`, `order_by`, continuation
 * tokens) is honoured, and what the emulator answers its models and its
 * error handling read (`e.error` set for every refusal). dev/sdk-check/check.py
 * holds the checks; dev/sdk-check/ensure.sh installs the SDK from PyPI into a
 * cached virtual environment on first use. Without Python or PyPI this
 * test fails: it never skips.
 */
import { expect } from "chai";
import { spawn, spawnSync } from "child_process";
import * as path from "path";
import { REPO_ROOT } from "../../../dev/paths";
import { startEmulator } from "../../../emulator";

const SDK_CHECK = path.join(REPO_ROOT, "dev", "sdk-check");

describe("emulator: Microsoft's Python SDK (azure-mgmt-billing 8.0.0)", function () {
    this.timeout(300_000);

    it("every check of dev/sdk-check/check.py passes against a freshly seeded emulator", async () => {
        const ensure = spawnSync("bash", [path.join(SDK_CHECK, "ensure.sh")], { encoding: "utf8", timeout: 180_000 });
        expect(ensure.status, `dev/sdk-check/ensure.sh failed (it needs python3 with venv and PyPI):\n${ensure.error ?? ""}\n${ensure.stderr}`).to.equal(0);
        const python = ensure.stdout.trim();
        const emu = await startEmulator({ now: () => new Date("2025-03-15T10:00:00Z"), settings: { retryAfterSeconds: 0 } });
        try {
            // Asynchronous: the emulator answers on this process's event loop while the SDK runs.
            // Killed after 110 s (within the test's own limit, beside the install's 180 s), so a hung SDK call fails the test and leaves no process behind.
            const { status, output } = await new Promise<{ status: number | null; output: string }>((resolve) => {
                const child = spawn(python, [path.join(SDK_CHECK, "check.py"), emu.url], { stdio: ["ignore", "pipe", "pipe"] });
                const limit = setTimeout(() => child.kill("SIGKILL"), 110_000);
                let output = "";
                child.stdout.on("data", (d: Buffer) => (output += d.toString()));
                child.stderr.on("data", (d: Buffer) => (output += d.toString()));
                child.on("error", (err) => (output += `\ncould not run ${python}: ${err.message}`));
                child.on("close", (code, signal) => {
                    clearTimeout(limit);
                    resolve({ status: code, output: signal ? `${output}\nkilled (${signal}) after the 110 s limit` : output });
                });
            });
            expect(output, output).to.match(/sdk check: \d+ passed, 0 failed/);
            expect(status, output).to.equal(0);
        } finally {
            await emu.close();
        }
    });
});
