import { expect } from "chai";
import { resolveSettings, settingsFromEnvironment, settingsFromStackConfig, describeSettings, DEFAULT_ARM_ENDPOINT, DEFAULT_GRAPH_ENDPOINT } from "../../../provider/config";
import { formatByteSize, formatDuration, parseByteSize, parseDuration } from "../../../provider/units";
import { ConfigurationError } from "../../../provider/errors";

describe("settings precedence", () => {
    const env = settingsFromEnvironment({
        AZURE_EMAIL_INVOICING_ENDPOINT: "http://127.0.0.1:1111",
        AZURE_EMAIL_INVOICING_TOKEN: "env-token",
    });
    const stack = settingsFromStackConfig((k) => ({ "azure-email-invoicing:endpoint": "http://127.0.0.1:2222", "azure-email-invoicing:token": "stack-token" })[k]);

    it("defaults to real ARM and Graph with DefaultAzureCredential", () => {
        const s = resolveSettings({});
        expect(s.endpoint).to.equal(DEFAULT_ARM_ENDPOINT);
        expect(s.graphEndpoint).to.equal(DEFAULT_GRAPH_ENDPOINT);
        expect(s.credential).to.deep.equal({ kind: "azure" });
        expect(s.graphCredential).to.deep.equal({ kind: "azure" });
        expect(s.sources).to.deep.include({ endpoint: "default", graphEndpoint: "default", credential: "default", graphCredential: "default" });
    });

    it("environment < stack config < explicit", () => {
        expect(resolveSettings({ env }).endpoint).to.equal("http://127.0.0.1:1111");
        expect(resolveSettings({ env, stack }).endpoint).to.equal("http://127.0.0.1:2222");
        expect(resolveSettings({ env, stack }).credential).to.deep.equal({ kind: "token", token: "stack-token" });
        const s = resolveSettings({ env, stack, explicit: { endpoint: "https://management.usgovcloudapi.net/" } });
        expect(s.endpoint).to.equal("https://management.usgovcloudapi.net");
        expect(s.sources.endpoint).to.equal("explicit");
        expect(s.credential).to.deep.equal({ kind: "token", token: "stack-token" });
    });

    it("a loopback emulator serves Graph too unless told otherwise", () => {
        expect(resolveSettings({ env }).graphEndpoint).to.equal("http://127.0.0.1:1111");
        expect(resolveSettings({ explicit: { endpoint: "https://management.azure.com", token: "t" } }).graphEndpoint).to.equal(DEFAULT_GRAPH_ENDPOINT);
    });

    it("never sends an ARM token to Graph: Graph gets its own token, the same one only on the emulator's origin", () => {
        const emulator = resolveSettings({ env });
        expect(emulator.graphCredential).to.deep.equal({ kind: "token", token: "env-token" });
        const real = resolveSettings({ explicit: { token: "arm-only" } });
        expect(real.credential).to.deep.equal({ kind: "token", token: "arm-only" });
        expect(real.graphCredential).to.deep.equal({ kind: "azure" });
        const both = resolveSettings({ explicit: { token: "arm-only" }, env: settingsFromEnvironment({ AZURE_EMAIL_INVOICING_GRAPH_TOKEN: "graph-only" }) });
        expect(both.graphCredential).to.deep.equal({ kind: "token", token: "graph-only" });
        expect(both.sources.graphCredential).to.equal("environment");
        // An emulator Graph on another origin needs its own token.
        expect(() => resolveSettings({ explicit: { endpoint: "http://127.0.0.1:1", graphEndpoint: "http://127.0.0.1:2", token: "t" } })).to.throw(
            ConfigurationError,
            /AZURE_EMAIL_INVOICING_GRAPH_TOKEN/,
        );
    });

    it("never prints credentials given inside an endpoint URL", () => {
        const err = (() => {
            try {
                resolveSettings({ env: { endpoint: "https://admin:S3cr3tP4ss@management.azure.com" } });
            } catch (e) {
                return e as Error;
            }
        })();
        expect(err).to.be.instanceOf(ConfigurationError);
        expect(err!.message).to.include("without credentials");
        expect(err!.message).to.not.include("S3cr3tP4ss");
        expect(() => resolveSettings({ env: { endpoint: "ftp://u:S3cr3t@host" } })).to.throw(ConfigurationError).with.property("message").that.does.not.include("S3cr3t");
    });

    it("refuses plain http off loopback, URLs with credentials, and bad tokens, naming the setting", () => {
        expect(() => resolveSettings({ env: { endpoint: "http://billing.example.com", token: "t" } })).to.throw(ConfigurationError, /AZURE_EMAIL_INVOICING_ENDPOINT.*https/);
        expect(() => resolveSettings({ stack: { endpoint: "https://user:pw@management.azure.com" } })).to.throw(ConfigurationError, /azure-email-invoicing:endpoint/);
        expect(() => resolveSettings({ explicit: { endpoint: "not a url" } })).to.throw(ConfigurationError, /not a URL/);
        expect(() => resolveSettings({ env: { token: "two words" } })).to.throw(ConfigurationError, /AZURE_EMAIL_INVOICING_TOKEN/);
        expect(() => resolveSettings({ env: { endpoint: "http://127.0.0.1:9" } })).to.throw(ConfigurationError, /no token/);
    });

    it("checks a token is visible ASCII when the settings are read (RFC 6750), without printing it", () => {
        for (const [token, what] of [
            ["emu-alice\u2603", "a character that is not ASCII at position 10"],
            ["emu-\u0007alice", "a control character at position 5"],
            ["emu-alice\u00a0", "whitespace or a line break at position 10"],
            ["emu alice", "whitespace or a line break at position 4"],
        ]) {
            expect(() => resolveSettings({ env: settingsFromEnvironment({ AZURE_EMAIL_INVOICING_TOKEN: token }) }), JSON.stringify(token))
                .to.throw(ConfigurationError, `AZURE_EMAIL_INVOICING_TOKEN: contains ${what}: a bearer token is visible ASCII only (RFC 6750); paste the token alone`)
                .with.property("message")
                .that.does.not.include("alice");
        }
        expect(() => resolveSettings({ stack: { graphToken: "x\u00e9" } })).to.throw(ConfigurationError, /^azure-email-invoicing:graphToken: contains a character that is not ASCII at position 2/);
        expect(resolveSettings({ env: { token: "eyJ0eXAi.eyJhdWQi-_~+/=" } }).credential).to.deep.equal({ kind: "token", token: "eyJ0eXAi.eyJhdWQi-_~+/=" });
    });

    it("says that file: and other non-http URLs are not supported, instead of quoting their 'null' origin", () => {
        for (const value of ["file:///etc/azure", "data:text/plain,x", "ftp://management.example.com"]) {
            expect(() => resolveSettings({ env: { endpoint: value, token: "t" } }), value)
                .to.throw(ConfigurationError, /^AZURE_EMAIL_INVOICING_ENDPOINT: (file|data|ftp): URLs are not supported: use an https URL/)
                .with.property("message")
                .that.does.not.include("null");
        }
        expect(() => resolveSettings({ stack: { graphEndpoint: "file:///x" }, env: { token: "t" } })).to.throw(ConfigurationError, /^azure-email-invoicing:graphEndpoint: file: URLs are not supported/);
    });

    it("never prints the token", () => {
        const s = resolveSettings({ env, stack });
        expect(describeSettings(s)).to.not.include("stack-token");
        expect(describeSettings(s)).to.include("credential: static bearer token (stack)");
    });
});

