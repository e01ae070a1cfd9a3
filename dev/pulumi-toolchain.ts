/**
 * The Pulumi CLI that the e2e tests and the demo run: the same one
 * `npm run pulumi` runs, found or built by `scripts/pulumi/ensure-pulumi.sh`
 * (see scripts/pulumi/README.md).
 *
 * Development only: it needs a checkout of this repository, because the
 * published package does not ship `scripts/`. Users run their own `pulumi`.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** A ready Pulumi CLI and the environment to run it with. */
export interface PulumiToolchain {
    /** Absolute path of the `pulumi` executable. */
    bin: string;
    /** The directory holding `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs`. */
    binDir: string;
    /**
     * The environment for `child_process` calls of `bin`: `baseEnv`, with
     * `binDir` first on PATH, and defaults for what `baseEnv` leaves unset:
     * PULUMI_BACKEND_URL (file://<repo>/.pulumi-state), PULUMI_CONFIG_PASSPHRASE
     * (a local-only value, unless PULUMI_CONFIG_PASSPHRASE_FILE is set),
     * PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION,
     * PULUMI_DISABLE_REGISTRY_RESOLVE, and AZURE_EMAIL_INVOICING_LANGUAGE_HOST
     * when our own language host is in use.
     */
    env: Record<string, string>;
}

export interface EnsurePulumiOptions {
    /**
     * The environment to start from; default `process.env`. What it sets wins
     * over the defaults, e.g. `PULUMI_BACKEND_URL: "file:///tmp/x"` for a
     * test's own state directory.
     */
    baseEnv?: Record<string, string | undefined>;
    /** Where the script's progress goes (a cold build prints steps for minutes); default `process.stderr`. */
    log?: NodeJS.WritableStream;
}

/**
 * Finds (or, the first time on a machine, builds: 4-5 minutes cold) the
 * pinned Pulumi CLI and returns it with its environment.
 *
 * Fails with the script's message when this is not a checkout, Go is missing
 * and no suitable `pulumi` is on PATH, or the build fails.
 */
export async function ensurePulumi(options: EnsurePulumiOptions = {}): Promise<PulumiToolchain> {
    const baseEnv = definedOnly(options.baseEnv ?? process.env);
    const script = findEnsureScript();
    const lines = await runScript(script, baseEnv, options.log ?? process.stderr);

    const added: Record<string, string> = {};
    for (const line of lines.split("\n")) {
        const eq = line.indexOf("=");
        if (eq > 0) added[line.slice(0, eq)] = line.slice(eq + 1);
    }
    // The script's contract: PATH comes first and starts with the toolchain directory.
    const binDir = (added.PATH ?? "").split(path.delimiter)[0];
    const bin = path.join(binDir, "pulumi");
    if (!binDir || !fs.existsSync(bin)) {
        throw new Error(`${script} --env did not name a directory holding pulumi (got PATH=${added.PATH ?? ""})`);
    }
    return { bin, binDir, env: { ...baseEnv, ...added } };
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
    return out;
}

/** `scripts/pulumi/ensure-pulumi.sh` of the checkout this module runs from (source or dist/). */
function findEnsureScript(): string {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, "scripts", "pulumi", "ensure-pulumi.sh");
        if (fs.existsSync(candidate)) return candidate;
        if (path.dirname(dir) === dir) break;
    }
    throw new Error(
        "ensurePulumi() needs a checkout of azure-email-invoicing (scripts/pulumi/ensure-pulumi.sh was not found " +
            `above ${__dirname}); outside one, install Pulumi and run it directly.`,
    );
}

function runScript(script: string, env: Record<string, string>, log: NodeJS.WritableStream): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [script, "--env"], { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
            stderr += d;
            log.write(d);
        });
        child.on("error", reject);
        child.on("close", (code) => {
            if (code === 0) resolve(stdout);
            else {
                const detail = stderr.trim().split("\n").slice(-5).join("\n");
                reject(new Error(`${script} --env failed with exit code ${code}:\n${detail}`));
            }
        });
    });
}
