/**
 * The memory store's transactions: all or nothing through an undo log, with
 * drafts that behave like the plain state (identity, array methods) and never
 * leak into it.
 */
import { expect } from "chai";
import { type EmulatorState, assignmentsAt, copyOf, findInvoice, findInvoiceNamed, findProfile, roleDefinitionsAt, sameName } from "../../../emulator/model";
import { createSeedState } from "../../../emulator/seed";
import { applyChange, createMemoryStore } from "../../../emulator/store";

const NOW = new Date("2025-03-15T10:00:00Z");

function fresh() {
    return createMemoryStore(createSeedState({ now: NOW, seed: { extraProfiles: 2 } }));
}

/** True when a value, anywhere inside, holds a draft (util.types.isProxy). */
function holdsProxy(value: unknown, seen = new Set<unknown>()): boolean {
    if (typeof value !== "object" || value === null || seen.has(value)) return false;
    if (require("node:util").types.isProxy(value)) return true;
    seen.add(value);
    return Object.values(value).some((v) => holdsProxy(v, seen));
}

describe("emulator store: transactions (memory)", () => {
    it("undoes every kind of change when the function throws", () => {
        const store = fresh();
        const before = store.snapshot();
        expect(() =>
            store.update((d) => {
                d.invoices.push(copyOf(d.invoices[0]));
                d.invoices.splice(1, 2);
                d.invoices.reverse();
                d.invoices.sort((a, b) => a.name.localeCompare(b.name));
                d.roleAssignments.length = 1;
                d.roleAssignments = d.roleAssignments.filter(() => false);
                d.billingProfiles[0].properties.invoiceEmailOptIn = true;
                d.billingProfiles[0].properties.brandNew = { nested: [1, 2] };
                delete d.billingProfiles[1].properties.poNumber;
                (d.billingProfiles[2].properties.billTo as Record<string, unknown>).city = "Elsewhere";
                d.settings = { ...d.settings, pageSize: 3 };
                d.counters.invoice += 10;
                Object.assign(d.principals[0], { displayName: "Changed", extra: true });
                d.principals.fill(d.principals[1]);
                throw new Error("halfway");
            }),
        ).to.throw("halfway");
        expect(store.snapshot()).to.deep.equal(before);
    });

    it("commits what the function changed, and keeps the objects it did not touch", () => {
        const store = fresh();
        const untouched = store.read((s) => s.invoices[5]);
        store.update((d) => {
            d.billingProfiles[0].properties.invoiceEmailOptIn = true;
            d.invoices.push({ ...copyOf(d.invoices[0]), name: "G999999999" });
        });
        expect(store.read((s) => s.billingProfiles[0].properties.invoiceEmailOptIn)).to.equal(true);
        expect(store.read((s) => s.invoices[s.invoices.length - 1].name)).to.equal("G999999999");
        expect(store.read((s) => s.invoices[5]), "no copy of the rest of the state").to.equal(untouched);
    });

    it("hands out one draft per object, so identity comparisons and array searches work", () => {
        const store = fresh();
        const removed = store.update((d) => {
            const target = d.roleAssignments.find((a) => a.principalId === d.principals[1].id);
            expect(target).to.not.equal(undefined);
            expect(d.roleAssignments.includes(target!)).to.equal(true);
            expect(d.roleAssignments.indexOf(target!)).to.be.at.least(0);
            d.roleAssignments = d.roleAssignments.filter((a) => a !== target);
            return target!.name;
        });
        expect(store.read((s) => s.roleAssignments.some((a) => a.name === removed))).to.equal(false);
    });

    it("never stores or returns a draft: values built from drafts hold the state's own objects", () => {
        const store = fresh();
        const result = store.update((d) => {
            d.invoices = [...d.invoices, ...d.invoices.slice(0, 1)];
            d.billingProfiles[0].properties = { ...d.billingProfiles[0].properties, copied: d.billingProfiles[1].properties.billTo };
            return { settings: d.settings, first: d.invoices[0], list: [d.principals[0]] };
        });
        expect(holdsProxy(result)).to.equal(false);
        expect(store.read((s) => holdsProxy(s))).to.equal(false);
        expect(result.first).to.equal(store.read((s) => s.invoices[0]));
    });

    it("refuses writes through a draft kept after its update, nested updates and asynchronous functions", async () => {
        const store = fresh();
        let kept: EmulatorState | undefined;
        store.update((d) => {
            kept = d;
        });
        expect(() => {
            kept!.counters.invoice = 1;
        }).to.throw("after its update returned");
        expect(() => store.update(() => store.update(() => 1))).to.throw("inside an update");
        const before = store.snapshot();
        expect(() =>
            store.update(async (d) => {
                d.counters.invoice = 77;
            }),
        ).to.throw("synchronous");
        expect(store.snapshot(), "the async function's synchronous part is rolled back").to.deep.equal(before);
        expect(store.update((d) => d.counters.invoice + 1)).to.equal(before.counters.invoice + 1);
    });

    it("gives a snapshot that is a copy", () => {
        const store = fresh();
        const snap = store.snapshot();
        snap.billingProfiles[0].properties.invoiceEmailOptIn = true;
        expect(store.read((s) => s.billingProfiles[0].properties.invoiceEmailOptIn)).to.equal(false);
    });
});

