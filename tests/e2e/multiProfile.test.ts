/**
 * The multi-profile example (examples/multi-profile) through the real Pulumi
 * CLI: two billing profiles from one list, configured by stack config
 * (`azure-email-invoicing:endpoint`, and `:token` set with `--secret`) as
 * grace, the billing account owner. The emulator answers every profile PUT
 * and role assignment create as a long-running operation (202 + Location, as
 * Azure may), polled by the provider inside Pulumi's dynamic-provider process.
 */
import { expect } from "chai";
import * as path from "path";
import type { BillingProfileRef } from "../../provider/billing/names";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { describeLog, heldEmailSettings, heldInvoiceManagers } from "./support/azure";
import { EXAMPLES, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain } from "../../dev/pulumi-stack";

const ref = (p: BillingProfileRef) => ({ billingAccountName: p.billingAccountName, billingProfileName: p.billingProfileName });
const operations = ref(SEED.profiles.operations);
const research = ref(SEED.profiles.research);

describe("e2e: multi-profile example (provider configured by stack config)", function () {
    this.timeout(120_000);
    let emu: TestEmulator;
    let stack: TestStack;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { lro: "always", retryAfterSeconds: 0 } });
        stack = await TestStack.create({ programDir: path.join(EXAMPLES, "multi-profile") });
        await stack.config("azure-email-invoicing:endpoint", emu.url);
        await stack.config("azure-email-invoicing:token", emu.token("grace"), { secret: true });
    });
    after(async () => {
        await stack?.dispose();
        await emu?.close();
    });

    it("up opts both profiles in with their own recipients and makes Jane Invoice manager of each", async () => {
        const r = await stack.up();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(r.output).to.match(/\+ 5 created/); // four resources and the stack
        expect(await heldEmailSettings(emu, operations)).to.deep.equal({ enabled: true, recipients: ["ap-ops@contoso.com"] });
        expect(await heldEmailSettings(emu, research)).to.deep.equal({ enabled: true, recipients: ["ap-research@contoso.com", "controller@contoso.com"] });
        expect(await heldInvoiceManagers(emu, operations)).to.deep.equal([SEED.users.jane.id]);
        expect(await heldInvoiceManagers(emu, research)).to.deep.equal([SEED.users.jane.id]);
        const log = await emu.admin.requests();
        expect(new Set(log.map((e) => e.principal)), "every call made as grace, from the stack config token").to.deep.equal(new Set([SEED.users.grace.id]));
        const accepted = log.filter((e) => e.status === 202 && e.operation !== "getOperationResult").map((e) => e.operation).sort();
        expect(accepted, "each write went through a long-running operation").to.deep.equal([
            "createBillingRoleAssignment",
            "createBillingRoleAssignment",
            "putBillingProfile",
            "putBillingProfile",
        ]);
        expect(log.filter((e) => e.operation === "getOperationResult" && e.status === 200).length, "each polled to completion").to.equal(4);
        expect([...(await stack.ourResources()).keys()].sort()).to.deep.equal(["operations-emails", "operations-jane", "research-emails", "research-jane"]);
    });

    it("right after up, the drift check passes and a preview calls nothing", async () => {
        expect((await stack.driftCheck()).code, stack.transcript()).to.equal(0);
        await emu.admin.clearRequests();
        expect((await stack.preview(["--expect-no-changes"])).code, stack.transcript()).to.equal(0);
        const log = await emu.admin.requests();
        expect(log, describeLog(log)).to.deep.equal([]);
    });

    it("destroy restores both profiles and removes both assignments", async () => {
        expect((await stack.destroy()).code, stack.transcript()).to.equal(0);
        for (const p of [operations, research]) {
            expect(await heldEmailSettings(emu, p)).to.deep.equal({ enabled: false, recipients: [] });
            expect(await heldInvoiceManagers(emu, p)).to.deep.equal([]);
        }
    });
});
