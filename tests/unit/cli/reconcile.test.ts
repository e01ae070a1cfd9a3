import { expect } from "chai";
import { describeUnresolved, renderDryRun, renderSummary } from "../../../cli/render";
import { renderTable, terminalSafe } from "../../../cli/text";
import { exitCodeOf, type ProfileSummary, type RunSummary } from "../../../provider/reconciler/run";

const PROFILE = "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31/AB12-CD34-EF5-GH6";

function profile(overrides: Partial<ProfileSummary> = {}): ProfileSummary {
    return {
        billingAccountName: PROFILE.split("/")[0],
        billingProfileName: "AB12-CD34-EF5-GH6",
        displayName: "Contoso",
        optedIn: true,
        invoicesInWindow: 1,
        newInvoices: 1,
        recipients: 1,
        planned: 1,
        sent: 0,
        failed: 0,
        pending: 0,
        cancelled: 0,
        unresolved: [],
        skippedInvoices: [],
        excluded: [],
        warnings: [],
        errors: [],
        ...overrides,
    };
}

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
    return {
        runId: "r",
        dryRun: false,
        window: { start: "2025-01-01", end: "2025-01-31" },
        startedAt: "2025-01-31T00:00:00.000Z",
        finishedAt: "2025-01-31T00:00:01.000Z",
        profiles: [profile()],
        errors: [],
        warnings: [],
        totals: { planned: 1, sent: 1, failed: 0, pending: 0, cancelled: 0, unresolved: 0 },
        plannedDeliveries: [],
        stopped: false,
        ...overrides,
    };
}

describe("reconcile command output", () => {
    it("names who is not mailed once, with the object id beside a display name", () => {
        const id = "30000000-0000-0000-0000-000000000001";
        expect(describeUnresolved({ principalId: id, displayName: "Dana", source: "Billing profile reader", reason: "the user has no mailbox" }, PROFILE)).to.equal(
            `not mailed: Dana (${id}), Billing profile reader on ${PROFILE}: the user has no mailbox`,
        );
        expect(describeUnresolved({ principalId: id, source: "Invoice manager", reason: "unknown to Graph" }, PROFILE)).to.equal(
            `not mailed: ${id}, Invoice manager on ${PROFILE}: unknown to Graph`,
        );
        expect(describeUnresolved({ source: "invoiceRecipients", reason: "'x' is not a valid email address" }, PROFILE)).to.equal(
            `not mailed: ?, invoiceRecipients on ${PROFILE}: 'x' is not a valid email address`,
        );
    });

    it("the dry-run listing reports who is not mailed the same way as the summary", () => {
        const u = { principalId: "30000000-0000-0000-0000-000000000001", displayName: "Dana", source: "Billing profile reader", reason: "the user has no mailbox" };
        const text = renderDryRun(summary({ dryRun: true, profiles: [profile({ unresolved: [u] })] }));
        expect(text).to.include(describeUnresolved(u, PROFILE));
    });
});

describe("text from servers on a terminal", () => {
    /** Any character a terminal acts on: C0 but tab, DEL, C1, bidi controls. */
    const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    const HOSTILE = "Contoso\x1b]0;pwned\x07\x1b[2J\r\nsent G000000001 to cfo@example.com: 250 OK\u009b31m\u202e";

    it("shows every control character as an escape, keeping tab and ordinary text", () => {
        expect(terminalSafe("a\tb é 日本")).to.equal("a\tb é 日本");
        expect(terminalSafe("x\x1b[2Jy\rz\n\x00\x7f\u009b\u202e")).to.equal("x\\x1b[2Jy\\rz\\n\\x00\\x7f\\x9b\\u202e");
        expect(terminalSafe(HOSTILE)).to.not.match(CONTROLS);
    });

    it("the summary, the dry-run listing and tables forge no line and send no escape sequence", () => {
        const hostile = profile({
            displayName: HOSTILE,
            errors: [`getBillingProfile failed: ${HOSTILE}`],
            unresolved: [{ principalId: "p", displayName: HOSTILE, source: "Billing profile reader", reason: HOSTILE }],
            skippedInvoices: [{ invoiceName: HOSTILE, reason: "the invoice name is not of Azure's form" }],
            excluded: [{ address: "a@b.c", reasons: [HOSTILE], pattern: HOSTILE }],
            warnings: [HOSTILE],
        });
        for (const text of [
            renderSummary(summary({ profiles: [hostile], errors: [HOSTILE] }), "/tmp/ledger.sqlite"),
            renderDryRun(summary({ dryRun: true, profiles: [hostile], plannedDeliveries: [{ billingAccountName: "1", billingProfileName: "P", invoiceName: HOSTILE, recipient: "a@b.c", reasons: [HOSTILE] }] })),
        ]) {
            for (const line of text.split("\n")) expect(line, JSON.stringify(line)).to.not.match(CONTROLS);
            expect(text.split("\n").filter((l) => l.startsWith("sent "))).to.deep.equal([]);
            expect(text).to.include("Contoso\\x1b]0;pwned\\x07");
        }
    });

    it("renders a table of 300,000 rows (widths without spreading rows into arguments)", () => {
        const rows = Array.from({ length: 300_000 }, (_, i) => [String(i), "x"]);
        expect(renderTable(["N", "X"], rows).split("\n")).to.have.length(300_002);
    });
});

describe("exitCodeOf", () => {
    it("is 0 when everything was delivered, 1 when a delivery failed, stayed pending or a profile broke", () => {
        expect(exitCodeOf(summary())).to.equal(0);
        expect(exitCodeOf(summary({ totals: { ...summary().totals, failed: 1 } }))).to.equal(1);
        expect(exitCodeOf(summary({ totals: { ...summary().totals, pending: 1 } }))).to.equal(1);
        expect(exitCodeOf(summary({ profiles: [profile({ errors: ["HTTP 403"] })] }))).to.equal(1);
        expect(exitCodeOf(summary({ errors: ["cannot list billing accounts"] }))).to.equal(1);
    });

    it("in a dry run, only a broken profile or listing makes it 1", () => {
        expect(exitCodeOf(summary({ dryRun: true }))).to.equal(0);
        expect(exitCodeOf(summary({ dryRun: true, profiles: [profile({ errors: ["HTTP 403"] })] }))).to.equal(1);
        expect(exitCodeOf(summary({ dryRun: true, errors: ["cannot list billing accounts"] }))).to.equal(1);
    });
});
