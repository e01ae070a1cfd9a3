/**
 * Where the ledger is: a setting (a path, or a PostgreSQL URL) and where it
 * came from, read into a typed location before anything is opened. Pure
 * apart from reading the TLS files a URL names (and libpq's default root
 * certificate, `~/.postgresql/root.crt`, when it exists); the caller passes
 * the environment, and names the setting's source (this module does not
 * know the CLI's flags).
 *
 * PostgreSQL URLs take libpq's parameters and environment variables (URL
 * parameters win over `PG*` variables, as in libpq), and `sslmode` keeps
 * libpq's meanings: `require` encrypts without checking the certificate
 * (unless a root certificate is named or present, when libpq checks it as
 * `verify-ca` does), `verify-ca` checks it against the root certificate,
 * `verify-full` checks it and the host name (node-postgres on its own reads
 * `require` as `verify-full`). node-postgres cannot fall back between TLS
 * and plaintext, so `allow` means plaintext and `prefer` means unverified
 * TLS: their first choice. Without `sslmode`, a loopback or Unix-socket
 * server is reached in plaintext and any other with `verify-full`. As in
 * libpq, `sslmode` does not apply to a Unix socket (always plaintext),
 * `hostaddr` is the address connected to while `host` is the name the
 * certificate must hold, and `sslrootcert=system` trusts the public
 * authorities (Node.js's list) and needs `verify-full`. One deliberate
 * difference: `verify-full` with no root certificate at all trusts the
 * public authorities (libpq would refuse), so a managed server with a
 * public certificate (Azure Database for PostgreSQL) needs no file.
 */
import * as fs from "node:fs";
import { isIP } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { checkServerIdentity, type ConnectionOptions } from "node:tls";
import { parse as parseConnectionString } from "pg-connection-string";
import { isLoopbackHost } from "../../config";
import { ConfigurationError } from "../../errors";

/** The environment variable that names the ledger when neither a flag nor the config file does. */
export const LEDGER_ENV = "AZURE_EMAIL_INVOICING_LEDGER";

/** Where a ledger setting came from. */
export interface LedgerSource {
    /** `flag`: visible to every user of the machine (`ps`), so it may not carry a password. */
    kind: "flag" | "config" | "env" | "default";
    /** How the user knows it, for messages: `--ledger`, `"ledger" in /etc/reconcile.json`, `AZURE_EMAIL_INVOICING_LEDGER`. */
    label: string;
}

export interface SqliteLedgerLocation {
    kind: "sqlite";
    /** Absolute path. */
    file: string;
    source: LedgerSource;
    /** The path, to print. */
    display: string;
}

/** The connection settings of a PostgreSQL ledger, resolved (everything but the password, which is looked up when connecting). */
export interface PostgresConnection {
    /** The server's name: what its certificate must hold (`verify-full`) and the password file matches; or a Unix-socket folder. */
    host: string;
    /** libpq's `hostaddr`: the numeric address connected to instead of looking `host` up. */
    hostaddr?: string;
    port: number;
    user: string;
    database: string;
    ssl: false | ConnectionOptions;
    /** libpq's `sslmode`, as resolved. */
    sslmode: SslMode;
    /** The root certificate file the server's certificate is checked against, if any (`system`: the public authorities). */
    sslrootcert?: string;
    /** libpq `options` (e.g. `-c search_path=ledger`), if any. */
    options?: string;
    applicationName: string;
    /** Seconds; 0 waits as long as the operating system does. Default 10. */
    connectTimeoutSeconds: number;
    /** A password given in the URL (config file or environment only). */
    password?: string;
    /** The password file: `passfile`, else `PGPASSFILE`, else `~/.pgpass`. */
    passfile: string;
    /** `PGPASSWORD`. */
    envPassword?: string;
}

export interface PostgresLedgerLocation {
    kind: "postgres";
    source: LedgerSource;
    /** The URL without its password, to print. */
    display: string;
    connection: PostgresConnection;
    /** True when every host is loopback or a Unix socket. */
    local: boolean;
}

