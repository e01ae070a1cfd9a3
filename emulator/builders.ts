/**
 * Builders of state records, used when the seed builds the starting state
 * and at run time by the admin API (new profiles and invoices) and the
 * handlers (timestamps): role definitions and assignments, invoices, billing
 * profiles, and Azure's timestamp form. Each takes the state (a draft inside
 * `store.update`) and changes it in place.
 */
import { createHash } from "node:crypto";
import { billingProfileId, type RoleScope } from "../provider/billing/paths";
import { fail } from "./errors";
import { actionsGranted } from "./authz";
import {
    ACCOUNT_ROLE_DESCRIPTIONS,
    ACCOUNT_ROLE_NAMES,
    PROFILE_ROLE_DESCRIPTIONS,
    PROFILE_ROLE_NAMES,
    PROFILES,
    ROLE_DEFINITION_IDS,
    type AgreementType,
} from "./fixtures";
import {
    type BillingProfileRecord,
    type EmulatorState,
    type InvoiceRecord,
    type PrincipalRecord,
    type RoleAssignmentRecord,
    type RoleKind,
    assignmentsAt,
    findAccount,
    roleDefinitionsAt,
    sameName,
} from "./model";

/** Azure's timestamp form, without milliseconds. */
export function isoSeconds(d: Date): string {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** MPA or MCA, as the account says (MCA when it does not). */
function agreementOf(state: EmulatorState, billingAccountName: string): AgreementType {
    const a = findAccount(state, billingAccountName);
    return a?.properties.agreementType === "MicrosoftPartnerAgreement" ? "MicrosoftPartnerAgreement" : "MicrosoftCustomerAgreement";
}

const RoleKindOrder: RoleKind[] = ["owner", "contributor", "reader", "invoiceManager"];

/**
 * Adds Microsoft's role definitions at an account (`billingProfileName`
 * null: owner, contributor, reader) or a profile (and invoice manager), with
 * the GUIDs of the account's agreement. Their permissions are the actions
 * the authorization matrix lets the role perform (`actionsGranted`).
 */
export function addRoleDefinitions(state: EmulatorState, billingAccountName: string, billingProfileName: string | null): void {
    const agreement = agreementOf(state, billingAccountName);
    if (billingProfileName === null) {
        for (const kind of ["owner", "contributor", "reader"] as const) {
            state.roleDefinitions.push({
                billingAccountName,
                billingProfileName: null,
                name: ROLE_DEFINITION_IDS[agreement].account[kind],
                roleName: ACCOUNT_ROLE_NAMES[kind],
                kind,
                description: ACCOUNT_ROLE_DESCRIPTIONS[kind],
                actions: actionsGranted(kind, "account"),
            });
        }
        return;
    }
    for (const kind of RoleKindOrder) {
        state.roleDefinitions.push({
            billingAccountName,
            billingProfileName,
            name: ROLE_DEFINITION_IDS[agreement].profile[kind],
            roleName: PROFILE_ROLE_NAMES[kind],
            kind,
            description: PROFILE_ROLE_DESCRIPTIONS[kind],
            actions: actionsGranted(kind, "profile"),
        });
    }
}

/**
 * Adds a role assignment (the seed's and the admin API's way; the Azure-facing
 * API goes through the handlers). Idempotent by (principal, role).
 */
export function grantRole(
    state: EmulatorState,
    grant: RoleScope & { principal: PrincipalRecord; kind: RoleKind; createdBy: PrincipalRecord; createdOn: string },
): RoleAssignmentRecord {
    const def = roleDefinitionsAt(state, grant.billingAccountName, grant.billingProfileName).find((d) => d.kind === grant.kind);
    if (!def) throw new Error(`no ${grant.kind} role definition at ${grant.billingAccountName}/${grant.billingProfileName ?? ""}`);
    const name = `${def.name}_${grant.principal.id}`;
    const existing = assignmentsAt(state, grant.billingAccountName, grant.billingProfileName).find((a) => sameName(a.name, name));
    if (existing) return existing;
    const record: RoleAssignmentRecord = {
        billingAccountName: grant.billingAccountName,
        billingProfileName: grant.billingProfileName,
        name,
        roleDefinitionName: def.name,
        principalId: grant.principal.id,
        principalTenantId: grant.principal.tenantId,
        createdOn: grant.createdOn,
        createdByPrincipalId: grant.createdBy.id,
        createdByPrincipalTenantId: grant.createdBy.tenantId,
    };
    state.roleAssignments.push(record);
    return record;
}

/** The principal holding the account-scope owner role (the first one), if any. */
export function accountOwnerOf(state: EmulatorState, billingAccountName: string): PrincipalRecord | undefined {
    const ownerDef = roleDefinitionsAt(state, billingAccountName, null).find((d) => d.kind === "owner");
    if (!ownerDef) return undefined;
    const a = assignmentsAt(state, billingAccountName, null).find((x) => sameName(x.roleDefinitionName, ownerDef.name));
    return a ? state.principals.find((p) => sameName(p.id, a.principalId)) : undefined;
}

/** A deterministic invoice amount for an invoice sequence number. */
function amountFor(seq: number): number {
    return Math.round(((seq * 7919) % 240000) + 2500) / 100;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function dateOnly(d: Date): string {
    return d.toISOString().slice(0, 10);
}

/**
 * Issues an invoice for a profile: the next invoice number (`G` + 9 digits)
 * and document number (8 digits), due 30 days after its date.
 */
export function issueInvoice(
    state: EmulatorState,
    profile: BillingProfileRecord,
    init: { invoiceDate: Date; periodStart: Date; periodEnd: Date; status: "Due" | "Paid"; amountDue?: number; monthly: boolean },
): InvoiceRecord {
    const seq = ++state.counters.invoice;
    const name = `G${100000000 + seq}`;
    const currency = (profile.properties.currency as string | undefined) ?? "USD";
    const total = init.amountDue ?? amountFor(seq);
    const tax = Math.round((total * 8) / 108 * 100) / 100;
    const money = (value: number) => ({ currency, value });
    const due = new Date(init.invoiceDate.getTime() + 30 * DAY_MS);
    const paid = init.status === "Paid";
    const properties: Record<string, unknown> = {
        amountDue: money(paid ? 0 : total),
        azurePrepaymentApplied: money(0),
        billedAmount: money(total),
        billingProfileDisplayName: profile.properties.displayName ?? null,
        billingProfileId: billingProfileId({ billingAccountName: profile.billingAccountName, billingProfileName: profile.name }),
        creditAmount: money(0),
        documents: [{ kind: "Invoice", name: String(20000000 + seq), source: "DRS" }],
        documentType: "Invoice",
        dueDate: isoSeconds(due),
        freeAzureCreditApplied: money(0),
        invoiceDate: isoSeconds(init.invoiceDate),
        invoicePeriodStartDate: isoSeconds(init.periodStart),
        invoicePeriodEndDate: isoSeconds(init.periodEnd),
        invoiceType: "AzureServices",
        isMonthlyInvoice: init.monthly,
        payments: paid
            ? [
                  {
                      amount: money(total),
                      date: isoSeconds(new Date(init.invoiceDate.getTime() + 10 * DAY_MS)),
                      paymentMethodFamily: "CreditCard",
                      paymentMethodType: "visa",
                      paymentType: "debited",
                  },
              ]
            : [],
        purchaseOrderNumber: profile.properties.poNumber ?? null,
        status: init.status,
        subTotal: money(Math.round((total - tax) * 100) / 100),
        taxAmount: money(tax),
        totalAmount: money(total),
    };
    const record: InvoiceRecord = { billingAccountName: profile.billingAccountName, billingProfileName: profile.name, name, properties };
    state.invoices.push(record);
    return record;
}

/**
 * Issues the three monthly invoices of a profile: for k = 3, 2, 1 the calendar
 * month k months before `now`, dated the 1st of the following month. The most
 * recent one is Due, the older ones Paid.
 */
export function issueMonthlyInvoices(state: EmulatorState, profile: BillingProfileRecord, now: Date): void {
    const y = now.getUTCFullYear();
    const m = now.getUTCMonth();
    for (let k = 3; k >= 1; k--) {
        const periodStart = new Date(Date.UTC(y, m - k, 1));
        const periodEnd = new Date(Date.UTC(y, m - k + 1, 0));
        const invoiceDate = new Date(Date.UTC(y, m - k + 1, 1));
        issueInvoice(state, profile, { invoiceDate, periodStart, periodEnd, status: k === 1 ? "Due" : "Paid", monthly: true });
    }
}

/** An invoice issued "now" (admin API): the current month so far. */
export function issueInvoiceNow(state: EmulatorState, profile: BillingProfileRecord, now: Date, amountDue?: number): InvoiceRecord {
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const periodEnd = new Date(`${dateOnly(now)}T00:00:00Z`);
    return issueInvoice(state, profile, { invoiceDate: now, periodStart, periodEnd, status: "Due", amountDue, monthly: false });
}

/**
 * Adds a billing profile to an account: the account's profile role
 * definitions, the account owner as billing profile owner, and three monthly
 * invoices. Throws 409 (`fail.conflict`) when the name is taken on the
 * account, the one failure a caller can cause; a missing account or account
 * owner is a broken state and throws a plain Error (500 through the error
 * factory).
 */
export function addProfile(
    state: EmulatorState,
    init: { billingAccountName: string; name: string; displayName: string; now: Date },
): BillingProfileRecord {
    const account = findAccount(state, init.billingAccountName);
    if (!account) throw new Error(`no billing account ${init.billingAccountName}`);
    if (state.billingProfiles.some((p) => sameName(p.billingAccountName, account.name) && sameName(p.name, init.name))) {
        throw fail.conflict(
            "BillingProfileAlreadyExists",
            `Billing profile '${init.name}' already exists in billing account '${account.name}'. Choose another name, or add profiles by {count}, which numbers them.`,
        );
    }
    const owner = accountOwnerOf(state, account.name);
    if (!owner) throw new Error(`billing account ${account.name} has no owner to make billing profile owner`);
    const agreement = agreementOf(state, account.name);
    const template = (agreement === "MicrosoftPartnerAgreement" ? PROFILES.partner : PROFILES.operations).record.properties;
    const profile: BillingProfileRecord = {
        billingAccountName: account.name,
        name: init.name,
        properties: {
            ...structuredClone(template),
            displayName: init.displayName,
            poNumber: `PO-${init.name}`,
            systemId: `SY${createHash("sha256").update(init.name).digest("hex").slice(0, 6).toUpperCase()}-${init.name}`,
        },
        tags: null,
    };
    state.billingProfiles.push(profile);
    addRoleDefinitions(state, account.name, profile.name);
    grantRole(state, {
        billingAccountName: account.name,
        billingProfileName: profile.name,
        principal: owner,
        kind: "owner",
        createdBy: owner,
        createdOn: isoSeconds(init.now),
    });
    issueMonthlyInvoices(state, profile, init.now);
    return profile;
}

/** The name of the n-th extra profile: `EX0001-MCA-BP`, ... */
export function extraProfileName(n: number): string {
    return `EX${String(n).padStart(4, "0")}-MCA-BP`;
}

/** Adds `count` numbered extra profiles to an account; returns their names. */
export function addExtraProfiles(state: EmulatorState, billingAccountName: string, count: number, now: Date): string[] {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
        let n = ++state.counters.extraProfile;
        while (state.billingProfiles.some((p) => sameName(p.name, extraProfileName(n)))) n = ++state.counters.extraProfile;
        const name = extraProfileName(n);
        addProfile(state, { billingAccountName, name, displayName: `Contoso Extra Billing ${n}`, now });
        names.push(name);
    }
    return names;
}
