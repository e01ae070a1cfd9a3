import { expect } from "chai";
import * as setting from "../../../provider/resources/emailInvoiceSetting";
import { UNKNOWN } from "../../../provider/resources/common";

const BA = "10000000-0000-0000-0000-000000000001:20000000-0000-0000-0000-000000000001_2019-05-31";
const BP = "ENGR-1111-BP1-AAA";

describe("EmailInvoiceSetting check", () => {
    it("normalises recipients: trim, lower-case, de-duplicate, sort", () => {
        const { inputs, failures } = setting.check({
            billingAccountName: BA,
            billingProfileName: BP,
            enabled: true,
            additionalRecipients: [" Zed@Contoso.com", "ap@contoso.com", "AP@contoso.com "],
        });
        expect(failures).to.deep.equal([]);
        expect(inputs.additionalRecipients).to.deep.equal(["ap@contoso.com", "zed@contoso.com"]);
    });

    it("defaults recipients to an empty list", () => {
        const { inputs, failures } = setting.check({ billingAccountName: BA, billingProfileName: BP, enabled: false });
        expect(failures).to.deep.equal([]);
        expect(inputs.additionalRecipients).to.deep.equal([]);
    });

    it("rejects a misspelt input instead of ignoring it, naming the property meant", () => {
        const { failures } = setting.check({ billingAccountName: BA, billingProfileName: BP, enabled: true, enabeld: false, additionalRecipient: ["ap@contoso.com"], __defaults: [], billingProfileId: undefined });
        expect(failures.map((f) => [f.property, /did you mean '(\w+)'/.exec(f.reason)?.[1]])).to.deep.equal([
            ["enabeld", "enabled"],
            ["additionalRecipient", "additionalRecipients"],
        ]);
    });

    it("takes null as absent: additionalRecipients: null is the default empty list", () => {
        const { inputs, failures } = setting.check({ billingAccountName: BA, billingProfileName: BP, enabled: true, additionalRecipients: null });
        expect(failures).to.deep.equal([]);
        expect(inputs.additionalRecipients).to.deep.equal([]);
    });

    it("caps the billing account name: a 10 KB all-digit name is refused (Microsoft's pattern alone has no length)", () => {
        const { failures } = setting.check({ billingAccountName: "1".repeat(10_000), billingProfileName: BP, enabled: true });
        expect(failures).to.deep.equal([
            { property: "billingAccountName", reason: "is longer than 128 characters, so it is not a billing account name: use the `name` of the account from `az billing account list`" },
        ]);
    });

    it("reports each bad property without throwing", () => {
        const { failures } = setting.check({
            billingAccountName: "not/an/account",
            billingProfileName: "has space",
            enabled: "yes",
            additionalRecipients: ["ok@contoso.com", "bad\r\nBcc: x@evil.com", "no-domain"],
        });
        const props = failures.map((f) => f.property).sort();
        // Reported on top-level properties (Pulumi looks failures up by top-level key), the element leading the reason.
        expect(props).to.deep.equal(["additionalRecipients", "additionalRecipients", "billingAccountName", "billingProfileName", "enabled"]);
        const profile = failures.find((f) => f.property === "billingProfileName")!;
        expect(profile.reason).to.match(/billing profile name/);
        const recipients = failures.filter((f) => f.property === "additionalRecipients").map((f) => f.reason);
        expect(recipients[0]).to.match(/^additionalRecipients\[1\]: .*line break/);
        expect(recipients[1]).to.match(/^additionalRecipients\[2\]: .*not an email address/);
    });

    it("lets unknown values through during preview", () => {
        const { inputs, failures } = setting.check({
            billingAccountName: UNKNOWN,
            billingProfileName: BP,
            enabled: UNKNOWN,
            additionalRecipients: ["ap@contoso.com", UNKNOWN],
        });
        expect(failures).to.deep.equal([]);
        expect(inputs.billingAccountName).to.equal(UNKNOWN);
        expect(inputs.enabled).to.equal(UNKNOWN);
        expect(inputs.additionalRecipients).to.deep.equal(["ap@contoso.com", UNKNOWN]);
    });
});

describe("EmailInvoiceSetting diff", () => {
    const olds = {
        billingAccountName: BA,
        billingProfileName: BP,
        enabled: true,
        additionalRecipients: ["ap@contoso.com"],
        priorEnabled: false,
        priorAdditionalRecipients: [],
    };

    it("reports no change for the same values (names compared case-insensitively)", () => {
        const d = setting.diff(olds, { billingAccountName: BA, billingProfileName: BP.toLowerCase(), enabled: true, additionalRecipients: ["AP@contoso.com"] });
        expect(d).to.deep.equal({ changes: false, replaces: [], changed: [] });
    });

    it("updates in place for the opt-in and recipients", () => {
        expect(setting.diff(olds, { ...olds, enabled: false })).to.deep.include({ changes: true, replaces: [], changed: ["enabled"] });
        expect(setting.diff(olds, { ...olds, additionalRecipients: [] })).to.deep.include({ changes: true, replaces: [], changed: ["additionalRecipients"] });
    });

    it("replaces when the account or profile changes", () => {
        const d = setting.diff(olds, { ...olds, billingProfileName: "FINC-2222-BP2-BBB" });
        expect(d.replaces).to.deep.equal(["billingProfileName"]);
    });

    it("serves refresh: live outputs against the old inputs name the drifted property", () => {
        const live = { ...olds, enabled: false };
        const oldInputs = { billingAccountName: BA, billingProfileName: BP, enabled: true, additionalRecipients: ["ap@contoso.com"] };
        expect(setting.diff(live, oldInputs).changed).to.deep.equal(["enabled"]);
        const liveRecipients = { ...olds, additionalRecipients: ["ap@contoso.com", "mallory@contoso.com"] };
        expect(setting.diff(liveRecipients, oldInputs).changed).to.deep.equal(["additionalRecipients"]);
    });

    it("treats unknown values as changes, and an unknown profile as a replace", () => {
        expect(setting.diff(olds, { ...olds, enabled: UNKNOWN }).changed).to.deep.equal(["enabled"]);
        expect(setting.diff(olds, { ...olds, billingProfileName: UNKNOWN }).replaces).to.deep.equal(["billingProfileName"]);
        expect(setting.diff(olds, { ...olds, additionalRecipients: [UNKNOWN] }).changed).to.deep.equal(["additionalRecipients"]);
    });
});

describe("EmailInvoiceSetting state migration", () => {
    it("fills fields that older state did not record", () => {
        const out = setting.migrateOutputs({
            billingAccountName: BA,
            billingProfileName: BP,
            enabled: true,
            billingProfileId: "/providers/Microsoft.Billing/billingAccounts/x/billingProfiles/y",
        });
        expect(out.priorEnabled).to.equal(false);
        expect(out.priorAdditionalRecipients).to.deep.equal([]);
        expect(out.additionalRecipients).to.deep.equal([]);
    });
});
