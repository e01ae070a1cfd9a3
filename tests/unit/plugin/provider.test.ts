/**
 * The provider plugin's pure parts: the detailed diff it reports on top of
 * the handlers' verdict, provider configuration checks, resource types from
 * URNs, and the ARM ids `pulumi import` takes.
 */
import { expect } from "chai";
import { checkConfig, detailedDiff, diffConfig, kindOfUrn, PluginProvider } from "../../../provider/plugin/provider";
import { billingProfileRefFromId, roleAssignmentRefFromId, UNKNOWN } from "../../../provider/resources/common";
import * as setting from "../../../provider/resources/emailInvoiceSetting";
import * as assignment from "../../../provider/resources/invoiceManagerAssignment";

const ba = "8a9c2f4e-6b1d-4f3a-9c7e-2d5b8a1f4c6e:3e7b1d9a-5c2f-4a8e-b6d1-9f4c2a7e5b3d_2019-05-31";
const bp = "K7QM-4T2X-BG7-PGB";
const profileId = `/providers/Microsoft.Billing/billingAccounts/${ba}/billingProfiles/${bp}`;
const settingOuts = { billingAccountName: ba, billingProfileName: bp, enabled: true, additionalRecipients: ["ap@contoso.com", "b@contoso.com"] };
const urn = (type: string) => `urn:pulumi:dev::proj::azure-email-invoicing:index:${type}::name`;

describe("plugin: detailed diff", () => {
    it("names each recipient added (new index) and removed (old index), and a changed opt-in", () => {
        const news = setting.check({ ...settingOuts, enabled: false, additionalRecipients: ["AP@contoso.com", "c@contoso.com", "d@contoso.com"] }).inputs;
        const verdict = setting.diff(settingOuts, news);
        // Old: ap, b. New: ap, c, d. b (old [1]) gave way to c (new [1]); d is new at [2].
        expect(detailedDiff(settingOuts, news, verdict)).to.deep.equal({
            enabled: { kind: "update", replace: false },
            "additionalRecipients[1]": { kind: "update", replace: false },
            "additionalRecipients[2]": { kind: "add", replace: false },
        });
        const fewer = setting.check({ ...settingOuts, additionalRecipients: ["b@contoso.com"] }).inputs;
        expect(detailedDiff(settingOuts, fewer, setting.diff(settingOuts, fewer))).to.deep.equal({ "additionalRecipients[0]": { kind: "delete", replace: false } });
    });

    it("marks a profile change as replacing, and an unknown list as a change of the whole list", () => {
        const news = setting.check({ ...settingOuts, billingProfileName: "OTHER-1", additionalRecipients: [UNKNOWN] }).inputs;
        const verdict = setting.diff(settingOuts, news);
        expect(detailedDiff(settingOuts, news, verdict)).to.deep.equal({
            billingProfileName: { kind: "update", replace: true },
            additionalRecipients: { kind: "update", replace: false },
        });
    });

    it("reports nothing when nothing changed", () => {
        const news = setting.check({ ...settingOuts }).inputs;
        const verdict = setting.diff(settingOuts, news);
        expect(verdict.changes).to.equal(false);
        expect(detailedDiff(settingOuts, news, verdict)).to.deep.equal({});
    });

    it("an assignment given to another user replaces it, naming the input; the same user by object id updates in place", () => {
        const olds = {
            billingAccountName: ba,
            billingProfileName: bp,
            principalSource: "userEmailAddress",
            userEmailAddress: "jane@contoso.com",
            principalId: "8fda7f1a-08b0-426a-995d-82d7ba454615",
        };
        const other = assignment.check({ billingAccountName: ba, billingProfileName: bp, userEmailAddress: "victor@contoso.com" }).inputs;
        expect(detailedDiff(olds, other, assignment.diff(olds, other))).to.deep.equal({ userEmailAddress: { kind: "update", replace: true } });
        const byId = assignment.check({ billingAccountName: ba, billingProfileName: bp, principalId: "8FDA7F1A-08B0-426A-995D-82D7BA454615" }).inputs;
        expect(detailedDiff(olds, byId, assignment.diff(olds, byId))).to.deep.equal({ principalId: { kind: "update", replace: false } });
    });
});

