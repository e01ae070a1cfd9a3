/**
 * The reconciler's pure core, with no I/O so that it can be tested alone: from what the billing API says about
 * a billing profile (opt-in, additional recipients, role definitions, role
 * assignments, the Graph users behind them, invoices) to the deliveries Azure's
 * rule asks for. No I/O here; the executor (run.ts) fetches, this decides.
 *
 * Azure's rule: once a billing profile is opted in to email invoices, every
 * user with an owner, contributor, reader or invoice manager role on the
 * profile receives each invoice by email, and so does each of the profile's
 * additional recipients (`invoiceRecipients`).
 */
import { billingProfileRef, documentName, emailAddress, invoiceName, isoDate, type BillingProfileRef } from "../billing/names";
import { isoDay } from "../billing/dates";
import { sameId } from "../billing/paths";
import { invoiceDocumentName } from "../billing/profile";
import type { BillingProfile, BillingRoleAssignment, BillingRoleDefinition, GraphUser, Invoice } from "../billing/schemas";
import { profileLabel, type InvoiceAmount, type InvoiceFacts, type InvoicePlan, type UnresolvedRecipient } from "./facts";
import { messageIdFor } from "./message";

/** The four billing-profile roles whose holders receive invoices. */
export type RecipientRole = "owner" | "contributor" | "reader" | "invoiceManager";

/** The default window: invoices dated within the last 31 days. */
export const DEFAULT_WINDOW_DAYS = 31;

/**
 * Which recipient role a billing role definition grants, from its `roleName`
 * (never from its GUID: MCA and MPA name their definitions differently).
 * Accepts Azure's names ("Billing profile owner", "Invoice manager") and the
 * short forms ("Owner"); any other role (e.g. "Azure subscription creator")
 * gives no invoices.
 */
export function recipientRoleOf(roleName: string): RecipientRole | undefined {
    const n = roleName.trim().toLowerCase().replace(/\s+/g, " ").replace(/^billing profile /, "");
    switch (n) {
        case "owner":
            return "owner";
        case "contributor":
            return "contributor";
        case "reader":
            return "reader";
        case "invoice manager":
            return "invoiceManager";
        default:
            return undefined;
    }
}

/** Someone who receives a profile's invoices, and why. */
export interface Recipient {
    /** The address as Graph or `invoiceRecipients` spells it (first spelling seen). */
    address: string;
    /** Lower-cased address: the de-duplication and idempotency key. */
    key: string;
    /** Why: role names (e.g. "Billing profile owner"), "invoiceRecipients" and/or "extraRecipients". */
    reasons: string[];
}

/**
 * The principal ids whose mailbox must be looked up in Graph: holders of one
 * of the four roles on the profile. De-duplicated, lower-cased, sorted.
 */
export function principalsToResolve(definitions: readonly BillingRoleDefinition[], assignments: readonly BillingRoleAssignment[]): string[] {
    const ids = new Set<string>();
    for (const a of assignments) {
        if (!a.properties.principalId) continue;
        if (roleOfAssignment(definitions, a)) ids.add(a.properties.principalId.toLowerCase());
    }
    return [...ids].sort();
}

function roleOfAssignment(definitions: readonly BillingRoleDefinition[], a: BillingRoleAssignment): { role: RecipientRole; roleName: string } | undefined {
    const def = definitions.find((d) => sameId(d.id, a.properties.roleDefinitionId) || sameId(d.name, a.properties.roleDefinitionId));
    if (!def) return undefined;
    const role = recipientRoleOf(def.properties.roleName);
    return role ? { role, roleName: def.properties.roleName } : undefined;
}

/**
 * Which of Azure's recipients a profile's routing takes: `azure-rule` (the
 * role holders and the additional recipients), `additional-only` (the
 * additional recipients), `none`.
 */
export const RECIPIENT_POLICIES = ["azure-rule", "additional-only", "none"] as const;
export type RecipientPolicy = (typeof RECIPIENT_POLICIES)[number];

