/**
 * `azure-email-invoicing ledger`: shows what the reconciler sent to whom and
 * when, from the ledger (read only; never creates one). With `--json`, an
 * array of deliveries as stored (the `DeliveryRow` schema).
 *
 * Exit status: 0 shown; 1 no ledger at the path; 2 bad flags.
 */
import * as path from "node:path";
import { ConfigurationError } from "../../provider/errors";
import { DeliveryState, Ledger, defaultLedgerPath, type DeliveryFilter } from "../../provider/reconciler/ledger";
import { parseProfileArg, type ProfileRef } from "../../provider/reconciler/plan";
import { parseCommandArgs } from "../args";
import type { CommandIo } from "../io";
import { renderTable, terminalSafe } from "../text";

const USAGE = `usage: azure-email-invoicing ledger [options]

Shows what the reconciler sent to whom and when: one line per delivery (an
invoice to a recipient) with its state, attempts, and the SMTP server's reply
or the reason it failed.

  --ledger PATH              the ledger (default: $XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite)
  --profile ACCOUNT/PROFILE  only this billing profile (repeatable)
  --invoice NAME             only this invoice
  --recipient ADDRESS        only this recipient
  --state STATE              only planned, sending, sent, failed or cancelled (repeatable)
  --json                     a JSON array of deliveries
  -h, --help                 show this help

states: planned (to send), sending (in flight, or its process died: the next run takes it over),
sent (the SMTP server accepted it), failed (refused for good, e.g. 550), cancelled (the profile
was opted out before it was sent).`;

export async function run(argv: string[], io: CommandIo): Promise<number> {
    const values = parseCommandArgs("ledger", USAGE, argv, {
        ledger: { type: "string" },
        profile: { type: "string", multiple: true },
        invoice: { type: "string" },
        recipient: { type: "string" },
        state: { type: "string", multiple: true },
        json: { type: "boolean" },
    }, io);
    if (typeof values === "number") return values;
    const profiles: ProfileRef[] = [];
    for (const p of values.profile ?? []) {
        const r = parseProfileArg(p);
        if (!r.ok) {
            io.stderr.write(terminalSafe(`azure-email-invoicing ledger: --profile ${r.reason}`) + "\n");
            return 2;
        }
        profiles.push(r.ref);
    }
    const states: DeliveryState[] = [];
    for (const s of values.state ?? []) {
        const r = DeliveryState.safeParse(s);
        if (!r.success) {
            io.stderr.write(terminalSafe(`azure-email-invoicing ledger: --state must be one of ${DeliveryState.options.join(", ")}, not '${s}'`) + "\n");
            return 2;
        }
        states.push(r.data);
    }
    const file = values.ledger ? path.resolve(io.cwd, values.ledger) : defaultLedgerPath(io.env);
    let ledger: Ledger | undefined;
    try {
        ledger = Ledger.openExisting(file);
    } catch (err) {
        if (err instanceof ConfigurationError) {
            io.stderr.write(terminalSafe(`azure-email-invoicing ledger: ${err.message}`) + "\n");
            return 1;
        }
        throw err;
    }
    if (!ledger) {
        io.stderr.write(terminalSafe(`azure-email-invoicing ledger: no ledger at ${file} (run \`azure-email-invoicing reconcile\` first, or pass --ledger PATH)`) + "\n");
        return 1;
    }
    try {
        const filter: DeliveryFilter = { profiles, invoiceName: values.invoice, recipient: values.recipient, states };
        const rows = ledger.deliveries(filter);
        if (values.json) {
            io.stdout.write(JSON.stringify(rows, null, 2) + "\n");
            return 0;
        }
        if (rows.length === 0) {
            io.stdout.write(terminalSafe(`no deliveries${profiles.length || values.invoice || values.recipient || states.length ? " match" : " yet"} in ${file}`) + "\n");
            return 0;
        }
        io.stdout.write(
            renderTable(
                ["WHEN", "STATE", "PROFILE", "INVOICE", "RECIPIENT", "ATTEMPTS", "DETAIL"],
                rows.map((r) => [
                    (r.sentAt ?? r.updatedAt).replace(/\.\d{3}Z$/, "Z"),
                    r.state,
                    r.billingProfileName,
                    r.invoiceName,
                    r.recipient,
                    String(r.attempts),
                    (r.state === "sent" ? (r.smtpResponse ?? "") : (r.lastError ?? "")).replace(/\s+/g, " ").slice(0, 160),
                ]),
                { rightAlign: [5] },
            ) + "\n",
        );
        const counts = ledger.counts(profiles.length ? profiles : undefined);
        io.stdout.write("\n" + terminalSafe(`${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")}; ledger ${file}`) + "\n");
        return 0;
    } finally {
        ledger.close();
    }
}
