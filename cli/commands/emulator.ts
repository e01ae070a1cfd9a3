/**
 * `azure-email-invoicing emulator [--port N] [--data DIR] [--pdf-padding-bytes N] [--pdf-cache-bytes N] [--request-log-limit N] [--quiet]`: runs
 * the local Azure Billing + Graph emulator until SIGINT or SIGTERM, then
 * closes it cleanly (exit code 0). Prints the URL, the billing profiles and
 * the principals with their tokens.
 *
 * Exit codes: 0 after a clean stop, 2 for bad flags, 1 when the emulator
 * cannot start (port taken, unreadable data directory).
 */
import * as path from "node:path";
import { DEFAULT_REQUEST_LOG_LIMIT, MAX_PDF_CACHE_BYTES, MAX_PDF_PADDING_BYTES, MAX_REQUEST_LOG_LIMIT, startEmulator, type EmulatorHandle } from "../../emulator";
import { parseCommandArgs, waitForSignal } from "../args";
import { survivingWriter, type CommandIo } from "../io";
import { renderTable, terminalSafe } from "../text";

const USAGE = `usage: azure-email-invoicing emulator [--port N] [--data DIR] [--pdf-padding-bytes N] [--pdf-cache-bytes N] [--request-log-limit N] [--quiet]

Runs the local Azure Billing + Graph emulator on 127.0.0.1 until Ctrl-C.

options:
  --port N                TCP port (default 0: a free port, printed at start)
  --data DIR              keep state in DIR across restarts (default: in memory)
  --pdf-padding-bytes N   pad invoice PDFs to at least N bytes, e.g. 102400 for
                          realistic 100 KB invoices (0 to 16777216; the setting
                          pdfPaddingBytes, also POST /_emulator/settings)
  --pdf-cache-bytes N     bytes of rendered PDFs to keep for the next download
                          of the same invoice (default 268435456, 256 MiB: 2,000
                          padded to 100 KB; 0 to 17179869184); raise it for a
                          load test over more invoices
  --request-log-limit N   how many requests GET /_emulator/requests keeps, the
                          last ones (default 10000; at most 10000000)
  --quiet                 do not print a line per request
  -h, --help              show this help`;

/** The banner printed at start: where it listens, the profiles, the principals and their tokens. */
export function banner(emulator: EmulatorHandle): string {
    const state = emulator.state();
    const accountLabel = (name: string) => {
        const a = state.billingAccounts.find((x) => x.name === name);
        return `${String(a?.properties.displayName ?? name)} (${a?.properties.agreementType === "MicrosoftPartnerAgreement" ? "MPA" : "MCA"})`;
    };
    const profileLabel = (account: string, name: string) => {
        const p = state.billingProfiles.find((x) => x.billingAccountName === account && x.name === name);
        return `${name} (${String(p?.properties.displayName ?? "")})`;
    };
    const lines: string[] = [];
    lines.push(`Azure Billing + Graph emulator listening on ${emulator.url}`);
    lines.push(`  ARM and Graph endpoint: ${emulator.url}  (api-version 2024-04-01; Graph under /v1.0)`);
    lines.push(`  Admin API:              ${emulator.url}/_emulator  (no token; loopback only)`);
    lines.push(
        `  State:                  ${emulator.stateFile ? `${emulator.stateFile} (${emulator.seeded ? "new, seeded" : "reopened"})` : "in memory (lost on exit; use --data DIR to keep it)"}`,
    );
    lines.push("");
    lines.push("Billing accounts and profiles:");
    const shown = state.billingProfiles.slice(0, 10);
    lines.push(
        renderTable(
            ["ACCOUNT", "BILLING ACCOUNT NAME", "PROFILE"],
            shown.map((p) => [accountLabel(p.billingAccountName), p.billingAccountName, profileLabel(p.billingAccountName, p.name)]),
        ),
    );
    if (state.billingProfiles.length > shown.length) lines.push(`... and ${state.billingProfiles.length - shown.length} more billing profiles`);
    lines.push("");
    lines.push('Principals (send "Authorization: Bearer <token>"):');
    const rows: string[][] = [];
    for (const p of emulator.principals) {
        const roles = p.roleAssignments.map((a) =>
            a.billingProfileName ? `${a.roleName} on ${profileLabel(a.billingAccountName, a.billingProfileName)}` : `${a.roleName} on ${accountLabel(a.billingAccountName)}`,
        );
        const shownRoles = roles.length > 4 ? [...roles.slice(0, 3), `... and ${roles.length - 3} more`] : roles;
        const first = [p.token, p.userPrincipalName, p.mail ?? "(no mailbox)", shownRoles[0] ?? "(no role)"];
        rows.push(first);
        for (const r of shownRoles.slice(1)) rows.push(["", "", "", r]);
    }
    lines.push(renderTable(["TOKEN", "USER PRINCIPAL NAME", "MAIL", "ROLES"], rows));
    lines.push("");
    lines.push("Press Ctrl-C to stop.");
    return lines.join("\n") + "\n";
}

