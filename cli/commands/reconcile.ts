/**
 * `azure-email-invoicing reconcile`: emails every invoice of the billing
 * profiles in scope to the people Azure's rule names, once, with the PDF
 * attached (issue 5). Configuration enters here (habit 8): flags, the
 * optional `--config` file and the environment are read once and passed down
 * as typed values; nothing below reads `process.env`.
 *
 * Output: progress on stderr (one live line on a terminal, plain lines
 * otherwise); results on stdout (a summary table, or JSON with `--json`).
 *
 * Exit status: 0 when every delivery in scope is sent; 1 when a delivery
 * failed permanently in this pass, is still pending, or a billing profile
 * could not be reconciled; 2 for bad flags or configuration.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { createBillingClient } from "../../provider/billing/client";
import { isoDate } from "../../provider/billing/names";
import { describeSettings, resolveSettings, settingsFromEnvironment } from "../../provider/config";
import { ConfigurationError, ValidationError } from "../../provider/errors";
import { Ledger, defaultLedgerPath } from "../../provider/reconciler/ledger";
import { Mailer, resolveSmtpSettings } from "../../provider/reconciler/mailer";
import { parseProfileArg, profileLabel, type ProfileRef, type SkippedInvoice, type UnresolvedRecipient } from "../../provider/reconciler/plan";
import { exitCodeOf, reconcileOnce, reconcileWatch, type ReconcileOptions, type RunEvent, type RunSummary } from "../../provider/reconciler/run";
import { parseCommandArgs } from "../args";
import type { CommandIo } from "../io";
import { parseDuration, renderTable, terminalSafe } from "../text";

const USAGE = `usage: azure-email-invoicing reconcile [options]

Emails each invoice of the billing profiles in scope, with its PDF, to every
user holding the owner, contributor, reader or invoice manager role on the
profile and to the profile's additional invoice recipients, once. Profiles
that are not opted in to email invoices get nothing.

scope (default: every billing profile the token can read)
  --profile ACCOUNT/PROFILE  a billing profile (repeatable)
  --config FILE              JSON file: {"profiles": ["ACCOUNT/PROFILE", ...],
                             "since", "from", "ledger", "interval", "concurrency"}
  --since YYYY-MM-DD         first invoice date to consider (default: the last 31 days)

mode
  --once                     one pass, then exit (default)
  --watch                    a pass every --interval until SIGINT/SIGTERM
  --interval DURATION        time between passes with --watch (default 5m; e.g. 30s, 5m, 1h)
  --dry-run                  print the deliveries a pass would make; send nothing, write nothing
  --json                     machine-readable output on stdout

mail and ledger
  --from ADDRESS             sender (default: $INVOICE_MAIL_FROM)
  --ledger PATH              the ledger (default: $XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite,
                             XDG_STATE_HOME defaulting to ~/.local/state)
  --allow-insecure-smtp      allow plaintext or unverified TLS to an SMTP host that is not loopback
  --concurrency N            SMTP connections (default 5)
  --max-attempts N           attempts per message within a pass on SMTP 4xx or connection errors (default 4)
  --retry-delay DURATION     first backoff delay, doubled per attempt (default 1s)
  -h, --help                 show this help

environment
  AZURE_EMAIL_INVOICING_ENDPOINT, AZURE_EMAIL_INVOICING_GRAPH_ENDPOINT, AZURE_EMAIL_INVOICING_TOKEN
                             where the billing API is and who calls it (default: Azure, DefaultAzureCredential)
  SMTP_URL                   smtp://[user@]host:port or smtps://[user@]host:port (nodemailer URL form)
  SMTP_PASSWORD, SMTP_PASSWORD_FILE
                             the SMTP password (or put it in SMTP_URL); never a flag
  INVOICE_MAIL_FROM          the sender, e.g. "Contoso Billing <billing@contoso.com>"

exit status: 0 all delivered; 1 a delivery failed permanently or is still pending, or a
billing profile could not be reconciled; 2 bad flags or configuration.`;

/** The `--config` file. Strict: a misspelt key is an error, not a silent default. */
export const ReconcileConfigFile = z.strictObject({
    profiles: z
        .array(
            z.union([z.string(), z.strictObject({ billingAccountName: z.string(), billingProfileName: z.string() })]).transform((v, ctx) => {
                const r = parseProfileArg(typeof v === "string" ? v : `${v.billingAccountName}/${v.billingProfileName}`);
                if (!r.ok) {
                    ctx.addIssue({ code: "custom", message: r.reason });
                    return z.NEVER;
                }
                return r.ref;
            }),
        )
        .optional(),
    since: isoDate.optional(),
    from: z.string().optional(),
    ledger: z.string().optional(),
    interval: z.string().optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
});
export type ReconcileConfigFile = z.infer<typeof ReconcileConfigFile>;

