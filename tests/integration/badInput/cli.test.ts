/**
 * Bad input to the commands, from every place it can come from: flags, the
 * environment and the `--config` file. Each case asserts the exit status
 * (2), that the message names the flag, variable or key and says how to fix
 * it, and that nothing happened: no request reached the emulator (its
 * request log), no message reached the SMTP server, no ledger was created.
 * The commands run in this process against a real emulator and SMTP server.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { SEED, runCli, startWorld, type World } from "../reconciler/world";

const OPS = SEED.profiles.operations;
const PROFILE = `${OPS.billingAccountName}/${OPS.billingProfileName}`;

interface Case {
    /** What is wrong, for the test's name. */
    what: string;
    argv: string[];
    env?: Record<string, string | undefined>;
    /** A `--config` file's content, written before the run (the path is appended as `--config FILE`). */
    config?: string;
    /** The message, naming the flag, variable or key and the fix. */
    message: RegExp;
    /** Text the message must not repeat (a password, a token). */
    secret?: string;
}

const reconcile = (what: string, argv: string[], message: RegExp, extra: Partial<Case> = {}): Case => ({ what, argv: ["reconcile", ...argv], message, ...extra });

const CASES: Case[] = [
    // reconcile: flags
    reconcile("--since an impossible day", ["--since", "2024-02-30"], /--since must be a calendar date YYYY-MM-DD, not '2024-02-30'/),
    reconcile("--since not a date", ["--since", "yesterday"], /--since must be a calendar date YYYY-MM-DD/),
    reconcile("--profile without a slash", ["--profile", "no-slash"], /--profile 'no-slash' is not <billingAccountName>\/<billingProfileName>/),
    reconcile("--profile with a display name", ["--profile", `${OPS.billingAccountName}/Contoso Operations`], /--profile .*billingProfileName is not a billing profile name: use 1-128 letters, digits/),
    reconcile("--profile with a 10 KB account name", ["--profile", `${"1".repeat(10_000)}/P1`], /--profile .*billingAccountName is longer than 128 characters.*az billing account list/),
    reconcile("--interval without --watch", ["--interval", "5m"], /--interval needs --watch/),
    reconcile("--interval not a duration", ["--watch", "--interval", "soon"], /--interval must be a duration of at least 1000 ms such as 30s, 5m or 1h, not 'soon'/),
    reconcile("--interval too short", ["--watch", "--interval", "10ms"], /--interval must be a duration of at least 1000 ms/),
    reconcile("--once with --watch", ["--once", "--watch"], /--once and --watch exclude each other/),
    reconcile("an unknown flag", ["--bogus"], /Unknown option '--bogus'[\s\S]*usage: azure-email-invoicing reconcile/),
    reconcile("a flag without its value", ["--since"], /Option '--since <value>' argument missing/),
    reconcile("--concurrency 0", ["--concurrency", "0"], /--concurrency must be a whole number from 1 to 50, not '0'/),
    reconcile("--concurrency 51", ["--concurrency", "51"], /--concurrency must be a whole number from 1 to 50/),
    reconcile("--max-attempts not a number", ["--max-attempts", "x"], /--max-attempts must be a whole number from 1 to 100, not 'x'/),
    reconcile("--retry-delay not a duration", ["--retry-delay", "fast"], /--retry-delay must be a duration/),
    reconcile("--lease too short", ["--lease", "10ms"], /--lease must be a duration of at least 1000 ms/),
    reconcile("--worker-id with a space", ["--worker-id", "pod 1"], /--worker-id: 'pod 1' is not a worker id: use up to 200 visible ASCII characters/),
    reconcile("--request-timeout without a unit", ["--request-timeout", "60"], /--request-timeout '60' is not a duration such as 30s, 5m or 1h/),
    reconcile("--request-timeout too short", ["--request-timeout", "10ms"], /--request-timeout '10ms' is outside 100 ms to 1 h/),
    reconcile("--operation-timeout not a duration", ["--operation-timeout", "forever"], /--operation-timeout 'forever' is not a duration/),
    reconcile("--max-document-size without a unit", ["--max-document-size", "25"], /--max-document-size '25' is not a size such as 25MB or 32MiB \(MB = 10\^6 bytes, MiB = 2\^20\)/),
    reconcile("--max-document-size over 1 GB", ["--max-document-size", "2GB"], /--max-document-size '2GB' is outside 1 kB to 1 GB/),
    reconcile("--max-requests-per-second with a unit", ["--max-requests-per-second", "25/s"], /--max-requests-per-second '25\/s' is not a number of requests per second such as 25 or 12\.5/),
    reconcile("--request-burst of 0", ["--request-burst", "0"], /--request-burst '0' is outside 1 to 100000/),
    reconcile("a request rate of 0", [], /AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: '0' is outside 0\.1 to 100000/, { env: { AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: "0" } }),
    reconcile("--from not an address", ["--from", "billing"], /--from: 'billing' is not a sender address: use billing@contoso.com or "Contoso Billing <billing@contoso.com>"/),
    reconcile("--from with a line break", ["--from", "billing@contoso.com\r\nBcc: x@evil.example"], /--from: contains a line break: give one address on one line/),

    // reconcile: environment
    reconcile("an http endpoint off loopback", [], /AZURE_EMAIL_INVOICING_ENDPOINT: 'http:\/\/billing\.example\.com' must use https/, { env: { AZURE_EMAIL_INVOICING_ENDPOINT: "http://billing.example.com" } }),
    reconcile("a file: endpoint", [], /AZURE_EMAIL_INVOICING_ENDPOINT: file: URLs are not supported: use an https URL/, { env: { AZURE_EMAIL_INVOICING_ENDPOINT: "file:///etc/azure" } }),
    reconcile("an endpoint that is not a URL", [], /AZURE_EMAIL_INVOICING_ENDPOINT: 'management' is not a URL; use e\.g\. https:\/\/management\.azure\.com/, { env: { AZURE_EMAIL_INVOICING_ENDPOINT: "management" } }),
    reconcile("an endpoint with credentials", [], /AZURE_EMAIL_INVOICING_ENDPOINT: https:\/\/management\.azure\.com must be given without credentials/, {
        env: { AZURE_EMAIL_INVOICING_ENDPOINT: "https://admin:S3cr3tP4ss@management.azure.com" },
        secret: "S3cr3tP4ss",
    }),
    reconcile("a Graph endpoint over http off loopback", [], /AZURE_EMAIL_INVOICING_GRAPH_ENDPOINT: 'http:\/\/graph\.example\.com' must use https/, { env: { AZURE_EMAIL_INVOICING_GRAPH_ENDPOINT: "http://graph.example.com" } }),
    reconcile("a token with a character beyond ASCII", [], /AZURE_EMAIL_INVOICING_TOKEN: contains a character that is not ASCII at position 10: a bearer token is visible ASCII only \(RFC 6750\); paste the token alone/, {
        env: { AZURE_EMAIL_INVOICING_TOKEN: "emu-grace\u2603" },
        secret: "emu-grace",
    }),
    reconcile("a token with a line break", [], /AZURE_EMAIL_INVOICING_TOKEN: contains whitespace or a line break at position 10/, { env: { AZURE_EMAIL_INVOICING_TOKEN: "emu-grace\n" }, secret: "emu-grace" }),
    reconcile("the emulator without a token", [], /AZURE_EMAIL_INVOICING_ENDPOINT: http:\/\/127\.0\.0\.1:\d+ is a local emulator but no token is set: set AZURE_EMAIL_INVOICING_TOKEN/, { env: { AZURE_EMAIL_INVOICING_TOKEN: undefined } }),
    reconcile("a request timeout without a unit", [], /AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT: '60' is not a duration such as 30s/, { env: { AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT: "60" } }),
    reconcile("an operation timeout of 0s", [], /AZURE_EMAIL_INVOICING_OPERATION_TIMEOUT: '0s' is outside 1 s to 24 h/, { env: { AZURE_EMAIL_INVOICING_OPERATION_TIMEOUT: "0s" } }),
    reconcile("a document size without a unit", [], /AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE: '25' is not a size such as 25MB/, { env: { AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE: "25" } }),
    reconcile("a JSON size over 1 GB", [], /AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE: '2GB' is outside 1 kB to 1 GB/, { env: { AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE: "2GB" } }),
    reconcile("no SMTP_URL", [], /SMTP_URL: is not set: set it to your SMTP server, e\.g\. smtps:\/\//, { env: { SMTP_URL: undefined } }),
    reconcile("an SMTP_URL that is not smtp", [], /SMTP_URL: uses http: only smtp:\/\/ and smtps:\/\/ are supported/, { env: { SMTP_URL: "http://smtp.contoso.com" } }),
    reconcile("plaintext SMTP off loopback", [], /SMTP_URL: .*--allow-insecure-smtp/, { env: { SMTP_URL: "smtp://smtp.contoso.com:25?ignoreTLS=true" } }),
    reconcile("a password in SMTP_URL and SMTP_PASSWORD", [], /SMTP_PASSWORD: /, { env: { SMTP_URL: "smtps://bill:Hunter2Pw@smtp.contoso.com", SMTP_PASSWORD: "other" }, secret: "Hunter2Pw" }),
    reconcile("an SMTP_PASSWORD_FILE that does not exist", [], /SMTP_PASSWORD_FILE: /, { env: { SMTP_URL: "smtps://bill@smtp.contoso.com", SMTP_PASSWORD_FILE: "/nonexistent/smtp-password" } }),
    reconcile("no sender", [], /INVOICE_MAIL_FROM: is not set/, { env: { INVOICE_MAIL_FROM: undefined } }),
    reconcile("a sender with a line break", [], /INVOICE_MAIL_FROM: contains a line break: give one address on one line/, { env: { INVOICE_MAIL_FROM: "billing@contoso.com\nBcc: x@evil.example" } }),
    reconcile("a worker id with a space", [], /AZURE_EMAIL_INVOICING_WORKER_ID: 'pod 1' is not a worker id/, { env: { AZURE_EMAIL_INVOICING_WORKER_ID: "pod 1" } }),

    // reconcile: the --config file
    reconcile("a config file that is not JSON", [], /--config: cannot read .*reconcile\.json as JSON/, { config: "{ profiles: [" }),
    reconcile("a misspelt key in the config file", [], /--config: .*sinse/, { config: JSON.stringify({ sinse: "2000-01-01" }) }),
    reconcile("a profile that is not ACCOUNT/PROFILE in the config file", [], /--config: .*profiles\.0: 'not-a-profile' is not <billingAccountName>\/<billingProfileName>/, { config: JSON.stringify({ profiles: ["not-a-profile"] }) }),
    reconcile("an impossible since in the config file", [], /--config: .*since: is not a calendar date: use YYYY-MM-DD/, { config: JSON.stringify({ since: "2024-02-30" }) }),
    reconcile("concurrency 0 in the config file", [], /--config: .*concurrency/, { config: JSON.stringify({ concurrency: 0 }) }),
    reconcile("a sender with a line break in the config file", [], /--config: .*from: contains a line break: give one address on one line/, { config: JSON.stringify({ from: "a@contoso.com\r\nBcc: x@evil.example" }) }),
    reconcile("a config file that does not exist", ["--config", "/nonexistent/reconcile.json"], /--config: cannot read \/nonexistent\/reconcile\.json as JSON: ENOENT/),

    // ledger, emulator and sandbox: flags
    { what: "ledger --state that is no state", argv: ["ledger", "--state", "done"], message: /ledger: --state must be one of planned, sending, sent, failed, cancelled, not 'done'/ },
    { what: "ledger --profile without a slash", argv: ["ledger", "--profile", "x"], message: /ledger: --profile 'x' is not <billingAccountName>\/<billingProfileName>/ },
    { what: "ledger with an unknown flag", argv: ["ledger", "--sent"], message: /ledger: Unknown option '--sent'[\s\S]*usage: azure-email-invoicing ledger/ },
    { what: "emulator --port out of range", argv: ["emulator", "--port", "70000"], message: /emulator: --port must be a number from 0 to 65535, not '70000'/ },
    { what: "emulator --port not a number", argv: ["emulator", "--port", "abc"], message: /emulator: --port must be a number from 0 to 65535, not 'abc'/ },
    { what: "emulator --pdf-padding-bytes with a unit", argv: ["emulator", "--pdf-padding-bytes", "1k"], message: /emulator: --pdf-padding-bytes must be a number from 0 to 16777216, not '1k'/ },
    { what: "sandbox --smtp-port not a number", argv: ["sandbox", "--smtp-port", "x"], message: /sandbox: .*--smtp-port/ },
    { what: "sandbox with both env file flags", argv: ["sandbox", "--env-file", "a.env", "--env-out", "b.env"], message: /sandbox: give --env-file or --env-out, not both/ },
    { what: "an unknown command", argv: ["reconcil"], message: /unknown command 'reconcil'[\s\S]*commands:/ },
];

describe("bad input to the commands: flags, environment, config files (exit 2, nothing done)", function () {
    let world: World;
    before(async () => {
        world = await startWorld();
        await world.optIn("operations");
    });
    after(() => world.close());

    it(`has at least 55 cases (with the client's and the resources' suites, over 60)`, () => {
        expect(CASES.length).to.be.at.least(55);
    });

    for (const c of CASES) {
        it(c.what, async () => {
            await world.clearRequests();
            // A ledger path of the case's own: a case that wrongly writes one cannot fail the next.
            const ledger = path.join(world.dir, `bad-input-${CASES.indexOf(c)}`, "ledger.sqlite");
            const env: Record<string, string> = {};
            for (const [k, v] of Object.entries({ ...world.env("grace"), ...(c.env ?? {}) })) if (v !== undefined) env[k] = v;
            // The scope and a ledger of the test's own first, so a case's own flags come last.
            const argv = c.argv[0] === "reconcile" ? ["reconcile", "--profile", PROFILE, "--ledger", ledger, ...c.argv.slice(1)] : [...c.argv];
            if (c.config !== undefined) {
                const file = path.join(world.dir, "reconcile.json");
                fs.writeFileSync(file, c.config);
                argv.push("--config", file);
            }
            const r = await runCli(argv, env, { cwd: world.dir });
            expect(r.code, `${argv.join(" ")}: ${r.stderr}`).to.equal(2);
            expect(r.stderr).to.match(c.message);
            if (c.secret) expect(r.stderr + r.stdout).to.not.include(c.secret);
            expect(await world.requests(), "no request reached the emulator").to.deep.equal([]);
            expect(world.sink.accepted, "no message was sent").to.equal(0);
            expect(fs.existsSync(ledger), "no ledger was created").to.equal(false);
        });
    }
});