export type LedgerLocation = SqliteLedgerLocation | PostgresLedgerLocation;

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The URL parameters libpq defines that this ledger honours. */
const URL_PARAMETERS = new Set([
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "options",
    "application_name",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
]);

/** The `PG*` variables that fill in what the URL leaves out, by URL parameter. */
const ENVIRONMENT: Record<string, string> = {
    host: "PGHOST",
    hostaddr: "PGHOSTADDR",
    port: "PGPORT",
    dbname: "PGDATABASE",
    user: "PGUSER",
    passfile: "PGPASSFILE",
    connect_timeout: "PGCONNECT_TIMEOUT",
    options: "PGOPTIONS",
    application_name: "PGAPPNAME",
    sslmode: "PGSSLMODE",
    sslrootcert: "PGSSLROOTCERT",
    sslcert: "PGSSLCERT",
    sslkey: "PGSSLKEY",
};

/** True for `postgres://` and `postgresql://` URLs, which are never taken for paths. */
export function isPostgresUrl(value: string): boolean {
    return /^postgres(ql)?:\/\//i.test(value.trim());
}

/** A URL with its password (in the authority or the query) replaced, safe to print. */
export function redactUrl(value: string): string {
    try {
        const url = new URL(value);
        if (url.password) url.password = "***";
        if (url.searchParams.has("password")) url.searchParams.set("password", "***");
        return url.toString();
    } catch {
        // Not a URL WHATWG can read (a bad port, say): mask what looks like a password by pattern.
        return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, "$1:***@").replace(/([?&]password=)[^&#]*/gi, "$1***");
    }
}

/**
 * The default ledger path: `$XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite`,
 * with `XDG_STATE_HOME` defaulting to `~/.local/state` (the XDG base directory
 * rule for state that should persist between runs).
 */
export function defaultLedgerPath(env: Record<string, string | undefined>, home = os.homedir()): string {
    const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(home, ".local", "state");
    return path.join(base, "azure-email-invoicing", "ledger.sqlite");
}

/** What {@link resolveLedgerLocation} reads. */
export interface LedgerSettingInput {
    /** The setting and its source; undefined for the default path. */
    value?: { text: string; source: LedgerSource; /** Relative paths resolve against this folder. */ baseDir: string };
    env: Record<string, string | undefined>;
    /** Allow plaintext or unverified TLS to a server that is not loopback. */
    allowInsecure: boolean;
    /** How the user allows that, for the message (e.g. `--allow-insecure-ledger`). */
    allowInsecureHint: string;
    /** Where a password may go instead of a flag, for the message. */
    passwordHint: string;
}

/**
 * Reads a ledger setting: a PostgreSQL URL (checked: parameters, TLS rule,
 * no password on the command line), or a path (SQLite). Throws
 * {@link ConfigurationError} naming the source; reaches nothing.
 */
export function resolveLedgerLocation(input: LedgerSettingInput): LedgerLocation {
    if (!input.value) {
        const file = defaultLedgerPath(input.env, input.env.HOME && path.isAbsolute(input.env.HOME) ? input.env.HOME : os.homedir());
        return { kind: "sqlite", file, source: { kind: "default", label: "the default ledger path" }, display: file };
    }
    const { text, source, baseDir } = input.value;
    const refuse = (message: string) => new ConfigurationError(source.label, message);
    if (text.trim() === "") throw refuse("is empty: give a path (SQLite) or a postgres:// URL");
    if (isPostgresUrl(text)) return postgresLocation(text.trim(), source, input, refuse);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
        throw refuse(`'${redactUrl(text)}' is a URL the ledger does not support: give a path (SQLite) or a postgres:// or postgresql:// URL`);
    }
    const file = path.resolve(baseDir, text);
    return { kind: "sqlite", file, source, display: file };
}