class UsageError extends Error {}

function positiveInt(value: string | undefined, flag: string, max: number): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}, not '${value}'`);
    return n;
}

function duration(value: string | undefined, flag: string, min: number): number | undefined {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined || ms < min) throw new UsageError(`${flag} must be a duration of at least ${min} ms such as 30s, 5m or 1h, not '${value}'`);
    return ms;
}

function readConfig(file: string): ReconcileConfigFile {
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new ConfigurationError("--config", `cannot read ${file} as JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    const r = ReconcileConfigFile.safeParse(raw);
    if (!r.success) {
        const detail = r.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ");
        throw new ConfigurationError("--config", `${file}: ${detail}`);
    }
    return r.data;
}

/**
 * The line reporting a role holder (or listed address) who is not mailed, e.g.
 * `not mailed: Dana (1111…), Billing profile reader on ACCOUNT/PROFILE: the user has no mailbox`.
 */
export function describeUnresolved(u: UnresolvedRecipient, profile: string): string {
    const who = u.displayName && u.principalId ? `${u.displayName} (${u.principalId})` : (u.displayName ?? u.principalId ?? "?");
    return terminalSafe(`not mailed: ${who}, ${u.source} on ${profile}: ${u.reason}`);
}

/** The line reporting an invoice Azure listed that the planner left out, e.g. `skipped invoice X on ACCOUNT/PROFILE: the invoice date ... is not an ISO 8601 date`. */
export function describeSkipped(s: SkippedInvoice, profile: string): string {
    return terminalSafe(`skipped invoice ${s.invoiceName} on ${profile}: ${s.reason}`);
}

/** Renders progress: one live line on a terminal, plain lines otherwise. */
class Progress {
    private readonly tty: boolean;
    private profiles = { total: 0, done: 0 };
    private invoices = { total: 0, done: 0 };
    private deliveries = { total: 0, sent: 0, failed: 0, retrying: 0, pending: 0 };
    private lastDraw = 0;

    constructor(private readonly io: CommandIo) {
        this.tty = io.stderr.isTTY === true;
    }

    /** One line of progress; made terminal-safe here, as it may hold names and messages from the server. */
    private line(text: string): void {
        if (this.tty) this.io.stderr.write("\r\x1b[K");
        this.io.stderr.write(terminalSafe(text) + "\n");
        if (this.tty) this.draw(true);
    }

    private draw(force = false): void {
        if (!this.tty) return;
        const now = Date.now();
        if (!force && now - this.lastDraw < 100) return;
        this.lastDraw = now;
        const d = this.deliveries;
        const done = d.sent + d.failed + d.pending;
        this.io.stderr.write(
            `\r\x1b[Kprofiles ${this.profiles.done}/${this.profiles.total} · invoices ${this.invoices.done}/${this.invoices.total} · deliveries ${done}/${d.total}` +
                ` (sent ${d.sent}, failed ${d.failed}${d.retrying ? `, retrying ${d.retrying}` : ""})`,
        );
    }

    onEvent = (e: RunEvent): void => {
        switch (e.type) {
            case "scope":
                this.profiles = { total: e.profiles, done: 0 };
                this.invoices = { total: 0, done: 0 };
                this.deliveries = { total: 0, sent: 0, failed: 0, retrying: 0, pending: 0 };
                if (!this.tty) this.line(`${e.profiles} billing profile(s) in scope`);
                break;
            case "profile": {
                this.profiles.done++;
                const p = e.profile;
                const label = profileLabel(p);
                if (p.errors.length > 0) this.line(`error: ${label}: ${p.errors.join("; ")}`);
                else if (p.optedIn === false) {
                    if (!this.tty) this.line(`${label}: not opted in to email invoices${p.cancelled ? `; cancelled ${p.cancelled} planned deliveries` : ""}`);
                } else if (!this.tty) {
                    this.line(`${label}: ${p.invoicesInWindow} invoice(s) in window, ${p.newInvoices} new, ${p.planned} deliveries planned`);
                }
                for (const u of p.unresolved) this.line(describeUnresolved(u, label));
                for (const k of p.skippedInvoices) this.line(describeSkipped(k, label));
                break;
            }
            case "deliveries":
                this.invoices = { total: e.invoices, done: 0 };
                this.deliveries.total = e.deliveries;
                if (!this.tty && e.deliveries > 0) this.line(`delivering ${e.deliveries} message(s) for ${e.invoices} invoice(s)`);
                break;
            case "delivery": {
                const d = e.delivery;
                if (e.outcome === "sent") {
                    this.deliveries.sent++;
                    if (d.attempts > 1) this.deliveries.retrying = Math.max(0, this.deliveries.retrying - 1);
                    if (!this.tty) this.line(`sent ${d.invoiceName} to ${d.recipient}: ${e.detail}`);
                } else if (e.outcome === "failed") {
                    this.deliveries.failed++;
                    this.line(`failed ${d.invoiceName} to ${d.recipient}: ${e.detail}`);
                } else if (e.outcome === "retry") {
                    if (d.attempts <= 1) this.deliveries.retrying++;
                    if (!this.tty) this.line(`will retry ${d.invoiceName} to ${d.recipient} (attempt ${d.attempts}): ${e.detail}`);
                } else if (e.outcome === "pending") {
                    this.deliveries.pending++;
                    this.deliveries.retrying = Math.max(0, this.deliveries.retrying - 1);
                    this.line(`pending ${d.invoiceName} to ${d.recipient}: ${e.detail}`);
                }
                break;
            }
            case "invoiceError":
                this.line(`error: ${e.message}`);
                break;
            case "invoiceDone":
                this.invoices.done++;
                break;
            case "error":
                this.line(`error: ${e.message}`);
                break;
        }
        this.draw();
    };

