import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { ConfigurationError } from "../../../provider/errors";
import { LEDGER_SCHEMA_VERSION, Ledger, defaultLedgerPath, leaseIsStale, leaseOwner } from "../../../provider/reconciler/ledger";
import { messageIdFor } from "../../../provider/reconciler/message";
import type { InvoicePlan, ProfileRef } from "../../../provider/reconciler/plan";

const REF: ProfileRef = { billingAccountName: "12345678", billingProfileName: "BP-1" };

function plan(invoiceName: string, recipients: string[]): InvoicePlan {
    return {
        invoice: {
            billingAccountName: REF.billingAccountName,
            billingProfileName: REF.billingProfileName,
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
            ...REF,
            invoiceName,
            recipient: r,
            recipientKey: r.toLowerCase(),
            reasons: ["Billing profile owner"],
            messageId: messageIdFor(REF, invoiceName, r),
        })),
        unresolved: [{ principalId: "p", source: "Billing profile reader", reason: "the user has no mailbox" }],
    };
}

describe("reconciler ledger (SQLite)", () => {
    let dir: string;
    let file: string;
    const open: Ledger[] = [];
    const openLedger = () => {
        const l = Ledger.open(file);
        open.push(l);
        return l;
    };
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "aei-ledger-"));
        file = path.join(dir, "nested", "ledger.sqlite");
    });
    afterEach(() => {
        for (const l of open.splice(0)) l.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("defaults to $XDG_STATE_HOME/azure-email-invoicing/ledger.sqlite, else ~/.local/state", () => {
        expect(defaultLedgerPath({ XDG_STATE_HOME: "/var/state" }, "/home/u")).to.equal("/var/state/azure-email-invoicing/ledger.sqlite");
        expect(defaultLedgerPath({}, "/home/u")).to.equal("/home/u/.local/state/azure-email-invoicing/ledger.sqlite");
        expect(defaultLedgerPath({ XDG_STATE_HOME: "relative" }, "/home/u")).to.equal("/home/u/.local/state/azure-email-invoicing/ledger.sqlite");
    });

    it("creates its folder and schema in WAL mode with a version table", () => {
        openLedger().close();
        const db = new Database(file, { readonly: true });
        expect(db.pragma("journal_mode", { simple: true })).to.equal("wal");
        expect(db.prepare("SELECT version FROM schema_version").all()).to.deep.equal([{ version: LEDGER_SCHEMA_VERSION }]);
        db.close();
        // Reopening keeps the one version row.
        openLedger().close();
        const again = new Database(file, { readonly: true });
        expect(again.prepare("SELECT COUNT(*) AS n FROM schema_version").get()).to.deep.equal({ n: 1 });
        again.close();
    });

    it("refuses a ledger written by a newer schema", () => {
        openLedger().close();
        const db = new Database(file);
        db.prepare("UPDATE schema_version SET version = ?").run(LEDGER_SCHEMA_VERSION + 1);
        db.close();
        expect(() => Ledger.open(file)).to.throw(ConfigurationError, /newer/);
        expect(() => Ledger.openExisting(file)).to.throw(ConfigurationError, /newer/);
    });

    it("openExisting never creates a ledger", () => {
        expect(Ledger.openExisting(file)).to.equal(undefined);
        expect(fs.existsSync(path.dirname(file))).to.equal(false);
    });

    it("stores a plan once: a second plan of the same invoice (any case) changes nothing", () => {
        const l = openLedger();
        expect(l.recordPlans([plan("G100000001", ["a@x.com", "b@x.com"])], "run1", Date.now())).to.deep.equal({ invoices: 1, deliveries: 2 });
        expect(l.recordPlans([plan("g100000001", ["a@x.com", "b@x.com", "late@x.com"]), plan("G100000002", ["a@x.com"])], "run2", Date.now())).to.deep.equal({
            invoices: 1,
            deliveries: 1,
        });
        expect(l.plannedInvoiceNames(REF)).to.deep.equal(new Set(["g100000001", "g100000002"]));
        expect(l.deliveries({ invoiceName: "G100000001" }).map((d) => d.recipientKey)).to.deep.equal(["a@x.com", "b@x.com"]);
        const stored = l.invoice({ billingAccountName: "12345678", billingProfileName: "bp-1" }, "G100000001")!;
        expect(stored.plannedBy).to.equal("run1");
        expect(stored.unresolved[0].reason).to.equal("the user has no mailbox");
        expect(l.counts([REF])).to.deep.equal({ planned: 3, sending: 0, sent: 0, failed: 0, cancelled: 0 });
    });

    it("lets exactly one of two handles claim a delivery, and records verdicts only for the holder", () => {
        const a = openLedger();
        const b = openLedger();
        a.recordPlans([plan("G100000001", ["a@x.com"])], "run1", Date.now());
        const [row] = a.openDeliveries(REF);
        const holderA = { owner: leaseOwner("runA"), leaseMs: 60_000 };
        const holderB = { owner: leaseOwner("runB"), leaseMs: 60_000 };
        const never = () => false;
        expect(a.claim(row.id, holderA, Date.now(), never)).to.equal(true);
        expect(b.claim(row.id, holderB, Date.now(), never)).to.equal(false);
        expect(b.markFailed(row.id, holderB, "550", Date.now())).to.equal(false);
        expect(b.release(row.id, holderB, "451", Date.now())).to.equal(false);
        expect(a.delivery(row.id)).to.include({ state: "sending", attempts: 1, leaseOwner: holderA.owner });
        a.markSent(row.id, "250 OK", Date.now());
        const sent = b.delivery(row.id)!;
        expect(sent).to.include({ state: "sent", smtpResponse: "250 OK", leaseOwner: null });
        expect(sent.sentAt).to.be.a("string");
        // Sent is final.
        expect(b.claim(row.id, holderB, Date.now(), () => true)).to.equal(false);
    });

    it("takes over a stale 'sending' lease exactly once", () => {
        const a = openLedger();
        a.recordPlans([plan("G100000001", ["a@x.com"])], "run1", Date.now());
        const [row] = a.openDeliveries(REF);
        expect(a.claim(row.id, { owner: "otherhost/1/dead", leaseMs: 60_000 }, Date.now(), () => false)).to.equal(true);
        const h1 = { owner: leaseOwner("r1"), leaseMs: 60_000 };
        const h2 = { owner: leaseOwner("r2"), leaseMs: 60_000 };
        expect(a.claim(row.id, h1, Date.now(), () => false)).to.equal(false);
        expect(a.claim(row.id, h1, Date.now(), () => true)).to.equal(true);
        // h1 now holds it: a second taker sees a different holder and loses, even if it thinks the old one is stale.
        const current = a.delivery(row.id)!;
        expect(current).to.include({ leaseOwner: h1.owner, attempts: 2 });
        expect(current.lastError).to.match(/taken over from otherhost\/1\/dead/);
        expect(a.release(row.id, h1, "451 later", Date.now())).to.equal(true);
        expect(a.delivery(row.id)).to.include({ state: "planned", lastError: "451 later" });
        expect(a.claim(row.id, h2, Date.now(), () => false)).to.equal(true);
        expect(a.markFailed(row.id, h2, "550 no such user", Date.now())).to.equal(true);
        expect(a.delivery(row.id)).to.include({ state: "failed", lastError: "550 no such user", attempts: 3 });
    });

    it("cancels only planned deliveries of a profile", () => {
        const l = openLedger();
        l.recordPlans([plan("G100000001", ["a@x.com", "b@x.com"])], "run1", Date.now());
        const [first] = l.openDeliveries(REF);
        l.claim(first.id, { owner: leaseOwner("r"), leaseMs: 60_000 }, Date.now(), () => false);
        expect(l.cancelPlanned(REF, "opted out", Date.now())).to.equal(1);
        expect(l.counts()).to.deep.include({ cancelled: 1, sending: 1 });
    });

    describe("leaseIsStale", () => {
        const me = { host: "h1", pid: 100 };
        const now = 1_000_000;
        it("is stale when expired or without holder", () => {
            expect(leaseIsStale({ owner: "h2/5/r", expiresAt: now - 1 }, now, me, () => true)).to.equal(true);
            expect(leaseIsStale({ owner: null, expiresAt: null }, now, me, () => true)).to.equal(true);
        });
        it("is stale when the holder ran on this host and its process is gone", () => {
            expect(leaseIsStale({ owner: "h1/5/r", expiresAt: now + 1000 }, now, me, () => false)).to.equal(true);
            expect(leaseIsStale({ owner: "h1/5/r", expiresAt: now + 1000 }, now, me, () => true)).to.equal(false);
        });
        it("is not stale for another host or for this process until it expires", () => {
            expect(leaseIsStale({ owner: "h2/5/r", expiresAt: now + 1000 }, now, me, () => false)).to.equal(false);
            expect(leaseIsStale({ owner: "h1/100/other-run", expiresAt: now + 1000 }, now, me, () => false)).to.equal(false);
        });
    });
});
