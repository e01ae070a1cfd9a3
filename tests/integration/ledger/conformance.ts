/**
 * The ledger contract's rules, as one suite that every backend runs (SQLite
 * on a temporary file, PostgreSQL on a throwaway server the tests start):
 * planning is idempotent and concurrent planners agree; claims are
 * exclusive; fencing rejects a stale verdict; an expired lease is taken over
 * (and an extended one is not); cancel and counts behave the same; names
 * compare case-insensitively; a read-only ledger refuses writes; schema steps
 * apply, and a newer or foreign database is refused.
 */
import { expect } from "chai";
import * as os from "node:os";
import { ConfigurationError } from "../../../provider/errors";
import type { Claim, Ledger, Worker } from "../../../provider/reconciler/ledger/contract";
import type { InvoicePlan } from "../../../provider/reconciler/facts";
import { messageIdFor } from "../../../provider/reconciler/message";
import type { BillingProfileRef } from "../../../provider/billing/names";

export const REF: BillingProfileRef = { billingAccountName: "12345678", billingProfileName: "BP-1" };
export const OTHER: BillingProfileRef = { billingAccountName: "12345678", billingProfileName: "BP-2" };

export function plan(invoiceName: string, recipients: string[], ref: BillingProfileRef = REF): InvoicePlan {
    return {
        invoice: {
            billingAccountName: ref.billingAccountName,
            billingProfileName: ref.billingProfileName,
            billingProfileDisplayName: "Contoso",
            invoiceName,
            documentName: null,
            invoiceDate: "2024-06-01T00:00:00Z",
            dueDate: null,
            periodStartDate: null,
            periodEndDate: null,
            amountDue: { value: 10, currency: "USD" },
            status: "Due",
        },
        deliveries: recipients.map((r) => ({
            ...ref,
            invoiceName,
            recipient: r,
            recipientKey: r.toLowerCase(),
            reasons: ["Billing profile owner"],
            messageId: messageIdFor(ref, invoiceName, r),
        })),
        unresolved: [{ principalId: "p", source: "Billing profile reader", reason: "the user has no mailbox" }],
    };
}