function postgresLocation(text: string, source: LedgerSource, input: LedgerSettingInput, refuse: (m: string) => ConfigurationError): PostgresLedgerLocation {
    const display = redactUrl(text);
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw refuse(`'${display}' is not a URL: use postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full`);
    }
    for (const key of url.searchParams.keys()) {
        if (!URL_PARAMETERS.has(key)) throw refuse(`'${display}': unknown parameter '${key}'; libpq's parameters here are ${[...URL_PARAMETERS].join(", ")}`);
    }
    if (url.pathname.length > 1 && url.searchParams.has("dbname")) throw refuse(`'${display}' names the database twice (in the path and in dbname): keep one`);
    const hasPassword = url.password !== "" || url.searchParams.has("password");
    if (hasPassword && source.kind === "flag") {
        throw refuse(`the URL carries a password, and a command line can be read by every user of this machine: remove it from the URL and ${input.passwordHint}`);
    }
    // Parameters the URL leaves out come from the PG* variables, as in libpq.
    const param = (key: string): string | undefined => {
        const fromUrl = url.searchParams.get(key);
        if (fromUrl !== null && fromUrl !== "") return fromUrl;
        const env = ENVIRONMENT[key];
        const fromEnv = env ? input.env[env] : undefined;
        return fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
    };
    // With hostaddr alone, libpq takes the address for the name too.
    const hostText = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, "$1")) || param("host") || param("hostaddr") || "localhost";
    const hosts = hostText.split(",").map((h) => h.trim());
    if (hosts.length > 1) throw refuse(`'${display}' names several hosts: the ledger connects to one; give one host`);
    const host = hosts[0];
    const portText = url.port || param("port") || "5432";
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw refuse(`'${display}': port '${portText}' is not a port number`);
    const user = decodeURIComponent(url.username) || param("user") || os.userInfo().username;
    const database = (url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined) || param("dbname") || user;
    const hostaddr = param("hostaddr");
    if (hostaddr !== undefined && isIP(hostaddr) === 0) {
        throw refuse(`'${display}': hostaddr '${hostaddr}' is not a numeric IP address: put the address in hostaddr and the server's name in host`);
    }
    // libpq connects to hostaddr when given (TCP, even if host is a socket folder), else to host.
    const socket = hostaddr === undefined && host.startsWith("/");
    const address = hostaddr ?? host;
    const home = input.env.HOME && path.isAbsolute(input.env.HOME) ? input.env.HOME : os.homedir();
    const modeText = param("sslmode");
    if (modeText !== undefined && !(SSL_MODES as readonly string[]).includes(modeText)) {
        throw refuse(`'${display}': sslmode '${modeText}' is not one of ${SSL_MODES.join(", ")}`);
    }
    const rootcertText = param("sslrootcert");
    if (rootcertText === "system" && modeText !== undefined && modeText !== "verify-full") {
        throw refuse(`'${display}': sslrootcert=system trusts every public certificate authority, so only the host name tells the server apart: use sslmode=verify-full (or leave sslmode out)`);
    }
    const local = socket || isLoopbackHost(address);
    const sslmode: SslMode = (modeText as SslMode | undefined) ?? (rootcertText === "system" || !local ? "verify-full" : "disable");
    if (!local && !input.allowInsecure && (sslmode === "disable" || sslmode === "allow" || sslmode === "prefer")) {
        throw refuse(
            `sslmode=${sslmode} to ${address}, which is not loopback, may send the ledger's traffic (and the password) in plaintext or to an impostor: use sslmode=require or verify-full, or pass ${input.allowInsecureHint}`,
        );
    }
    // libpq's default root certificate, used (by every mode that encrypts) when present.
    const defaultRootcert = path.join(home, ".postgresql", "root.crt");
    const rootcert =
        rootcertText === "system" ? "system" : rootcertText !== undefined ? path.resolve(input.value!.baseDir, rootcertText) : fs.existsSync(defaultRootcert) ? defaultRootcert : undefined;
    if (sslmode === "verify-ca" && !socket && (rootcert === undefined || rootcert === "system")) {
        throw refuse(
            `'${display}': sslmode=verify-ca checks the server's certificate against the certificate authority you name, and none is named: give sslrootcert=<the CA's certificate file> in the URL (or PGSSLROOTCERT), or use sslmode=verify-full, which also checks the host name`,
        );
    }
    const timeoutText = param("connect_timeout") ?? "10";
    const connectTimeoutSeconds = Number(timeoutText);
    if (!Number.isInteger(connectTimeoutSeconds) || connectTimeoutSeconds < 0) throw refuse(`'${display}': connect_timeout '${timeoutText}' is not a whole number of seconds`);
    // sslmode does not apply to a Unix socket (libpq ignores it there): the server offers no TLS on one.
    const ssl = socket
        ? false
        : tlsOptions(sslmode, host, hostaddr, { rootcert: rootcert === "system" ? undefined : rootcert, cert: param("sslcert"), key: param("sslkey") }, input.value!.baseDir, display, refuse);
    const password = url.password ? decodeURIComponent(url.password) : (url.searchParams.get("password") ?? undefined);
    return {
        kind: "postgres",
        source,
        display,
        local,
        connection: {
            host,
            ...(hostaddr !== undefined ? { hostaddr } : {}),
            port,
            user,
            database,
            ssl,
            sslmode,
            ...(rootcert !== undefined && ssl !== false ? { sslrootcert: rootcert } : {}),
            options: param("options"),
            applicationName: param("application_name") ?? "azure-email-invoicing",
            connectTimeoutSeconds,
            password: password === "" ? undefined : password,
            passfile: param("passfile") ?? path.join(home, ".pgpass"),
            envPassword: input.env.PGPASSWORD || undefined,
        },
    };
}

