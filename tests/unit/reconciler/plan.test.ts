import { expect } from "chai";
import type { BillingProfile, BillingRoleAssignment, BillingRoleDefinition, GraphUser, Invoice } from "../../../provider/billing/schemas";
import {
    invoiceWindow,
    inWindow,
    newInvoicesOf,
    parseProfileArg,
    planProfile,
    principalsToResolve,
    recipientRoleOf,
    addressMatcher,
    resolveRecipients,
    windowStatus,
} from "../../../provider/reconciler/plan";
import type { BillingProfileRef } from "../../../provider/billing/names";
import { messageIdFor } from "../../../provider/reconciler/message";

const BA = "10000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31";
const BP = "AB12-CD34-EF5-GH6";
const REF: BillingProfileRef = { billingAccountName: BA, billingProfileName: BP };
const SCOPE = `/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles/${BP}`;

function def(guid: string, roleName: string): BillingRoleDefinition {
    return { id: `${SCOPE}/billingRoleDefinitions/${guid}`, name: guid, properties: { roleName } };
}
const DEFS = [
    def("40000000-aaaa-bbbb-cccc-100000000000", "Billing profile owner"),
    def("40000000-aaaa-bbbb-cccc-100000000001", "Billing profile contributor"),
    def("40000000-aaaa-bbbb-cccc-100000000002", "Billing profile reader"),
    def("40000000-aaaa-bbbb-cccc-100000000004", "Invoice manager"),
    def("40000000-aaaa-bbbb-cccc-100000000006", "Azure subscription creator"),
];
const ROLE = { owner: DEFS[0], contributor: DEFS[1], reader: DEFS[2], invoiceManager: DEFS[3], creator: DEFS[4] };

let n = 0;
function assign(role: BillingRoleDefinition, principalId: string | null): BillingRoleAssignment {
    n++;
    return {
        id: `${SCOPE}/billingRoleAssignments/a${n}`,
        name: `${role.name}_${principalId ?? "none"}`,
        properties: { roleDefinitionId: `${SCOPE}/billingRoleDefinitions/${role.name}`, principalId },
    };
}
function user(id: string, mail: string | null, upn = `${id}@contoso.onmicrosoft.com`): GraphUser {
    return { id, mail, userPrincipalName: upn, displayName: `User ${id.slice(0, 4)}` };
}
const P = {
    owner: "11111111-0000-0000-0000-000000000001",
    contributor: "11111111-0000-0000-0000-000000000002",
    reader: "11111111-0000-0000-0000-000000000003",
    manager: "11111111-0000-0000-0000-000000000004",
    nomail: "11111111-0000-0000-0000-000000000005",
    creator: "11111111-0000-0000-0000-000000000006",
    ghost: "11111111-0000-0000-0000-000000000007",
};
const USERS = new Map<string, GraphUser | null>([
    [P.owner, user(P.owner, "Olivia@Contoso.com")],
    [P.contributor, user(P.contributor, "carl@contoso.com")],
    [P.reader, user(P.reader, "rita@contoso.com")],
    [P.manager, user(P.manager, "ap@contoso.com")],
    [P.nomail, user(P.nomail, null, "nomail@contoso.onmicrosoft.com")],
    [P.creator, user(P.creator, "creator@contoso.com")],
    [P.ghost, null],
]);

function invoice(name: string, invoiceDate: string, extra: Record<string, unknown> = {}): Invoice {
    return {
        id: `/providers/Microsoft.Billing/billingAccounts/${BA}/invoices/${name}`,
        name,
        properties: {
            invoiceDate,
            dueDate: "2024-06-30T00:00:00Z",
            invoicePeriodStartDate: "2024-05-01T00:00:00Z",
            invoicePeriodEndDate: "2024-05-31T00:00:00Z",
            amountDue: { currency: "USD", value: 16.53 },
            documents: [{ kind: "Invoice", name: `${name}-pdf`, url: "https://example.invalid/x.pdf" }],
            ...extra,
        },
    };
}
function profile(optIn: boolean | null, invoiceRecipients: string[] = []): BillingProfile {
    return { id: SCOPE, name: BP, properties: { displayName: "Contoso Operations", invoiceEmailOptIn: optIn, invoiceRecipients } };
}