    /** Leaves the final counts on the terminal. */
    finish(): void {
        if (!this.tty) return;
        this.draw(true);
        this.io.stderr.write("\n");
    }
}

/** The lines under a summary or dry-run listing: who is not mailed, skipped invoices, errors. Terminal-safe. */
function notes(s: RunSummary): string[] {
    const out: string[] = [];
    for (const p of s.profiles) {
        for (const u of p.unresolved) out.push(describeUnresolved(u, profileLabel(p)));
        for (const k of p.skippedInvoices ?? []) out.push(describeSkipped(k, profileLabel(p)));
        for (const e of p.errors) out.push(terminalSafe(`error: ${profileLabel(p)}: ${e}`));
    }
    for (const e of s.errors) out.push(terminalSafe(`error: ${e}`));
    return out;
}

/** The summary table and notes printed at the end of a pass. */
export function renderSummary(s: RunSummary, ledgerPath: string | undefined): string {
    const rows = s.profiles.map((p) => [
        p.billingProfileName,
        p.displayName ?? "",
        p.optedIn === null ? "?" : p.optedIn ? "yes" : "no",
        String(p.invoicesInWindow),
        String(p.newInvoices),
        p.recipients === null ? "-" : String(p.recipients),
        String(p.planned),
        String(p.sent),
        String(p.failed),
        String(p.pending),
        String(p.unresolved.length),
    ]);
    const t = s.totals;
    rows.push(["total", "", "", "", "", "", String(t.planned), String(t.sent), String(t.failed), String(t.pending), String(t.unresolved)]);
    const out = [
        renderTable(["PROFILE", "NAME", "OPT-IN", "INVOICES", "NEW", "RECIPIENTS", "PLANNED", "SENT", "FAILED", "PENDING", "NOT MAILED"], rows, {
            rightAlign: [3, 4, 5, 6, 7, 8, 9, 10],
        }),
    ];
    out.push("");
    out.push(terminalSafe(`window: invoices dated ${s.window.start} to ${s.window.end}${ledgerPath ? `; ledger: ${ledgerPath}` : ""}; run ${s.runId}`));
    for (const n of notes(s)) out.push(n);
    if (s.stopped) out.push("stopped by a signal: deliveries not started are left planned for the next run");
    return out.join("\n") + "\n";
}

/** The dry-run listing. */
export function renderDryRun(s: RunSummary): string {
    const items = s.plannedDeliveries;
    const lines = [`dry run: ${items.length} deliveries would be sent (invoices dated ${s.window.start} to ${s.window.end}); nothing was sent or written`];
    if (items.length > 0) {
        lines.push("");
        lines.push(renderTable(["PROFILE", "INVOICE", "RECIPIENT"], items.map((d) => [profileLabel(d), d.invoiceName, d.recipient])));
    }
    for (const n of notes(s)) lines.push(n);
    return lines.join("\n") + "\n";
}

