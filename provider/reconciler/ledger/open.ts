/**
 * Opens the ledger a {@link LedgerLocation} names, with the backend it
 * needs. The one place that knows both backends; the executor sees only the
 * {@link Ledger} contract.
 */
import type { Ledger } from "./contract";
import type { LedgerLocation } from "./location";
import { SqliteLedger } from "./sqlite";

export interface OpenLedgerOptions {
    /**
     * Read only (`ledger`, `reconcile --dry-run`): never creates, migrates or
     * writes; resolves to undefined when there is no ledger there yet.
     */
    readOnly?: boolean;
}

/**
 * Opens (for writing: creating and migrating when needed) the ledger at
 * `location`. Throws ConfigurationError for a setting or a file that cannot
 * be a ledger (exit 2), LedgerError when the ledger cannot be reached.
 */
export async function openLedger(location: LedgerLocation, options: OpenLedgerOptions = {}): Promise<Ledger | undefined> {
    if (location.kind === "sqlite") {
        return SqliteLedger.open({ file: location.file, source: location.source.label }, { readOnly: options.readOnly === true });
    }
    // Loaded only when used, so a SQLite-only installation never loads the driver.
    const { PostgresLedger } = require("./postgres") as typeof import("./postgres");
    return PostgresLedger.open(location, { readOnly: options.readOnly === true });
}
