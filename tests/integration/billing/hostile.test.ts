/**
 * The billing client against a hostile server of the tests' own: one that
 * never answers, drips its answer a byte at a time, stalls half-way, sends
 * bodies and documents far over the caps (with and without a
 * Content-Length), throttles with an absurd Retry-After, or keeps a
 * long-running operation pending forever. Each case ends in the typed,
 * bounded error, and the server's own count of what it got to write shows
 * that an oversized body was refused on its header or cut off at the cap,
 * not read whole.
 */
import { expect } from "chai";
import { createBillingClient, type BillingClient } from "../../../provider/billing/client";
import { resolveSettings, type Limits, type RetrySettings } from "../../../provider/config";
import { AzureApiError } from "../../../provider/errors";
import { FAST_RETRY } from "../../support/emulator";
import { host, resetHostState } from "../../../provider/resources/host";
import { azureFailure, drip, startHostileServer, writeLarge, type HostileServer } from "../../support/hostile";

const BA = "12345678";
const REF = { billingAccountName: BA, billingProfileName: "BP-1" };
const PROFILE = { id: `/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles/BP-1`, name: "BP-1", properties: { displayName: "P" } };
const MB = 1_000_000;
/** Escape sequences that clear the screen and set the window title, and a forged line. */
const HOSTILE = "Contoso\x1b]0;pwned\x07\x1b[2J\r\nerror: nothing went wrong\u009b31m\u202e";
/** Any character a terminal acts on: C0 but tab, DEL, C1, bidi controls. */
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;