/** The reason stored for one of the profile's additional recipients (`invoiceRecipients`). */
export const ADDITIONAL_RECIPIENT_REASON = "invoiceRecipients";
/** The reason stored for an address from the routing's `extraRecipients`. */
export const EXTRA_RECIPIENT_REASON = "extraRecipients";

/** What a profile's routing says about its recipients. */
export interface RecipientRouting {
    policy: RecipientPolicy;
    /** Addresses outside Azure, added with the reason {@link EXTRA_RECIPIENT_REASON}. */
    extraRecipients: readonly string[];
    /** Address globs; a recipient any of them matches is left out. */
    exclude: readonly string[];
}

/** Azure's rule, unchanged: the default routing. */
export const AZURE_RULE: RecipientRouting = { policy: "azure-rule", extraRecipients: [], exclude: [] };

/** Whether a policy needs the profile's role holders (and so role and Graph calls). */
export function needsRoleHolders(policy: RecipientPolicy): boolean {
    return policy === "azure-rule";
}

/** An address glob as a test: `*` any run of characters, `?` one, the rest literal, case-insensitive. */
export function addressMatcher(glob: string): (address: string) => boolean {
    const source = glob
        .trim()
        .split("")
        .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
        .join("");
    const re = new RegExp(`^${source}$`, "i");
    return (address) => re.test(address.trim());
}

/** A recipient an `exclude` pattern left out. */
export interface ExcludedRecipient {
    address: string;
    reasons: string[];
    /** The first pattern that matched. */
    pattern: string;
}

/** What {@link resolveRecipients} takes. */
export interface RecipientInput {
    roleDefinitions: readonly BillingRoleDefinition[];
    roleAssignments: readonly BillingRoleAssignment[];
    /** Graph users by lower-cased principal id; `null` when Graph has no such user (404). */
    users: ReadonlyMap<string, GraphUser | null>;
    /** The profile's additional recipients. */
    invoiceRecipients: readonly string[];
    /** The profile's routing; default {@link AZURE_RULE}. */
    routing?: RecipientRouting;
}

/** What {@link resolveRecipients} finds. */
export interface ResolvedRecipients {
    recipients: Recipient[];
    unresolved: UnresolvedRecipient[];
    /** Recipients the routing's `exclude` left out. */
    excluded: ExcludedRecipient[];
    /** `exclude` patterns that matched nobody (a warning, not an error). */
    unusedExcludes: string[];
}

/**
 * The recipients of a profile's invoices: holders of the four roles whose
 * Graph `mail` is a valid address, plus the valid `invoiceRecipients`,
 * de-duplicated case-insensitively and sorted by key. Role holders without a
 * mailbox (Graph `mail` null), unknown to Graph, or assigned without a
 * principal id are returned in `unresolved`; their user principal name is not
 * used as a guess.
 *
 * The routing then narrows and extends them: `additional-only` takes no role
 * holder, `none` neither role holders nor additional recipients;
 * `extraRecipients` are added; every recipient an `exclude` glob matches is
 * left out (and returned in `excluded`), whatever its source.
 */