export async function run(argv: string[], io: CommandIo): Promise<number> {
    const values = parseCommandArgs("reconcile", USAGE, argv, {
        profile: { type: "string", multiple: true },
        config: { type: "string" },
        since: { type: "string" },
        once: { type: "boolean" },
        watch: { type: "boolean" },
        interval: { type: "string" },
        "dry-run": { type: "boolean" },
        json: { type: "boolean" },
        ledger: { type: "string" },
        from: { type: "string" },
        "allow-insecure-smtp": { type: "boolean" },
        concurrency: { type: "string" },
        "max-attempts": { type: "string" },
        "retry-delay": { type: "string" },
    }, io);
    if (typeof values === "number") return values;

    let ledger: Ledger | undefined;
    let mailer: Mailer | undefined;
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) {
            // A second Ctrl-C: stop now. The ledger stays consistent (every write is one transaction).
            io.stderr.write(`\n${signal} again: exiting without waiting\n`);
            process.exit(130);
        }
        io.stderr.write(`\n${signal}: finishing the messages in flight, then stopping (again to exit at once)\n`);
        controller.abort();
    };
    try {
        if (values.once && values.watch) throw new UsageError("--once and --watch exclude each other");
        const config = values.config ? readConfig(path.resolve(io.cwd, values.config)) : undefined;
        const configDir = values.config ? path.dirname(path.resolve(io.cwd, values.config)) : io.cwd;

        const fromFlags: ProfileRef[] = [];
        for (const p of values.profile ?? []) {
            const r = parseProfileArg(p);
            if (!r.ok) throw new UsageError(`--profile ${r.reason}`);
            fromFlags.push(r.ref);
        }
        const scope: ProfileRef[] | "all" = fromFlags.length > 0 ? fromFlags : config?.profiles && config.profiles.length > 0 ? config.profiles : "all";
        const since = values.since ?? config?.since;
        if (since !== undefined && !isoDate.safeParse(since).success) throw new UsageError(`--since must be a calendar date YYYY-MM-DD, not '${since}'`);
        const intervalMs = duration(values.interval ?? config?.interval, "--interval", 1000) ?? 5 * 60 * 1000;
        if (values.interval !== undefined && !values.watch) throw new UsageError("--interval needs --watch");
        const concurrency = positiveInt(values.concurrency, "--concurrency", 50) ?? config?.concurrency ?? 5;
        const maxAttempts = positiveInt(values["max-attempts"], "--max-attempts", 100) ?? 4;
        const retryDelayMs = duration(values["retry-delay"], "--retry-delay", 0) ?? 1000;
        const dryRun = values["dry-run"] === true;
        const json = values.json === true;
        const ledgerPath = values.ledger
            ? path.resolve(io.cwd, values.ledger)
            : config?.ledger
              ? path.resolve(configDir, config.ledger)
              : defaultLedgerPath(io.env);

        const settings = resolveSettings({ env: settingsFromEnvironment(io.env) });
        const client = createBillingClient(settings);
        const options: ReconcileOptions = {
            scope,
            since,
            dryRun,
            maxAttempts,
            retryDelayMs,
            invoiceConcurrency: Math.max(2, concurrency + 3),
            sendConcurrency: concurrency,
        };
        const progress = new Progress(io);

        if (dryRun) {
            // Read an existing ledger (to leave out what is already planned or sent); never create one.
            ledger = Ledger.openExisting(ledgerPath);
            io.stderr.write(terminalSafe(`dry run against ${describeSettings(settings)}; ledger ${ledger ? ledgerPath : "(none yet)"}`) + "\n");
            const summary = await reconcileOnce({ client, ledger, onEvent: progress.onEvent }, options);
            progress.finish();
            io.stdout.write(json ? JSON.stringify(summary.plannedDeliveries, null, 2) + "\n" : renderDryRun(summary));
            return exitCodeOf(summary);
        }

        const smtp = resolveSmtpSettings({
            env: io.env,
            from: values.from ?? config?.from,
            allowInsecure: values["allow-insecure-smtp"] === true,
            maxConnections: concurrency,
            readFile: (p) => fs.readFileSync(path.resolve(io.cwd, p), "utf8"),
        });
        ledger = Ledger.open(ledgerPath);
        mailer = new Mailer(smtp);
        io.stderr.write(terminalSafe(`reconciling against ${describeSettings(settings)}`) + "\n" + terminalSafe(`mail via ${smtp.display} (${smtp.tls}) from ${smtp.from}; ledger ${ledgerPath}`) + "\n");
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
        const deps = { client, ledger, sender: mailer, from: smtp.from, signal: controller.signal, onEvent: progress.onEvent };
        const print = (summary: RunSummary) => {
            progress.finish();
            io.stdout.write(json ? JSON.stringify(summary) + "\n" : renderSummary(summary, ledgerPath));
        };
        const last = values.watch ? await reconcileWatch(deps, options, intervalMs, print) : await reconcileOnce(deps, options);
        if (!values.watch) print(last);
        return exitCodeOf(last);
    } catch (err) {
        if (err instanceof UsageError || err instanceof ConfigurationError || err instanceof ValidationError) {
            io.stderr.write(terminalSafe(`azure-email-invoicing reconcile: ${err.message}`) + "\n");
            return 2;
        }
        throw err;
    } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        mailer?.close();
        ledger?.close();
    }
}
