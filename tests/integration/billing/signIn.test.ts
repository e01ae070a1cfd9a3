/**
 * Signing in with Azure's own DefaultAzureCredential against a managed
 * identity endpoint of the tests' own (App Service style: IDENTITY_ENDPOINT
 * and IDENTITY_HEADER), which never answers or refuses. The sign-in is
 * bounded by the request timeout, its failure says it was the sign-in (not
 * "could not reach" the service), nothing is sent to ARM without a token, and
 * the reconciler's process ends on its own although the credential's request
 * is still open.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createBillingClient } from "../../../provider/billing/client";
import { resolveSettings } from "../../../provider/config";
import { LINGER_MS } from "../../../cli/main";
import { startSmtpSink, type SmtpSink } from "../../../cli/smtp-sink";
import { azureFailure, startHostileServer, type HostileServer } from "../../support/hostile";
import { FROM, killSpawned, spawnCli } from "../reconciler/world";

const REF = { billingAccountName: "12345678", billingProfileName: "BP-1" };

/** A port on loopback that nothing listens on: a request that reached ARM would fail there with ConnectionFailed. */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/** The environment DefaultAzureCredential reads, pointed at `identity` alone. */
function identityEnv(identity: HostileServer): Record<string, string> {
    return { IDENTITY_ENDPOINT: `${identity.url}/msi/token`, IDENTITY_HEADER: "test-header" };
}


describe("signing in with DefaultAzureCredential", function () {
    let identity: HostileServer;
    let arm: string;
    let saved: NodeJS.ProcessEnv;

    // One identity endpoint for the suite: Azure identity (MSAL) keeps the managed identity endpoint it found for the process.
    before(async () => {
        identity = await startHostileServer();
        arm = `https://127.0.0.1:${await closedPort()}`;
        // DefaultAzureCredential reads the process environment: only the test's identity endpoint.
        saved = { ...process.env };
        for (const k of Object.keys(process.env)) if (/^(AZURE_|IDENTITY_|MSI_)/.test(k)) delete process.env[k];
        Object.assign(process.env, identityEnv(identity));
    });
    after(async () => {
        // Key by key: process.env itself must stay the process's environment, not become a plain object.
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
        await identity.close();
    });
    let seen: number;
    beforeEach(() => {
        identity.handle(() => undefined);
        seen = identity.requests.length;
    });
    afterEach(() => killSpawned());
    const asked = () => identity.requests.slice(seen);

    const client = (requestTimeoutInMs: number) => createBillingClient(resolveSettings({ explicit: { endpoint: arm }, limits: { requestTimeoutInMs } }));

    it("an identity endpoint that never answers: SignInTimeout at the request timeout, naming the credential and the setting, and nothing sent to ARM", async () => {
        const started = Date.now();
        const err = await azureFailure(client(800).getBillingProfile(REF));
        const took = Date.now() - started;
        expect(err.code, err.message).to.equal("SignInTimeout");
        expect(err.status).to.equal(0);
        expect(err.operation).to.equal("getBillingProfile");
        expect(err.message)
            .to.include(`signing in for ${arm}/.default with DefaultAzureCredential gave no token within 800 ms (the request timeout)`)
            .and.include("AZURE_EMAIL_INVOICING_TOKEN")
            .and.include("azure-email-invoicing:requestTimeout");
        // The credential did ask the identity endpoint, for ARM's audience.
        expect(asked()).to.have.length.greaterThan(0);
        expect(decodeURIComponent(asked()[0]!.url)).to.include(`resource=${arm}`);
        expect(asked()[0]!.headers["x-identity-header"]).to.equal("test-header");
        // Bounded by the limit, not by anything of Azure identity's own.
        expect(took).to.be.at.least(800).and.below(5000);
    });

    it("Graph signs in for its own audience: with a static ARM token and Graph elsewhere, the SignInTimeout names Graph's scope and Graph's token setting", async () => {
        const graph = `https://127.0.0.1:${await closedPort()}`;
        const c = createBillingClient(resolveSettings({ explicit: { endpoint: arm, graphEndpoint: graph, token: "static-arm-token" }, limits: { requestTimeoutInMs: 800 } }));
        const err = await azureFailure(c.getGraphUser("alice@contoso.com"));
        expect(err.code, err.message).to.equal("SignInTimeout");
        expect(err.operation).to.equal("getGraphUser");
        expect(err.message)
            .to.include(`signing in for ${graph}/.default with DefaultAzureCredential gave no token within 800 ms`)
            .and.include("AZURE_EMAIL_INVOICING_GRAPH_TOKEN or azure-email-invoicing:graphToken");
        expect(decodeURIComponent(asked()[0]!.url)).to.include(`resource=${graph}`);
    });

    it("an identity endpoint that refuses: SignInFailed with Azure identity's reason, not 'could not reach' ARM", async () => {
        identity.handle((_req, res) => {
            res.writeHead(400, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ error: "invalid_request", error_description: "no managed identity here" }));
        });
        const err = await azureFailure(client(10_000).getBillingProfile(REF));
        expect(err.code, err.message).to.equal("SignInFailed");
        expect(err.message).to.include(`signing in for ${arm}/.default with DefaultAzureCredential failed`).and.include("no managed identity here");
        expect(err.message).to.not.include("could not reach");
        expect(asked()).to.have.length.greaterThan(0);
    });

    describe("the reconciler's process", () => {
        let sink: SmtpSink;
        let dir: string;
        beforeEach(async () => {
            sink = await startSmtpSink({ keep: true });
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-signin-"));
        });
        afterEach(async () => {
            await sink.close();
            fs.rmSync(dir, { recursive: true, force: true });
        });

        it("ends on its own with the SignInTimeout, although the credential's request to the identity endpoint is still open", async () => {
            const started = Date.now();
            const child = spawnCli(["reconcile", "--since", "2000-01-01", "--ledger", path.join(dir, "ledger.sqlite"), "--request-timeout", "1s"], {
                PATH: process.env.PATH ?? "",
                AZURE_EMAIL_INVOICING_ENDPOINT: arm,
                SMTP_URL: sink.url,
                INVOICE_MAIL_FROM: FROM,
                ...identityEnv(identity),
            });
            const { code, signal } = await child.exited;
            const took = Date.now() - started;
            expect(signal, child.output()).to.equal(null);
            expect(code, child.output()).to.equal(1);
            expect(child.output()).to.include("listBillingAccounts failed: SignInTimeout").and.include("--request-timeout");
            // The identity endpoint still holds the credential's request open: only the linger limit ended the process.
            expect(asked()).to.have.length.greaterThan(0);
            expect(took).to.be.at.least(LINGER_MS).and.below(LINGER_MS + 15_000);
            expect(sink.messages).to.have.length(0);
        });
    });
});
