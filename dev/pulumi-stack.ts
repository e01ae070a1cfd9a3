/**
 * Runs the real Pulumi CLI (the pinned build from `ensurePulumi()`) against a
 * Pulumi program, in a stack of its own: a temporary file backend, a
 * temporary PULUMI_HOME and a stack config file outside the program folder,
 * so a test never writes into the repository and two suites never share
 * state.
 *
 * Why the stack config file lives elsewhere: `pulumi stack init` with the
 * passphrase secrets provider writes `Pulumi.<stack>.yaml` (the encryption
 * salt) next to the project's `Pulumi.yaml`, and has no `--config-file` flag.
 * We run `stack init` in a throw-away copy of the project file instead and
 * pass that file to every later command with `--config-file`.
 *
 * Commands run asynchronously: the emulator the program talks to lives in
 * the test process, so a synchronous child process would deadlock it.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "./paths";
import { ensurePulumi, type PulumiToolchain } from "./pulumi-toolchain";

/** Our test programs (plain JavaScript: nothing to compile, nothing for tsc to see). */
export const PROGRAMS = path.join(REPO_ROOT, "tests", "e2e", "programs");
export const EXAMPLES = path.join(REPO_ROOT, "examples");

/** A cold build of the CLI takes minutes; every suite's `before` allows this much. */
export const TOOLCHAIN_TIMEOUT_MS = 15 * 60 * 1000;

let toolchain: Promise<PulumiToolchain> | undefined;

/**
 * The Pulumi CLI, found (or built) on first use only, so that loading this
 * file, or running unit tests, never starts a build.
 */
export function pulumiToolchain(): Promise<PulumiToolchain> {
    toolchain ??= ensurePulumi({ baseEnv: testEnvironment(process.env) });
    return toolchain;
}

/**
 * Variables a test run keeps although their prefix is dropped: they say where
 * the Pulumi CLI is cached and which upstream Node.js and YAML language hosts to use, not what
 * a program does (scripts/pulumi/README.md, "Environment").
 */
const TOOLCHAIN_SETTINGS = new Set([
    "AZURE_EMAIL_INVOICING_CACHE",
    "AZURE_EMAIL_INVOICING_LANGUAGE_HOST_MODULE_VERSION",
    "AZURE_EMAIL_INVOICING_PULUMI_YAML_VERSION",
    "AZURE_EMAIL_INVOICING_PULUMI_VERSION",
]);

/**
 * `env` without the developer's own Azure, Pulumi and mail settings, so none
 * of them leaks into a test: every `AZURE_*` (ours and the Azure SDK's
 * credentials), `PULUMI_*`, `SMTP_URL` and `INVOICE_MAIL_FROM` are dropped,
 * except the toolchain settings above, which are checked first.
 */
export function testEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
        if (v === undefined) continue;
        const kept = TOOLCHAIN_SETTINGS.has(k) || !(k.startsWith("PULUMI_") || k.startsWith("AZURE_") || k === "SMTP_URL" || k === "INVOICE_MAIL_FROM");
        if (kept) out[k] = v;
    }
    return out;
}

/** What one CLI command did. */
export interface CommandResult {
    args: string[];
    code: number;
    stdout: string;
    stderr: string;
    /** stdout and stderr, as a reader of the terminal would see them (order between the two is not kept). */
    output: string;
}

export interface StackOptions {
    /** The folder holding the program's `Pulumi.yaml`. */
    programDir: string;
    /** Stack name; default `e2e`. */
    stack?: string;
    /** Environment for every command (e.g. `AZURE_EMAIL_INVOICING_ENDPOINT`). */
    env?: Record<string, string>;
    /**
     * Skip ts-node's type check of TypeScript programs (default true: the
     * examples are type-checked by tests/unit/examples.test.ts, and the check
     * costs about 1.5 s per command).
     */
    transpileOnly?: boolean;
    /**
     * Put this checkout's provider plugin (`bin/pulumi-resource-azure-email-invoicing`)
     * first on PATH, where Pulumi looks for a plugin it has not installed.
     * Default true; false for a test that installs the plugin instead.
     */
    pluginOnPath?: boolean;
}

/** The folder holding this checkout's `pulumi-resource-azure-email-invoicing`. */
export const PLUGIN_BIN_DIR = path.join(REPO_ROOT, "bin");

