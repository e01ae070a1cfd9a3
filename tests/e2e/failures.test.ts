/**
 * What users see when something is wrong, through the real Pulumi CLI: bad
 * input in the program fails `preview` on the property, before any call to
 * Azure; a principal without the needed role fails `up` with the role it
 * needs and leaves nothing behind in the state; Azure's error text with
 * escape sequences and line breaks reaches the output escaped. Also: a preview whose inputs
 * are unknown until apply (one resource's output feeding another) works
 * without calling Azure.
 *
 * Program: tests/e2e/programs/configurable; the provider is configured by
 * environment (AZURE_EMAIL_INVOICING_ENDPOINT, AZURE_EMAIL_INVOICING_TOKEN).
 */
import { expect } from "chai";
import * as path from "path";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { startTamperingProxy } from "../support/proxy";
import { describeLog, heldEmailSettings, heldInvoiceManagers } from "./support/azure";
import { PROGRAMS, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain } from "../../dev/pulumi-stack";

const ops = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };

describe("e2e: failures (bad input, missing role) and unknowns in preview", function () {
    this.timeout(120_000);
    let emu: TestEmulator;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
    });
    after(async () => {
        await emu?.close();
    });

    /** A fresh stack of the configurable program, as `token`'s user. */
    async function stackAs(user: "alice" | "carol", config: Record<string, string>): Promise<TestStack> {
        const stack = await TestStack.create({
            programDir: path.join(PROGRAMS, "configurable"),
            env: { AZURE_EMAIL_INVOICING_ENDPOINT: emu.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token(user) },
        });
        for (const [k, v] of Object.entries({ ...ops, ...config })) await stack.config(k, v);
        return stack;
    }

    describe("invalid input in the program fails preview on the property, with no request to Azure", () => {
        const cases: Array<{ what: string; config: Record<string, string>; property: string; reason: RegExp }> = [
            {
                what: "a recipient that is not an email address",
                config: { recipients: JSON.stringify(["ap@contoso.com", "accounts payable"]) },
                // Reported on the top-level property (Pulumi prints its value), the element leading the reason.
                property: "additionalRecipients",
                reason: /additionalRecipients\[1\]: .*give exactly one address/,
            },
            {
                what: "an Invoice manager email with a display name",
                config: { manager: "Jane Doe <jane@contoso.com>" },
                property: "userEmailAddress",
                reason: /give exactly one address/,
            },
            {
                what: "a misspelt input (enabeld), which a JavaScript program passes unchecked",
                config: { extra: JSON.stringify({ enabeld: false }) },
                property: "enabeld",
                reason: /is not an input of this resource: did you mean 'enabled'\?/,
            },
            {
                what: "a 10 KB all-digit billing account name",
                config: { billingAccountName: "1".repeat(10_000) },
                property: "billingAccountName",
                reason: /is longer than 128 characters/,
            },
            {
                what: "a billing profile's display name instead of its name",
                config: { billingProfileName: "Contoso Operations Billing" },
                property: "billingProfileName",
                reason: /is not a billing profile name/,
            },
        ];
        for (const c of cases) {
            it(c.what, async () => {
                const stack = await stackAs("alice", c.config);
                try {
                    await emu.admin.clearRequests();
                    const r = await stack.preview();
                    expect(r.code, stack.transcript()).to.not.equal(0);
                    // Pulumi's property-level check failure: "... resource 'emails': property X value {...} has a problem: <reason>".
                    const line = r.output.split("\n").find((l) => l.includes(`property ${c.property} value`));
                    expect(line, stack.transcript()).to.be.a("string");
                    expect(line).to.match(/has a problem: /);
                    expect(line).to.match(c.reason);
                    const log = await emu.admin.requests();
                    expect(log, describeLog(log)).to.deep.equal([]);
                    expect((await stack.ourResources()).size).to.equal(0);
                } finally {
                    await stack.dispose();
                }
            });
        }
    });

    it("a reader (carol) fails up with the role each resource needs, and no phantom resource is left in state", async () => {
        const stack = await stackAs("carol", { manager: "jane@contoso.com", recipients: JSON.stringify(["ap@contoso.com"]) });
        try {
            const before = await heldEmailSettings(emu, ops);
            // A preview writes nothing, so nothing is refused and billingPermissions is not asked either.
            await emu.admin.clearRequests();
            const preview = await stack.preview([]);
            expect(preview.code, stack.transcript()).to.equal(0);
            const previewLog = await emu.admin.requests();
            expect(previewLog, describeLog(previewLog)).to.deep.equal([]);
            const r = await stack.up();
            expect(r.code, stack.transcript()).to.not.equal(0);
            expect(r.output).to.include("AuthorizationFailed");
            expect(r.output).to.include("needs the billing profile owner or contributor role (or billing account owner or contributor)");
            expect(r.output).to.include("needs the billing profile owner role (or billing account owner)");
            expect(r.output).to.include(`On billing profile ${ops.billingProfileName} it may only: Microsoft.Billing/billingAccounts/billingProfiles/read`);

            // Nothing changed in Azure, and nothing is recorded that does not exist.
            expect(await heldEmailSettings(emu, ops)).to.deep.equal(before);
            expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
            const { deployment } = await stack.exportState();
            expect((deployment.resources ?? []).filter((x) => x.type.startsWith("pulumi-nodejs:dynamic/")), "resources in state").to.deep.equal([]);
            expect(deployment.pending_operations ?? [], "pending operations").to.deep.equal([]);

            // The owner runs the same stack: it goes through, and destroy puts the profile back.
            stack.setEnv({ AZURE_EMAIL_INVOICING_TOKEN: emu.token("alice") });
            expect((await stack.up()).code, stack.transcript()).to.equal(0);
            expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
            expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([SEED.users.jane.id]);
            expect((await stack.destroy()).code, stack.transcript()).to.equal(0);
            expect(await heldEmailSettings(emu, ops)).to.deep.equal(before);
            expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        } finally {
            await stack.dispose();
        }
    });

    it("Azure's error code and message with escape sequences and line breaks reach pulumi up's output escaped, forging no line", async () => {
        // A tampering proxy in front of the emulator answers the profile's read with a hostile error.
        const hostile = "Contoso\x1b]0;pwned\x07\x1b[2J\r\n    + emails created (forged)\u009b31m";
        const proxy = await startTamperingProxy(emu.url, {
            json(a) {
                if (a.method !== "GET" || !a.url.includes(`/billingProfiles/${ops.billingProfileName}?`)) return;
                a.status = 400;
                a.body = { error: { code: "Bad\x1b[2JRequest", message: hostile } };
            },
        });
        const stack = await TestStack.create({
            programDir: path.join(PROGRAMS, "configurable"),
            env: { AZURE_EMAIL_INVOICING_ENDPOINT: proxy.url, AZURE_EMAIL_INVOICING_TOKEN: emu.token("alice") },
        });
        try {
            for (const [k, v] of Object.entries(ops)) await stack.config(k, v);
            const r = await stack.up();
            expect(r.code, stack.transcript()).to.not.equal(0);
            expect(r.output).to.include("Bad\\x1b[2JRequest: Contoso\\x1b]0;pwned\\x07\\x1b[2J\\r\\n    + emails created (forged)\\x9b31m");
            expect(r.output, JSON.stringify(r.output)).to.not.match(/[\u001b\u0007\u009b\r]/);
            expect(r.output.split("\n").filter((l) => l.trim().startsWith("+ emails created"))).to.deep.equal([]);
        } finally {
            await stack.dispose();
            await proxy.close();
        }
    });

    it("preview of a new stack whose assignment depends on the setting's output (unknown until apply) calls no Azure API; up then creates both", async () => {
        const stack = await stackAs("alice", { manager: "jane@contoso.com", chain: "true" });
        try {
            await emu.admin.clearRequests();
            const p = await stack.preview();
            expect(p.code, stack.transcript()).to.equal(0);
            expect(p.output).to.match(/\+ 3 to create/);
            const log = await emu.admin.requests();
            expect(log, describeLog(log)).to.deep.equal([]);

            expect((await stack.up()).code, stack.transcript()).to.equal(0);
            expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([SEED.users.jane.id]);
            expect((await stack.destroy()).code, stack.transcript()).to.equal(0);
            expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        } finally {
            await stack.dispose();
        }
    });
});
