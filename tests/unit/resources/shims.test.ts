import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { emailInvoiceSettingProvider, invoiceManagerAssignmentProvider } from "../../../sdk/shims";
import { SHIM_ABI } from "../../../provider/resources/abi";

const requireFromString: (code: string) => { handler(): unknown } = require("require-from-string");

/** The smallest dynamic provider there is: one method, answering create (the benchmark's floor, bench/programs/stack). */
const noopProvider = {
    async create(inputs: Record<string, unknown>) { return { id: `${inputs.billingProfileName}/${inputs.kind}`, outs: inputs }; },
};

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
        it(`${kind}: is as small as a no-op provider, captures nothing but its kind and ABI, and loads the implementation by package name`, async () => {
            const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false });
            const noop = await pulumi.runtime.serializeFunction(() => noopProvider, { allowSecrets: false });
            // One method and two values: within the length of the kind's name and the ABI number of the no-op.
            expect(sf.text.length, sf.text).to.be.at.most(noop.text.length + `kind: "${kind}", abi: ${SHIM_ABI}, `.length + 40);
            expect(sf.text).to.not.include(token);
            expect(sf.text).to.include(`require("azure-email-invoicing/dynamic").host(kind, abi)`);
            expect(sf.text).to.include(`kind: "${kind}", abi: ${SHIM_ABI}`);
            // Nothing of zod, the client or Pulumi's runtime is captured.
            for (const word of ["zod", "ZodObject", "BillingClient", "bearer", "process.env", "__awaiter"]) {
                expect(sf.text, word).to.not.include(word);
            }
            // What the engine stores must run: deserialize it as Pulumi's dynamic-provider host does
            // (getProvider: configure once, then every method on the same object).
            const loaded = requireFromString(sf.text).handler() as pulumi.dynamic.ResourceProvider;
            expect(Object.keys(loaded)).to.deep.equal(["configure"]);
            await loaded.configure!({ config: { get: () => undefined, require: () => "" } as pulumi.dynamic.Config });
            for (const method of ["check", "diff", "create", "read", "update", "delete"]) expect(loaded, method).to.have.property(method).that.is.a("function");
            const result = await loaded.check!({}, { billingAccountName: "bad/name", billingProfileName: "P1", enabled: true, userEmailAddress: "a@b.co" });
            expect(result.failures!.map((f) => f.property)).to.include("billingAccountName");
        });
    }
});
