/**
 * The catalogue's configuration error (see provider/errors.ts, which
 * re-exports it), in the contract's folder because the emulator raises it
 * too: a bad option, a taken port or a data directory in use are mistakes
 * in how it was started, and the emulator shares nothing of the provider
 * but the contract.
 */

export class ConfigurationError extends Error {
    override readonly name = "ConfigurationError";
    readonly retryable = false;
    /** The setting at fault, e.g. `azure-email-invoicing:endpoint` or `SMTP_URL`. */
    readonly setting: string;

    constructor(setting: string, message: string) {
        super(`${setting}: ${message}`);
        this.setting = setting;
    }
}
