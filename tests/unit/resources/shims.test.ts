import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { emailInvoiceSettingProvider, invoiceManagerAssignmentProvider } from "../../../sdk/shims";

const requireFromString: (code: string) => { handler(): unknown } = require("require-from-string");

describe("serialized provider shims", () => {
    const providers = { EmailInvoiceSetting: emailInvoiceSettingProvider, InvoiceManagerAssignment: invoiceManagerAssignmentProvider };
    const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.secret-token";

    before(() => {
        // A token in the environment and in module state must not end up in the text.
        process.env.AZURE_EMAIL_INVOICING_TOKEN = token;
    });
    after(() => {
        delete process.env.AZURE_EMAIL_INVOICING_TOKEN;
    });

    for (const [kind, provider] of Object.entries(providers)) {
        it(`${kind}: is small, captures nothing but its kind, and loads the implementation by package name`, async () => {
            const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
            expect(sf.text.length, sf.text).to.be.lessThan(4096);
            expect(sf.text).to.not.include(token);
            expect(sf.text).to.include(`require("azure-email-invoicing/dynamic")`);
            expect(sf.text).to.include(kind);
            // Nothing of zod, the client or Pulumi's runtime is captured.
            for (const word of ["zod", "ZodObject", "BillingClient", "bearer", "process.env", "__awaiter"]) {
                expect(sf.text, word).to.not.include(word);
            }
            // What the engine stores must run: deserialize it as Pulumi's dynamic-provider host does.
            const loaded = requireFromString(sf.text).handler() as pulumi.dynamic.ResourceProvider;
            const result = await loaded.check!({}, { billingAccountName: "bad/name", billingProfileName: "P1", enabled: true, userEmailAddress: "a@b.co" });
            expect(result.failures!.map((f) => f.property)).to.include("billingAccountName");
        });
    }
});