/** A stack of one program in its own temporary backend. */
export class TestStack {
    readonly stack: string;
    readonly programDir: string;
    /** The temporary folder holding the backend, PULUMI_HOME and the stack config file. */
    readonly root: string;
    readonly backendDir: string;
    readonly configFile: string;
    /** Every command run, for failure messages. */
    readonly history: CommandResult[] = [];
    private env: Record<string, string> = {};

    private constructor(
        private readonly tools: PulumiToolchain,
        options: StackOptions,
    ) {
        this.programDir = options.programDir;
        this.stack = options.stack ?? "e2e";
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), "aei-e2e-"));
        this.backendDir = path.join(this.root, "backend");
        this.configFile = path.join(this.root, "project", `Pulumi.${this.stack}.yaml`);
        fs.mkdirSync(this.backendDir);
        fs.mkdirSync(path.join(this.root, "home"));
        fs.mkdirSync(path.join(this.root, "project"));
        const pathVar = options.pluginOnPath === false ? tools.env.PATH : `${PLUGIN_BIN_DIR}${path.delimiter}${tools.env.PATH ?? ""}`;
        this.env = {
            ...tools.env,
            PATH: pathVar,
            PULUMI_BACKEND_URL: `file://${this.backendDir}`,
            PULUMI_HOME: path.join(this.root, "home"),
            PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            ...(options.transpileOnly === false ? {} : { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }),
            ...(options.env ?? {}),
        };
    }

    /** Creates the stack (`pulumi stack init`). */
    static async create(options: StackOptions): Promise<TestStack> {
        const stack = new TestStack(await pulumiToolchain(), options);
        // The project file copy only names the project: `stack init` needs nothing else.
        const project = projectName(options.programDir);
        fs.writeFileSync(path.join(stack.root, "project", "Pulumi.yaml"), `name: ${project}\nruntime: nodejs\n`);
        await stack.must(["stack", "init", stack.stack, "--non-interactive"], { cwd: path.join(stack.root, "project") });
        return stack;
    }

    /** Changes the environment of later commands (`undefined` removes a variable). */
    setEnv(vars: Record<string, string | undefined>): void {
        for (const [k, v] of Object.entries(vars)) {
            if (v === undefined) delete this.env[k];
            else this.env[k] = v;
        }
    }

    /** The environment of later commands (a copy). */
    environment(): Record<string, string> {
        return { ...this.env };
    }

    /** Runs `pulumi <args>` in the program folder; never throws for a non-zero exit. */
    run(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CommandResult> {
        const env = { ...this.env, ...(options.env ?? {}) };
        return new Promise((resolve, reject) => {
            const child = spawn(this.tools.bin, args, { cwd: options.cwd ?? this.programDir, env, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
            child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
            child.on("error", reject);
            child.on("close", (code, signal) => {
                const result = { args, code: code ?? (signal ? 128 : 1), stdout, stderr, output: `${stdout}\n${stderr}` };
                this.history.push(result);
                resolve(result);
            });
        });
    }

    /** Runs a command that must succeed; throws with its output otherwise. */
    async must(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CommandResult> {
        const r = await this.run(args, options);
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
        return r;
    }

    /** The flags every stack command gets. */
    private stackArgs(): string[] {
        return ["--stack", this.stack, "--non-interactive", "--color", "never"];
    }

    private withConfig(command: string[], extra: string[]): string[] {
        return [...command, ...this.stackArgs(), "--config-file", this.configFile, ...extra];
    }

    /** `pulumi config set [--secret] KEY VALUE`. */
    async config(key: string, value: string, options: { secret?: boolean } = {}): Promise<void> {
        await this.must(this.withConfig(["config", "set", key, value], options.secret ? ["--secret"] : ["--plaintext"]));
    }

    /** `pulumi up --yes --skip-preview` (pass `preview: true` to keep the preview). */
    up(extra: string[] = [], options: { preview?: boolean } = {}): Promise<CommandResult> {
        return this.run(this.withConfig(["up", "--yes"], [...(options.preview ? [] : ["--skip-preview"]), ...extra]));
    }

    preview(extra: string[] = []): Promise<CommandResult> {
        return this.run(this.withConfig(["preview"], extra));
    }

    refresh(extra: string[] = []): Promise<CommandResult> {
        return this.run(this.withConfig(["refresh"], extra));
    }

    /** `pulumi refresh --yes --skip-preview`: accept what Azure holds into the state. */
    refreshApply(): Promise<CommandResult> {
        return this.refresh(["--yes", "--skip-preview"]);
    }

    /** `pulumi refresh --preview-only --expect-no-changes`: the scheduled drift check. */
    driftCheck(): Promise<CommandResult> {
        return this.refresh(["--preview-only", "--expect-no-changes"]);
    }

    destroy(extra: string[] = []): Promise<CommandResult> {
        return this.run(this.withConfig(["destroy", "--yes"], ["--skip-preview", ...extra]));
    }

    /** `pulumi stack export` (with `--show-secrets` on request), parsed, and its text. */
    async exportState(options: { showSecrets?: boolean } = {}): Promise<{ text: string; deployment: Deployment }> {
        const r = await this.must(["stack", "export", ...this.stackArgs(), ...(options.showSecrets ? ["--show-secrets"] : [])]);
        return { text: r.stdout, deployment: (JSON.parse(r.stdout) as { deployment: Deployment }).deployment };
    }

    /** `pulumi stack import` of `deployment` (as `exportState` gave it, changed or not). */
    async importState(deployment: Deployment): Promise<void> {
        const file = path.join(this.root, "import.json");
        fs.writeFileSync(file, JSON.stringify({ version: 3, deployment }));
        try {
            await this.must(["stack", "import", "--file", file, ...this.stackArgs()]);
        } finally {
            fs.rmSync(file, { force: true });
        }
    }

    /** The resources of our two types in the state, by name. */
    async ourResources(): Promise<Map<string, StateResource>> {
        const { deployment } = await this.exportState();
        return ourResourcesOf(deployment);
    }

    /** Every file of the backend folder, concatenated: what `grep -r` over the state would read. */
    backendText(): string {
        const parts: string[] = [];
        const walk = (dir: string) => {
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isDirectory()) walk(p);
                else parts.push(fs.readFileSync(p, "utf8"));
            }
        };
        walk(this.backendDir);
        return parts.join("\n");
    }

    /** Removes the stack (forcing, in case resources are left) and the temporary folder. */
    async dispose(): Promise<void> {
        await this.run(["stack", "rm", this.stack, "--yes", "--force", "--non-interactive"], { cwd: path.join(this.root, "project") }).catch(() => undefined);
        fs.rmSync(this.root, { recursive: true, force: true });
    }

    /** The last few commands and their output, for an assertion message. */
    transcript(last = 2): string {
        return this.history
            .slice(-last)
            .map((r) => `$ pulumi ${r.args.join(" ")}  (exit ${r.code})\n${r.output.trim()}`)
            .join("\n\n");
    }
}

/** A resource in `pulumi stack export` output. */
export interface StateResource {
    urn: string;
    type: string;
    id?: string;
    inputs?: Record<string, any>;
    outputs?: Record<string, any>;
    [k: string]: unknown;
}

export interface Deployment {
    resources?: StateResource[];
    pending_operations?: unknown[];
    [k: string]: unknown;
}

export const SETTING_TYPE = "pulumi-nodejs:dynamic/azure-email-invoicing:EmailInvoiceSetting";
export const ASSIGNMENT_TYPE = "pulumi-nodejs:dynamic/azure-email-invoicing:InvoiceManagerAssignment";
/** The provider plugin's resource types. */
export const PLUGIN_SETTING_TYPE = "azure-email-invoicing:index:EmailInvoiceSetting";
export const PLUGIN_ASSIGNMENT_TYPE = "azure-email-invoicing:index:InvoiceManagerAssignment";
const OUR_TYPES = new Set([SETTING_TYPE, ASSIGNMENT_TYPE, PLUGIN_SETTING_TYPE, PLUGIN_ASSIGNMENT_TYPE]);

/** Our resources in a deployment (dynamic or plugin), by name. */
export function ourResourcesOf(deployment: Deployment): Map<string, StateResource> {
    const out = new Map<string, StateResource>();
    for (const r of deployment.resources ?? []) {
        if (OUR_TYPES.has(r.type)) out.set(r.urn.split("::").pop()!, r);
    }
    return out;
}

/** The `name:` of a program's Pulumi.yaml. */
export function projectName(programDir: string): string {
    const text = fs.readFileSync(path.join(programDir, "Pulumi.yaml"), "utf8");
    const m = /^name:\s*(\S+)\s*$/m.exec(text);
    if (!m) throw new Error(`${programDir}/Pulumi.yaml has no name`);
    return m[1];
}