describe("billing client against a hostile server", function () {
    let server: HostileServer;
    const client = (limits: Partial<Limits> = {}, retry: Partial<RetrySettings> = {}): BillingClient =>
        createBillingClient(
            resolveSettings({
                explicit: { endpoint: server.url, token: "hostile-test" },
                retry: { ...FAST_RETRY, maxRetries: 2, ...retry },
                limits: { requestTimeoutInMs: 400, bodyIdleTimeoutInMs: 200, ...limits },
            }),
        );

    beforeEach(async () => {
        server = await startHostileServer();
    });
    afterEach(async () => {
        await server.close();
    });

    describe("time limits", () => {
        it("a server that accepts the request and never answers: a retryable RequestTimeout naming the operation and the limit, after the bounded retries", async () => {
            server.handle(() => undefined);
            const err = await azureFailure(client().getBillingProfile(REF));
            expect(err.code).to.equal("RequestTimeout");
            expect(err.status).to.equal(0);
            expect(err.retryable).to.equal(true);
            expect(err.operation).to.equal("getBillingProfile");
            expect(err.message).to.include("getBillingProfile failed").and.include("did not answer within 400 ms (the request timeout)").and.include("in each of 3 attempts");
            expect(err.message).to.include("azure-email-invoicing:requestTimeout").and.include("AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT").and.include("--request-timeout");
            expect(server.requests).to.have.length(3);
        });

        it("a server that drips one byte at a time is cut off at the request timeout, however steady the drip", async () => {
            server.handle((_req, res) => drip(res, 20));
            const err = await azureFailure(client({ requestTimeoutInMs: 500, bodyIdleTimeoutInMs: 200 }, { maxRetries: 1 }).getBillingProfile(REF));
            expect(err.code).to.equal("RequestTimeout");
            expect(err.message).to.include("within 500 ms (the request timeout)").and.include("in each of 2 attempts");
            expect(server.requests).to.have.length(2);
        });

        it("a server that stalls in the middle of a body is cut off at the idle limit", async () => {
            server.handle((_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.write('{"id":');
            });
            const err = await azureFailure(client({ requestTimeoutInMs: 5000, bodyIdleTimeoutInMs: 200 }, { maxRetries: 0 }).getBillingProfile(REF));
            expect(err.code).to.equal("RequestTimeout");
            expect(err.message).to.include("sent nothing for 200 ms in the middle of an answer (the idle limit)").and.include("in the only attempt");
        });

        it("a document link that never answers ends the same way", async () => {
            server.handle(() => undefined);
            const err = await azureFailure(client({}, { maxRetries: 0 }).fetchDocument(`${server.url}/_blob/doc.pdf`));
            expect(err.code).to.equal("RequestTimeout");
            expect(err.operation).to.equal("downloadDocument");
        });

        it("a 429 with a Retry-After of days is waited out for at most maxRetryAfterInMs", async () => {
            server.handle((_req, res, i) => {
                if (i === 0) {
                    // 23 days: still within what a timer can hold (a larger one would fire at once).
                    res.writeHead(429, { "Retry-After": "2000000", "Content-Type": "application/json" });
                    res.end('{"error":{"code":"TooManyRequests","message":"slow down"}}');
                } else {
                    res.writeHead(200, { "Content-Type": "application/json" });
                    res.end(JSON.stringify(PROFILE));
                }
            });
            // Without the clamp this call would sleep for 23 days (mocha's timeout would fail it).
            const p = await client({}, { maxRetryAfterInMs: 50 }).getBillingProfile(REF);
            expect(p.name).to.equal("BP-1");
            expect(server.requests).to.have.length(2);
        });

        it("a long-running operation that stays pending ends at the operation timeout with OperationTimedOut", async () => {
            server.handle((req, res) => {
                const location = `${server.url}/providers/Microsoft.Billing/operationResults/x?api-version=2024-04-01`;
                res.writeHead(202, { Location: location, "Retry-After": "0" });
                res.end();
            });
            const err = await azureFailure(client({ operationTimeoutInMs: 600 }).requestInvoiceDownload(BA, "G123456789"));
            expect(err.code).to.equal("OperationTimedOut");
            expect(err.retryable).to.equal(true);
            expect(err.message).to.include("did not complete within 600 ms (the operation timeout)").and.include("azure-email-invoicing:operationTimeout");
            expect(server.requests.length).to.be.greaterThan(2);
        });

        it("the operation timeout holds during a poll: a poll that never answers is aborted at the deadline, not after its own timeouts and retries", async () => {
            server.handle((req, res, i) => {
                if (i > 0) return; // every poll hangs
                res.writeHead(202, { Location: `${server.url}/providers/Microsoft.Billing/operationResults/x?api-version=2024-04-01`, "Retry-After": "0" });
                res.end();
            });
            // Each poll could take 3 x 20 s; the operation has 500 ms.
            const err = await azureFailure(client({ requestTimeoutInMs: 20_000, bodyIdleTimeoutInMs: 20_000, operationTimeoutInMs: 500 }).requestInvoiceDownload(BA, "G123456789"));
            expect(err.code).to.equal("OperationTimedOut");
            expect(server.requests).to.have.length(2);
        });
    });

    describe("size limits", () => {
        for (const declareLength of [true, false]) {
            const how = declareLength ? "with a Content-Length (refused on the header)" : "without a Content-Length (cut off at the cap)";
            it(`a JSON body over the cap ${how}: ResponseTooLarge, not retried, not read whole`, async () => {
                let written: Promise<number> | undefined;
                server.handle((_req, res) => {
                    written = writeLarge(res, 200 * MB, { declareLength });
                });
                const err = await azureFailure(client({ maxResponseBytes: 1 * MB, requestTimeoutInMs: 20_000, bodyIdleTimeoutInMs: 20_000 }).listInvoices(REF, { periodStartDate: "2024-01-01", periodEndDate: "2024-02-01" }));
                expect(err.code).to.equal("ResponseTooLarge");
                expect(err.retryable).to.equal(false);
                expect(err.message).to.include("larger than the 1 MB limit").and.include("AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE");
                expect(err.message).to.include(declareLength ? "its Content-Length is 200000000 bytes" : "passed the limit while being read");
                expect(server.requests, "a body over the cap is not asked for again").to.have.length(1);
                // Only what the sockets buffer got out of the server: the client hung up instead of reading 200 MB.
                expect(await written).to.be.lessThan(40 * MB);
            });

            it(`a document over the cap ${how}: DocumentTooLarge, not read whole`, async () => {
                let written: Promise<number> | undefined;
                server.handle((_req, res) => {
                    written = writeLarge(res, 200 * MB, { declareLength, contentType: "application/pdf", prefix: Buffer.from("%PDF-1.7\n") });
                });
                const err = await azureFailure(client({ maxDocumentBytes: 2 * MB, requestTimeoutInMs: 20_000, bodyIdleTimeoutInMs: 20_000 }).fetchDocument(`${server.url}/_blob/doc.pdf`));
                expect(err.code).to.equal("DocumentTooLarge");
                expect(err.operation).to.equal("downloadDocument");
                expect(err.message).to.include("larger than the 2 MB limit").and.include("--max-document-size");
                expect(server.requests).to.have.length(1);
                expect(await written).to.be.lessThan(40 * MB);
            });
        }

        it("a body at the cap is read whole", async () => {
            const body = JSON.stringify(PROFILE);
            server.handle((_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(body);
            });
            const p = await client({ maxResponseBytes: Buffer.byteLength(body) }).getBillingProfile(REF);
            expect(p.name).to.equal("BP-1");
        });

        it("a page of 600,000 invoices within the cap is listed without overflowing the call stack", async () => {
            const item = { id: `/providers/Microsoft.Billing/billingAccounts/${BA}/invoices/G000000001`, name: "G000000001", properties: {} };
            const page = `{"value":[${Array(600_000).fill(JSON.stringify(item)).join(",")}]}`;
            server.handle((_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(page);
            });
            const invoices = await client({ maxResponseBytes: 200 * MB, requestTimeoutInMs: 30_000, bodyIdleTimeoutInMs: 30_000 }).listInvoices(REF, { periodStartDate: "2024-01-01", periodEndDate: "2024-02-01" });
            expect(invoices).to.have.length(600_000);
        });
    });

    describe("links and documents", () => {
        let foreign: HostileServer;
        beforeEach(async () => {
            foreign = await startHostileServer((_req, res) => void res.end("{}"));
        });
        afterEach(async () => {
            await foreign.close();
        });

        it("a Location on a foreign origin is refused without a request there, and the error speaks of the 202 it came with", async () => {
            server.handle((_req, res) => {
                res.writeHead(202, { Location: `${foreign.url}/operationResults/steal?api-version=2024-04-01`, "Retry-After": "0" });
                res.end();
            });
            const err = await azureFailure(client().requestInvoiceDownload(BA, "G123456789"));
            expect(err.code).to.equal("InvalidResponse");
            expect(err.status).to.equal(202);
            expect(err.message).to.include("HTTP 202").and.not.include("HTTP 200");
            expect(err.message).to.include(`Location points at ${foreign.url}`).and.include("refusing to send credentials there");
            expect(foreign.requests, "no request, so no token, reached the foreign origin").to.deep.equal([]);
        });

        it("a nextLink on a foreign origin is refused without a request there", async () => {
            server.handle((_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ value: [PROFILE], nextLink: `${foreign.url}/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles?page=2` }));
            });
            const err = await azureFailure(client().listBillingProfiles(BA));
            expect(err.message).to.include(`nextLink points at ${foreign.url}`);
            expect(foreign.requests).to.deep.equal([]);
        });

        it("a list that pages forever stops at the page cap, saying so", async () => {
            server.handle((req, res) => {
                const page = Number(new URL(req.url ?? "/", server.url).searchParams.get("page") ?? 1);
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ value: [PROFILE], nextLink: `${server.url}/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles?api-version=2024-04-01&page=${page + 1}` }));
            });
            const err = await azureFailure(client({ maxPages: 5 }).listBillingProfiles(BA));
            expect(err.message).to.include("the list has more than 5 pages; refusing to read further").and.not.include("loops");
            expect(server.requests).to.have.length(5);
        });

        it("a nextLink back to a page already read is a loop, saying so", async () => {
            server.handle((_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ value: [PROFILE], nextLink: `${server.url}/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles?api-version=2024-04-01&page=2` }));
            });
            const err = await azureFailure(client().listBillingProfiles(BA));
            expect(err.message).to.include("nextLink loops: page 2 links back to");
            expect(server.requests).to.have.length(2);
        });

        it("a document that is not a PDF (an HTML sign-in page) is refused as InvalidDocument", async () => {
            server.handle((req, res) => {
                if ((req.url ?? "").startsWith("/_blob/")) {
                    res.writeHead(200, { "Content-Type": "text/html" });
                    res.end("<html><body>Sign in to continue</body></html>");
                    return;
                }
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ url: `${server.url}/_blob/G123456789.pdf?sig=x`, expiryTime: "2030-01-01T00:00:00Z" }));
            });
            const err = await azureFailure(client().downloadInvoicePdf({ billingAccountName: BA, invoiceName: "G123456789" }));
            expect(err.code).to.equal("InvalidDocument");
            expect(err.message).to.include("the document of invoice G123456789 is not a PDF").and.include("<html>");
        });
    });

    describe("through the provider (what pulumi up runs), configured by stack config", () => {
        const profile = (displayName: string, optIn: boolean) => ({ ...PROFILE, properties: { displayName, invoiceEmailOptIn: optIn, invoiceRecipients: [] } });
        /** The dynamic provider of EmailInvoiceSetting with this stack config over the server. */
        async function provider(extra: Record<string, string> = {}) {
            resetHostState();
            const p = host("EmailInvoiceSetting", 1);
            const config: Record<string, string> = { "azure-email-invoicing:endpoint": server.url, "azure-email-invoicing:token": "hostile-test", ...extra };
            await p.configure({ config: { get: (k) => config[k] } });
            return p;
        }
        const inputs = { ...REF, enabled: true };
        const rejection = (p: Promise<unknown>) =>
            p.then(
                () => expect.fail("expected the operation to fail"),
                (e: unknown) => e as AzureApiError & { id?: string; properties?: Record<string, unknown> },
            );
        after(() => resetHostState());

        it("Azure's error code, message and target with control characters: the error Pulumi prints is escaped, azureMessage exact", async () => {
            server.handle((_req, res) => {
                res.writeHead(400, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ error: { code: "Bad\x1b[2JRequest", message: HOSTILE, target: "properties\r\nx" } }));
            });
            const err = await rejection((await provider()).create(inputs));
            expect(err).to.be.instanceOf(AzureApiError);
            expect(err.message, JSON.stringify(err.message)).to.not.match(CONTROLS);
            expect(err.message).to.include("Bad\\x1b[2JRequest: Contoso\\x1b]0;pwned\\x07\\x1b[2J\\r\\nerror: nothing went wrong\\x9b31m\\u202e");
            // The dynamic provider logs `${e}: ${e.stack}`: the stack's first line is the same message.
            expect(err.stack!.split("\n    at ")[0], err.stack).to.not.match(CONTROLS);
            expect(err.azureMessage).to.equal(HOSTILE);
            expect(server.requests).to.have.length(1);
        });

        it("a display name with control characters is recorded exactly: state is data, not a line on a terminal", async () => {
            server.handle((req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify(profile(HOSTILE, req.method === "PUT")));
            });
            const { outs } = await (await provider()).create(inputs);
            expect(outs.billingProfileDisplayName).to.equal(HOSTILE);
            expect(server.requests.map((r) => r.method)).to.deep.equal(["GET", "PUT"]);
        });

        it("azure-email-invoicing:requestTimeout bounds the provider's requests: a read that never answers is cut off and retried", async () => {
            server.handle((req, res, i) => {
                if (i === 0) return; // never answers
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify(profile("P", req.method === "PUT")));
            });
            // With the default 60 s, the first GET would outlast mocha's timeout.
            const { outs } = await (await provider({ "azure-email-invoicing:requestTimeout": "500ms" })).create(inputs);
            expect(outs.enabled).to.equal(true);
            expect(server.requests.map((r) => r.method)).to.deep.equal(["GET", "GET", "PUT"]);
        });

        it("azure-email-invoicing:operationTimeout bounds a write that stays pending: OperationTimedOut naming the setting, recorded as possibly applied", async () => {
            server.handle((req, res) => {
                if (req.method === "GET" && (req.url ?? "").includes("/billingProfiles/")) {
                    res.writeHead(200, { "Content-Type": "application/json" });
                    return void res.end(JSON.stringify(profile("P", false)));
                }
                res.writeHead(202, { Location: `${server.url}/providers/Microsoft.Billing/operationResults/put?api-version=2024-04-01`, "Retry-After": "1" });
                res.end();
            });
            const err = await rejection((await provider({ "azure-email-invoicing:operationTimeout": "1s" })).create(inputs));
            expect(err.code).to.equal("OperationTimedOut");
            expect(err.message).to.include("did not complete within 1 s (the operation timeout)").and.include("raise azure-email-invoicing:operationTimeout");
            // Pulumi records the resource with the values found before the write, so a delete can restore them.
            expect(err.id).to.equal(PROFILE.id);
            expect(err.properties?.priorEnabled).to.equal(false);
            expect(server.requests.filter((r) => r.method === "PUT")).to.have.length(1);
        });
    });
});
