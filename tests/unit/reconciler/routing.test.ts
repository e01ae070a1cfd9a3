import { expect } from "chai";
import { Routing, RoutingMap, RoutingOptions, mailboxProblem } from "../../../provider/reconciler/routing";

const A = { billingAccountName: "12345678", billingProfileName: "AB12-CD34-EF5-GH6" };
const B = { billingAccountName: "12345678", billingProfileName: "ZZ99-CD34-EF5-GH6" };

function routing(config: unknown, from: { fromFlag?: string; fromEnvironment?: string } = {}): Routing {
    const c = config as { defaults?: unknown; routing?: unknown };
    return new Routing({ defaults: c.defaults ? RoutingOptions.parse(c.defaults) : undefined, routing: c.routing ? RoutingMap.parse(c.routing) : undefined, ...from });
}

describe("reconciler routing (pure)", () => {
    it("a profile's entry replaces defaults key by key (lists replaced, not merged); the built-in default is Azure's rule in en-US", () => {
        const r = routing({
            defaults: { recipients: "additional-only", extraRecipients: ["d@contoso.com"], exclude: ["*@x.example"], locale: "sv-SE", replyTo: "ap@contoso.com" },
            routing: { [`${A.billingAccountName}/${A.billingProfileName.toLowerCase()}`]: { extraRecipients: ["a@contoso.com"], locale: "en-GB" } },
        });
        const a = r.forProfile(A);
        expect(a).to.deep.include({ recipients: "additional-only", extraRecipients: ["a@contoso.com"], exclude: ["*@x.example"], replyTo: "ap@contoso.com" });
        expect(a.locale.tag).to.equal("en-GB");
        const b = r.forProfile(B);
        expect(b).to.deep.include({ extraRecipients: ["d@contoso.com"] });
        expect(b.locale.tag).to.equal("sv-SE");
        const plain = routing({}).forProfile(A);
        expect(plain).to.deep.include({ recipients: "azure-rule", extraRecipients: [], exclude: [], from: undefined, replyTo: undefined });
        expect(plain.locale.tag).to.equal("en-US");
    });

    it("From: --from, then the profile's entry, then defaults, then INVOICE_MAIL_FROM", () => {
        const config = { defaults: { from: "defaults@contoso.com" }, routing: { [`${A.billingAccountName}/${A.billingProfileName}`]: { from: "Entry <entry@contoso.com>" } } };
        expect(routing(config, { fromFlag: "flag@contoso.com", fromEnvironment: "env@contoso.com" }).forProfile(A).from).to.equal("flag@contoso.com");
        expect(routing(config, { fromEnvironment: "env@contoso.com" }).forProfile(A).from).to.equal("Entry <entry@contoso.com>");
        expect(routing(config, { fromEnvironment: "env@contoso.com" }).forProfile(B).from).to.equal("defaults@contoso.com");
        expect(routing({}, { fromEnvironment: "env@contoso.com" }).forProfile(B).from).to.equal("env@contoso.com");
        expect(routing({ routing: config.routing }).hasDefaultFrom()).to.equal(false);
        expect(routing(config).hasDefaultFrom()).to.equal(true);
    });

    it("checks mailboxes as a header takes them", () => {
        expect(mailboxProblem("billing@contoso.com")).to.equal(undefined);
        expect(mailboxProblem('"Contoso Billing" <billing@contoso.com>')).to.equal(undefined);
        expect(mailboxProblem("Contoso <nope>")).to.match(/is not an address/);
        expect(mailboxProblem("a@b.com\r\nBcc: c@d.com")).to.match(/^contains a line break: give one address on one line, e\.g\. /);
    });
});