export function resolveRecipients(input: RecipientInput): ResolvedRecipients {
    const routing = input.routing ?? AZURE_RULE;
    const byKey = new Map<string, Recipient>();
    const unresolved: UnresolvedRecipient[] = [];
    const add = (address: string, reason: string) => {
        const key = address.toLowerCase();
        const existing = byKey.get(key);
        if (existing) {
            if (!existing.reasons.includes(reason)) existing.reasons.push(reason);
        } else {
            byKey.set(key, { address, key, reasons: [reason] });
        }
    };
    const reported = new Set<string>();
    for (const a of needsRoleHolders(routing.policy) ? input.roleAssignments : []) {
        const r = roleOfAssignment(input.roleDefinitions, a);
        if (!r) continue;
        const principalId = a.properties.principalId ?? undefined;
        const displayName = a.properties.principalDisplayName ?? undefined;
        if (!principalId) {
            unresolved.push({ source: r.roleName, displayName, reason: `the ${r.roleName} assignment ${a.name} names no principal id, so no mailbox can be looked up` });
            continue;
        }
        const user = input.users.get(principalId.toLowerCase());
        const once = (reason: string) => {
            const k = `${principalId.toLowerCase()}|${r.roleName}`;
            if (reported.has(k)) return;
            reported.add(k);
            unresolved.push({ principalId, source: r.roleName, displayName: user?.displayName ?? displayName, reason });
        };
        if (user === undefined) {
            once("the principal was not looked up in Microsoft Graph");
        } else if (user === null) {
            once("Microsoft Graph has no user with this object id (a group or service principal, or a deleted user)");
        } else if (!user.mail) {
            once(`the user has no mailbox (Graph 'mail' is empty${user.userPrincipalName ? `; the user principal name ${user.userPrincipalName} is not used as a guess` : ""})`);
        } else {
            const parsed = emailAddress.safeParse(user.mail.trim());
            if (parsed.success) add(parsed.data, r.roleName);
            else once(`the Graph 'mail' value '${user.mail}' is not a valid email address`);
        }
    }
    for (const raw of routing.policy === "none" ? [] : input.invoiceRecipients) {
        const parsed = emailAddress.safeParse(raw.trim());
        if (parsed.success) add(parsed.data, ADDITIONAL_RECIPIENT_REASON);
        else unresolved.push({ source: ADDITIONAL_RECIPIENT_REASON, reason: `'${raw}' is not a valid email address` });
    }
    for (const raw of routing.extraRecipients) {
        // Checked when the configuration was read; a bad one here is reported like a bad invoiceRecipients entry.
        const parsed = emailAddress.safeParse(raw.trim());
        if (parsed.success) add(parsed.data, EXTRA_RECIPIENT_REASON);
        else unresolved.push({ source: EXTRA_RECIPIENT_REASON, reason: `'${raw}' is not a valid email address` });
    }
    const matchers = routing.exclude.map((pattern) => ({ pattern, test: addressMatcher(pattern), used: false }));
    const excluded: ExcludedRecipient[] = [];
    const recipients: Recipient[] = [];
    for (const r of [...byKey.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))) {
        const hits = matchers.filter((m) => m.test(r.address));
        for (const m of hits) m.used = true;
        if (hits.length > 0) excluded.push({ address: r.address, reasons: r.reasons, pattern: hits[0].pattern });
        else recipients.push(r);
    }
    return { recipients, unresolved, excluded, unusedExcludes: matchers.filter((m) => !m.used).map((m) => m.pattern) };
}

// ---------------------------------------------------------------------------
// Invoices and the window

/** Which invoices a run considers: invoice date from `start` to `end`, both inclusive, UTC days. */
export interface InvoiceWindow {
    start: string;
    end: string;
}

function utcDay(d: Date): string {
    return d.toISOString().slice(0, 10);
}

/**
 * The window of a run: from `since` (YYYY-MM-DD) or `days` before `now`, to
 * the day of `now`, in UTC. Throws a zod error for a malformed `since`.
 */
export function invoiceWindow(now: Date, since?: string, days = DEFAULT_WINDOW_DAYS): InvoiceWindow {
    const end = utcDay(now);
    const start = since !== undefined ? isoDate.parse(since) : utcDay(new Date(now.getTime() - days * 24 * 60 * 60 * 1000));
    return { start, end: start > end ? start : end };
}

function amountOf(a: { value?: number | null; currency?: string | null } | null | undefined): InvoiceAmount | null {
    return a && typeof a.value === "number" ? { value: a.value, currency: a.currency ?? null } : null;
}

