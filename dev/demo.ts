#!/usr/bin/env node
/**
 * `npm start`: the whole story on the embedded emulator, step by step, for
 * someone who has never seen this package. Each step prints what happens and
 * why, the command, its output (trimmed), and what to notice.
 *
 * It runs the real programs, as a user would: the `azure-email-invoicing
 * sandbox` command (emulator + SMTP sink) as a child process, the Pulumi CLI
 * (`ensurePulumi()`, a fresh temporary file backend and stack) on the root
 * Pulumi.yaml's program (examples/quickstart), and `azure-email-invoicing
 * reconcile`. Everything it writes lives in one temporary folder, removed at
 * the end, so a second run starts from scratch.
 *
 * Exit status: 0 when every step did what it must; 1 when one did not (the
 * message says which); 130 when interrupted (Ctrl-C). Child processes are
 * stopped on every path out.
 *
 * Development only, like everything in dev/: it needs a checkout, and the
 * published package does not ship it.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SEED } from "../emulator";
import { createBillingClient, type BillingClient } from "../provider/billing/client";
import { sameId } from "../provider/billing/paths";
import { resolveSettings } from "../provider/config";
import { renderTable } from "../cli/text";
import { ensurePulumi, type PulumiToolchain } from "./pulumi-toolchain";

const ROOT = path.resolve(__dirname, "..", "..");
const MAIN = path.join(ROOT, "dist", "cli", "main.js");
const STACK = "demo";
const PROFILE = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const STEPS = 11;

/** A step that must succeed did not. */
class DemoFailure extends Error {}

interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

const out = process.stdout;
/** Set once the demo is interrupted: the steps still unwinding print nothing more. */
let silenced = false;
const say = (text = "") => {
    if (!silenced) out.write(text + "\n");
};
/** Prints prose wrapped at 90 columns after a label ("What:", "Why:", "Notice:"). */
function para(label: string, text: string): void {
    const prefix = label ? `  ${label} ` : "  ";
    const indent = " ".repeat(prefix.length);
    const lines: string[] = [];
    let line = prefix;
    for (const word of text.split(/\s+/).filter(Boolean)) {
        if (line.length + word.length > 90 && line.length > prefix.length) {
            lines.push(line.trimEnd());
            line = indent;
        }
        line += word + " ";
    }
    lines.push(line.trimEnd());
    say(lines.join("\n"));
}