export async function run(argv: string[], io: CommandIo): Promise<number> {
    const values = parseCommandArgs(
        "emulator",
        USAGE,
        argv,
        { port: { type: "string" }, data: { type: "string" }, "pdf-padding-bytes": { type: "string" }, "pdf-cache-bytes": { type: "string" }, "request-log-limit": { type: "string" }, quiet: { type: "boolean" } },
        io,
    );
    if (typeof values === "number") return values;
    let port = 0;
    if (values.port !== undefined) {
        if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
            io.stderr.write(terminalSafe(`azure-email-invoicing emulator: --port must be a number from 0 to 65535, not '${values.port}'`) + "\n");
            return 2;
        }
        port = Number(values.port);
    }
    const padding = values["pdf-padding-bytes"];
    if (padding !== undefined && (!/^\d{1,8}$/.test(padding) || Number(padding) > MAX_PDF_PADDING_BYTES)) {
        io.stderr.write(terminalSafe(`azure-email-invoicing emulator: --pdf-padding-bytes must be a number from 0 to ${MAX_PDF_PADDING_BYTES}, not '${padding}'`) + "\n");
        return 2;
    }
    const cacheBytes = values["pdf-cache-bytes"];
    if (cacheBytes !== undefined && (!/^\d{1,11}$/.test(cacheBytes) || Number(cacheBytes) > MAX_PDF_CACHE_BYTES)) {
        io.stderr.write(terminalSafe(`azure-email-invoicing emulator: --pdf-cache-bytes must be a number of bytes from 0 to ${MAX_PDF_CACHE_BYTES}, not '${cacheBytes}'`) + "\n");
        return 2;
    }
    const logLimit = values["request-log-limit"];
    if (logLimit !== undefined && (!/^\d{1,8}$/.test(logLimit) || Number(logLimit) < 1 || Number(logLimit) > MAX_REQUEST_LOG_LIMIT)) {
        io.stderr.write(`azure-email-invoicing emulator: --request-log-limit must be a number from 1 to ${MAX_REQUEST_LOG_LIMIT}, not '${logLimit}'\n`);
        return 2;
    }
    const dataDir = values.data ? path.resolve(io.cwd, values.data) : undefined;

    // A reader that goes away (`emulator | head -1`) must not stop the emulator.
    const out = survivingWriter(io.stdout);
    let emulator: EmulatorHandle;
    try {
        emulator = await startEmulator({
            port,
            dataDir,
            settings: padding === undefined ? undefined : { pdfPaddingBytes: Number(padding) },
            log: values.quiet ? undefined : (line) => out(`${terminalSafe(line)}\n`),
            requestLogLimit: logLimit === undefined ? DEFAULT_REQUEST_LOG_LIMIT : Number(logLimit),
            pdfCacheBytes: cacheBytes === undefined ? undefined : Number(cacheBytes),
        });
    } catch (err) {
        io.stderr.write(terminalSafe(`azure-email-invoicing emulator: cannot start: ${(err as Error).message}`) + "\n");
        return 1;
    }
    // Listen for the stop signal before announcing readiness: whoever reads
    // the banner may signal at once.
    const stopped = waitForSignal();
    out(banner(emulator));
    const signal = await stopped;
    await emulator.close();
    out(`emulator stopped (${signal})\n`);
    return 0;
}