/** Reads the facts a message needs out of an invoice. */
export function invoiceFacts(ref: BillingProfileRef, displayName: string | null, invoice: Invoice): InvoiceFacts {
    const p = invoice.properties;
    return {
        billingAccountName: ref.billingAccountName,
        billingProfileName: ref.billingProfileName,
        billingProfileDisplayName: p.billingProfileDisplayName ?? displayName ?? null,
        invoiceName: invoice.name,
        documentName: invoiceDocumentName(invoice) ?? null,
        invoiceDate: p.invoiceDate ?? null,
        dueDate: p.dueDate ?? null,
        periodStartDate: p.invoicePeriodStartDate ?? null,
        periodEndDate: p.invoicePeriodEndDate ?? null,
        amountDue: amountOf(p.amountDue),
        totalAmount: amountOf(p.totalAmount),
        taxAmount: amountOf(p.taxAmount),
        status: p.status ?? null,
    };
}

/**
 * Where an invoice stands against the window: `in` or `out` by the UTC day of
 * its invoice date, or `invalid` with the reason when the invoice cannot be
 * planned at all: no invoice date, a date that is not ISO 8601 (read strictly,
 * so `2026-02-30` is not 2 March), or a name or document name that is not of
 * Azure's form (such a name could never be downloaded nor sent, and would
 * fail every later pass).
 */
export function windowStatus(invoice: Invoice, window: InvoiceWindow): { status: "in" | "out" } | { status: "invalid"; reason: string } {
    const d = invoice.properties.invoiceDate;
    if (!d) return { status: "invalid", reason: "the invoice has no invoice date, so it is in no window" };
    const day = isoDay(d);
    if (day === undefined) return { status: "invalid", reason: `the invoice date ${JSON.stringify(d)} is not an ISO 8601 date, so it is in no window` };
    if (day < window.start || day > window.end) return { status: "out" };
    if (!invoiceName.safeParse(invoice.name).success) {
        return { status: "invalid", reason: `the invoice name ${JSON.stringify(invoice.name)} is not of Azure's form (e.g. G123456789), so it can be neither downloaded nor sent` };
    }
    const document = invoiceDocumentName(invoice);
    if (document !== undefined && !documentName.safeParse(document).success) {
        return { status: "invalid", reason: `the document name ${JSON.stringify(document)} is not of Azure's form, so the PDF cannot be downloaded` };
    }
    return { status: "in" };
}

/** True when the invoice's date (its UTC day) is inside the window. Invoices without a valid date or name are outside. */
export function inWindow(invoice: Invoice, window: InvoiceWindow): boolean {
    return windowStatus(invoice, window).status === "in";
}

/** An invoice the planner left out although Azure listed it for the window, and why. */
export interface SkippedInvoice {
    invoiceName: string;
    reason: string;
}

// ---------------------------------------------------------------------------
// Plans

/** Everything the planner needs about one billing profile. */
export interface ProfileInput {
    profile: BillingProfile;
    /** The profile's reference (names as Azure returns them). */
    ref: BillingProfileRef;
    /** All invoices listed for the window (out-of-window ones are dropped here too). */
    invoices: readonly Invoice[];
    window: InvoiceWindow;
    /** Lower-cased names of invoices already planned in the ledger: their recipients are frozen. */
    alreadyPlanned: ReadonlySet<string>;
    /** Recipients, when the caller resolved them (needed only when some invoice is new). */
    recipients?: Pick<ResolvedRecipients, "recipients" | "unresolved">;
}

/** What the planner decided for one profile. */
export interface ProfilePlan {
    ref: BillingProfileRef;
    optedIn: boolean;
    /** In-window invoices, sorted by invoice date then name. */
    invoicesInWindow: InvoiceFacts[];
    /** In-window invoices without a plan yet; their plans are in `plans`. */
    newInvoices: InvoiceFacts[];
    /** Plans for the new invoices (empty when not opted in). */
    plans: InvoicePlan[];
}

