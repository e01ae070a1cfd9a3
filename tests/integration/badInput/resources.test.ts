/**
 * Bad resource inputs, through the dynamic provider as Pulumi's engine calls
 * it (configured from stack config against a real emulator): `check`
 * reports each problem on its property with the fix, and a handler called
 * with the same inputs anyway (`create`) refuses them with a ValidationError
 * before any request: the emulator's request log stays empty. The Pulumi CLI
 * shows the same failures in `pulumi preview` (tests/e2e/failures.test.ts).
 */
import { expect } from "chai";
import { ValidationError } from "../../../provider/errors";
import { host, resetHostState } from "../../../provider/resources/host";
import { SEED, startTestEmulator, type TestEmulator } from "../../support/emulator";

const OPS = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const JANE = SEED.users.jane.id;

interface Case {
    what: string;
    kind: "EmailInvoiceSetting" | "InvoiceManagerAssignment";
    inputs: Record<string, unknown>;
    property: string;
    /** The reason, which says how to fix it. */
    reason: RegExp;
}

const setting = (what: string, inputs: Record<string, unknown>, property: string, reason: RegExp): Case => ({ what, kind: "EmailInvoiceSetting", inputs: { ...OPS, enabled: true, ...inputs }, property, reason });
const manager = (what: string, inputs: Record<string, unknown>, property: string, reason: RegExp): Case => ({ what, kind: "InvoiceManagerAssignment", inputs: { ...OPS, ...inputs }, property, reason });

const CASES: Case[] = [
    setting("a misspelt input", { enabeld: false }, "enabeld", /is not an input of this resource: did you mean 'enabled'\?/),
    setting("an input of the other resource", { userEmailAddress: "jane@contoso.com" }, "userEmailAddress", /is not an input of this resource\. Its inputs are billingAccountName, billingProfileName, enabled, additionalRecipients/),
    setting("enabled as a string", { enabled: "yes" }, "enabled", /must be true \(send invoices by email\) or false/),
    setting("no enabled", { enabled: undefined }, "enabled", /must be true \(send invoices by email\) or false/),
    setting("recipients as one string", { additionalRecipients: "ap@contoso.com" }, "additionalRecipients", /must be a list of email addresses/),
    setting("a recipient with a line break", { additionalRecipients: ["ap@contoso.com\r\nBcc: x@evil.example"] }, "additionalRecipients", /additionalRecipients\[0\]: .*give exactly one address/),
    setting("two recipients in one entry", { additionalRecipients: ["ap@contoso.com, ar@contoso.com"] }, "additionalRecipients", /give exactly one address/),
    setting("101 recipients", { additionalRecipients: Array.from({ length: 101 }, (_, i) => `r${i}@contoso.com`) }, "additionalRecipients", /has more than 100 addresses; use a distribution list/),
    setting("a display name as profile name", { billingProfileName: "Contoso Operations Billing" }, "billingProfileName", /is not a billing profile name: use 1-128 letters, digits, '-' or '_'/),
    setting("a 10 KB all-digit account name", { billingAccountName: "1".repeat(10_000) }, "billingAccountName", /is longer than 128 characters, so it is not a billing account name/),
    setting("an account name with a path", { billingAccountName: "123/../456" }, "billingAccountName", /is not a billing account name: use the `name` of the account from `az billing account list`/),
    setting("an ARM id as profile name", { billingProfileName: `/providers/Microsoft.Billing/billingAccounts/${OPS.billingAccountName}/billingProfiles/${OPS.billingProfileName}` }, "billingProfileName", /not a display name or an ARM id/),
    manager("both an email and an object id", { userEmailAddress: "jane@contoso.com", principalId: JANE }, "principalId", /give either userEmailAddress or principalId, not both/),
    manager("neither an email nor an object id", {}, "userEmailAddress", /name the user: set userEmailAddress \(e\.g\. jane@contoso\.com\) or principalId/),
    manager("both null", { userEmailAddress: null, principalId: null }, "userEmailAddress", /name the user/),
    manager("a tenant without an object id", { userEmailAddress: "jane@contoso.com", principalTenantId: JANE }, "principalTenantId", /only applies with principalId/),
    manager("an object id that is not a GUID", { principalId: "1234" }, "principalId", /is not a GUID: use the 8-4-4-4-12 hexadecimal form/),
    manager("an email with a display name", { userEmailAddress: "Jane Doe <jane@contoso.com>" }, "userEmailAddress", /give exactly one address/),
    manager("an email without a domain", { userEmailAddress: "jane@" }, "userEmailAddress", /is not an email address: use the form name@domain\.tld/),
    manager("a misspelt tenant input", { principalId: JANE, principalTennantId: JANE }, "principalTennantId", /did you mean 'principalTenantId'\?/),
    manager("a role name input, which does not exist", { principalId: JANE, roleName: "Owner" }, "roleName", /is not an input of this resource\. Its inputs are/),
];

describe("bad resource inputs through the dynamic provider (check fails on the property; no request)", () => {
    let emu: TestEmulator;
    before(async () => {
        emu = await startTestEmulator();
    });
    after(async () => {
        resetHostState();
        await emu.close();
    });

    for (const c of CASES) {
        it(`${c.kind}: ${c.what}`, async () => {
            resetHostState();
            const provider = host(c.kind, 1);
            const config: Record<string, string> = { "azure-email-invoicing:endpoint": emu.url, "azure-email-invoicing:token": emu.token("alice") };
            await provider.configure({ config: { get: (k) => config[k] } });
            await emu.admin.clearRequests();
            const inputs = Object.fromEntries(Object.entries(c.inputs).filter(([, v]) => v !== undefined));
            const checked = await provider.check({}, inputs);
            const failure = checked.failures.find((f) => f.property === c.property);
            expect(failure, JSON.stringify(checked.failures)).to.not.equal(undefined);
            expect(failure!.reason).to.match(c.reason);
            // Called anyway, the handler refuses the same inputs before any request.
            const err = await provider.create(inputs).then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(err).to.be.instanceOf(ValidationError);
            expect((err as ValidationError).issues.map((i) => i.property)).to.include(c.property);
            expect(await emu.admin.requests(), "no request reached the emulator").to.deep.equal([]);
        });
    }
});
