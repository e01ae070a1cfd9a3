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
import { drip, startHostileServer, writeLarge, type HostileServer } from "../../support/hostile";

const BA = "12345678";
const REF = { billingAccountName: BA, billingProfileName: "BP-1" };
const PROFILE = { id: `/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles/BP-1`, name: "BP-1", properties: { displayName: "P" } };
const MB = 1_000_000;

async function failure(p: Promise<unknown>): Promise<AzureApiError> {
    const err = await p.then(
        () => undefined,
        (e: unknown) => e,
    );
    expect(err, "expected an AzureApiError").to.be.instanceOf(AzureApiError);
    return err as AzureApiError;
}

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
            const err = await failure(client().getBillingProfile(REF));
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
            const err = await failure(client({ requestTimeoutInMs: 500, bodyIdleTimeoutInMs: 200 }, { maxRetries: 1 }).getBillingProfile(REF));
            expect(err.code).to.equal("RequestTimeout");
            expect(err.message).to.include("within 500 ms (the request timeout)").and.include("in each of 2 attempts");
            expect(server.requests).to.have.length(2);
        });

        it("a server that stalls in the middle of a body is cut off at the idle limit", async () => {
            server.handle((_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.write('{"id":');
            });
            const err = await failure(client({ requestTimeoutInMs: 5000, bodyIdleTimeoutInMs: 200 }, { maxRetries: 0 }).getBillingProfile(REF));
            expect(err.code).to.equal("RequestTimeout");
            expect(err.message).to.include("sent nothing for 200 ms in the middle of an answer (the idle limit)").and.include("in the only attempt");
        });

        it("a document link that never answers ends the same way", async () => {
            server.handle(() => undefined);
            const err = await failure(client({}, { maxRetries: 0 }).fetchDocument(`${server.url}/_blob/doc.pdf`));
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
            const err = await failure(client({ operationTimeoutInMs: 600 }).requestInvoiceDownload(BA, "G123456789"));
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
            const err = await failure(client({ requestTimeoutInMs: 20_000, bodyIdleTimeoutInMs: 20_000, operationTimeoutInMs: 500 }).requestInvoiceDownload(BA, "G123456789"));
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
                const err = await failure(client({ maxResponseBytes: 1 * MB, requestTimeoutInMs: 20_000, bodyIdleTimeoutInMs: 20_000 }).listInvoices(REF, { periodStartDate: "2024-01-01", periodEndDate: "2024-02-01" }));
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
                const err = await failure(client({ maxDocumentBytes: 2 * MB, requestTimeoutInMs: 20_000, bodyIdleTimeoutInMs: 20_000 }).fetchDocument(`${server.url}/_blob/doc.pdf`));
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
            const err = await failure(client().requestInvoiceDownload(BA, "G123456789"));
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
            const err = await failure(client().listBillingProfiles(BA));
            expect(err.message).to.include(`nextLink points at ${foreign.url}`);
            expect(foreign.requests).to.deep.equal([]);
        });

        it("a list that pages forever stops at the page cap, saying so", async () => {
            server.handle((req, res) => {
                const page = Number(new URL(req.url ?? "/", server.url).searchParams.get("page") ?? 1);
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ value: [PROFILE], nextLink: `${server.url}/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles?api-version=2024-04-01&page=${page + 1}` }));
            });
            const err = await failure(client({ maxPages: 5 }).listBillingProfiles(BA));
            expect(err.message).to.include("the list has more than 5 pages; refusing to read further").and.not.include("loops");
            expect(server.requests).to.have.length(5);
        });

        it("a nextLink back to a page already read is a loop, saying so", async () => {
            server.handle((_req, res) => {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ value: [PROFILE], nextLink: `${server.url}/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles?api-version=2024-04-01&page=2` }));
            });
            const err = await failure(client().listBillingProfiles(BA));
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
            const err = await failure(client().downloadInvoicePdf({ billingAccountName: BA, invoiceName: "G123456789" }));
            expect(err.code).to.equal("InvalidDocument");
            expect(err.message).to.include("the document of invoice G123456789 is not a PDF").and.include("<html>");
        });
    });
});