/**
 * node-postgres TLS options with libpq's meaning of `sslmode`, through
 * pg-connection-string's libpq-compatible reading (which also reads the
 * certificate files). `allow` and `prefer` take their first choice, since
 * node-postgres cannot fall back.
 */
function tlsOptions(
    sslmode: SslMode,
    host: string,
    hostaddr: string | undefined,
    files: { rootcert?: string; cert?: string; key?: string },
    baseDir: string,
    display: string,
    refuse: (m: string) => ConfigurationError,
): false | ConnectionOptions {
    if (sslmode === "disable" || sslmode === "allow") return false;
    const mode = sslmode === "prefer" ? "require" : sslmode;
    const q = new URLSearchParams({ sslmode: mode });
    for (const [k, v] of Object.entries(files)) {
        if (!v) continue;
        const file = path.resolve(baseDir, v);
        try {
            fs.accessSync(file, fs.constants.R_OK);
        } catch (err) {
            throw refuse(`'${display}': ssl${k} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): give the path of a PEM file this user can read`);
        }
        q.set(`ssl${k}`, file);
    }
    let parsed: { ssl?: unknown };
    try {
        parsed = parseConnectionString(`postgres://${encodeURIComponent(host.startsWith("/") ? "localhost" : host)}/x?${q.toString()}`, { useLibpqCompat: true }) as { ssl?: unknown };
    } catch (err) {
        throw refuse(`'${display}': ${err instanceof Error ? err.message : String(err)}`);
    }
    const ssl = (parsed.ssl && typeof parsed.ssl === "object" ? parsed.ssl : {}) as ConnectionOptions;
    // verify-full checks the host name, which TLS needs to know (SNI takes names, not addresses).
    if (!host.startsWith("/") && isIP(host) === 0) ssl.servername = host;
    // Connecting to hostaddr, the certificate must still name host (node-postgres would check the address).
    if (hostaddr !== undefined && mode === "verify-full") {
        const name = host.startsWith("/") ? "localhost" : host;
        ssl.checkServerIdentity = (_address, cert) => checkServerIdentity(name, cert);
    }
    return ssl;
}
