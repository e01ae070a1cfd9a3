/**
 * `azure-email-invoicing reconcile`: emails every invoice of the billing
 * profiles in scope to the people Azure's rule names, once, with the PDF
 * attached. Configuration enters here, so that nothing below reads
 * `process.env`: flags, the optional `--config` file and the environment are
 * read once and passed down as typed values.
 *
 * Output: progress on stderr (one live line on a terminal, plain lines
 * otherwise); results on stdout (a summary table, or JSON with `--json`).
 *
 * Exit status: 0 when every delivery in scope is sent; 1 when a delivery
 * failed permanently in this pass, is still pending, a billing profile
 * could not be reconciled, or the ledger cannot be reached; 2 for bad flags
 * or configuration (nothing was done).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { createBillingClient } from "../../provider/billing/client";
import { isoDate, type BillingProfileRef } from "../../provider/billing/names";
import { describeSettings, parseLimit, resolveSettings, settingsFromEnvironment, type LimitKey, type SettingsLayer } from "../../provider/config";
import { ConfigurationError, LedgerError, ValidationError } from "../../provider/errors";
import type { Ledger } from "../../provider/reconciler/ledger/contract";
import { openLedger } from "../../provider/reconciler/ledger/open";
import { Mailer, SMTP_ENV, parseFrom, resolveSmtpSettings } from "../../provider/reconciler/mailer";
import { cloudOf } from "../../provider/reconciler/message";
import { Routing, RoutingMap, RoutingOptions } from "../../provider/reconciler/routing";
import { profileKey, profileLabel } from "../../provider/reconciler/facts";
import { parseProfileArg } from "../../provider/reconciler/plan";
import { AcceptedUnrecorded, DEFAULT_LEASE_MS, exitCodeOf, reconcileOnce, reconcileWatch, type ReconcileOptions, type RunSummary } from "../../provider/reconciler/run";
import { UsageError, parseCommandArgs, wholeNumber } from "../args";
import type { CommandIo } from "../io";
import { describeLedger, ledgerLocation } from "../ledger-setting";
import { Progress } from "../progress";
import { describeUnrecorded, renderDryRun, renderSummary } from "../render";
import { parseDuration, terminalSafe } from "../text";

/** The environment variable of the worker's identity, when `--worker-id` is not given. */
export const WORKER_ID_ENV = "AZURE_EMAIL_INVOICING_WORKER_ID";

