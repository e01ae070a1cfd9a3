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
        expect(s.sources).to.deep.equal({ endpoint: "default", graphEndpoint: "default", credential: "default" });
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
        expect(describeSettings(s)).to.include("static bearer token (stack)");
    });
});
