import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { emailInvoiceSettingProvider, invoiceManagerAssignmentProvider } from "../../../sdk/shims";
import { SHIM_ABI } from "../../../provider/resources/abi";
import { REPO_ROOT } from "../../../dev/paths";

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

    it("a stack written by 0.1.0's shim (seven forwarding methods) still runs this implementation", async () => {
        // The text 0.1.0 stored in every stack's state, as `pulumi stack export` shows it.
        const text = fs.readFileSync(path.join(REPO_ROOT, "tests", "vectors", "shims", "EmailInvoiceSetting-0.1.0.txt"), "utf8");
        const loaded = requireFromString(text).handler() as pulumi.dynamic.ResourceProvider;
        await loaded.configure!({ config: { get: () => undefined, require: () => "" } as pulumi.dynamic.Config });
        const result = await loaded.check!({}, { billingAccountName: "bad/name", billingProfileName: "P1", enabled: true });
        expect(result.failures!.map((f) => f.property)).to.deep.equal(["billingAccountName"]);
        const diff = await loaded.diff!("id", { billingAccountName: "A", billingProfileName: "P1", enabled: false }, { billingAccountName: "A", billingProfileName: "P1", enabled: true });
        expect(diff.changes).to.equal(true);
    });
});
