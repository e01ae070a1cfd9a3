/**
 * The provider configured by stack config, as a CI pipeline would be
 * (`azure-email-invoicing:endpoint`, and `azure-email-invoicing:token` set
 * with `--secret`; no AZURE_EMAIL_INVOICING_* in the environment), with:
 * - an Invoice manager assignment that already exists (made in the portal):
 *   `up` adopts it instead of creating a duplicate;
 * - the manager's email given as `pulumi.secret(...)`: it stays ciphertext
 *   in the state;
 * - the token: it appears nowhere in the state, in plain text or otherwise.
 *
 * Program: tests/e2e/programs/configurable.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { SEED, startTestEmulator, type TestEmulator } from "../support/emulator";
import { describeLog, heldEmailSettings, heldInvoiceManagers, writes } from "./support/azure";
import { PROGRAMS, TOOLCHAIN_TIMEOUT_MS, TestStack, pulumiToolchain } from "../../dev/pulumi-stack";

const ops = { billingAccountName: SEED.profiles.operations.billingAccountName, billingProfileName: SEED.profiles.operations.billingProfileName };
const jane = SEED.users.jane;

describe("e2e: stack config, adoption and secrets", function () {
    this.timeout(120_000);
    let emu: TestEmulator;
    let stack: TestStack;
    let portalAssignment: string;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        await pulumiToolchain();
        emu = await startTestEmulator({ settings: { retryAfterSeconds: 0 } });
        stack = await TestStack.create({ programDir: path.join(PROGRAMS, "configurable") });
        await stack.config("azure-email-invoicing:endpoint", emu.url);
        await stack.config("azure-email-invoicing:token", emu.token("alice"), { secret: true });
        for (const [k, v] of Object.entries({ ...ops, managerSecret: "true", recipients: JSON.stringify(["ap@contoso.com"]) })) {
            await stack.config(k, v);
        }
        // A secret in config too: Pulumi records all stack config in the default provider's state.
        await stack.config("manager", "jane@contoso.com", { secret: true });
        // The owner made Jane an Invoice manager in the portal before the program existed.
        const alice = emu.client("alice");
        const role = await alice.resolveRoleDefinition(ops, "Invoice manager");
        portalAssignment = (await alice.createRoleAssignment(ops, { roleDefinitionId: role.id, principalId: jane.id })).name;
    });
    after(async () => {
        await stack?.dispose();
        await emu?.close();
    });

    it("the token set with --secret is ciphertext in the stack config file", () => {
        const config = fs.readFileSync(stack.configFile, "utf8");
        expect(config).to.match(/azure-email-invoicing:token:\s*\n\s*secure: /);
        expect(config).to.not.include(emu.token("alice"));
    });

    it("up adopts the existing assignment instead of creating a duplicate (configure() read the endpoint and token from stack config)", async () => {
        await emu.admin.clearRequests();
        const r = await stack.up();
        expect(r.code, stack.transcript()).to.equal(0);
        const log = await emu.admin.requests();
        expect(log.length, "the provider reached the emulator").to.be.greaterThan(0);
        expect(new Set(log.map((e) => e.principal)), "every call made as alice").to.deep.equal(new Set([SEED.users.alice.id]));
        expect(writes(log).map((e) => e.operation), describeLog(log)).to.not.include("createBillingRoleAssignment");

        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([jane.id]);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: true, recipients: ["ap@contoso.com"] });
        const manager = (await stack.ourResources()).get("manager")!;
        expect(manager.outputs!.adopted).to.equal(true);
        expect(manager.outputs!.billingRoleAssignmentName).to.equal(portalAssignment);
    });

    it("the state does not hold the outputs that are the resource ids; the program reads them, equal to the ids", async () => {
        const resources = await stack.ourResources();
        const emails = resources.get("emails")!;
        const manager = resources.get("manager")!;
        expect(emails.outputs).to.not.have.property("billingProfileId");
        expect(manager.outputs).to.not.have.property("billingRoleAssignmentId");
        expect(emails.id).to.equal(`/providers/Microsoft.Billing/billingAccounts/${ops.billingAccountName}/billingProfiles/${ops.billingProfileName}`);
        expect(manager.id).to.match(new RegExp(`/billingRoleAssignments/${portalAssignment}$`));
        const root = (await stack.exportState()).deployment.resources!.find((r) => r.type === "pulumi:pulumi:Stack")!;
        expect(root.outputs).to.deep.include({ billingProfileId: emails.id, assignmentId: manager.id });
    });

    it("state an earlier version wrote, holding the id outputs, passes the scheduled drift check, and the next refresh drops them", async () => {
        const { deployment } = await stack.exportState();
        for (const r of deployment.resources!) {
            if (r.urn.endsWith("::emails")) r.outputs!.billingProfileId = r.id;
            if (r.urn.endsWith("::manager")) r.outputs!.billingRoleAssignmentId = r.id;
        }
        await stack.importState(deployment);
        const older = await stack.ourResources();
        expect(older.get("emails")!.outputs).to.have.property("billingProfileId", older.get("emails")!.id);
        expect(older.get("manager")!.outputs).to.have.property("billingRoleAssignmentId", older.get("manager")!.id);

        const drift = await stack.driftCheck();
        expect(drift.code, stack.transcript()).to.equal(0);
        const refresh = await stack.refreshApply();
        expect(refresh.code, stack.transcript()).to.equal(0);
        const after = await stack.ourResources();
        expect(after.get("emails")!.outputs).to.not.have.property("billingProfileId");
        expect(after.get("manager")!.outputs).to.not.have.property("billingRoleAssignmentId");
        expect(after.get("manager")!.outputs!.billingRoleAssignmentName).to.equal(portalAssignment);
    });

    it("a secret input stays secret: the state holds ciphertext, not the manager's email", async () => {
        const manager = (await stack.ourResources()).get("manager")!;
        for (const side of ["inputs", "outputs"] as const) {
            const value = manager[side]!.userEmailAddress;
            expect(value, `${side}.userEmailAddress`).to.be.an("object").with.property("ciphertext").that.is.a("string");
        }
        expect(stack.backendText()).to.not.include("jane@contoso.com");
        expect((await stack.exportState()).text).to.not.include("jane@contoso.com");
        // It is the manager's email under the ciphertext.
        const plain = (await stack.exportState({ showSecrets: true })).deployment;
        const decrypted = plain.resources!.find((x) => x.urn.endsWith("::manager"))!;
        expect(JSON.stringify(decrypted.outputs!.userEmailAddress)).to.include("jane@contoso.com");
    });

    it("the state holds no bearer token in plain text: only Pulumi's encrypted copy of the stack config; each serialized provider is under 4 KB", async () => {
        const token = emu.token("alice");
        expect(stack.backendText()).to.not.include(token);
        // Pulumi hands the whole stack config to the default dynamic provider and records it, secrets
        // encrypted, as that provider's inputs. That is the only place the token is, even decrypted.
        const plain = (await stack.exportState({ showSecrets: true })).deployment;
        const holding = plain.resources!.filter((x) => JSON.stringify(x).includes(token)).map((x) => x.urn);
        expect(holding).to.deep.equal([plain.resources!.find((x) => x.type === "pulumi:providers:pulumi-nodejs")!.urn]);
        const encrypted = (await stack.exportState()).deployment.resources!.find((x) => x.type === "pulumi:providers:pulumi-nodejs")!;
        expect(encrypted.inputs!["azure-email-invoicing:token"]).to.have.property("ciphertext");
        const resources = await stack.ourResources();
        expect(resources.size).to.equal(2);
        for (const [name, r] of resources) {
            expect((r.inputs!.__provider as string).length, `${name} __provider`).to.be.lessThan(4096);
            expect((r.outputs!.__provider as string).length, `${name} __provider`).to.be.lessThan(4096);
        }
    });

    it("a no-change preview calls nothing; a second up writes nothing and still holds one assignment", async () => {
        await emu.admin.clearRequests();
        const p = await stack.preview(["--expect-no-changes"]);
        expect(p.code, stack.transcript()).to.equal(0);
        expect(await emu.admin.requests()).to.deep.equal([]);
        const r = await stack.up();
        expect(r.code, stack.transcript()).to.equal(0);
        const log = await emu.admin.requests();
        expect(writes(log), describeLog(log)).to.deep.equal([]);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([jane.id]);
    });

    it("destroy removes the adopted assignment and restores the profile", async () => {
        const r = await stack.destroy();
        expect(r.code, stack.transcript()).to.equal(0);
        expect(await heldInvoiceManagers(emu, ops)).to.deep.equal([]);
        expect(await heldEmailSettings(emu, ops)).to.deep.equal({ enabled: false, recipients: [] });
    });
});
