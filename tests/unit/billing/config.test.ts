import { expect } from "chai";
import { resolveSettings, settingsFromEnvironment, settingsFromStackConfig, describeSettings, DEFAULT_ARM_ENDPOINT, DEFAULT_GRAPH_ENDPOINT } from "../../../provider/config";
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
        expect(s.sources).to.deep.equal({ endpoint: "default", graphEndpoint: "default", credential: "default", graphCredential: "default" });
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

    it("never prints the token", () => {
        const s = resolveSettings({ env, stack });
        expect(describeSettings(s)).to.not.include("stack-token");
        expect(describeSettings(s)).to.include("credential: static bearer token (stack)");
    });
});