export function worker(id: string, leaseMs = 60_000): Worker {
    return { id, host: os.hostname(), pid: process.pid, leaseMs };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a backend gives the suite. */
export interface Backend {
    /** A fresh, empty place for a ledger; returns a handle opener for it. */
    fresh(): Promise<{
        open(options?: { readOnly?: boolean }): Promise<Ledger | undefined>;
        /** Turns the place into another application's database (tables, no ledger). */
        makeForeign(): Promise<void>;
        /** Marks the ledger there as written by a newer version. */
        makeNewer(): Promise<void>;
        /** The schema step recorded there, or undefined. */
        version(): Promise<number | undefined>;
    }>;
    /** The newest schema step of the backend. */
    schemaVersion: number;
}

export function ledgerConformance(name: string, backend: () => Backend): void {
    describe(`ledger contract: ${name}`, function () {
        this.timeout(30_000);
        let place: Awaited<ReturnType<Backend["fresh"]>>;
        const opened: Ledger[] = [];
        const open = async (options?: { readOnly?: boolean }) => {
            const l = await place.open(options);
            if (!l) throw new Error("no ledger there");
            opened.push(l);
            return l;
        };
        beforeEach(async () => {
            place = await backend().fresh();
        });
        afterEach(async () => {
            for (const l of opened.splice(0)) await l.close();
        });

        it("applies its schema steps once, and a second open changes nothing", async () => {
            await (await open()).close();
            expect(await place.version()).to.equal(backend().schemaVersion);
            const again = await open();
            expect(await again.counts()).to.deep.equal({ planned: 0, sending: 0, sent: 0, failed: 0, cancelled: 0 });
            expect(await place.version()).to.equal(backend().schemaVersion);
        });

        it("plans once: a second plan of the same invoice (any case) changes nothing, and two planners at once agree on one plan", async () => {
            const a = await open();
            const b = await open();
            expect(await a.recordPlans([plan("G100000001", ["a@x.com", "b@x.com"])], "run1")).to.deep.equal({ invoices: 1, deliveries: 2 });
            expect(await b.recordPlans([plan("g100000001", ["a@x.com", "b@x.com", "late@x.com"]), plan("G100000002", ["a@x.com"])], "run2")).to.deep.equal({ invoices: 1, deliveries: 1 });
            expect(await a.plannedInvoiceNames(REF)).to.deep.equal(new Set(["g100000001", "g100000002"]));
            expect((await a.deliveries({ invoiceName: "g100000001" })).map((d) => d.recipientKey)).to.deep.equal(["a@x.com", "b@x.com"]);
            const stored = (await b.invoice({ billingAccountName: "12345678", billingProfileName: "bp-1" }, "G100000001"))!;
            expect(stored.plannedBy).to.equal("run1");
            expect(stored.facts.amountDue).to.deep.equal({ value: 10, currency: "USD" });
            expect(stored.unresolved[0].reason).to.equal("the user has no mailbox");
            // Two planners racing on the same new invoices with different recipients: one plan wins whole.
            const [x, y] = await Promise.all([
                a.recordPlans([plan("G100000003", ["one@x.com", "two@x.com"]), plan("G100000004", ["one@x.com"])], "run3"),
                b.recordPlans([plan("G100000003", ["three@x.com"]), plan("g100000004", ["four@x.com", "five@x.com"])], "run4"),
            ]);
            expect(x.invoices + y.invoices).to.equal(2);
            for (const inv of ["G100000003", "G100000004"]) {
                const rows = await a.deliveries({ invoiceName: inv });
                const by = (await a.invoice(REF, inv))!.plannedBy;
                const expected = by === "run3" ? (inv === "G100000003" ? ["one@x.com", "two@x.com"] : ["one@x.com"]) : inv === "G100000003" ? ["three@x.com"] : ["five@x.com", "four@x.com"];
                expect(rows.map((r) => r.recipientKey), `${inv} planned by ${by}`).to.deep.equal(expected);
            }
            expect(await a.counts([REF])).to.deep.equal({ planned: 3 + (await a.deliveries({ invoiceName: "G100000003" })).length + (await a.deliveries({ invoiceName: "G100000004" })).length, sending: 0, sent: 0, failed: 0, cancelled: 0 });
        });

        it("claims exclusively: two workers claiming at once take disjoint deliveries, and a batch is by invoice then recipient", async () => {
            const a = await open();
            const b = await open();
            const recipients = Array.from({ length: 10 }, (_, i) => `r${i}@x.com`);
            await a.recordPlans(["G100000001", "G100000002", "G100000003"].map((n) => plan(n, recipients)), "run1");
            const wa = worker("worker-a");
            const wb = worker("worker-b");
            const claimed: Claim[][] = [[], []];
            for (let round = 0; round < 10; round++) {
                const [ca, cb] = await Promise.all([a.claimNext(REF, wa, 3), b.claimNext(REF, wb, 4)]);
                claimed[0] = [...claimed[0], ...ca];
                claimed[1] = [...claimed[1], ...cb];
            }
            const ids = [...claimed[0], ...claimed[1]].map((c) => c.row.id);
            expect(new Set(ids).size, "no delivery claimed twice").to.equal(ids.length);
            expect(ids).to.have.length(30);
            expect(await a.claimNext(REF, wa, 5)).to.deep.equal([]);
            for (const c of claimed[0]) {
                expect(c.attempt).to.equal(1);
                expect(c.row).to.include({ state: "sending", leaseOwner: "worker-a", attempts: 1 });
            }
            const first = claimed[0].slice(0, 3).map((c) => `${c.row.invoiceName}|${c.row.recipientKey}`);
            expect(first).to.deep.equal([...first].sort());
            // Exclusions are honoured.
            const c = await open();
            await c.recordPlans([plan("G100000009", ["p@x.com", "q@x.com"], OTHER)], "run2");
            const [p] = await c.claimNext(OTHER, wa, 1, { ids: [] });
            expect(p.row.recipientKey).to.equal("p@x.com");
            expect(await c.claimNext(OTHER, wa, 5, { invoices: ["g100000009"] })).to.deep.equal([]);
            const rest = await c.claimNext(OTHER, wa, 5, { ids: [] });
            expect(rest.map((x) => x.row.recipientKey)).to.deep.equal(["q@x.com"]);
        });

        it("fences verdicts: a stale claim records nothing over the newer attempt; a repeated verdict of the same claim is recorded once", async () => {
            const l = await open();
            await l.recordPlans([plan("G100000001", ["a@x.com"])], "run1");
            const slow = worker("slow", 300);
            const [old] = await l.claimNext(REF, slow, 1);
            expect(old.attempt).to.equal(1);
            // Not stale yet: nobody else may take it.
            expect(await l.claimNext(REF, worker("fast"), 1)).to.deep.equal([]);
            await pause(600);
            const [fresh] = await l.claimNext(REF, worker("fast"), 1);
            expect(fresh.attempt).to.equal(2);
            expect(fresh.row.lastError).to.match(/taken over from slow/);
            expect(await l.extendLeases(slow, [old])).to.deep.equal(new Set());
            expect(await l.record([{ claim: old, outcome: "sent", smtpResponse: "250 old" }])).to.deep.equal(["fenced"]);
            expect(await l.record([{ claim: old, outcome: "failed", error: "550" }, { claim: old, outcome: "released", error: "451" }])).to.deep.equal(["fenced", "fenced"]);
            expect(await l.delivery(fresh.row.id)).to.include({ state: "sending", leaseOwner: "fast", attempts: 2 });
            expect(await l.record([{ claim: fresh, outcome: "sent", smtpResponse: "250 new" }])).to.deep.equal(["recorded"]);
            // The same verdict again (its reply was lost): recognised, not doubled, not fenced.
            expect(await l.record([{ claim: fresh, outcome: "sent", smtpResponse: "250 new" }])).to.deep.equal(["recorded"]);
            const sent = (await l.delivery(fresh.row.id))!;
            expect(sent).to.include({ state: "sent", smtpResponse: "250 new", leaseOwner: null, leaseExpiresAt: null, attempts: 2 });
            expect(sent.sentAt).to.be.a("string");
            // Sent is final: never claimed again.
            await pause(350);
            expect(await l.claimNext(REF, worker("later", 1), 5)).to.deep.equal([]);
        });

        it("takes over an expired lease, but not one that is being extended; released and failed verdicts come from the holder only", async () => {
            const l = await open();
            await l.recordPlans([plan("G100000001", ["a@x.com", "b@x.com"])], "run1");
            const w = worker("holder", 400);
            const [a, b] = await l.claimNext(REF, w, 2);
            for (let i = 0; i < 4; i++) {
                await pause(150);
                expect(await l.extendLeases(w, [a])).to.deep.equal(new Set([a.row.id]));
            }
            // b was not extended: it expired and is taken over; a was extended: it is still the holder's.
            const taken = await l.claimNext(REF, worker("other"), 5);
            expect(taken.map((c) => c.row.id)).to.deep.equal([b.row.id]);
            expect(await l.record([{ claim: a, outcome: "released", error: "451 later" }])).to.deep.equal(["recorded"]);
            expect(await l.delivery(a.row.id)).to.include({ state: "planned", lastError: "451 later", leaseOwner: null });
            const [again] = await l.claimNext(REF, w, 1);
            expect(again.attempt).to.equal(2);
            expect(await l.record([{ claim: again, outcome: "failed", error: "550 no such user" }])).to.deep.equal(["recorded"]);
            expect(await l.delivery(a.row.id)).to.include({ state: "failed", lastError: "550 no such user", attempts: 2 });
            const pending = await l.pending([REF], w);
            expect(pending.get("12345678/bp-1")).to.deep.equal({ pending: 0, invoices: 0, heldByOthers: 1 });
        });

        it("cancels only planned deliveries, by filter, and counts the same everywhere", async () => {
            const l = await open();
            await l.recordPlans([plan("G100000001", ["a@x.com", "b@x.com", "c@x.com"]), plan("G100000002", ["a@x.com"]), plan("G100000003", ["a@x.com"], OTHER)], "run1");
            const [first] = await l.claimNext(REF, worker("w"), 1);
            expect(first.row.recipientKey).to.equal("a@x.com");
            const cancelled = await l.cancel({ invoiceName: "g100000001" }, "stuck: wrong address");
            expect(cancelled.map((d) => d.recipientKey)).to.deep.equal(["b@x.com", "c@x.com"]);
            expect(cancelled.every((d) => d.state === "cancelled" && d.lastError === "stuck: wrong address")).to.equal(true);
            expect(await l.cancel({ invoiceName: "G100000002", recipient: "NOBODY@x.com" }, "x")).to.deep.equal([]);
            expect((await l.cancel({ invoiceName: "G100000002", recipient: "A@X.COM", profiles: [{ billingAccountName: "12345678", billingProfileName: "bp-1" }] }, "y")).length).to.equal(1);
            expect(await l.counts()).to.deep.equal({ planned: 1, sending: 1, sent: 0, failed: 0, cancelled: 3 });
            expect(await l.counts([OTHER])).to.deep.equal({ planned: 1, sending: 0, sent: 0, failed: 0, cancelled: 0 });
            expect(await l.cancelOptedOut(OTHER, "opted out")).to.equal(1);
            expect(await l.counts([REF, OTHER])).to.deep.equal({ planned: 0, sending: 1, sent: 0, failed: 0, cancelled: 4 });
            expect((await l.deliveries({ states: ["cancelled"], profiles: [OTHER] })).map((d) => d.lastError)).to.deep.equal(["opted out"]);
            const open2 = await l.openDeliveries(REF);
            expect(open2.map((d) => d.state)).to.deep.equal(["sending"]);
        });

        it("keeps runs, and a read-only handle reads everything and writes nothing", async () => {
            const l = await open();
            const w = worker("w1");
            await l.startRun("run-1", w);
            await l.recordPlans([plan("G100000001", ["a@x.com"])], "run-1");
            await l.finishRun("run-1", { totals: { sent: 0 }, errors: [] });
            const runs = await l.runs();
            expect(runs.map((r) => [r.runId, r.workerId, r.summary])).to.deep.equal([["run-1", "w1", { totals: { sent: 0 }, errors: [] }]]);
            const ro = await open({ readOnly: true });
            expect(ro.readOnly).to.equal(true);
            expect((await ro.deliveries()).length).to.equal(1);
            expect((await ro.openDeliveries(REF)).length).to.equal(1);
            let refused: unknown;
            await ro.recordPlans([plan("G100000002", ["b@x.com"])], "run-2").catch((e: unknown) => (refused = e));
            expect(refused, "a write through a read-only handle").to.be.instanceOf(Error);
            await ro.claimNext(REF, w, 1).then(
                () => expect.fail("claimed through a read-only handle"),
                () => undefined,
            );
            expect(await l.counts()).to.deep.include({ planned: 1, sending: 0 });
        });

        it("refuses a ledger written by a newer version, and another application's database, changing neither", async () => {
            await (await open()).close();
            await place.makeNewer();
            for (const readOnly of [false, true]) {
                let err: unknown;
                await place.open({ readOnly }).then(
                    (l) => l?.close(),
                    (e: unknown) => (err = e),
                );
                expect(err, `readOnly ${readOnly}`).to.be.instanceOf(ConfigurationError);
                expect(String(err)).to.match(/newer than this azure-email-invoicing understands/);
            }
            place = await backend().fresh();
            await place.makeForeign();
            for (const readOnly of [false, true]) {
                let err: unknown;
                await place.open({ readOnly }).then(
                    (l) => l?.close(),
                    (e: unknown) => (err = e),
                );
                expect(err, `readOnly ${readOnly}`).to.be.instanceOf(ConfigurationError);
                expect(String(err)).to.match(/holds tables \(customers\) and (is not an azure-email-invoicing ledger|no azure-email-invoicing ledger)/);
            }
            expect(await place.version()).to.equal(undefined);
        });
    });
}
