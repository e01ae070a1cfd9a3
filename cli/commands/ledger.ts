/**
 * `azure-email-invoicing ledger`: what the reconciler sent to whom and when,
 * on either backend.
 *
 * - `ledger [filters] [--json | --csv]` reads (the ledger is opened read
 *   only and never created);
 * - `ledger cancel --invoice N [--profile A/P] [--recipient X] --reason "..."`
 *   cancels planned deliveries that should not be sent (writes);
 * - `ledger migrate --to postgres://...` copies a SQLite ledger into
 *   PostgreSQL (writes the target only).
 *
 * Exit status: 0 done; 1 no ledger there, nothing matched `cancel`, a copy
 * that does not verify, or a ledger that cannot be reached; 2 bad flags or
 * settings.
 */
import { parseProfileArg } from "../../provider/reconciler/plan";
import type { BillingProfileRef } from "../../provider/billing/names";
import { ConfigurationError, LedgerError } from "../../provider/errors";
import { DELIVERY_STATES, DeliveryState, type DeliveryFilter, type DeliveryRow, type Ledger } from "../../provider/reconciler/ledger/contract";
import { resolveLedgerLocation, type LedgerLocation } from "../../provider/reconciler/ledger/location";
import { migrateLedger } from "../../provider/reconciler/ledger/migrate";
import { openLedger } from "../../provider/reconciler/ledger/open";
import type { PostgresLedger } from "../../provider/reconciler/ledger/postgres";
import type { SqliteLedger } from "../../provider/reconciler/ledger/sqlite";
import * as path from "node:path";
import { UsageError, parseCommandArgs } from "../args";
import type { CommandIo } from "../io";
import { ALLOW_INSECURE_LEDGER, describeLedger, ledgerLocation } from "../ledger-setting";
import { describeReasons } from "../render";
import { renderTable, terminalSafe } from "../text";
import { readConfig } from "./reconcile";

const SELECT = `  --ledger PATH|URL          the ledger (default: the config file's "ledger", else $AZURE_EMAIL_INVOICING_LEDGER,
                             else $XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite)
  --config FILE              the reconcile config file, for its "ledger"
  --allow-insecure-ledger    allow plaintext or unverified TLS to a PostgreSQL host that is not loopback`;

const USAGE = `usage: azure-email-invoicing ledger [options]
       azure-email-invoicing ledger cancel --invoice NAME --reason TEXT [--profile ACCOUNT/PROFILE] [--recipient ADDRESS]
       azure-email-invoicing ledger migrate --to postgres://USER@HOST/DB?sslmode=verify-full

Shows what the reconciler sent to whom and when: one line per delivery (an
invoice to a recipient) with its state, attempts, and the SMTP server's reply
or the reason it failed. Reading never creates or changes the ledger.

${SELECT}
  --profile ACCOUNT/PROFILE  only this billing profile (repeatable)
  --invoice NAME             only this invoice
  --recipient ADDRESS        only this recipient
  --state STATE              only ${DELIVERY_STATES.join(", ")} (repeatable)
  --json                     a JSON array of deliveries
  --csv                      the audit export: time, account, profile, invoice, recipient, state,
                             Message-ID, SMTP reply or reason, why the recipient was chosen (RFC 4180)
  -h, --help                 show this help

cancel: cancels the planned deliveries of an invoice (narrowed by --profile and --recipient) so
that no later pass sends them, recording --reason. Sent, failed and in-flight deliveries are never
touched.

migrate: copies the (SQLite) ledger into the PostgreSQL ledger --to names, in one transaction,
then compares every row. A rerun adds nothing. Stop the reconcilers first. The password comes
from PGPASSWORD or a password file, never the command line.

states: planned (to send), sending (in flight, or its process died: a later run takes it over
once its lease is stale), sent (the SMTP server accepted it), failed (refused for good, e.g.
550), cancelled (the profile was opted out, or \`ledger cancel\`, before it was sent).`;

/** Where the ledger is, for every subcommand. */
const LEDGER_FLAGS = {
    ledger: { type: "string" },
    config: { type: "string" },
    "allow-insecure-ledger": { type: "boolean" },
} as const;

/** Which deliveries: the filters `ledger` and `ledger cancel` share. */
const SELECTION_FLAGS = {
    profile: { type: "string", multiple: true },
    invoice: { type: "string" },
    recipient: { type: "string" },
} as const;

