/**
 * Which ledger a command uses, from its three sources in order: the
 * `--ledger` flag, the config file's `"ledger"` (a relative path is
 * relative to the file), then `AZURE_EMAIL_INVOICING_LEDGER`; else the
 * default path. The CLI names each source for messages, so the ledger
 * modules never need to know a flag's name.
 */
import * as path from "node:path";
import { LEDGER_ENV, resolveLedgerLocation, type LedgerLocation } from "../provider/reconciler/ledger/location";
import type { CommandIo } from "./io";

/** The flag that allows plaintext or unverified TLS to a ledger server off loopback. */
export const ALLOW_INSECURE_LEDGER = "--allow-insecure-ledger";

export interface LedgerSettingSources {
    /** `--ledger`. */
    flag?: string;
    /** The config file's `"ledger"`, and the file. */
    config?: { value: string; file: string };
    allowInsecure: boolean;
}

/** Resolves the ledger's location; throws ConfigurationError naming the source (exit 2). */
export function ledgerLocation(sources: LedgerSettingSources, io: CommandIo): LedgerLocation {
    const fromEnv = io.env[LEDGER_ENV];
    const value =
        sources.flag !== undefined
            ? { text: sources.flag, source: { kind: "flag" as const, label: "--ledger" }, baseDir: io.cwd }
            : sources.config !== undefined
              ? { text: sources.config.value, source: { kind: "config" as const, label: `"ledger" in ${sources.config.file}` }, baseDir: path.dirname(sources.config.file) }
              : fromEnv !== undefined && fromEnv !== ""
                ? { text: fromEnv, source: { kind: "env" as const, label: LEDGER_ENV }, baseDir: io.cwd }
                : undefined;
    return resolveLedgerLocation({
        value,
        env: io.env,
        allowInsecure: sources.allowInsecure,
        allowInsecureHint: ALLOW_INSECURE_LEDGER,
        passwordHint: `put the password in PGPASSWORD, in a password file (PGPASSFILE, default ~/.pgpass), or in the ledger URL in ${LEDGER_ENV} or the config file's "ledger"`,
    });
}

/** How a command names its ledger in output: where, and from which source. */
export function describeLedger(location: LedgerLocation): string {
    return location.source.kind === "default" ? location.display : `${location.display} (${location.source.label})`;
}
