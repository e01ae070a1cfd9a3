import { expect } from "chai";
import { describeUnresolved, renderDryRun } from "../../../cli/commands/reconcile";
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
