/**
 * The file-backed store: every change durable in `dataDir` (snapshot plus
 * journal) before it is answered, found again (same state, same tokens) by
 * an emulator started on the same directory, even after a kill, and refused
 * with a clear message when corrupt.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as s from "../../../provider/billing/schemas";
import { ConfigurationError } from "../../../provider/errors";
import { SEED, startEmulator } from "../../../emulator";
import type { EmulatorState } from "../../../emulator/model";
import { JOURNAL_FILE, LOCK_FILE, STATE_FILE, createMemoryStore, openFileStore, readStateDir, type EmulatorStore } from "../../../emulator/store";
import { createSeedState } from "../../../emulator/seed";
import { BP_PATH, EmulatorHttp, OPS, putBodyFrom, roleDefinitionIdByName } from "../support/emulator-http";

const WIDE = { periodStartDate: "2024-01-01", periodEndDate: "2026-12-31" };

/** The pid of a process that has exited. */
function deadPid(): number {
    const child = spawnSync(process.execPath, ["-e", ""]);
    expect(child.status).to.equal(0);
    return child.pid;
}

/** Makes the directory's lock what a killed emulator leaves: its pid, no longer running. */
function killedOwner(dir: string): void {
    fs.writeFileSync(path.join(dir, LOCK_FILE), `${deadPid()}\n`);
}

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
            // Document links are signed for the clock and origin of each answer; everything else is as it was.
            const withoutLinks = (list: any[]) => JSON.parse(JSON.stringify(list, (k, v) => (k === "url" ? undefined : v)));
            expect(withoutLinks(invoicesAfter)).to.deep.equal(withoutLinks(invoicesBefore));
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
            // What a restart would load (snapshot plus journal), read while the emulator runs.
            const read = () => readStateDir(dir) as EmulatorState;
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

    it("refuses a second emulator on a directory in use, naming it, and frees the directory at close", async () => {
        const first = await startEmulator({ dataDir: dir, settings: { retryAfterSeconds: 0 } });
        let closed = false;
        try {
            const lock = path.join(dir, LOCK_FILE);
            expect(fs.readFileSync(lock, "utf8").trim()).to.equal(String(process.pid));
            let error: unknown;
            await startEmulator({ dataDir: dir }).catch((e: unknown) => (error = e));
            expect(error).to.be.instanceOf(ConfigurationError);
            expect((error as Error).message).to.contain(dir).and.contain("in use").and.contain(String(process.pid));
            // The same for the store on its own, and the refused opens changed nothing: the first still writes.
            expect(() => openFileStore(dir, () => createSeedState({ now: new Date() }))).to.throw(ConfigurationError, dir);
            const api = new EmulatorHttp(first.url);
            await api.admin("POST", `/billingAccounts/${OPS.billingAccountName}/billingProfiles`, { name: "LOCK-TEST-BP1", displayName: "Kept" }, 201);
            expect(readStateDir(dir)?.billingProfiles.map((p) => p.name)).to.include("LOCK-TEST-BP1");
            await first.close();
            closed = true;
            expect(fs.existsSync(lock), "released at close").to.equal(false);
            const second = await startEmulator({ dataDir: dir });
            try {
                expect(second.state().billingProfiles.map((p) => p.name)).to.include("LOCK-TEST-BP1");
            } finally {
                await second.close();
            }
        } finally {
            if (!closed) await first.close();
        }
    });

    it("takes over a lock left by a process that no longer runs, and releases a lock it took when the state is refused", async () => {
        const lock = path.join(dir, LOCK_FILE);
        fs.writeFileSync(lock, `${deadPid()}\n`);
        const emu = await startEmulator({ dataDir: dir });
        try {
            expect(fs.readFileSync(lock, "utf8").trim()).to.equal(String(process.pid));
        } finally {
            await emu.close();
        }
        fs.writeFileSync(lock, "not a pid");
        fs.writeFileSync(path.join(dir, STATE_FILE), "{ not json");
        let message = "";
        await startEmulator({ dataDir: dir }).catch((e: Error) => (message = e.message));
        expect(message).to.contain("not valid JSON");
        expect(fs.existsSync(lock), "a refused start leaves no lock").to.equal(false);
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

    it("rolls back a change that throws halfway, in memory and on disk", async () => {
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
        expect(readStateDir(dir)?.counters.invoice).to.equal(10);
        await file.close();
        expect(JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")).counters.invoice).to.equal(10);
    });

    it("journals each change instead of rewriting the state, and folds the journal in at close", async () => {
        const { store } = openFileStore(dir, () => createSeedState({ now: new Date("2025-03-15T10:00:00Z") }));
        const snapshotBefore = fs.readFileSync(path.join(dir, STATE_FILE), "utf8");
        const journal = path.join(dir, JOURNAL_FILE);
        const journalBefore = fs.statSync(journal).size;
        store.update((d) => {
            d.billingProfiles[1].properties.invoiceEmailOptIn = true;
        });
        expect(fs.readFileSync(path.join(dir, STATE_FILE), "utf8"), "the snapshot is not rewritten per change").to.equal(snapshotBefore);
        const added = fs.statSync(journal).size - journalBefore;
        expect(added, "one profile changed: a line of about one record").to.be.below(4000);
        expect(readStateDir(dir)?.billingProfiles[1].properties.invoiceEmailOptIn).to.equal(true);
        const expected = store.snapshot();
        await store.close();
        expect(fs.readdirSync(dir)).to.deep.equal([STATE_FILE]);
        expect(JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8"))).to.deep.equal(expected);
        expect(() => store.update(() => undefined)).to.throw("closed");
    });

    it("replays every kind of change exactly (seeded random changes, some rolled back)", async () => {
        const { store } = openFileStore(dir, () => createSeedState({ now: new Date("2025-03-15T10:00:00Z"), seed: { extraProfiles: 3 } }));
        let seed = 42;
        const random = (n: number) => {
            seed = (seed * 1103515245 + 12345) & 0x7fffffff;
            return seed % n;
        };
        const changes: Array<(d: EmulatorState) => void> = [
            (d) => d.invoices.push({ ...JSON.parse(JSON.stringify(d.invoices[random(d.invoices.length)])), name: `G9${random(1e8)}` }),
            (d) => d.invoices.length > 5 && d.invoices.splice(random(d.invoices.length), 1),
            (d) => d.invoices.splice(random(d.invoices.length), 0, { billingAccountName: "A", billingProfileName: "B", name: `X${random(1e6)}`, properties: {} }),
            (d) => {
                d.billingProfiles[random(d.billingProfiles.length)].properties.invoiceRecipients = [`r${random(100)}@contoso.com`];
            },
            (d) => {
                delete d.billingProfiles[random(d.billingProfiles.length)].properties.poNumber;
            },
            (d) => {
                d.roleAssignments = d.roleAssignments.filter((_, i) => i % 7 !== random(7));
            },
            (d) => {
                d.roleAssignments.reverse();
            },
            (d) => {
                d.invoices.length = Math.max(5, d.invoices.length - random(3));
            },
            (d) => {
                d.settings = { ...d.settings, pageSize: 1 + random(100) };
            },
            (d) => {
                d.counters.invoice += 1;
                d.invoices[random(d.invoices.length)].properties.status = "Paid";
                if (d.invoices.length > 5) d.invoices.pop();
            },
            (d) => {
                const p = d.billingProfiles[random(d.billingProfiles.length)];
                d.billingProfiles.push(d.billingProfiles.splice(d.billingProfiles.indexOf(p), 1)[0]);
                p.tags = { moved: "yes" };
            },
        ];
        try {
            for (let i = 0; i < 300; i++) {
                const change = changes[random(changes.length)];
                const fails = random(5) === 0;
                const before = store.snapshot();
                try {
                    store.update((d) => {
                        change(d);
                        if (fails) throw new Error("refused");
                    });
                } catch (err) {
                    expect((err as Error).message).to.equal("refused");
                    expect(store.snapshot(), `change ${i} rolled back`).to.deep.equal(before);
                }
                expect(readStateDir(dir), `after change ${i}`).to.deep.equal(store.snapshot());
            }
        } finally {
            await store.close();
        }
    });

    it("folds a long journal into the snapshot as it grows, so it stays bounded", async () => {
        const { store } = openFileStore(dir, () => createSeedState({ now: new Date("2025-03-15T10:00:00Z") }));
        try {
            const big = "x".repeat(2000);
            for (let i = 0; i < 1200; i++) {
                store.update((d) => {
                    d.billingProfiles[0].properties.note = `${i} ${big}`;
                });
            }
            // 1,200 lines of over 2 KB each passed the 1 MiB threshold at least once.
            expect(fs.statSync(path.join(dir, JOURNAL_FILE)).size).to.be.below(1024 * 1024 + 8192);
            expect(readStateDir(dir)?.billingProfiles[0].properties.note).to.equal(`1199 ${big}`);
        } finally {
            await store.close();
        }
    });

    it("drops a journal line cut short by a crash, ignores a journal left behind by a compaction, refuses a corrupt one", async () => {
        const seed = () => createSeedState({ now: new Date("2025-03-15T10:00:00Z") });
        const journal = path.join(dir, JOURNAL_FILE);
        // Stores left open below stand for killed processes: nothing is folded in at close, and
        // their lock names a process that no longer runs (killed), so the next open takes it over.
        let { store }: { store: EmulatorStore } = openFileStore(dir, seed);
        store.update((d) => {
            d.counters.invoice = 100;
        });
        // A crash while appending: part of a line, no newline. That update never returned.
        fs.appendFileSync(journal, '{"changes":[{"key":"counters","value":{"invoice":5');
        expect(readStateDir(dir)?.counters.invoice).to.equal(100);
        killedOwner(dir);
        ({ store } = openFileStore(dir, seed));
        expect(store.read((s) => s.counters.invoice)).to.equal(100);
        store.update((d) => {
            d.counters.invoice = 101;
        });
        expect(readStateDir(dir)?.counters.invoice, "appends after the cut").to.equal(101);
        const kept = fs.readFileSync(journal, "utf8");
        expect(JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")).counters.invoice, "the snapshot of the reopen").to.equal(100);

        // A journal naming another snapshot (a compaction stopped after its snapshot): ignored.
        fs.writeFileSync(journal, kept.replace(/"base":"[0-9a-f]+"/, `"base":"${"0".repeat(64)}"`));
        expect(readStateDir(dir)?.counters.invoice).to.equal(100);

        // A complete line that does not parse: corruption, named.
        const lines = kept.split("\n");
        fs.writeFileSync(journal, `${lines[0]}\n{"changes": nope}\n${lines[1]}\n`);
        killedOwner(dir);
        let message = "";
        await startEmulator({ dataDir: dir }).catch((e: Error) => (message = e.message));
        expect(message).to.contain(journal).and.contain("line 2");
    });

    it("reads state written by version 1 (operations dropped, new settings defaulted)", async () => {
        const v2 = createSeedState({ now: new Date("2025-03-15T10:00:00Z") }) as unknown as Record<string, any>;
        const { pdfPaddingBytes: _p, ...oldSettings } = v2.settings;
        const v1 = { ...v2, version: 1, settings: oldSettings, operations: [{ id: "invoiceDownload_x" }], counters: { ...v2.counters, operation: 7 } };
        fs.writeFileSync(path.join(dir, STATE_FILE), JSON.stringify(v1));
        const emu = await startEmulator({ dataDir: dir });
        try {
            expect(emu.seeded).to.equal(false);
            const state = emu.state() as unknown as Record<string, any>;
            expect(state.version).to.equal(2);
            expect(state).to.not.have.property("operations");
            expect(state.counters).to.deep.equal({ invoice: 9, extraProfile: 0 });
            expect(emu.settings().pdfPaddingBytes).to.equal(0);
        } finally {
            await emu.close();
        }
        expect(JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")).version).to.equal(2);
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