describe("reconciler plan (pure)", () => {
    describe("recipientRoleOf", () => {
        it("recognises Azure's role names and the short forms, case-insensitively", () => {
            expect(recipientRoleOf("Billing profile owner")).to.equal("owner");
            expect(recipientRoleOf("billing  profile CONTRIBUTOR")).to.equal("contributor");
            expect(recipientRoleOf("Reader")).to.equal("reader");
            expect(recipientRoleOf("Invoice manager")).to.equal("invoiceManager");
        });
        it("gives no invoices to other roles", () => {
            expect(recipientRoleOf("Azure subscription creator")).to.equal(undefined);
            expect(recipientRoleOf("Billing account owner")).to.equal(undefined);
            expect(recipientRoleOf("")).to.equal(undefined);
        });
    });

    describe("resolveRecipients", () => {
        const assignments = [
            assign(ROLE.owner, P.owner),
            assign(ROLE.reader, P.owner), // the same person twice
            assign(ROLE.contributor, P.contributor),
            assign(ROLE.reader, P.reader),
            assign(ROLE.invoiceManager, P.manager),
            assign(ROLE.reader, P.nomail),
            assign(ROLE.creator, P.creator),
            assign(ROLE.reader, P.ghost),
            assign(ROLE.owner, null),
        ];

        it("asks Graph only for holders of the four roles", () => {
            expect(principalsToResolve(DEFS, assignments)).to.deep.equal([P.owner, P.contributor, P.reader, P.manager, P.nomail, P.ghost].sort());
        });

        it("names every role holder with a mailbox and every listed recipient once, case-insensitively, sorted", () => {
            const r = resolveRecipients({ roleDefinitions: DEFS, roleAssignments: assignments, users: USERS, invoiceRecipients: ["AP@contoso.com", "olivia@contoso.com", "finance@fabrikam.com"] });
            expect(r.recipients.map((x) => x.key)).to.deep.equal(["ap@contoso.com", "carl@contoso.com", "finance@fabrikam.com", "olivia@contoso.com", "rita@contoso.com"]);
            const olivia = r.recipients.find((x) => x.key === "olivia@contoso.com")!;
            expect(olivia.address).to.equal("Olivia@Contoso.com");
            expect(olivia.reasons).to.deep.equal(["Billing profile owner", "Billing profile reader", "invoiceRecipients"]);
            expect(r.recipients.find((x) => x.key === "ap@contoso.com")!.reasons).to.deep.equal(["Invoice manager", "invoiceRecipients"]);
        });

        it("reports holders without a mailbox, unknown to Graph or without a principal id, and never guesses their address", () => {
            const r = resolveRecipients({ roleDefinitions: DEFS, roleAssignments: assignments, users: USERS, invoiceRecipients: [] });
            expect(r.recipients.map((x) => x.key)).to.not.include("nomail@contoso.onmicrosoft.com");
            const byId = new Map(r.unresolved.map((u) => [u.principalId, u]));
            expect(byId.get(P.nomail)!.reason).to.match(/no mailbox/);
            expect(byId.get(P.nomail)!.source).to.equal("Billing profile reader");
            expect(byId.get(P.ghost)!.reason).to.match(/Graph has no user/);
            expect(r.unresolved.some((u) => u.principalId === undefined && /no principal id/.test(u.reason))).to.equal(true);
            expect(r.unresolved).to.have.length(3);
        });

        it("gives nothing to a user with a role outside the four", () => {
            const r = resolveRecipients({ roleDefinitions: DEFS, roleAssignments: [assign(ROLE.creator, P.creator)], users: USERS, invoiceRecipients: [] });
            expect(r.recipients).to.deep.equal([]);
            expect(r.unresolved).to.deep.equal([]);
        });

        describe("narrowed and extended by the routing", () => {
            const base = { roleDefinitions: DEFS, roleAssignments: assignments, users: USERS, invoiceRecipients: ["AP@contoso.com", "finance@fabrikam.com"] };
            it("azure-rule adds extra recipients (merging reasons) and leaves out what an exclude glob matches, whatever its source", () => {
                const r = resolveRecipients({ ...base, routing: { policy: "azure-rule", extraRecipients: ["intake@ap.example.com", "RITA@contoso.com"], exclude: ["*@FABRIKAM.com", "carl@contoso.co?", "*@contractor.example"] } });
                expect(r.recipients.map((x) => [x.key, x.reasons])).to.deep.equal([
                    ["ap@contoso.com", ["Invoice manager", "invoiceRecipients"]],
                    ["intake@ap.example.com", ["extraRecipients"]],
                    ["olivia@contoso.com", ["Billing profile owner", "Billing profile reader"]],
                    ["rita@contoso.com", ["Billing profile reader", "extraRecipients"]],
                ]);
                expect(r.excluded.map((x) => [x.address.toLowerCase(), x.pattern])).to.deep.equal([
                    ["carl@contoso.com", "carl@contoso.co?"],
                    ["finance@fabrikam.com", "*@FABRIKAM.com"],
                ]);
                expect(r.unusedExcludes).to.deep.equal(["*@contractor.example"]);
            });
            it("additional-only takes no role holder (and reports none as not mailed); none takes only the extra recipients", () => {
                const additional = resolveRecipients({ ...base, routing: { policy: "additional-only", extraRecipients: [], exclude: [] } });
                expect(additional.recipients.map((x) => [x.key, x.reasons])).to.deep.equal([
                    ["ap@contoso.com", ["invoiceRecipients"]],
                    ["finance@fabrikam.com", ["invoiceRecipients"]],
                ]);
                expect(additional.unresolved).to.deep.equal([]);
                const none = resolveRecipients({ ...base, routing: { policy: "none", extraRecipients: ["intake@ap.example.com"], exclude: [] } });
                expect(none.recipients.map((x) => [x.key, x.reasons])).to.deep.equal([["intake@ap.example.com", ["extraRecipients"]]]);
                expect(resolveRecipients({ ...base, routing: { policy: "none", extraRecipients: [], exclude: [] } }).recipients).to.deep.equal([]);
            });
            it("an exclude glob: * any run, ? one character, case-insensitive, everything else literal", () => {
                const m = addressMatcher("*.ops+ap@contoso.com");
                expect(m("team.ops+ap@CONTOSO.com")).to.equal(true);
                expect(m("teamXops+ap@contoso.com")).to.equal(false);
                expect(m("team.opsap@contoso.com")).to.equal(false);
                expect(addressMatcher("a?c@x.com")("abc@x.com")).to.equal(true);
                expect(addressMatcher("a?c@x.com")("ac@x.com")).to.equal(false);
                expect(addressMatcher("*@x.com")("a@x.com.evil")).to.equal(false);
            });
        });

        it("reports a malformed additional recipient instead of sending to it", () => {
            const r = resolveRecipients({ roleDefinitions: DEFS, roleAssignments: [], users: USERS, invoiceRecipients: ["ok@contoso.com", "bad@@contoso", "x@y.com\r\nBcc: evil@z.com"] });
            expect(r.recipients.map((x) => x.key)).to.deep.equal(["ok@contoso.com"]);
            expect(r.unresolved.map((u) => u.source)).to.deep.equal(["invoiceRecipients", "invoiceRecipients"]);
        });

        it("accepts assignments whose roleDefinitionId is given at account scope or as a bare GUID", () => {
            const a: BillingRoleAssignment = {
                id: "x",
                name: "y",
                properties: { roleDefinitionId: `/providers/Microsoft.Billing/billingAccounts/${BA}/billingRoleDefinitions/${ROLE.reader.name}`, principalId: P.reader },
            };
            const b: BillingRoleAssignment = { id: "x2", name: "y2", properties: { roleDefinitionId: ROLE.owner.name, principalId: P.contributor } };
            const r = resolveRecipients({ roleDefinitions: DEFS, roleAssignments: [a, b], users: USERS, invoiceRecipients: [] });
            expect(r.recipients.map((x) => x.key)).to.deep.equal(["carl@contoso.com", "rita@contoso.com"]);
        });
    });

    describe("window", () => {
        const now = new Date("2024-06-15T10:00:00Z");
        it("defaults to the last 31 days, UTC days, inclusive", () => {
            const w = invoiceWindow(now);
            expect(w).to.deep.equal({ start: "2024-05-15", end: "2024-06-15" });
            expect(inWindow(invoice("G000000001", "2024-05-15T00:00:00Z"), w)).to.equal(true);
            expect(inWindow(invoice("G000000002", "2024-05-14T23:59:59Z"), w)).to.equal(false);
            expect(inWindow(invoice("G000000003", "2024-06-15T23:00:00Z"), w)).to.equal(true);
            expect(inWindow(invoice("G000000004", "2024-06-16T00:00:00Z"), w)).to.equal(false);
        });
        it("starts at --since when given, and rejects a date that is not a calendar day", () => {
            expect(invoiceWindow(now, "2024-01-01")).to.deep.equal({ start: "2024-01-01", end: "2024-06-15" });
            expect(() => invoiceWindow(now, "2024-02-30")).to.throw();
            expect(() => invoiceWindow(now, "yesterday")).to.throw();
        });
        it("leaves out invoices without a date", () => {
            const inv = invoice("G000000005", "2024-06-01T00:00:00Z");
            delete inv.properties.invoiceDate;
            expect(inWindow(inv, invoiceWindow(now))).to.equal(false);
        });
        it("reads the invoice date strictly: 2026-02-30 is no day and 'Invoice 7' is no date", () => {
            const w = { start: "2000-01-01", end: "2030-12-31" };
            for (const bad of ["2026-02-30", "2026-02-30T00:00:00Z", "Invoice 7"]) {
                expect(inWindow(invoice("G000000006", bad), w), bad).to.equal(false);
                expect(windowStatus(invoice("G000000006", bad), w)).to.deep.equal({
                    status: "invalid",
                    reason: `the invoice date ${JSON.stringify(bad)} is not an ISO 8601 date, so it is in no window`,
                });
            }
        });
    });

    describe("invoices that cannot be planned", () => {
        const window = { start: "2024-05-15", end: "2024-06-15" };
        const good = invoice("G000000001", "2024-06-01T00:00:00Z");

        it("are reported with the reason and left out of the window: bad dates, names not of Azure's form, bad document names", () => {
            const invoices = [
                good,
                invoice("G000000002", "2026-02-30"),
                invoice("G000000003", "Invoice 7"),
                invoice("../../etc/passwd", "2024-06-01T00:00:00Z"),
                invoice("G00000000\r\nsent G000000001 to cfo@example.com: 250 OK", "2024-06-01T00:00:00Z"),
                invoice("G000000004", "2024-06-01T00:00:00Z", { documents: [{ kind: "Invoice", name: "../x", url: "https://example.invalid/x.pdf" }] }),
                invoice("G000000005", "2024-06-01T00:00:00Z", { invoiceDate: null }),
            ];
            const r = newInvoicesOf({ profile: profile(true), ref: REF, invoices, window, alreadyPlanned: new Set() });
            expect(r.inWindow.map((f) => f.invoiceName)).to.deep.equal(["G000000001"]);
            expect(r.fresh.map((f) => f.invoiceName)).to.deep.equal(["G000000001"]);
            expect(r.skipped.map((k) => k.invoiceName)).to.deep.equal(invoices.slice(1).map((i) => i.name));
            expect(r.skipped[0].reason).to.match(/invoice date "2026-02-30" is not an ISO 8601 date/);
            expect(r.skipped[2].reason).to.match(/invoice name "\.\.\/\.\.\/etc\/passwd" is not of Azure's form/);
            expect(r.skipped[3].reason).to.include("\\r\\n");
            expect(r.skipped[4].reason).to.match(/document name "\.\.\/x" is not of Azure's form/);
            expect(r.skipped[5].reason).to.match(/no invoice date/);
            const p = planProfile({ profile: profile(true), ref: REF, invoices, window, alreadyPlanned: new Set(), recipients: { recipients: [], unresolved: [] } });
            expect(p.plans.map((x) => x.invoice.invoiceName)).to.deep.equal(["G000000001"]);
        });

        it("are not reported when their (valid) date is outside the window", () => {
            const r = newInvoicesOf({ profile: profile(true), ref: REF, invoices: [invoice("../x", "2020-01-01T00:00:00Z")], window, alreadyPlanned: new Set() });
            expect(r.skipped).to.deep.equal([]);
        });
    });

    describe("planProfile", () => {
        const window = { start: "2024-05-15", end: "2024-06-15" };
        const invoices = [invoice("G000000002", "2024-06-01T00:00:00Z"), invoice("G000000001", "2024-05-20T00:00:00Z"), invoice("G000000000", "2024-04-01T00:00:00Z")];
        const recipients = resolveRecipients({
            roleDefinitions: DEFS,
            roleAssignments: [assign(ROLE.owner, P.owner), assign(ROLE.reader, P.reader), assign(ROLE.reader, P.nomail)],
            users: USERS,
            invoiceRecipients: ["ap@contoso.com"],
        });

        it("plans nothing for a profile that is not opted in", () => {
            for (const optIn of [false, null]) {
                const p = planProfile({ profile: profile(optIn), ref: REF, invoices, window, alreadyPlanned: new Set(), recipients });
                expect(p.optedIn).to.equal(false);
                expect(p.plans).to.deep.equal([]);
            }
        });

        it("plans each in-window invoice for each recipient, oldest invoice first, with stable Message-IDs", () => {
            const p = planProfile({ profile: profile(true), ref: REF, invoices, window, alreadyPlanned: new Set(), recipients });
            expect(p.plans.map((x) => x.invoice.invoiceName)).to.deep.equal(["G000000001", "G000000002"]);
            const d = p.plans.flatMap((x) => x.deliveries);
            expect(d).to.have.length(6);
            expect(d.map((x) => `${x.invoiceName}:${x.recipientKey}`)).to.deep.equal([
                "G000000001:ap@contoso.com",
                "G000000001:olivia@contoso.com",
                "G000000001:rita@contoso.com",
                "G000000002:ap@contoso.com",
                "G000000002:olivia@contoso.com",
                "G000000002:rita@contoso.com",
            ]);
            expect(new Set(d.map((x) => x.messageId)).size).to.equal(6);
            expect(d[1].messageId).to.equal(messageIdFor(REF, "G000000001", "olivia@contoso.com"));
            expect(p.plans[0].unresolved.map((u) => u.principalId)).to.deep.equal([P.nomail]);
            expect(p.plans[0].invoice).to.include({ documentName: "G000000001-pdf", billingProfileDisplayName: "Contoso Operations" });
        });

        it("never re-plans an invoice that has a plan: its recipients are frozen", () => {
            const p = planProfile({ profile: profile(true), ref: REF, invoices, window, alreadyPlanned: new Set(["g000000001"]), recipients });
            expect(p.invoicesInWindow.map((x) => x.invoiceName)).to.deep.equal(["G000000001", "G000000002"]);
            expect(p.plans.map((x) => x.invoice.invoiceName)).to.deep.equal(["G000000002"]);
        });

        it("needs no recipients when nothing is new (the executor then makes no role or Graph calls)", () => {
            const fresh = newInvoicesOf({ profile: profile(true), ref: REF, invoices, window, alreadyPlanned: new Set(["g000000001", "g000000002"]) });
            expect(fresh.fresh).to.deep.equal([]);
            const p = planProfile({ profile: profile(true), ref: REF, invoices, window, alreadyPlanned: new Set(["g000000001", "g000000002"]) });
            expect(p.plans).to.deep.equal([]);
            expect(() => planProfile({ profile: profile(true), ref: REF, invoices, window, alreadyPlanned: new Set() })).to.throw(/no recipients/);
        });

        it("lists an invoice once even when a page repeats it", () => {
            const p = planProfile({ profile: profile(true), ref: REF, invoices: [...invoices, invoices[0]], window, alreadyPlanned: new Set(), recipients });
            expect(p.plans).to.have.length(2);
        });
    });

    describe("parseProfileArg", () => {
        it("splits at the last slash and validates both names", () => {
            expect(parseProfileArg(`${BA}/${BP}`)).to.deep.equal({ ok: true, ref: REF });
            expect(parseProfileArg("12345678/BP-1")).to.deep.equal({ ok: true, ref: { billingAccountName: "12345678", billingProfileName: "BP-1" } });
            for (const bad of ["nobreak", "/BP", "123/", "12345678/B P", "12345678/../x", "acc ount/BP"]) {
                expect(parseProfileArg(bad).ok, bad).to.equal(false);
            }
        });
    });
});
