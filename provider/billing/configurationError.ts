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
    /** What is wrong with the setting and how to fix it. */
    readonly detail: string;
    /** What the caller was doing when it met the setting, when it said so. */
    readonly context?: string;

    constructor(setting: string, message: string, options?: { context?: string; cause?: unknown }) {
        const text = `${setting}: ${message}`;
        super(options?.context ? `${options.context}: ${text}` : text, options?.cause === undefined ? undefined : { cause: options.cause });
        this.setting = setting;
        this.detail = message;
        this.context = options?.context;
    }

    /** The same error, said with what the caller was doing; this error is its `cause`. */
    withContext(context: string): ConfigurationError {
        return new ConfigurationError(this.setting, this.detail, { context: this.context ? `${context}: ${this.context}` : context, cause: this });
    }
}