describe("plugin: provider configuration", () => {
    it("accepts the emulator's endpoint with a token, and a real endpoint without one", () => {
        expect(checkConfig({ endpoint: "http://127.0.0.1:1234", token: "emu-alice" }, {})).to.deep.equal([]);
        expect(checkConfig({ endpoint: "https://management.usgovcloudapi.net" }, {})).to.deep.equal([]);
    });

    it("names the setting that is wrong, before any call", () => {
        const [f] = checkConfig({ endpoint: "http://billing.contoso.com" }, {});
        expect(f.property).to.equal("endpoint");
        expect(f.reason).to.include("must use https");
        const [g] = checkConfig({ endpoint: "http://127.0.0.1:1", token: "two words" }, {});
        expect(g.property).to.equal("token");
        expect(g.reason).to.include("whitespace");
    });

    it("checks the request limits as the dynamic provider reads them", () => {
        expect(checkConfig({ requestTimeout: "30s", operationTimeout: "20m", maxDocumentSize: "50MB", maxResponseSize: "8MiB" }, {})).to.deep.equal([]);
        const [f] = checkConfig({ requestTimeout: "soon" }, {});
        expect(f.property).to.equal("requestTimeout");
        expect(f.reason).to.include("is not a duration");
        expect(checkConfig({ maxDocumentSize: "25" }, {})[0].property).to.equal("maxDocumentSize");
        expect(checkConfig({ maxRequestsPerSecond: "12.5", requestBurst: "1" }, {})).to.deep.equal([]);
        expect(checkConfig({ maxRequestsPerSecond: "fast" }, {})[0].property).to.equal("maxRequestsPerSecond");
        expect(checkConfig({ requestBurst: "0" }, {})[0].property).to.equal("requestBurst");
    });

    it("leaves unknown settings (outputs of other resources, in preview) alone", () => {
        expect(checkConfig({ endpoint: UNKNOWN }, {})).to.deep.equal([]);
    });

    it("uses the environment where the settings leave a gap, as the dynamic provider does", () => {
        expect(checkConfig({ endpoint: "http://127.0.0.1:1" }, { AZURE_EMAIL_INVOICING_TOKEN: "emu-alice" })).to.deep.equal([]);
        expect(checkConfig({ endpoint: "http://127.0.0.1:1" }, {})[0].reason).to.include("no token is set");
    });

    it("a change of settings is a change, never a replacement; the engine's `version` is not a setting", () => {
        expect(diffConfig({ endpoint: "https://a", version: "0.1.0" }, { endpoint: "https://b" })).to.deep.equal({ changes: true, changed: ["endpoint"] });
        expect(diffConfig({ token: "x", version: "0.1.0" }, { token: "x" })).to.deep.equal({ changes: false, changed: [] });
    });

    it("configure keeps one client per set of settings", () => {
        const p = new PluginProvider({});
        p.configure((k) => ({ "azure-email-invoicing:endpoint": "http://127.0.0.1:9", "azure-email-invoicing:token": "emu-alice" })[k]);
        const first = (p as unknown as { billing(): unknown }).billing();
        p.configure((k) => ({ "azure-email-invoicing:endpoint": "http://127.0.0.1:9", "azure-email-invoicing:token": "emu-alice" })[k]);
        expect((p as unknown as { billing(): unknown }).billing()).to.equal(first);
        p.configure((k) => ({ "azure-email-invoicing:endpoint": "http://127.0.0.1:10", "azure-email-invoicing:token": "emu-alice" })[k]);
        expect((p as unknown as { billing(): unknown }).billing()).to.not.equal(first);
    });
});

describe("plugin: resource types and import ids", () => {
    it("finds the resource kind in a URN, also under a parent's type", () => {
        expect(kindOfUrn(urn("EmailInvoiceSetting"))).to.equal("EmailInvoiceSetting");
        expect(kindOfUrn("urn:pulumi:dev::proj::my:component$azure-email-invoicing:index:InvoiceManagerAssignment::x")).to.equal("InvoiceManagerAssignment");
        expect(() => kindOfUrn(urn("Other"))).to.throw("has no resource type 'azure-email-invoicing:index:Other'");
    });

    it("reads a billing profile's ARM id, in any case, with or without a trailing slash", () => {
        expect(billingProfileRefFromId(profileId, "EmailInvoiceSetting")).to.deep.equal({ billingAccountName: ba, billingProfileName: bp });
        expect(billingProfileRefFromId(`${profileId.toLowerCase().replace(bp.toLowerCase(), bp)}/`, "EmailInvoiceSetting").billingProfileName).to.equal(bp);
    });

    it("refuses what is not a profile's ARM id, saying what it must be", () => {
        for (const bad of [bp, `${profileId}/billingRoleAssignments/x`, "/providers/Microsoft.Billing/billingAccounts/not an account/billingProfiles/x"]) {
            expect(() => billingProfileRefFromId(bad, "EmailInvoiceSetting"), bad).to.throw("the id must be the billing profile's ARM id");
        }
    });

    it("reads a billing role assignment's ARM id", () => {
        const name = "40000000-aaaa-bbbb-cccc-100000000004_8fda7f1a-08b0-426a-995d-82d7ba454615";
        expect(roleAssignmentRefFromId(`${profileId}/billingRoleAssignments/${name}`, "InvoiceManagerAssignment")).to.deep.equal({
            billingAccountName: ba,
            billingProfileName: bp,
            billingRoleAssignmentName: name,
        });
        expect(() => roleAssignmentRefFromId(`${profileId}/billingRoleAssignments/jane`, "InvoiceManagerAssignment")).to.throw("billing role assignment's ARM id");
        expect(() => roleAssignmentRefFromId(profileId, "InvoiceManagerAssignment")).to.throw("billing role assignment's ARM id");
    });
});
