/**
 * `azure-email-invoicing reconcile` behind a tampering proxy of the tests'
 * own (tests/support/proxy.ts) in front of the emulator: the billing API
 * answers with control characters in every text field, impossible dates,
 * invoice names that are paths or forged lines, documents far over the cap
 * (with and without a Content-Length), a document that is an HTML page, a
 * document link that never answers, and Location and nextLink headers on a
 * foreign origin. Each case asserts what the reconciler printed, what the
 * SMTP server received, what the ledger holds, and that an oversized
 * document was refused rather than read whole; a broken invoice is skipped
 * and reported, the others are sent.
 */
import { expect } from "chai";
import type { Invoice } from "../../../provider/billing/schemas";
import { serveLargePdf, startTamperingProxy, type JsonAnswer, type TamperingProxy } from "../../support/proxy";
import { drip, startHostileServer, writeLarge, type HostileServer } from "../../support/hostile";
import { SEED, ledgerRows, mailOf, parsedMessages, runCli, startWorld, type World } from "./world";

const OPS = SEED.profiles.operations;
const RESEARCH = SEED.profiles.research;
const MB = 1_000_000;
/** Escape sequences that clear the screen and set the window title, and a forged line. */
const HOSTILE = "Contoso\x1b]0;pwned\x07\x1b[2J\r\nsent G000000001 to cfo@example.com: 250 OK\u009b31m\u202e";
const FORGED_NAME = "G00000000\r\nsent G000000001 to cfo@example.com: 250 OK";
/** Any character a terminal acts on: C0 but tab, DEL, C1, bidi controls. */
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function isInvoiceList(a: JsonAnswer): boolean {
    return a.method === "GET" && /\/billingProfiles\/[^/]+\/invoices\?/.test(a.url) && Array.isArray(a.body?.value);
}

function linesOf(text: string): string[] {
    return text.split("\n").filter((l) => l.length > 0);
}