describe("emulator store: journal changes", () => {
    it("removes by old position, then inserts and updates by new position", () => {
        const state: Record<string, unknown> = { xs: ["a", "b", "c", "d"], n: 1 };
        applyChange(state, { key: "xs", removed: [1, 3], inserted: [[0, "z"], [3, "y"]], updated: [[1, "A"]] });
        expect(state.xs).to.deep.equal(["z", "A", "c", "y"]);
        applyChange(state, { key: "n", value: 2 });
        applyChange(state, { key: "gone", deleted: true });
        expect(state).to.deep.equal({ xs: ["z", "A", "c", "y"], n: 2 });
        expect(() => applyChange(state, { key: "xs", removed: [], inserted: [[9, "q"]], updated: [] })).to.throw("insertion at 9");
        expect(() => applyChange(state, { key: "n", removed: [], inserted: [], updated: [] })).to.throw("does not fit");
    });
});

describe("emulator model: the invoice index", () => {
    it("answers like a scan of the array however the array changes in place", () => {
        const store = fresh();
        const scan = (name: string) => store.read((s) => s.invoices.find((i) => i.name.toLowerCase() === name.toLowerCase()));
        const check = (names: string[]) => {
            for (const n of names) expect(store.read((s) => findInvoiceNamed(s, n)), n).to.equal(scan(n));
        };
        const names = store.read((s) => s.invoices.map((i) => i.name));
        check([...names, names[0].toLowerCase(), "G000000000"]);
        store.update((d) => {
            d.invoices.splice(2, 1);
            d.invoices.push({ ...copyOf(d.invoices[0]), name: "G900000001" });
        });
        check([...names, "G900000001"]);
        store.update((d) => {
            d.invoices[0].name = "G900000002";
            d.invoices.reverse();
        });
        check([...names, "G900000001", "G900000002"]);
        const account = store.read((s) => s.invoices[1].billingAccountName);
        expect(store.read((s) => findInvoice(s, account, s.invoices[1].name))).to.equal(store.read((s) => s.invoices[1]));
        expect(store.read((s) => findInvoice(s, "another account", s.invoices[1].name))).to.equal(undefined);
    });
});

describe("emulator model: the indexes by scope", () => {
    it("finds profiles, role definitions and role assignments by scope as a scan does, through changes, rollbacks and drafts", () => {
        const store = fresh();
        type Scoped = { billingAccountName: string; billingProfileName: string | null };
        const at = (list: readonly Scoped[], account: string, profile: string | null) =>
            list.filter((r) => sameName(r.billingAccountName, account) && (profile === null ? r.billingProfileName === null : sameName(r.billingProfileName, profile)));
        const check = (s: Readonly<EmulatorState>) => {
            const scopes: Array<[string, string | null]> = s.billingProfiles.map((p) => [p.billingAccountName.toUpperCase(), p.name.toLowerCase()]);
            for (const a of s.billingAccounts) scopes.push([a.name, null]);
            scopes.push(["no such account", null], [s.billingAccounts[0].name, "no such profile"]);
            for (const [account, profile] of scopes) {
                expect(roleDefinitionsAt(s, account, profile), `definitions at ${account}/${profile}`).to.deep.equal(at(s.roleDefinitions, account, profile));
                expect(assignmentsAt(s, account, profile), `assignments at ${account}/${profile}`).to.deep.equal(at(s.roleAssignments, account, profile));
                if (profile !== null) {
                    const scanned = s.billingProfiles.find((p) => sameName(p.billingAccountName, account) && sameName(p.name, profile));
                    expect(findProfile(s, account, profile), `profile ${account}/${profile}`).to.equal(scanned);
                }
            }
        };
        store.read(check);
        const profile = store.read((s) => s.billingProfiles[0]);
        const extra = { ...copyOf(store.read((s) => s.roleAssignments.find((a) => a.billingProfileName !== null))!), name: "added" };
        store.update((d) => {
            d.roleAssignments.push({ ...extra, billingAccountName: profile.billingAccountName, billingProfileName: profile.name });
            d.roleDefinitions.splice(1, 1);
            d.billingProfiles.reverse();
            check(d);
        });
        store.read(check);
        expect(store.read((s) => assignmentsAt(s, profile.billingAccountName, profile.name).some((a) => a.name === "added"))).to.equal(true);
        expect(() =>
            store.update((d) => {
                d.roleAssignments.length = 0;
                d.billingProfiles.push({ ...copyOf(d.billingProfiles[0]), name: "ROLLED-BACK" });
                check(d);
                throw new Error("halfway");
            }),
        ).to.throw("halfway");
        store.read(check);
        expect(store.read((s) => findProfile(s, profile.billingAccountName, "rolled-back"))).to.equal(undefined);
        // A record found through a draft is the draft's: a write to it is logged, and rolled back.
        expect(() =>
            store.update((d) => {
                findProfile(d, profile.billingAccountName, profile.name)!.properties.invoiceEmailOptIn = !profile.properties.invoiceEmailOptIn;
                throw new Error("undo");
            }),
        ).to.throw("undo");
        expect(store.read((s) => findProfile(s, profile.billingAccountName, profile.name)!.properties.invoiceEmailOptIn)).to.equal(profile.properties.invoiceEmailOptIn);
    });
});