const USAGE = `usage: azure-email-invoicing reconcile [options]

Emails each invoice of the billing profiles in scope, with its PDF, to every
user holding the owner, contributor, reader or invoice manager role on the
profile and to the profile's additional invoice recipients, once (or to whom
the config file's routing says). Profiles that are not opted in to email
invoices get nothing.

scope (default: every billing profile the token can read)
  --profile ACCOUNT/PROFILE  a billing profile (repeatable)
  --config FILE              JSON file: {"profiles": ["ACCOUNT/PROFILE", ...],
                             "since", "from", "ledger", "interval", "concurrency",
                             "defaults": ROUTING, "routing": {"ACCOUNT/PROFILE": ROUTING, ...}}
                             ROUTING: {"recipients": "azure-rule" | "additional-only" | "none",
                             "extraRecipients": [ADDRESS, ...], "exclude": [GLOB, ...],
                             "locale": "en-US" | "sv-SE" | ..., "from": ADDRESS, "replyTo": ADDRESS}
  --since YYYY-MM-DD         first invoice date to consider (default: the last 31 days)

mode
  --once                     one pass, then exit (default)
  --watch                    a pass every --interval until SIGINT/SIGTERM
  --interval DURATION        time between passes with --watch (default 5m; e.g. 30s, 5m, 1h)
  --dry-run                  print the deliveries a pass would make; send nothing, write nothing
  --json                     machine-readable output on stdout

mail and ledger
  --from ADDRESS             sender of every profile (default: the profile's routing "from", else
                             the config's defaults, else $INVOICE_MAIL_FROM)
  --ledger PATH|URL          the ledger: a SQLite file, or postgres://USER@HOST/DB?sslmode=verify-full
                             (default: $AZURE_EMAIL_INVOICING_LEDGER, else
                             $XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite, XDG_STATE_HOME
                             defaulting to ~/.local/state); never a password on the command line
  --allow-insecure-smtp      allow plaintext or unverified TLS to an SMTP host that is not loopback
  --allow-insecure-ledger    allow plaintext or unverified TLS to a PostgreSQL host that is not loopback
  --worker-id ID             this worker's name in leases and logs (default: $AZURE_EMAIL_INVOICING_WORKER_ID,
                             else host/pid/run); unique among the workers running at once
  --lease DURATION           how long a claimed delivery stays this worker's without being renewed
                             (default 15m; renewed while its SMTP transaction lasts)
  --concurrency N            SMTP connections (default 5)
  --max-attempts N           attempts per message within a pass on SMTP 4xx or connection errors (default 4)
  --retry-delay DURATION     first backoff delay, doubled per attempt (default 1s)

limits (each also a stack config key and an environment variable: see the README)
  --request-timeout DURATION   longest one attempt of a billing API, Graph or document request may take
                               (default 60s; $AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT)
  --operation-timeout DURATION longest a long-running operation (a document download link) is waited for
                               (default 15m; $AZURE_EMAIL_INVOICING_OPERATION_TIMEOUT)
  --max-document-size SIZE     largest invoice PDF downloaded; a larger one is refused and its invoice
                               reported (default 25MB, MB = 10^6 bytes, MiB accepted;
                               $AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE)
  --max-requests-per-second N  billing API requests per second, the refill of the client's token bucket
                               (default 25, ARM's read refill per principal: workers sharing one principal
                               divide it; $AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND)
  --request-burst N            billing API requests that may go at once after a quiet spell (default 250,
                               ARM's read bucket; 1 spaces every request; $AZURE_EMAIL_INVOICING_REQUEST_BURST)
  -h, --help                 show this help

environment
  AZURE_EMAIL_INVOICING_ENDPOINT, AZURE_EMAIL_INVOICING_GRAPH_ENDPOINT, AZURE_EMAIL_INVOICING_TOKEN
                             where the billing API is and who calls it (default: Azure, DefaultAzureCredential)
  AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE
                             largest JSON answer read from the billing API or Graph (default 32MB)
  SMTP_URL                   smtp://[user@]host:port or smtps://[user@]host:port (nodemailer URL form)
  SMTP_PASSWORD, SMTP_PASSWORD_FILE
                             the SMTP password (or put it in SMTP_URL); never a flag
  INVOICE_MAIL_FROM          the sender, e.g. "Contoso Billing <billing@contoso.com>"
  AZURE_EMAIL_INVOICING_LEDGER
                             the ledger, when neither --ledger nor the config file names one
  PGPASSWORD, PGPASSFILE, PGHOST, PGUSER, PGSSLMODE, ...
                             libpq's variables, for a PostgreSQL ledger
  AZURE_EMAIL_INVOICING_WORKER_ID
                             the worker's name, when --worker-id is not given

exit status: 0 all delivered; 1 a delivery failed permanently or is still pending, a billing
profile could not be reconciled, or the ledger cannot be reached; 2 bad flags or configuration.`;

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
    /** The sender of every profile without its own: the same as `defaults.from` (give one of the two). */
    from: RoutingOptions.shape.from,
    ledger: z.string().optional(),
    interval: z.string().optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    /** The routing of every profile. */
    defaults: RoutingOptions.optional(),
    /** Per-profile routing, keyed by `<billingAccountName>/<billingProfileName>`, over `defaults`. */
    routing: RoutingMap.optional(),
}).superRefine((c, ctx) => {
    if (c.from !== undefined && c.defaults?.from !== undefined) {
        ctx.addIssue({ code: "custom", path: ["from"], message: "and defaults.from both name the sender: keep one (defaults.from)" });
    }
});
export type ReconcileConfigFile = z.infer<typeof ReconcileConfigFile>;

function duration(value: string | undefined, flag: string, min: number): number | undefined {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined || ms < min) throw new UsageError(`${flag} must be a duration of at least ${min} ms such as 30s, 5m or 1h, not '${value}'`);
    return ms;
}

/** The limit flags: the explicit layer of the client settings (over stack config and the environment). */
const LIMIT_FLAGS = {
    "request-timeout": "requestTimeout",
    "operation-timeout": "operationTimeout",
    "max-document-size": "maxDocumentSize",
    "max-requests-per-second": "maxRequestsPerSecond",
    "request-burst": "requestBurst",
} as const satisfies Record<string, LimitKey>;