describe("client settings: time and size limits", () => {
    it("default to 60 s per request, 30 s idle, 15 min per operation, 25 MB documents, 32 MB JSON bodies and ARM's read bucket (25/s, 250)", () => {
        expect(resolveSettings({}).limits).to.deep.equal({
            requestTimeoutInMs: 60_000,
            bodyIdleTimeoutInMs: 30_000,
            operationTimeoutInMs: 900_000,
            maxDocumentBytes: 25_000_000,
            maxResponseBytes: 32_000_000,
            maxPages: 10_000,
            maxRequestsPerSecond: 25,
            requestBurst: 250,
        });
    });

    it("come from explicit options > stack config > environment, each named as its source spells it", () => {
        const env = settingsFromEnvironment({
            AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT: "5s",
            AZURE_EMAIL_INVOICING_OPERATION_TIMEOUT: "2m",
            AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE: "10MB",
            AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE: "8MiB",
            AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: "12.5",
            AZURE_EMAIL_INVOICING_REQUEST_BURST: "40",
        });
        const stack = settingsFromStackConfig(
            (k) => ({ "azure-email-invoicing:requestTimeout": "7s", "azure-email-invoicing:maxDocumentSize": "1.5MB", "azure-email-invoicing:requestBurst": "1" })[k],
        );
        const s = resolveSettings({ env, stack, explicit: { operationTimeout: "1h" } });
        expect(s.limits).to.deep.equal({
            requestTimeoutInMs: 7000,
            bodyIdleTimeoutInMs: 7000,
            operationTimeoutInMs: 3_600_000,
            maxDocumentBytes: 1_500_000,
            maxResponseBytes: 8 * 1024 * 1024,
            maxPages: 10_000,
            maxRequestsPerSecond: 12.5,
            requestBurst: 1,
        });
        expect(s.sources.limits.requestTimeout).to.equal("azure-email-invoicing:requestTimeout");
        expect(s.sources.limits.maxResponseSize).to.equal("AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE");
        expect(s.sources.limits.maxRequestsPerSecond).to.equal("AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND");
        expect(s.sources.limits.requestBurst).to.equal("azure-email-invoicing:requestBurst");
        expect(describeSettings(s)).to.include("limits: request 7 s, operation 1 h, document 1.5 MB, JSON body 8.4 MB, ARM 12.5 requests/s (burst 1)");
    });

    it("refuse a malformed or out-of-range value, naming the setting and the form to use", () => {
        const cases: Array<[Record<string, string>, RegExp]> = [
            [{ AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT: "60" }, /^AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT: '60' is not a duration such as 30s, 5m or 1h$/],
            [{ AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT: "10ms" }, /AZURE_EMAIL_INVOICING_REQUEST_TIMEOUT: '10ms' is outside 100 ms to 1 h/],
            [{ AZURE_EMAIL_INVOICING_OPERATION_TIMEOUT: "forever" }, /AZURE_EMAIL_INVOICING_OPERATION_TIMEOUT: 'forever' is not a duration/],
            [{ AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE: "25" }, /AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE: '25' is not a size such as 25MB or 32MiB \(MB = 10\^6 bytes, MiB = 2\^20\)/],
            [{ AZURE_EMAIL_INVOICING_MAX_DOCUMENT_SIZE: "25 MBs" }, /is not a size/],
            [{ AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE: "2GB" }, /AZURE_EMAIL_INVOICING_MAX_RESPONSE_SIZE: '2GB' is outside 1 kB to 1 GB/],
            [{ AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: "25/s" }, /^AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: '25\/s' is not a number of requests per second such as 25 or 12.5$/],
            [{ AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: "0" }, /AZURE_EMAIL_INVOICING_MAX_REQUESTS_PER_SECOND: '0' is outside 0.1 to 100000/],
            [{ AZURE_EMAIL_INVOICING_REQUEST_BURST: "2.5" }, /^AZURE_EMAIL_INVOICING_REQUEST_BURST: '2.5' is not a whole number such as 250$/],
            [{ AZURE_EMAIL_INVOICING_REQUEST_BURST: "0" }, /AZURE_EMAIL_INVOICING_REQUEST_BURST: '0' is outside 1 to 100000/],
        ];
        for (const [vars, message] of cases) {
            expect(() => resolveSettings({ env: settingsFromEnvironment(vars) }), JSON.stringify(vars)).to.throw(ConfigurationError, message);
        }
        expect(() => resolveSettings({ stack: { operationTimeout: "0s" } })).to.throw(ConfigurationError, /^azure-email-invoicing:operationTimeout: '0s' is outside 1 s to 24 h$/);
    });
});

describe("units (pure)", () => {
    it("reads sizes in decimal MB and binary MiB, and durations with a unit", () => {
        expect(parseByteSize("25MB")).to.equal(25_000_000);
        expect(parseByteSize("25 mb")).to.equal(25_000_000);
        expect(parseByteSize("32MiB")).to.equal(33_554_432);
        expect(parseByteSize("1.5GB")).to.equal(1_500_000_000);
        expect(parseByteSize("512kB")).to.equal(512_000);
        expect(parseByteSize("512KiB")).to.equal(524_288);
        expect(parseByteSize("100B")).to.equal(100);
        for (const bad of ["25", "MB", "-1MB", "25 M", "1e3MB", "25MBB", ""]) expect(parseByteSize(bad), bad).to.equal(undefined);
        expect(parseDuration("1.5s")).to.equal(1500);
        expect(parseDuration("15m")).to.equal(900_000);
        expect(parseDuration("60")).to.equal(undefined);
        expect(formatByteSize(25_000_000)).to.equal("25 MB");
        expect(formatDuration(900_000)).to.equal("15 min");
    });
});