/** A cell as a spreadsheet must not run it: a leading =, +, -, @ or control character is quoted by an apostrophe. */
function csvCell(value: string): string {
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The audit export (RFC 4180, CRLF line ends, a header row). why_chosen is
 * the last column so that a consumer reading the earlier columns by position
 * keeps working.
 */
export function renderCsv(rows: readonly DeliveryRow[]): string {
    const header = ["time", "billing_account", "billing_profile", "invoice", "recipient", "state", "message_id", "attempts", "smtp_reply_or_reason", "why_chosen"];
    const lines = [header.join(",")];
    for (const r of rows) {
        lines.push(
            [r.sentAt ?? r.updatedAt, r.billingAccountName, r.billingProfileName, r.invoiceName, r.recipient, r.state, r.messageId, String(r.attempts), (r.state === "sent" ? r.smtpResponse : r.lastError) ?? "", describeReasons(r.reasons)]
                .map(csvCell)
                .join(","),
        );
    }
    return lines.join("\r\n") + "\r\n";
}

/** The table `ledger` prints. */
export function renderLedgerTable(rows: readonly DeliveryRow[]): string {
    return renderTable(
        ["WHEN", "STATE", "PROFILE", "INVOICE", "RECIPIENT", "WHY", "ATTEMPTS", "DETAIL"],
        rows.map((r) => [
            (r.sentAt ?? r.updatedAt).replace(/\.\d{3}Z$/, "Z"),
            r.state,
            r.billingProfileName,
            r.invoiceName,
            r.recipient,
            describeReasons(r.reasons),
            String(r.attempts),
            (r.state === "sent" ? (r.smtpResponse ?? "") : (r.lastError ?? "")).replace(/\s+/g, " ").slice(0, 160),
        ]),
        { rightAlign: [6] },
    );
}

function profilesOf(values: string[] | undefined): BillingProfileRef[] {
    const out: BillingProfileRef[] = [];
    for (const p of values ?? []) {
        const r = parseProfileArg(p);
        if (!r.ok) throw new UsageError(`--profile ${r.reason}`);
        out.push(r.ref);
    }
    return out;
}

function locationOf(values: { ledger?: string; config?: string; "allow-insecure-ledger"?: boolean }, io: CommandIo): LedgerLocation {
    const configFile = values.config ? path.resolve(io.cwd, values.config) : undefined;
    const config = configFile ? readConfig(configFile) : undefined;
    return ledgerLocation(
        { flag: values.ledger, config: config?.ledger !== undefined ? { value: config.ledger, file: configFile! } : undefined, allowInsecure: values["allow-insecure-ledger"] === true },
        io,
    );
}

async function show(argv: string[], io: CommandIo): Promise<number> {
    const values = parseCommandArgs("ledger", USAGE, argv, {
        ...LEDGER_FLAGS,
        ...SELECTION_FLAGS,
        state: { type: "string", multiple: true },
        json: { type: "boolean" },
        csv: { type: "boolean" },
    }, io);
    if (typeof values === "number") return values;
    if (values.json && values.csv) throw new UsageError("--json and --csv exclude each other");
    const profiles = profilesOf(values.profile);
    const states: DeliveryState[] = [];
    for (const s of values.state ?? []) {
        const r = DeliveryState.safeParse(s);
        if (!r.success) throw new UsageError(`--state must be one of ${DELIVERY_STATES.join(", ")}, not '${s}'`);
        states.push(r.data);
    }
    const location = locationOf(values, io);
    const ledger = await openLedger(location, { readOnly: true });
    if (!ledger) {
        io.stderr.write(terminalSafe(`azure-email-invoicing ledger: no ledger at ${describeLedger(location)} (run \`azure-email-invoicing reconcile\` first, or pass --ledger)`) + "\n");
        return 1;
    }
    try {
        const filter: DeliveryFilter = { profiles, invoiceName: values.invoice, recipient: values.recipient, states };
        const rows = await ledger.deliveries(filter);
        if (values.json) {
            io.stdout.write(JSON.stringify(rows, null, 2) + "\n");
            return 0;
        }
        if (values.csv) {
            io.stdout.write(renderCsv(rows));
            return 0;
        }
        if (rows.length === 0) {
            io.stdout.write(terminalSafe(`no deliveries${profiles.length || values.invoice || values.recipient || states.length ? " match" : " yet"} in ${location.display}`) + "\n");
            return 0;
        }
        io.stdout.write(renderLedgerTable(rows) + "\n");
        const counts = await ledger.counts(profiles.length ? profiles : undefined);
        io.stdout.write("\n" + terminalSafe(`${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")}; ledger ${location.display}`) + "\n");
        return 0;
    } finally {
        await ledger.close();
    }
}

async function cancel(argv: string[], io: CommandIo): Promise<number> {
    const values = parseCommandArgs("ledger cancel", USAGE, argv, {
        ...LEDGER_FLAGS,
        ...SELECTION_FLAGS,
        reason: { type: "string" },
        json: { type: "boolean" },
    }, io);
    if (typeof values === "number") return values;
    if (!values.invoice) throw new UsageError("cancel needs --invoice NAME (the invoice whose planned deliveries to cancel)");
    const reason = values.reason?.trim();
    if (!reason) throw new UsageError('cancel needs --reason "..." (why, for the audit trail)');
    if (reason.length > 500 || /[\0-\x08\x0b-\x1f\x7f]/.test(reason)) throw new UsageError("--reason must be one line of at most 500 characters");
    const profiles = profilesOf(values.profile);
    const location = locationOf(values, io);
    // Cancelling needs an existing ledger: look read-only first, so a mistyped path creates nothing.
    const existing = await openLedger(location, { readOnly: true });
    if (!existing) {
        io.stderr.write(terminalSafe(`azure-email-invoicing ledger cancel: no ledger at ${describeLedger(location)}`) + "\n");
        return 1;
    }
    await existing.close();
    const ledger = (await openLedger(location)) as Ledger;
    try {
        const cancelled = await ledger.cancel({ profiles, invoiceName: values.invoice, recipient: values.recipient }, `cancelled by an operator: ${reason}`);
        if (values.json) {
            io.stdout.write(JSON.stringify(cancelled, null, 2) + "\n");
        } else if (cancelled.length > 0) {
            io.stdout.write(renderLedgerTable(cancelled) + "\n\n" + terminalSafe(`cancelled ${cancelled.length} planned deliveries; ledger ${location.display}`) + "\n");
        }
        if (cancelled.length === 0) {
            io.stderr.write(terminalSafe(`azure-email-invoicing ledger cancel: no planned deliveries of invoice ${values.invoice} match in ${location.display} (sent, failed and in-flight ones are never cancelled)`) + "\n");
            return 1;
        }
        return 0;
    } finally {
        await ledger.close();
    }
}

async function migrate(argv: string[], io: CommandIo): Promise<number> {
    const values = parseCommandArgs("ledger migrate", USAGE, argv, {
        ...LEDGER_FLAGS,
        to: { type: "string" },
        json: { type: "boolean" },
    }, io);
    if (typeof values === "number") return values;
    if (!values.to) throw new UsageError("migrate needs --to postgres://USER@HOST/DATABASE (the PostgreSQL ledger to copy into)");
    const from = locationOf(values, io);
    if (from.kind !== "sqlite") throw new UsageError(`the ledger to copy from must be a SQLite file; ${describeLedger(from)} is PostgreSQL already`);
    const to = resolveLedgerLocation({
        value: { text: values.to, source: { kind: "flag", label: "--to" }, baseDir: io.cwd },
        env: io.env,
        allowInsecure: values["allow-insecure-ledger"] === true,
        allowInsecureHint: ALLOW_INSECURE_LEDGER,
        passwordHint: "put the password in PGPASSWORD or in a password file (PGPASSFILE, default ~/.pgpass)",
    });
    if (to.kind !== "postgres") throw new UsageError(`--to must be a postgres:// or postgresql:// URL, not '${values.to}'`);
    const source = (await openLedger(from, { readOnly: true })) as SqliteLedger | undefined;
    if (!source) {
        io.stderr.write(terminalSafe(`azure-email-invoicing ledger migrate: no ledger at ${describeLedger(from)}`) + "\n");
        return 1;
    }
    let target: PostgresLedger | undefined;
    try {
        target = (await openLedger(to)) as PostgresLedger;
        const report = await migrateLedger(source, target);
        if (values.json) io.stdout.write(JSON.stringify(report, null, 2) + "\n");
        else {
            const s = report.source;
            const a = report.added;
            io.stdout.write(
                terminalSafe(`copied ${from.display} into ${to.display}: ${s.invoices} invoices, ${s.deliveries} deliveries, ${s.runs} runs in the source; ` +
                    `added ${a.invoices} invoices, ${a.deliveries} deliveries, ${a.runs} runs (the rest were there already)`) + "\n",
            );
        }
        if (report.mismatches.length > 0) {
            io.stderr.write(`azure-email-invoicing ledger migrate: the copy does not match the source:\n${report.mismatches.slice(0, 20).map((m) => `  ${terminalSafe(m)}`).join("\n")}\n`);
            return 1;
        }
        if (!values.json) io.stdout.write("verified: every invoice, delivery and run of the source is in the target, field for field\n");
        return 0;
    } finally {
        await source.close();
        await target?.close();
    }
}

export async function run(argv: string[], io: CommandIo): Promise<number> {
    const [sub, ...rest] = argv;
    const name = sub === "cancel" || sub === "migrate" ? `ledger ${sub}` : "ledger";
    try {
        if (sub === "cancel") return await cancel(rest, io);
        if (sub === "migrate") return await migrate(rest, io);
        return await show(argv, io);
    } catch (err) {
        if (err instanceof UsageError || err instanceof ConfigurationError) {
            io.stderr.write(terminalSafe(`azure-email-invoicing ${name}: ${err.message}`) + "\n");
            return 2;
        }
        if (err instanceof LedgerError) {
            io.stderr.write(terminalSafe(`azure-email-invoicing ${name}: ${err.message}`) + "\n");
            return 1;
        }
        throw err;
    }
}
