/**
 * The file-backed store: state written atomically to `dataDir` after every
 * change, found again (same state, same tokens) by an emulator started on
 * the same directory, and refused with a clear message when corrupt.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as s from "../../provider/billing/schemas";
import { startEmulator } from "../../emulator";
import { STATE_FILE, createMemoryStore, openFileStore } from "../../emulator/store";
import { SEED, createSeedState } from "../../emulator/seed";
import { BP_PATH, EmulatorHttp, OPS, putBodyFrom, roleDefinitionIdByName } from "./support/emulator-http";

const WIDE = { periodStartDate: "2024-01-01", periodEndDate: "2026-12-31" };

describe("emulator: persistence in dataDir", () => {
    let dir: string;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-state-"));
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("survives a restart: same state, same tokens, changes kept, seed not re-run", async () => {
        const first = await startEmulator({ dataDir: dir, now: () => new Date("2025-03-15T10:00:00Z"), settings: { retryAfterSeconds: 0 } });
        expect(first.seeded).to.equal(true);
        expect(first.stateFile).to.equal(path.join(dir, STATE_FILE));
        const api1 = new EmulatorHttp(first.url);
        const role = await roleDefinitionIdByName(api1, OPS, "Invoice manager", "alice");
        const assigned = await api1.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { roleDefinitionId: role, userEmailAddress: "jane@contoso.com" } });
        expect(assigned.status).to.equal(200);
        const profile = (await api1.get(BP_PATH(OPS), { as: "alice" })).body;
        const body = putBodyFrom(profile, s.BILLING_PROFILE_READ_ONLY_PROPERTIES);
        body.properties.invoiceEmailOptIn = true;
        body.properties.invoiceRecipients = ["ap@contoso.com"];
        expect((await api1.put(BP_PATH(OPS), { as: "bob", body })).status).to.equal(200);
        const issued = await api1.admin("POST", `/billingAccounts/${OPS.billingAccountName}/billingProfiles/${OPS.billingProfileName}/invoices`, { amountDue: 10 }, 201);
        await api1.admin("POST", "/settings", { pageSize: 7 });
        const invoicesBefore = (await api1.get(`${BP_PATH(OPS)}/invoices`, { as: "alice", query: WIDE })).body.value;
        const stateBefore = await api1.admin("GET", "/state");
        await first.close();

        // Only the state file remains: every temporary file was renamed into place.
        expect(fs.readdirSync(dir)).to.deep.equal([STATE_FILE]);
        expect(JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8"))).to.deep.equal(stateBefore);

        // A later clock must not re-date anything: the state is loaded, not re-seeded.
        const second = await startEmulator({ dataDir: dir, now: () => new Date("2026-07-01T00:00:00Z") });
        try {
            expect(second.seeded).to.equal(false);
            expect(second.principals.map((p) => p.token)).to.deep.equal(first.principals.map((p) => p.token));
            const api2 = new EmulatorHttp(second.url);
            expect(await api2.admin("GET", "/state")).to.deep.equal(stateBefore);
            const after = (await api2.get(BP_PATH(OPS), { as: "jane" })).body;
            expect(after.properties.invoiceEmailOptIn).to.equal(true);
            expect(after.properties.invoiceRecipients).to.deep.equal(["ap@contoso.com"]);
            const invoicesAfter = (await api2.get(`${BP_PATH(OPS)}/invoices`, { as: "jane", query: WIDE })).body.value;
            expect(invoicesAfter).to.deep.equal(invoicesBefore);
            expect(invoicesAfter.map((i: { name: string }) => i.name)).to.include(issued.name);
            expect((await api2.admin("GET", "/settings")).pageSize).to.equal(7);
            // New invoice numbers continue after the persisted counter.
            const next = await api2.admin("POST", `/billingAccounts/${OPS.billingAccountName}/billingProfiles/${OPS.billingProfileName}/invoices`, undefined, 201);
            expect(Number(next.name.slice(1))).to.equal(Number(issued.name.slice(1)) + 1);
        } finally {
            await second.close();
        }
    });

    it("writes every committed change to disk before answering", async () => {
        const emu = await startEmulator({ dataDir: dir });
        try {
            const api = new EmulatorHttp(emu.url);
            const read = () => JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8"));
            const before = read().roleAssignments.length;
            const role = await roleDefinitionIdByName(api, OPS, "Billing profile reader", "alice");
            await api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "alice", body: { roleDefinitionId: role, principalId: SEED.users.victor.id } });
            expect(read().roleAssignments.length).to.equal(before + 1);
            // A refused change (403) writes nothing.
            const denied = await api.post(`${BP_PATH(OPS)}/createBillingRoleAssignment`, { as: "carol", body: { roleDefinitionId: role, principalId: SEED.users.wendy.id } });
            expect(denied.status).to.equal(403);
            expect(read().roleAssignments.length).to.equal(before + 1);
        } finally {
            await emu.close();
        }
    });

    it("keeps state in memory only without dataDir", async () => {
        const a = await startEmulator();
        const api = new EmulatorHttp(a.url);
        await api.admin("POST", `/billingAccounts/${OPS.billingAccountName}/billingProfiles`, { count: 1 }, 201);
        expect(a.stateFile).to.equal(undefined);
        await a.close();
        const b = await startEmulator();
        try {
            const state = await new EmulatorHttp(b.url).admin("GET", "/state");
            expect(state.billingProfiles).to.have.length(3);
        } finally {
            await b.close();
        }
    });

    it("rolls back a change that throws halfway, in memory and on disk", () => {
        const seed = () => createSeedState({ now: new Date("2025-03-15T10:00:00Z") });
        const file = openFileStore(dir, seed).store;
        for (const store of [createMemoryStore(seed()), file]) {
            const before = store.snapshot();
            const onDisk = store.location ? fs.readFileSync(store.location, "utf8") : undefined;
            expect(() =>
                store.update((draft) => {
                    draft.billingProfiles[0].properties.invoiceEmailOptIn = true;
                    draft.roleAssignments.pop();
                    draft.counters.invoice++;
                    throw new Error("halfway");
                }),
            ).to.throw("halfway");
            expect(store.snapshot()).to.deep.equal(before);
            expect(store.read((s) => s.billingProfiles[0].properties.invoiceEmailOptIn)).to.equal(false);
            if (store.location) expect(fs.readFileSync(store.location, "utf8")).to.equal(onDisk);
            store.update((draft) => {
                draft.counters.invoice++;
            });
            expect(store.snapshot().counters.invoice).to.equal(before.counters.invoice + 1);
        }
        expect(JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")).counters.invoice).to.equal(10);
    });

    it("refuses a corrupt or foreign state file with a message naming it", async () => {
        const file = path.join(dir, STATE_FILE);
        fs.writeFileSync(file, "{ not json");
        let message = "";
        await startEmulator({ dataDir: dir }).catch((e: Error) => (message = e.message));
        expect(message).to.contain(file).and.contain("not valid JSON");
        fs.writeFileSync(file, JSON.stringify({ version: 99 }));
        await startEmulator({ dataDir: dir }).catch((e: Error) => (message = e.message));
        expect(message).to.contain(file).and.contain("not emulator state");
    });
});