function limitFlags(values: Partial<Record<keyof typeof LIMIT_FLAGS, string>>): SettingsLayer {
    const layer: SettingsLayer = {};
    for (const [flag, key] of Object.entries(LIMIT_FLAGS) as Array<[keyof typeof LIMIT_FLAGS, LimitKey]>) {
        const value = values[flag];
        if (value === undefined) continue;
        const parsed = parseLimit(key, value);
        if (!parsed.ok) throw new UsageError(`--${flag} ${parsed.reason}`);
        layer[key] = value;
    }
    return layer;
}

/** Reads and checks the `--config` file; throws ConfigurationError naming the file and the key. */
export function readConfig(file: string): ReconcileConfigFile {
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

/** A worker id as given: printable, one line, at most 200 characters. */
function workerIdOf(value: string | undefined, setting: string): string | undefined {
    if (value === undefined || value === "") return undefined;
    if (value.length > 200 || !/^[\x21-\x7e]+$/.test(value)) {
        throw new ConfigurationError(setting, `'${value.slice(0, 40)}' is not a worker id: use up to 200 visible ASCII characters without spaces, e.g. the pod name`);
    }
    return value;
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
        "allow-insecure-ledger": { type: "boolean" },
        "worker-id": { type: "string" },
        lease: { type: "string" },
        concurrency: { type: "string" },
        "max-attempts": { type: "string" },
        "retry-delay": { type: "string" },
        "request-timeout": { type: "string" },
        "operation-timeout": { type: "string" },
        "max-document-size": { type: "string" },
        "max-requests-per-second": { type: "string" },
        "request-burst": { type: "string" },
    }, io);
    if (typeof values === "number") return values;

    let ledger: Ledger | undefined;
    let mailer: Mailer | undefined;
    const unrecorded = new AcceptedUnrecorded();
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
        if (controller.signal.aborted) {
            // A second Ctrl-C: stop now. The ledger stays consistent (every write is one transaction);
            // what the SMTP server accepted and the ledger does not know yet is named, so it can be told apart.
            for (const u of unrecorded.list()) io.stderr.write(terminalSafe(describeUnrecorded(u.delivery, u.smtpResponse, "exiting before the verdict was written")) + "\n");
            io.stderr.write(`\n${signal} again: exiting without waiting\n`);
            process.exit(130);
        }
        io.stderr.write(`\n${signal}: finishing the messages in flight, then stopping (again to exit at once)\n`);
        controller.abort();
    };
    try {
        if (values.once && values.watch) throw new UsageError("--once and --watch exclude each other");
        const configFile = values.config ? path.resolve(io.cwd, values.config) : undefined;
        const config = configFile ? readConfig(configFile) : undefined;

        const fromFlags: BillingProfileRef[] = [];
        for (const p of values.profile ?? []) {
            const r = parseProfileArg(p);
            if (!r.ok) throw new UsageError(`--profile ${r.reason}`);
            fromFlags.push(r.ref);
        }
        const scope: BillingProfileRef[] | "all" = fromFlags.length > 0 ? fromFlags : config?.profiles && config.profiles.length > 0 ? config.profiles : "all";
        const since = values.since ?? config?.since;
        if (since !== undefined && !isoDate.safeParse(since).success) throw new UsageError(`--since must be a calendar date YYYY-MM-DD, not '${since}'`);
        const intervalMs = duration(values.interval ?? config?.interval, "--interval", 1000) ?? 5 * 60 * 1000;
        if (values.interval !== undefined && !values.watch) throw new UsageError("--interval needs --watch");
        const concurrency = wholeNumber("--concurrency", values.concurrency, 1, 50) ?? config?.concurrency ?? 5;
        const maxAttempts = wholeNumber("--max-attempts", values["max-attempts"], 1, 100) ?? 4;
        const retryDelayMs = duration(values["retry-delay"], "--retry-delay", 0) ?? 1000;
        const leaseMs = duration(values.lease, "--lease", 1000) ?? DEFAULT_LEASE_MS;
        const workerId = values["worker-id"] !== undefined ? workerIdOf(values["worker-id"], "--worker-id") : workerIdOf(io.env[WORKER_ID_ENV], WORKER_ID_ENV);
        const dryRun = values["dry-run"] === true;
        const json = values.json === true;
        const location = ledgerLocation(
            { flag: values.ledger, config: config?.ledger !== undefined ? { value: config.ledger, file: configFile! } : undefined, allowInsecure: values["allow-insecure-ledger"] === true },
            io,
        );

        const settings = resolveSettings({ explicit: limitFlags(values), env: settingsFromEnvironment(io.env) });
        const client = createBillingClient(settings);
        // From: --from, then the profile's routing entry, then defaults (or the top-level "from"), then INVOICE_MAIL_FROM.
        const fromFlag = values.from !== undefined ? parseFrom(values.from, "--from") : undefined;
        const envFrom = io.env[SMTP_ENV.from] ? io.env[SMTP_ENV.from] : undefined;
        const defaults = config?.from !== undefined ? { ...config.defaults, from: config.from } : config?.defaults;
        const routing = new Routing({ defaults, routing: config?.routing, fromFlag, fromEnvironment: dryRun || envFrom === undefined ? envFrom : parseFrom(envFrom, SMTP_ENV.from) });
        if (!dryRun && !routing.hasDefaultFrom()) {
            const own = new Set(routing.profiles().filter((ref) => routing.forProfile(ref).from !== undefined).map((ref) => profileKey(ref)));
            const without = scope === "all" ? undefined : scope.filter((ref) => !own.has(profileKey(ref)));
            if (without === undefined || without.length > 0) {
                throw new ConfigurationError(
                    SMTP_ENV.from,
                    `is not set: pass --from, set "from" in the config file's defaults, or set ${SMTP_ENV.from}, e.g. "Contoso Billing <billing@contoso.com>"` +
                        (without ? ` (${without.map(profileLabel).join(", ")} ${without.length === 1 ? "has" : "have"} no "from" of ${without.length === 1 ? "its" : "their"} own)` : ""),
                );
            }
        }
        const cloud = cloudOf(settings.endpoint);
        const options: ReconcileOptions = {
            scope,
            routing,
            since,
            dryRun,
            maxAttempts,
            retryDelayMs,
            leaseMs,
            sendConcurrency: concurrency,
        };
        const progress = new Progress(io);

        if (dryRun) {
            // Read an existing ledger (to leave out what is already planned or sent); never create or change one.
            ledger = await openLedger(location, { readOnly: true });
            io.stderr.write(terminalSafe(`dry run against ${describeSettings(settings)}; ledger ${ledger ? describeLedger(location) : `${describeLedger(location)} (none yet)`}`) + "\n");
            const summary = await reconcileOnce({ client, ledger, cloud, onEvent: progress.onEvent, workerId }, options);
            progress.finish();
            io.stdout.write(json ? JSON.stringify(summary.plannedDeliveries, null, 2) + "\n" : renderDryRun(summary));
            return exitCodeOf(summary);
        }

        const smtp = resolveSmtpSettings({
            env: io.env,
            from: fromFlag ?? defaults?.from,
            senderOptional: true,
            allowInsecure: values["allow-insecure-smtp"] === true,
            maxConnections: concurrency,
            readFile: (p) => fs.readFileSync(path.resolve(io.cwd, p), "utf8"),
        });
        ledger = await openLedger(location);
        mailer = new Mailer(smtp);
        io.stderr.write(
            terminalSafe(`reconciling against ${describeSettings(settings)}`) +
                "\n" +
                terminalSafe(`mail via ${smtp.display} (${smtp.tls}) from ${fromFlag ?? (routing.profiles().length > 0 ? "each profile's routing, else " : "") + (smtp.from ?? "nobody")}; ledger ${describeLedger(location)}${workerId ? `; worker ${workerId}` : ""}`) +
                "\n",
        );
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
        const deps = { client, ledger, sender: mailer, cloud, signal: controller.signal, onEvent: progress.onEvent, workerId, unrecorded };
        const print = (summary: RunSummary) => {
            progress.finish();
            io.stdout.write(json ? JSON.stringify(summary) + "\n" : renderSummary(summary, location.display));
        };
        const last = values.watch ? await reconcileWatch(deps, options, intervalMs, print) : await reconcileOnce(deps, options);
        if (!values.watch) print(last);
        return exitCodeOf(last);
    } catch (err) {
        if (err instanceof UsageError || err instanceof ConfigurationError || err instanceof ValidationError) {
            io.stderr.write(terminalSafe(`azure-email-invoicing reconcile: ${err.message}`) + "\n");
            return 2;
        }
        if (err instanceof LedgerError) {
            io.stderr.write(terminalSafe(`azure-email-invoicing reconcile: ${err.message}`) + "\n");
            return 1;
        }
        throw err;
    } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        mailer?.close();
        await ledger?.close();
    }
}