/** Whether the profile is opted in to email invoices. */
export function isOptedIn(profile: BillingProfile): boolean {
    return profile.properties.invoiceEmailOptIn === true;
}

/** The in-window invoices of a profile that have no plan yet, sorted by date then name. */
export function newInvoicesOf(input: Pick<ProfileInput, "profile" | "ref" | "invoices" | "window" | "alreadyPlanned">): {
    inWindow: InvoiceFacts[];
    fresh: InvoiceFacts[];
    /** Listed invoices that cannot be planned (see {@link windowStatus}), to report. */
    skipped: SkippedInvoice[];
} {
    const displayName = input.profile.properties.displayName ?? null;
    const seen = new Set<string>();
    const facts: InvoiceFacts[] = [];
    const skipped: SkippedInvoice[] = [];
    for (const inv of input.invoices) {
        const where = windowStatus(inv, input.window);
        if (where.status === "invalid") {
            skipped.push({ invoiceName: inv.name, reason: where.reason });
            continue;
        }
        if (where.status === "out") continue;
        const k = inv.name.toLowerCase();
        if (seen.has(k)) continue;
        seen.add(k);
        facts.push(invoiceFacts(input.ref, displayName, inv));
    }
    facts.sort((a, b) => ((a.invoiceDate ?? "") + a.invoiceName < (b.invoiceDate ?? "") + b.invoiceName ? -1 : 1));
    return { inWindow: facts, fresh: facts.filter((f) => !input.alreadyPlanned.has(f.invoiceName.toLowerCase())), skipped };
}

/**
 * Plans one profile: nothing when it is not opted in; otherwise one plan per
 * in-window invoice that has no plan yet, addressed to every recipient.
 * Throws when a new invoice needs recipients and none were resolved (a bug in
 * the caller, not a user error).
 */
export function planProfile(input: ProfileInput): ProfilePlan {
    const optedIn = isOptedIn(input.profile);
    const { inWindow: invoicesInWindow, fresh } = newInvoicesOf(input);
    if (!optedIn) return { ref: input.ref, optedIn, invoicesInWindow, newInvoices: fresh, plans: [] };
    if (fresh.length > 0 && !input.recipients) throw new Error(`planProfile: ${profileLabel(input.ref)} has new invoices but no recipients were resolved`);
    const plans = fresh.map((invoice) => ({
        invoice,
        deliveries: (input.recipients?.recipients ?? []).map((r) => ({
            billingAccountName: input.ref.billingAccountName,
            billingProfileName: input.ref.billingProfileName,
            invoiceName: invoice.invoiceName,
            recipient: r.address,
            recipientKey: r.key,
            reasons: [...r.reasons],
            messageId: messageIdFor(input.ref, invoice.invoiceName, r.key),
        })),
        unresolved: [...(input.recipients?.unresolved ?? [])],
    }));
    return { ref: input.ref, optedIn, invoicesInWindow, newInvoices: fresh, plans };
}

// ---------------------------------------------------------------------------
// Scope

/**
 * A `--profile` value: `<billingAccountName>/<billingProfileName>`. Account
 * names never contain `/`, so the last `/` separates the two. Returns the
 * names validated against Microsoft's patterns, or an error message.
 */
export function parseProfileArg(value: string): { ok: true; ref: BillingProfileRef } | { ok: false; reason: string } {
    const i = value.lastIndexOf("/");
    if (i <= 0 || i === value.length - 1) {
        return { ok: false, reason: `'${value}' is not <billingAccountName>/<billingProfileName>` };
    }
    const parsed = billingProfileRef.safeParse({ billingAccountName: value.slice(0, i), billingProfileName: value.slice(i + 1) });
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return { ok: false, reason: `'${value}': ${String(issue?.path[0] ?? "value")} ${issue?.message ?? "is invalid"}` };
    }
    return { ok: true, ref: parsed.data };
}