class Demo {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "azure-email-invoicing-demo-"));
    readonly children = new Set<ChildProcess>();
    private step = 0;
    private readonly started = Date.now();
    private sandbox?: ChildProcess;
    private sandboxEnv: Record<string, string> = {};
    private pulumi?: PulumiToolchain;
    private pulumiEnv: Record<string, string> = {};
    private readonly configFile = path.join(this.dir, "project", `Pulumi.${STACK}.yaml`);
    private readonly mailDir = path.join(this.dir, "mail");
    private readonly ledger = path.join(this.dir, "ledger.sqlite");

    /** Shows a path under this run's folder as `$DEMO/...`. */
    short(text: string): string {
        return text.split(this.dir).join("$DEMO");
    }

    header(title: string): void {
        this.step++;
        say("");
        say(`== Step ${this.step}/${STEPS}: ${title} ${"=".repeat(Math.max(3, 80 - title.length))}`);
    }

    show(lines: string[], max = 24): void {
        const shown = lines.slice(0, max);
        for (const l of shown) say(`    | ${this.short(l)}`);
        if (lines.length > max) say(`    | ... (${lines.length - max} more lines)`);
    }

    /** Runs a child process to completion, tracked so it is stopped if the demo is. */
    run(command: string, args: string[], options: { env: Record<string, string>; cwd?: string; display: string }): Promise<RunResult> {
        say(`  $ ${this.short(options.display)}`);
        return new Promise((resolve, reject) => {
            const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
            this.children.add(child);
            let stdout = "";
            let stderr = "";
            child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
            child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
            child.on("error", (err) => {
                this.children.delete(child);
                reject(err);
            });
            child.on("close", (code, signal) => {
                this.children.delete(child);
                resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
            });
        });
    }

    // -----------------------------------------------------------------------
    // Pulumi

    async pulumiCmd(args: string[], options: { configFile?: boolean; cwd?: string } = {}): Promise<RunResult> {
        const full = [...args, "--stack", STACK, "--non-interactive", "--color", "never", ...(options.configFile === false ? [] : ["--config-file", this.configFile])];
        return this.run(this.pulumi!.bin, full, { env: this.pulumiEnv, cwd: options.cwd, display: `pulumi ${full.join(" ")}` });
    }

    /**
     * Pulumi's output without progress lines and blank lines; without the
     * stack's Outputs block unless `outputs` (they repeat after the first up).
     */
    pulumiLines(r: RunResult, options: { outputs?: boolean } = {}): string[] {
        const lines = `${r.stdout}\n${r.stderr}`
            .split("\n")
            .map((l) => l.replace(/\s+$/, ""))
            .filter((l) => l.trim() !== "" && !l.startsWith("@ ") && !/ (creating|updating|deleting|refreshing|running)( \(\d|$)/.test(l))
            .filter((l) => !/^\s+pulumi:pulumi:Stack \S+\s*$/.test(l));
        if (options.outputs) return lines;
        const kept: string[] = [];
        let inOutputs = false;
        for (const l of lines) {
            if (l === "Outputs:") inOutputs = true;
            else if (!l.startsWith(" ")) inOutputs = false;
            if (!inOutputs) kept.push(l);
        }
        return kept;
    }

    must(r: RunResult, what: string): void {
        if (r.code !== 0) {
            this.show(`${r.stdout}\n${r.stderr}`.trim().split("\n"), 40);
            throw new DemoFailure(`${what} failed (exit ${r.code})`);
        }
    }

    // -----------------------------------------------------------------------
    // The emulator, as Azure's API shows it

    client(token: string): BillingClient {
        return createBillingClient(
            resolveSettings({
                explicit: {
                    endpoint: this.sandboxEnv.AZURE_EMAIL_INVOICING_ENDPOINT,
                    graphEndpoint: this.sandboxEnv.AZURE_EMAIL_INVOICING_GRAPH_ENDPOINT,
                    token,
                },
            }),
        );
    }

    /** The profile's opt-in, recipients and role assignments, read as the owner through the billing API. */
    async showProfile(options: { roles?: boolean } = {}): Promise<{ enabled: boolean; recipients: string[]; invoiceManagers: string[] }> {
        const owner = this.client(this.sandboxEnv.AZURE_EMAIL_INVOICING_TOKEN);
        const profile = await owner.getBillingProfile(PROFILE);
        const enabled = profile.properties.invoiceEmailOptIn === true;
        const recipients = (profile.properties.invoiceRecipients as string[] | null | undefined) ?? [];
        const definitions = await owner.listRoleDefinitions(PROFILE);
        const assignments = await owner.listRoleAssignments(PROFILE);
        const rows: string[][] = [];
        const invoiceManagers: string[] = [];
        for (const a of assignments) {
            const role = definitions.find((d) => sameId(d.id, a.properties.roleDefinitionId))?.properties.roleName ?? a.properties.roleDefinitionId ?? "?";
            const user = a.properties.principalId ? await owner.tryGetGraphUser(a.properties.principalId) : undefined;
            const who = user ? `${user.displayName ?? ""} <${user.mail ?? "no mailbox"}>` : (a.properties.principalId ?? "?");
            if (role === "Invoice manager") invoiceManagers.push(user?.mail ?? a.properties.principalId ?? "?");
            rows.push([String(role), who]);
        }
        rows.sort((x, y) => x[0].localeCompare(y[0]) || x[1].localeCompare(y[1]));
        say(`  Billing profile "${profile.properties.displayName}" (${PROFILE.billingProfileName}), read through the billing API as the owner:`);
        this.show([
            `invoice email opt-in (invoiceEmailOptIn): ${enabled}`,
            `additional recipients (invoiceRecipients): ${recipients.length ? recipients.join(", ") : "(none)"}`,
            ...(options.roles === false ? [] : ["", ...renderTable(["ROLE ON THE PROFILE", "USER"], rows).split("\n")]),
        ]);
        return { enabled, recipients, invoiceManagers };
    }

    // -----------------------------------------------------------------------
    // The story

    async main(): Promise<void> {
        say("azure-email-invoicing: the whole story on a local emulator of Azure Billing.");
        para("", `This demo starts a local sandbox, declares a billing profile's invoice email settings with Pulumi, changes them behind Pulumi's back as a portal user would, catches and repairs the drift, emails the invoices, and cleans up. Everything it writes is in $DEMO = ${this.dir} (removed at the end).`);

        // 1 ------------------------------------------------------------------
        this.header("Start the sandbox (emulator + SMTP sink)");
        para("What:", "`azure-email-invoicing sandbox` runs a local emulator of the Azure Billing and Microsoft Graph APIs, and an SMTP server that stores every message it receives as an .eml file.");
        para("Why:", "nothing here touches real Azure or sends real mail; the provider and the reconciler use the same code path they use against Azure, chosen by the environment below.");
        const envFile = path.join(this.dir, "sandbox.env");
        say(`  $ ${this.short(`azure-email-invoicing sandbox --env-out ${envFile} --mail-dir ${this.mailDir} &`)}`);
        const banner = await this.startSandbox(envFile);
        this.show(banner.filter((l) => l.startsWith("#") && !/^# (try|press)/.test(l)));
        say("  The environment a user needs (also in $DEMO/sandbox.env):");
        this.show(Object.entries(this.sandboxEnv).map(([k, v]) => `export ${k}='${v}'`));
        para("Notice:", `the token is alice's, the owner of billing profile ${PROFILE.billingProfileName}. Every call below is authorized by the emulator the way Azure would: with a role on the profile.`);

        // 2 ------------------------------------------------------------------
        this.header("Create a Pulumi stack in a fresh local backend");
        para("What:", "the Pulumi CLI (3.248.0, found or built by scripts/pulumi/ensure-pulumi.sh) with its state in a folder of this run: PULUMI_BACKEND_URL=file://$DEMO/state, no Pulumi Cloud.");
        para("Why:", "the stack holds what Pulumi created, so later runs can tell what changed. Its config file is kept in $DEMO too (--config-file), so the repository stays clean.");
        this.pulumi = await ensurePulumi({ baseEnv: baseEnvironment(), log: process.stderr });
        this.pulumiEnv = {
            ...this.pulumi.env,
            PULUMI_BACKEND_URL: `file://${path.join(this.dir, "state")}`,
            PULUMI_HOME: path.join(this.dir, "pulumi-home"),
            ...this.sandboxEnv,
        };
        fs.mkdirSync(path.join(this.dir, "state"));
        fs.mkdirSync(path.join(this.dir, "project"));
        fs.writeFileSync(path.join(this.dir, "project", "Pulumi.yaml"), `name: ${projectName()}\nruntime: nodejs\n`);
        const init = await this.pulumiCmd(["stack", "init"], { configFile: false, cwd: path.join(this.dir, "project") });
        this.must(init, "pulumi stack init");
        this.show(this.pulumiLines(init));
        para("Notice:", "a new, empty stack. The program is the root Pulumi.yaml's: examples/quickstart/index.ts.");

        // 3 ------------------------------------------------------------------
        this.header("pulumi up: opt the profile in, add a recipient, make Jane an Invoice manager");
        para("What:", "the program declares an EmailInvoiceSetting (opt-in on, recipient ap@contoso.com) and an InvoiceManagerAssignment for jane@contoso.com. The provider reads its endpoint and token from the AZURE_EMAIL_INVOICING_* variables of step 1.");
        para("Why:", "this is what a platform engineer commits: the settings as code, reviewed, repeatable.");
        const up = await this.pulumiCmd(["up", "--yes", "--skip-preview"]);
        this.must(up, "pulumi up");
        this.show(this.pulumiLines(up, { outputs: true }), 30);
        para("Notice:", "two resources created (the third is the stack itself). The Invoice manager was named by email; the provider resolved it to Jane's object id through Microsoft Graph (invoiceManagerAssignment is <role id>_<Jane's object id>).");

        // 4 ------------------------------------------------------------------
        this.header("What Azure now holds");
        para("What:", "the profile and its role assignments, read through the billing API (the emulator) as the owner.");
        const afterUp = await this.showProfile();
        if (!afterUp.enabled || !afterUp.recipients.includes("ap@contoso.com") || !afterUp.invoiceManagers.includes("jane@contoso.com")) {
            throw new DemoFailure("after pulumi up the emulator does not hold the opt-in, the recipient and Jane's assignment");
        }
        para("Notice:", "the opt-in is on, ap@contoso.com is a recipient, Jane Doe holds the Invoice manager role. Nothing else on the profile changed.");

        // 5 ------------------------------------------------------------------
        this.header("A portal user turns the opt-in off");
        const bob = await this.principalWithRole("Billing profile contributor");
        para("What:", `${bob.displayName} (${bob.mail}), a billing profile contributor, turns invoice emails off in the Azure portal. The demo makes the same call the portal makes (PUT billing profile) with his token.`);
        para("Why:", "settings drift: people change things outside the program. Pulumi should notice.");
        const bobClient = this.client(bob.token);
        const before = await bobClient.getBillingProfile(PROFILE);
        await bobClient.updateInvoiceEmailSettings(PROFILE, {
            invoiceEmailOptIn: false,
            invoiceRecipients: (before.properties.invoiceRecipients as string[] | null | undefined) ?? [],
        });
        say(`  (as ${bob.mail}) PUT .../billingProfiles/${PROFILE.billingProfileName} with invoiceEmailOptIn: false`);
        const drifted = await this.showProfile({ roles: false });
        if (drifted.enabled) throw new DemoFailure("the out-of-band change did not take");

        // 6 ------------------------------------------------------------------
        this.header("The drift check: pulumi refresh --preview-only --expect-no-changes");
        para("What:", "what a scheduled CI job runs every morning (examples/ci): read Azure, compare with the state, change nothing.");
        para("Why:", "it fails when Azure no longer matches what Pulumi recorded, and names the property.");
        const check = await this.pulumiCmd(["refresh", "--preview-only", "--expect-no-changes"]);
        this.show(this.pulumiLines(check));
        if (check.code === 0) throw new DemoFailure("the drift check passed although the opt-in was turned off");
        para("Notice:", `the command FAILED (exit ${check.code}), as it should: "[diff: ~enabled]" names the property someone changed. In CI this turns the job red.`);

        // 7 ------------------------------------------------------------------
        this.header("pulumi refresh, then pulumi up: put Azure back");
        para("What:", "refresh records what Azure holds in the state; up then applies the program again.");
        const refresh = await this.pulumiCmd(["refresh", "--yes", "--skip-preview"]);
        this.must(refresh, "pulumi refresh");
        this.show(this.pulumiLines(refresh), 12);
        const up2 = await this.pulumiCmd(["up", "--yes", "--skip-preview"]);
        this.must(up2, "pulumi up");
        this.show(this.pulumiLines(up2), 12);
        const restored = await this.showProfile({ roles: false });
        if (!restored.enabled) throw new DemoFailure("pulumi up did not turn the opt-in back on");
        para("Notice:", "only the opt-in was written (the update shows [diff: ~enabled]); the assignment was left alone.");

        // 8 ------------------------------------------------------------------
        this.header("azure-email-invoicing reconcile: email the invoices");
        para("What:", "for every opted-in profile the token can read, each invoice of the last 31 days goes, with its PDF, to every owner, contributor, reader and Invoice manager, and to each additional recipient, once. A ledger records who got what.");
        para("Why:", "this is Azure's rule for invoice emails, enforced by a program you can run and audit.");
        const reconcileEnv = { ...baseEnvironment(), ...this.sandboxEnv };
        const rec = await this.run(process.execPath, [MAIN, "reconcile", "--ledger", this.ledger], {
            env: reconcileEnv,
            display: `azure-email-invoicing reconcile --ledger ${this.ledger}`,
        });
        // The summary (stdout), then one progress line per delivery (stderr).
        this.show([...rec.stdout.trim().split("\n"), ...rec.stderr.trim().split("\n").filter((l) => /^(sent|failed) /.test(l))], 30);
        if (rec.code !== 0) throw new DemoFailure(`reconcile failed (exit ${rec.code})`);
        const files = fs.existsSync(this.mailDir) ? fs.readdirSync(this.mailDir).filter((f) => f.endsWith(".eml")).sort() : [];
        if (files.length === 0) throw new DemoFailure("the SMTP sink received no message");
        say(`  The SMTP sink stored ${files.length} message(s) in $DEMO/mail:`);
        this.show(files);
        await this.showMessage(files.map((f) => path.join(this.mailDir, f)), "jane@contoso.com");
        para("Notice:", "Jane is among the recipients because Pulumi made her Invoice manager; ap@contoso.com because it is an additional recipient. A reader without a mailbox is reported, not guessed.");

        // 9 ------------------------------------------------------------------
        this.header("Reconcile again: nothing to send");
        const rec2 = await this.run(process.execPath, [MAIN, "reconcile", "--ledger", this.ledger], {
            env: reconcileEnv,
            display: `azure-email-invoicing reconcile --ledger ${this.ledger}`,
        });
        this.show(rec2.stdout.trim().split("\n"));
        if (rec2.code !== 0) throw new DemoFailure(`the second reconcile failed (exit ${rec2.code})`);
        const files2 = fs.readdirSync(this.mailDir).filter((f) => f.endsWith(".eml"));
        if (files2.length !== files.length) throw new DemoFailure(`the second reconcile sent ${files2.length - files.length} more message(s)`);
        para("Notice:", `still ${files.length} messages in $DEMO/mail: the ledger knows each invoice was delivered to each person, so a rerun (or a crash and restart) never emails anyone twice.`);

        // 10 -----------------------------------------------------------------
        this.header("pulumi destroy: leave the profile as it was found");
        para("What:", "destroy deletes the assignment and restores the opt-in and recipients the profile had before the stack created its setting.");
        const destroy = await this.pulumiCmd(["destroy", "--yes", "--skip-preview"]);
        this.must(destroy, "pulumi destroy");
        this.show(this.pulumiLines(destroy), 14);
        const after = await this.showProfile();
        if (after.enabled || after.recipients.length > 0 || after.invoiceManagers.length > 0) {
            throw new DemoFailure("after pulumi destroy the profile is not as it was found");
        }
        para("Notice:", "the opt-in is off and there are no recipients, as before step 3; Jane's assignment is gone; every other role is untouched.");

        // 11 -----------------------------------------------------------------
        this.header("Clean up: remove the stack, stop the sandbox");
        const rm = await this.pulumiCmd(["stack", "rm", "--yes"], { configFile: false, cwd: path.join(this.dir, "project") });
        this.must(rm, "pulumi stack rm");
        this.show(this.pulumiLines(rm));
        say("  (Ctrl-C to the sandbox)");
        const code = await this.stopSandbox();
        if (code !== 0) throw new DemoFailure(`the sandbox stopped with exit code ${code}`);
        say("");
        say(`Done in ${((Date.now() - this.started) / 1000).toFixed(0)} s. Run it again any time: each run starts a fresh sandbox and stack.`);
        say("Next: README.md (Resources, Configuration), examples/, and `npm test`.");
    }

    /** Starts the sandbox and waits for its environment file. */
    private async startSandbox(envFile: string): Promise<string[]> {
        const child = spawn(process.execPath, [MAIN, "sandbox", "--env-out", envFile, "--mail-dir", this.mailDir], {
            cwd: ROOT,
            env: baseEnvironment(),
            stdio: ["ignore", "pipe", "pipe"],
        });
        this.sandbox = child;
        this.children.add(child);
        let stdout = "";
        let stderr = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        child.on("close", () => this.children.delete(child));
        const deadline = Date.now() + 30_000;
        while (!fs.existsSync(envFile)) {
            if (child.exitCode !== null || child.signalCode !== null) throw new DemoFailure(`the sandbox exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);
            if (Date.now() > deadline) throw new DemoFailure(`the sandbox did not write ${envFile} within 30 s:\n${stderr}`);
            await new Promise((r) => setTimeout(r, 50));
        }
        for (const line of fs.readFileSync(envFile, "utf8").split("\n")) {
            const m = /^export ([A-Z_]+)='(.*)'$/.exec(line);
            if (m) this.sandboxEnv[m[1]] = m[2].replace(/'\\''/g, "'");
        }
        for (const k of ["AZURE_EMAIL_INVOICING_ENDPOINT", "AZURE_EMAIL_INVOICING_TOKEN", "SMTP_URL", "INVOICE_MAIL_FROM"]) {
            if (!this.sandboxEnv[k]) throw new DemoFailure(`the sandbox's environment has no ${k}`);
        }
        // The banner is printed before the file is written; give the pipe a moment.
        for (let i = 0; i < 20 && !stdout.includes("export "); i++) await new Promise((r) => setTimeout(r, 25));
        return stdout.trim().split("\n");
    }

    /** Stops the sandbox as Ctrl-C would; resolves its exit code. */
    private stopSandbox(): Promise<number> {
        const child = this.sandbox;
        if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? 0);
        return new Promise((resolve) => {
            child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
            child.kill("SIGINT");
        });
    }

    /** A principal of the emulator holding `roleName` on the profile (admin API: the demo's stand-in for "a portal user"). */
    private async principalWithRole(roleName: string): Promise<{ displayName: string; mail: string; token: string }> {
        const res = await fetch(`${this.sandboxEnv.AZURE_EMAIL_INVOICING_ENDPOINT}/_emulator/principals`);
        const body = (await res.json()) as { value: Array<{ displayName: string; mail: string; token: string; roleAssignments: Array<{ roleName: string; billingProfileName: string | null }> }> };
        const p = body.value.find((x) => x.roleAssignments.some((a) => a.roleName === roleName && a.billingProfileName === PROFILE.billingProfileName));
        if (!p) throw new DemoFailure(`the emulator has no ${roleName} on ${PROFILE.billingProfileName}`);
        return p;
    }

    /** Prints the headers and attachment of the message to `recipient` (else the first). */
    private async showMessage(files: string[], recipient: string): Promise<void> {
        // mailparser is a development dependency; the demo only runs from a checkout.
        const { simpleParser } = require("mailparser") as typeof import("mailparser");
        const parsed = await Promise.all(files.map(async (file) => ({ file, mail: await simpleParser(fs.readFileSync(file)) })));
        const toOf = (m: (typeof parsed)[number]["mail"]) => (Array.isArray(m.to) ? m.to.map((a) => a.text).join(", ") : (m.to?.text ?? ""));
        const { file, mail } = parsed.find((p) => toOf(p.mail).includes(recipient)) ?? parsed[0];
        const to = toOf(mail);
        say(`  The one to ${to}, ${path.basename(file)}:`);
        this.show([
            `From:       ${mail.from?.text ?? ""}`,
            `To:         ${to}`,
            `Subject:    ${mail.subject ?? ""}`,
            `Message-ID: ${mail.messageId ?? ""}`,
            ...mail.attachments.map((a) => `Attachment: ${a.filename ?? "(no name)"} (${a.contentType}, ${a.size} bytes)`),
        ]);
    }

    /**
     * Stops every child process (SIGINT, then SIGKILL after 5 s) and removes
     * this run's folder. Safe to call twice.
     */
    async cleanup(): Promise<void> {
        const alive = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
        await Promise.all(
            alive.map(
                (c) =>
                    new Promise<void>((resolve) => {
                        const timer = setTimeout(() => c.kill("SIGKILL"), 5000);
                        c.once("exit", () => {
                            clearTimeout(timer);
                            resolve();
                        });
                        c.kill("SIGINT");
                    }),
            ),
        );
        this.children.clear();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

/** This process's environment without the settings the demo provides itself. */
function baseEnvironment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (v === undefined) continue;
        if (k.startsWith("AZURE_EMAIL_INVOICING_") && k !== "AZURE_EMAIL_INVOICING_CACHE") continue;
        if (["PULUMI_BACKEND_URL", "PULUMI_HOME", "PULUMI_CONFIG_PASSPHRASE_FILE", "SMTP_URL", "SMTP_PASSWORD", "SMTP_PASSWORD_FILE", "INVOICE_MAIL_FROM"].includes(k)) continue;
        env[k] = v;
    }
    return env;
}

/** The project name of the root Pulumi.yaml. */
function projectName(): string {
    const m = /^name:\s*(\S+)\s*$/m.exec(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    if (!m) throw new DemoFailure("the root Pulumi.yaml has no name");
    return m[1];
}

async function run(): Promise<number> {
    const demo = new Demo();
    let interrupted = false;
    const onSignal = (signal: NodeJS.Signals) => {
        if (interrupted) return;
        interrupted = true;
        silenced = true;
        process.stderr.write(`\n${signal}: stopping the sandbox and Pulumi, removing ${demo.dir}\n`);
        void demo.cleanup().finally(() => process.exit(130));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // Last resort (e.g. an exception escaping): no child outlives the demo.
    process.on("exit", () => {
        for (const c of demo.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    });
    try {
        await demo.main();
        await demo.cleanup();
        return 0;
    } catch (err) {
        if (interrupted) return new Promise<number>(() => undefined); // the signal handler exits
        say("");
        if (err instanceof DemoFailure) say(`The demo stopped: ${demo.short(err.message)}`);
        else say(`The demo stopped on an unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        await demo.cleanup();
        return 1;
    }
}

if (require.main === module) {
    run().then((code) => process.exit(code));
}