describe("reconciler against a hostile billing API (a tampering proxy over the emulator)", function () {
    this.timeout(120_000);
    let world: World;
    let proxy: TamperingProxy;
    let foreign: HostileServer;
    let invoices: Invoice[];
    const recipients = mailOf("alice", "bob", "carol");

    beforeEach(async () => {
        world = await startWorld();
        await world.optIn("operations");
        proxy = await startTamperingProxy(world.emulator.url);
        foreign = await startHostileServer((_req, res) => void res.end("{}"));
        const today = new Date().toISOString().slice(0, 10);
        invoices = await world.client("alice").listInvoices(OPS, { periodStartDate: "2000-01-01", periodEndDate: today });
        expect(invoices).to.have.length(3);
    });
    afterEach(async () => {
        await foreign.close();
        await proxy.close();
        await world.close();
    });

    /** The reconciler's environment, pointed at the proxy. */
    const env = () => ({ ...world.env("grace"), AZURE_EMAIL_INVOICING_ENDPOINT: proxy.url });
    const reconcile = (...extra: string[]) => runCli(["reconcile", "--profile", `${OPS.billingAccountName}/${OPS.billingProfileName}`, "--since", "2000-01-01", "--ledger", world.ledger, ...extra], env());
    const sentInvoices = async () => [...new Set((await parsedMessages(world.sink)).map((m) => m.attachments[0]?.filename?.replace(/\.pdf$/, "")))].sort();

    it("control characters in every text field reach no terminal raw and forge no line; --json stays exact; the email shows — for an impossible date", async () => {
        proxy.set({
            json(a) {
                // Profile display names, the profile's role holders' names, Graph users, invoices.
                if (a.body?.properties?.displayName !== undefined) a.body.properties.displayName = HOSTILE;
                for (const item of Array.isArray(a.body?.value) ? a.body.value : []) {
                    if (item.properties?.displayName !== undefined) item.properties.displayName = HOSTILE;
                    if (item.properties?.principalDisplayName !== undefined) item.properties.principalDisplayName = HOSTILE;
                }
                if (a.url.startsWith("/v1.0/users/") && a.body?.displayName !== undefined) a.body.displayName = HOSTILE;
                if (isInvoiceList(a)) {
                    const [first, ...rest] = a.body.value;
                    first.properties.billingProfileDisplayName = HOSTILE;
                    first.properties.dueDate = "2026-02-30";
                    const forged = structuredClone(rest[0]);
                    forged.name = FORGED_NAME;
                    const dateless = structuredClone(rest[0]);
                    dateless.name = "G999999999";
                    dateless.properties.invoiceDate = "Invoice 7";
                    a.body.value = [first, ...rest, forged, dateless];
                }
            },
        });
        const r = await reconcile();
        expect(r.code, r.stderr).to.equal(0);
        for (const line of [...linesOf(r.stdout), ...linesOf(r.stderr)]) {
            expect(line, JSON.stringify(line)).to.not.match(CONTROLS);
            expect(line.startsWith("sent G000000001 to cfo@example.com"), JSON.stringify(line)).to.equal(false);
        }
        // The values are there, escaped.
        expect(r.stdout).to.include("Contoso\\x1b]0;pwned\\x07\\x1b[2J\\r\\nsent G000000001");
        expect(r.stdout + r.stderr).to.include(`skipped invoice G00000000\\r\\nsent G000000001 to cfo@example.com: 250 OK`);
        expect(r.stdout).to.include(`skipped invoice G999999999 on ${OPS.billingAccountName}/${OPS.billingProfileName}: the invoice date "Invoice 7" is not an ISO 8601 date`);

        // The three real invoices went out; the forged and the dateless ones were never planned.
        expect(await sentInvoices()).to.deep.equal(invoices.map((i) => i.name).sort());
        expect((await ledgerRows(world)).map((d) => d.invoiceName)).to.not.include.members([FORGED_NAME, "G999999999"]);
        const first = (await parsedMessages(world.sink)).filter((m) => m.attachments[0]?.filename === `${invoices[0].name}.pdf`);
        expect(first).to.have.length(recipients.length);
        for (const m of first) expect(m.text).to.match(/Due date:\s+—/).and.not.match(/2026-03-02/);

        // --json is exact: the names and reasons as the API sent them.
        const again = await reconcile("--json");
        const summary = JSON.parse(again.stdout) as { profiles: Array<{ displayName: string; skippedInvoices: Array<{ invoiceName: string; reason: string }> }> };
        expect(summary.profiles[0].displayName).to.equal(HOSTILE);
        expect(summary.profiles[0].skippedInvoices.map((k) => k.invoiceName)).to.deep.equal([FORGED_NAME, "G999999999"]);
    });

    it("documents over the cap, with and without a Content-Length, are refused without being read whole; only their invoices are skipped", async () => {
        const [declared, streamed, fine] = invoices;
        const served = new Map<string, Promise<number>>();
        proxy.set({
            intercept(req, res) {
                const url = req.url ?? "";
                if (url.startsWith(`/_blob/invoices/${declared.name}/`)) served.set(declared.name, serveLargePdf(res, 200 * MB, true));
                else if (url.startsWith(`/_blob/invoices/${streamed.name}/`)) served.set(streamed.name, serveLargePdf(res, 200 * MB, false));
                else return false;
                return true;
            },
        });
        const r = await reconcile("--json");
        expect(r.code, r.stderr).to.equal(1);
        const errors = (JSON.parse(r.stdout) as { profiles: Array<{ errors: string[] }> }).profiles[0].errors;
        expect(errors.filter((e) => e.includes("DocumentTooLarge"))).to.have.length(2);
        expect(errors.find((e) => e.includes(declared.name))).to.include("its Content-Length is 200000000 bytes").and.include("larger than the 25 MB limit");
        expect(errors.find((e) => e.includes(streamed.name))).to.include("passed the limit while being read");
        expect(await sentInvoices()).to.deep.equal([fine.name]);
        const rows = await ledgerRows(world);
        expect(rows.filter((d) => d.invoiceName !== fine.name).map((d) => d.state)).to.deep.equal(Array(2 * recipients.length).fill("planned"));
        // Only what the sockets buffer left the proxy, not 200 MB each.
        for (const name of [declared.name, streamed.name]) expect(await served.get(name), name).to.be.lessThan(40 * MB);
    });

    it("a document that is an HTML page, and a download whose Location is on a foreign origin: those invoices are skipped, nothing reaches the foreign origin", async () => {
        const [html, elsewhere, fine] = invoices;
        proxy.set({
            intercept(req, res) {
                if (!(req.url ?? "").startsWith(`/_blob/invoices/${html.name}/`)) return false;
                res.writeHead(200, { "Content-Type": "text/html" });
                res.end("<html><body>Sign in to continue</body></html>");
                return true;
            },
            json(a) {
                if (a.method === "POST" && a.url.includes(`/invoices/${elsewhere.name}/download`) && a.headers.location) {
                    a.headers.location = `${foreign.url}/operationResults/steal`;
                }
            },
        });
        const r = await reconcile("--json");
        expect(r.code, r.stderr).to.equal(1);
        const errors = (JSON.parse(r.stdout) as { profiles: Array<{ errors: string[] }> }).profiles[0].errors;
        expect(errors.find((e) => e.includes(html.name))).to.include("InvalidDocument").and.include("is not a PDF");
        expect(errors.find((e) => e.includes(elsewhere.name))).to.include(`Location points at ${foreign.url}`).and.include("HTTP 202");
        expect(foreign.requests).to.deep.equal([]);
        expect(await sentInvoices()).to.deep.equal([fine.name]);
    });

    it("a nextLink on a foreign origin fails the profile without a request there, and sends nothing", async () => {
        proxy.set({
            json(a) {
                if (isInvoiceList(a)) a.body.nextLink = `${foreign.url}/providers/Microsoft.Billing/billingAccounts/${OPS.billingAccountName}/billingProfiles/${OPS.billingProfileName}/invoices?page=2`;
            },
        });
        const r = await reconcile("--json");
        expect(r.code, r.stderr).to.equal(1);
        const errors = (JSON.parse(r.stdout) as { profiles: Array<{ errors: string[] }> }).profiles[0].errors;
        expect(errors.join("\n")).to.include(`nextLink points at ${foreign.url}`);
        expect(foreign.requests).to.deep.equal([]);
        expect(world.sink.accepted).to.equal(0);
    });

    it("a document link that never answers is cut off at --request-timeout; its invoice is skipped, the others are sent", async () => {
        const [silent] = invoices;
        proxy.set({
            intercept(req) {
                // Accept the request and never answer.
                return (req.url ?? "").startsWith(`/_blob/invoices/${silent.name}/`);
            },
        });
        const r = await reconcile("--json", "--request-timeout", "300ms");
        expect(r.code, r.stderr).to.equal(1);
        const errors = (JSON.parse(r.stdout) as { profiles: Array<{ errors: string[] }> }).profiles[0].errors;
        expect(errors.find((e) => e.includes(silent.name))).to.include("RequestTimeout").and.include("did not answer within 300 ms (the request timeout)").and.include("in each of 5 attempts");
        expect(await sentInvoices()).to.deep.equal(invoices.slice(1).map((i) => i.name).sort());
    });

    it("a document download that stays pending ends at --operation-timeout; its invoice is skipped, the others are sent", async () => {
        const [pending] = invoices;
        proxy.set({
            intercept(req, res) {
                const url = req.url ?? "";
                if (!(req.method === "GET" && url.includes(`/invoices/${pending.name}/operationResults/`))) return false;
                res.writeHead(202, { Location: `${proxy.url}${url}`, "Retry-After": "1" });
                res.end();
                return true;
            },
        });
        const r = await reconcile("--json", "--operation-timeout", "2s");
        expect(r.code, r.stderr).to.equal(1);
        const errors = (JSON.parse(r.stdout) as { profiles: Array<{ errors: string[] }> }).profiles[0].errors;
        expect(errors.find((e) => e.includes(pending.name))).to.include("OperationTimedOut").and.include("did not complete within 2 s (the operation timeout)");
        expect(await sentInvoices()).to.deep.equal(invoices.slice(1).map((i) => i.name).sort());
    });

    for (const [how, extra, envExtra] of [
        ["--max-document-size", ["--max-document-size", "1kB"], {}],
        ["AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE", [], { AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE: "1kB" }],
    ] as const) {
        it(`${how} sets the document cap: the emulator's PDFs, over 1 kB, are refused and nothing is sent`, async () => {
            const r = await runCli(["reconcile", "--profile", `${OPS.billingAccountName}/${OPS.billingProfileName}`, "--since", "2000-01-01", "--ledger", world.ledger, "--json", ...extra], { ...env(), ...envExtra });
            expect(r.code, r.stderr).to.equal(1);
            const errors = (JSON.parse(r.stdout) as { profiles: Array<{ errors: string[] }> }).profiles[0].errors;
            expect(errors.filter((e) => e.includes("DocumentTooLarge") && e.includes("larger than the 1 kB limit"))).to.have.length(invoices.length);
            expect(errors.join("\n")).to.include(`raise ${how === "--max-document-size" ? "azure-email-invoicing:maxDocumentSize, AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE, --max-document-size" : how}`);
            expect(world.sink.accepted).to.equal(0);
        });
    }

    describe("a broken answer on one profile fails that profile only; the other's invoices are sent", () => {
        /** A pass over both MCA profiles, Research's invoice list answered by `answer`. */
        async function bothProfiles(answer: (res: import("node:http").ServerResponse) => void, ...extra: string[]) {
            await world.optIn("research");
            proxy.set({
                intercept(req, res) {
                    if (!(req.method === "GET" && (req.url ?? "").includes(`/billingProfiles/${RESEARCH.billingProfileName}/invoices?`))) return false;
                    answer(res);
                    return true;
                },
            });
            const profiles = [OPS, RESEARCH].flatMap((p) => ["--profile", `${p.billingAccountName}/${p.billingProfileName}`]);
            return (envExtra: Record<string, string> = {}) => runCli(["reconcile", ...profiles, "--since", "2000-01-01", "--ledger", world.ledger, ...extra], { ...env(), ...envExtra });
        }
        const errorsOf = (stdout: string) => {
            const summary = JSON.parse(stdout) as { profiles: Array<{ billingProfileName: string; errors: string[] }> };
            return Object.fromEntries(summary.profiles.map((p) => [p.billingProfileName, p.errors]));
        };

        it("a JSON body over AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE, without a Content-Length, is cut off at the cap", async () => {
            let served: Promise<number> | undefined;
            const run = await bothProfiles((res) => (served = writeLarge(res, 200 * MB, { declareLength: false, prefix: Buffer.from('{"value":["') })), "--json");
            const r = await run({ AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE: "1MB" });
            expect(r.code, r.stderr).to.equal(1);
            const errors = errorsOf(r.stdout);
            expect(errors[RESEARCH.billingProfileName].join("\n")).to.include("ResponseTooLarge").and.include("larger than the 1 MB limit").and.include("raise AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE");
            expect(errors[OPS.billingProfileName]).to.deep.equal([]);
            expect(await sentInvoices()).to.deep.equal(invoices.map((i) => i.name).sort());
            // Not retried (a retry would not shrink it), and only what the socket buffers held left the proxy.
            expect(await served).to.be.lessThan(20 * MB);
            expect((await ledgerRows(world)).filter((d) => d.billingProfileName === RESEARCH.billingProfileName)).to.deep.equal([]);
        });

        it("a list that drips one byte at a time is cut off at --request-timeout, after the bounded retries", async () => {
            let attempts = 0;
            const run = await bothProfiles((res) => {
                attempts++;
                drip(res, 50);
            }, "--json", "--request-timeout", "1s");
            const r = await run();
            expect(r.code, r.stderr).to.equal(1);
            const errors = errorsOf(r.stdout);
            expect(errors[RESEARCH.billingProfileName].join("\n")).to.include("RequestTimeout").and.include("did not answer within 1 s (the request timeout)").and.include("in each of 5 attempts");
            expect(attempts).to.equal(5);
            expect(errors[OPS.billingProfileName]).to.deep.equal([]);
            expect(await sentInvoices()).to.deep.equal(invoices.map((i) => i.name).sort());
        });

        it("an error whose code and message carry control characters: escaped in every line of the text output, exact in --json", async () => {
            const error = { error: { code: "Bad\x1b[2JRequest", message: HOSTILE } };
            const run = await bothProfiles((res) => {
                res.writeHead(400, { "Content-Type": "application/json" });
                res.end(JSON.stringify(error));
            });
            const r = await run();
            expect(r.code, r.stderr).to.equal(1);
            for (const line of [...linesOf(r.stdout), ...linesOf(r.stderr)]) {
                expect(line, JSON.stringify(line)).to.not.match(CONTROLS);
                expect(line.startsWith("sent G000000001 to cfo@example.com"), JSON.stringify(line)).to.equal(false);
            }
            expect(r.stdout).to.include(`error: ${RESEARCH.billingAccountName}/${RESEARCH.billingProfileName}`).and.include("Bad\\x1b[2JRequest: Contoso\\x1b]0;pwned\\x07\\x1b[2J\\r\\nsent G000000001");
            expect(await sentInvoices()).to.deep.equal(invoices.map((i) => i.name).sort());

            const json = await runCli(["reconcile", "--profile", `${RESEARCH.billingAccountName}/${RESEARCH.billingProfileName}`, "--since", "2000-01-01", "--ledger", world.ledger, "--json"], env());
            expect(json.code, json.stderr).to.equal(1);
            expect(errorsOf(json.stdout)[RESEARCH.billingProfileName].join("\n")).to.include(`Bad\x1b[2JRequest: ${HOSTILE}`);
        });
    });
});
