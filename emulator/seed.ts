/**
 * The emulator's deterministic starting state: two billing accounts (MCA and
 * MPA), three billing profiles, Microsoft's billing role definitions, a small
 * directory of users with deterministic tokens, and three monthly invoices per
 * profile dated relative to the emulator's clock. README.md in this folder has
 * the same data as tables.
 *
 * The same inputs (clock, options) always give the same state, byte for byte.
 */
import { createHash } from "node:crypto";
import type { BillingProfileRef } from "../provider/billing/names";
import { billingProfileId } from "../provider/billing/paths";
import { fail } from "./errors";
import {
    type BillingProfileRecord,
    type EmulatorState,
    type InvoiceRecord,
    type PrincipalRecord,
    type RoleAssignmentRecord,
    type RoleKind,
    DEFAULT_SETTINGS,
    STATE_VERSION,
    assignmentsAt,
    deterministicGuid,
    findAccount,
    roleDefinitionsAt,
    sameName,
} from "./model";

/** Options of the seed. */
export interface SeedOptions {
    /**
     * Extra billing profiles on the MCA account (default 0), e.g. 100 for a
     * benchmark. Each has the seeded role definitions, the MCA account owner
     * (grace@contoso.com) as its billing profile owner, and three invoices.
     */
    extraProfiles?: number;
}

export const TENANT_ID = "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
export const MCA_ACCOUNT = "8a9c2f4e-6b1d-4f3a-9c7e-2d5b8a1f4c6e:3e7b1d9a-5c2f-4a8e-b6d1-9f4c2a7e5b3d_2019-05-31";
export const MPA_ACCOUNT = "c4d8e2a6-1f3b-4c5d-8e9f-0a1b2c3d4e5f:7b2e9c4a-3d6f-4e1b-a8c5-6f0d3b9e2a7c_2018-09-30";

type AgreementType = "MicrosoftCustomerAgreement" | "MicrosoftPartnerAgreement";

/**
 * Role definition GUIDs. The MCA profile GUIDs are the ones in Microsoft's
 * example; the MPA ones differ on purpose, so a client that hard-codes a GUID
 * instead of resolving the role by name fails on the MPA profile.
 */
export const ROLE_DEFINITION_IDS: Record<AgreementType, { profile: Record<RoleKind, string>; account: Record<Exclude<RoleKind, "invoiceManager">, string> }> = {
    MicrosoftCustomerAgreement: {
        profile: {
            owner: "40000000-aaaa-bbbb-cccc-100000000000",
            contributor: "40000000-aaaa-bbbb-cccc-100000000001",
            reader: "40000000-aaaa-bbbb-cccc-100000000002",
            invoiceManager: "40000000-aaaa-bbbb-cccc-100000000004",
        },
        account: {
            owner: "50000000-aaaa-bbbb-cccc-100000000000",
            contributor: "50000000-aaaa-bbbb-cccc-100000000001",
            reader: "50000000-aaaa-bbbb-cccc-100000000002",
        },
    },
    MicrosoftPartnerAgreement: {
        profile: {
            owner: "a7c3e1f9-2b4d-4e6a-9c8b-1d2e3f4a5b60",
            contributor: "a7c3e1f9-2b4d-4e6a-9c8b-1d2e3f4a5b61",
            reader: "a7c3e1f9-2b4d-4e6a-9c8b-1d2e3f4a5b62",
            invoiceManager: "a7c3e1f9-2b4d-4e6a-9c8b-1d2e3f4a5b64",
        },
        account: {
            owner: "0d4e8a2b-7c61-4f95-b3a0-e2c9d1f7a800",
            contributor: "0d4e8a2b-7c61-4f95-b3a0-e2c9d1f7a801",
            reader: "0d4e8a2b-7c61-4f95-b3a0-e2c9d1f7a802",
        },
    },
};

/** Role names as Azure spells them. */
export const PROFILE_ROLE_NAMES: Record<RoleKind, string> = {
    owner: "Billing profile owner",
    contributor: "Billing profile contributor",
    reader: "Billing profile reader",
    invoiceManager: "Invoice manager",
};
export const ACCOUNT_ROLE_NAMES: Record<Exclude<RoleKind, "invoiceManager">, string> = {
    owner: "Billing account owner",
    contributor: "Billing account contributor",
    reader: "Billing account reader",
};

const PROFILE_ROLE_DESCRIPTIONS: Record<RoleKind, string> = {
    owner: "The Owner role gives the user all permissions including access management rights to the billing profile.",
    contributor: "The Contributor role gives the user all permissions except access management rights to the billing profile.",
    reader: "The Reader role gives the user read only access to the billing profile.",
    invoiceManager: "The Invoice Manager role gives the user the ability to view and manage invoices.",
};
const ACCOUNT_ROLE_DESCRIPTIONS: Record<Exclude<RoleKind, "invoiceManager">, string> = {
    owner: "The Owner role gives the user all permissions including access management rights to the billing account.",
    contributor: "The Contributor role gives the user all permissions except access management rights to the billing account.",
    reader: "The Reader role gives the user read only access to the billing account.",
};

/** Permission action suffixes per role, after Microsoft's example. */
const PROFILE_ACTION_SUFFIXES: Record<RoleKind, string[]> = {
    owner: ["00", "01", "02", "03", "04", "05", "06", "07", "08", "11", "12", "13"],
    contributor: ["01", "02", "03", "04", "05", "06", "07", "08", "11", "12", "13"],
    reader: ["06", "07", "08", "12"],
    invoiceManager: ["07", "06", "11", "08", "12", "13"],
};
const ACCOUNT_ACTION_SUFFIXES: Record<Exclude<RoleKind, "invoiceManager">, string[]> = {
    owner: ["00", "01", "02", "03", "04", "05", "06", "07", "08"],
    contributor: ["01", "02", "03", "04", "05", "06", "07", "08"],
    reader: ["06", "07", "08"],
};
const ACTION_PREFIX: Record<AgreementType, { profile: string; account: string }> = {
    MicrosoftCustomerAgreement: { profile: "40000000-aaaa-bbbb-cccc-2000000000", account: "50000000-aaaa-bbbb-cccc-2000000000" },
    MicrosoftPartnerAgreement: { profile: "a7c3e1f9-2b4d-4e6a-9c8b-2000000000", account: "0d4e8a2b-7c61-4f95-b3a0-2000000000" },
};

// ---------------------------------------------------------------------------
// Directory

interface UserSeed {
    displayName: string;
    givenName: string | null;
    surname: string | null;
    userPrincipalName: string;
    /** Undefined: same as the user principal name. */
    mail?: null;
}

const USERS = {
    grace: { displayName: "Grace Garcia", givenName: "Grace", surname: "Garcia", userPrincipalName: "grace@contoso.com" },
    heidi: { displayName: "Heidi Hall", givenName: "Heidi", surname: "Hall", userPrincipalName: "heidi@contoso.com" },
    ivan: { displayName: "Ivan Ito", givenName: "Ivan", surname: "Ito", userPrincipalName: "ivan@contoso.com" },
    alice: { displayName: "Alice Adams", givenName: "Alice", surname: "Adams", userPrincipalName: "alice@contoso.com" },
    bob: { displayName: "Bob Baker", givenName: "Bob", surname: "Baker", userPrincipalName: "bob@contoso.com" },
    carol: { displayName: "Carol Clark", givenName: "Carol", surname: "Clark", userPrincipalName: "carol@contoso.com" },
    kiosk: {
        displayName: "Operations Kiosk",
        givenName: null,
        surname: null,
        userPrincipalName: "kiosk@contoso.onmicrosoft.com",
        mail: null,
    },
    dave: { displayName: "Dave Davis", givenName: "Dave", surname: "Davis", userPrincipalName: "dave@contoso.com" },
    erin: { displayName: "Erin Evans", givenName: "Erin", surname: "Evans", userPrincipalName: "erin@contoso.com" },
    frank: { displayName: "Frank Fischer", givenName: "Frank", surname: "Fischer", userPrincipalName: "frank@contoso.com" },
    olivia: { displayName: "Olivia Ortiz", givenName: "Olivia", surname: "Ortiz", userPrincipalName: "olivia@contoso.com" },
    peggy: { displayName: "Peggy Parker", givenName: "Peggy", surname: "Parker", userPrincipalName: "peggy@contoso.com" },
    quinn: { displayName: "Quinn Quade", givenName: "Quinn", surname: "Quade", userPrincipalName: "quinn@contoso.com" },
    rupert: { displayName: "Rupert Reyes", givenName: "Rupert", surname: "Reyes", userPrincipalName: "rupert@contoso.com" },
    sybil: { displayName: "Sybil Stone", givenName: "Sybil", surname: "Stone", userPrincipalName: "sybil@contoso.com" },
    trent: { displayName: "Trent Turner", givenName: "Trent", surname: "Turner", userPrincipalName: "trent@contoso.com" },
    jane: { displayName: "Jane Doe", givenName: "Jane", surname: "Doe", userPrincipalName: "jane@contoso.com" },
    victor: { displayName: "Victor Vance", givenName: "Victor", surname: "Vance", userPrincipalName: "victor@contoso.com" },
    wendy: { displayName: "Wendy Wu", givenName: "Wendy", surname: "Wu", userPrincipalName: "wendy@contoso.com" },
} satisfies Record<string, UserSeed>;

export type SeedUserKey = keyof typeof USERS;

function principalOf(key: string, u: UserSeed): PrincipalRecord {
    return {
        id: deterministicGuid(`principal:${u.userPrincipalName}`),
        tenantId: TENANT_ID,
        displayName: u.displayName,
        givenName: u.givenName,
        surname: u.surname,
        userPrincipalName: u.userPrincipalName,
        mail: u.mail === null ? null : u.userPrincipalName,
        token: `emu-${key}`,
    };
}

// ---------------------------------------------------------------------------
// Accounts and profiles

type ProfileKey = "operations" | "research" | "partner";

const ACCOUNTS = {
    mca: {
        name: MCA_ACCOUNT,
        agreementType: "MicrosoftCustomerAgreement" as AgreementType,
        properties: {
            accountStatus: "Active",
            accountType: "Business",
            accountSubType: "Enterprise",
            agreementType: "MicrosoftCustomerAgreement",
            displayName: "Contoso Ltd",
            primaryBillingTenantId: TENANT_ID,
            soldTo: {
                companyName: "Contoso Ltd",
                addressLine1: "1 Contoso Way",
                city: "Redmond",
                region: "WA",
                postalCode: "98052",
                country: "US",
            },
        },
        systemData: { createdAt: "2023-01-04T22:39:34.2606750Z", lastModifiedAt: "2023-01-05T22:39:34.2606750Z" },
    },
    mpa: {
        name: MPA_ACCOUNT,
        agreementType: "MicrosoftPartnerAgreement" as AgreementType,
        properties: {
            accountStatus: "Active",
            accountType: "Partner",
            agreementType: "MicrosoftPartnerAgreement",
            displayName: "Contoso Partner Services",
            primaryBillingTenantId: TENANT_ID,
            soldTo: {
                companyName: "Contoso Partner Services GmbH",
                addressLine1: "Friedrichstrasse 100",
                city: "Berlin",
                postalCode: "10117",
                country: "DE",
            },
        },
        systemData: { createdAt: "2022-06-01T08:00:00.0000000Z", lastModifiedAt: "2022-06-02T08:00:00.0000000Z" },
    },
} as const;

function address(company: string, first: string, last: string, email: string, country: "US" | "DE"): Record<string, unknown> {
    return country === "US"
        ? {
              companyName: company,
              firstName: first,
              lastName: last,
              addressLine1: "1 Contoso Way",
              addressLine2: "Building 7",
              city: "Redmond",
              region: "WA",
              postalCode: "98052",
              country: "US",
              email,
              phoneNumber: "+1 425 555 0100",
              isValidAddress: true,
          }
        : {
              companyName: company,
              firstName: first,
              lastName: last,
              addressLine1: "Friedrichstrasse 100",
              city: "Berlin",
              postalCode: "10117",
              country: "DE",
              email,
              phoneNumber: "+49 30 5550 100",
              isValidAddress: true,
          };
}

const AZURE_PLANS = [
    { skuId: "0001", skuDescription: "Microsoft Azure Plan" },
    { skuId: "0002", skuDescription: "Microsoft Azure Plan for DevTest" },
];

const PROFILES: Record<ProfileKey, { account: keyof typeof ACCOUNTS; record: Omit<BillingProfileRecord, "billingAccountName"> }> = {
    operations: {
        account: "mca",
        record: {
            name: "K7QM-4T2X-BG7-PGB",
            properties: {
                billTo: address("Contoso Ltd", "Alice", "Adams", "ap@contoso.com", "US"),
                billingRelationshipType: "Direct",
                currency: "USD",
                displayName: "Contoso Operations Billing",
                enabledAzurePlans: AZURE_PLANS,
                invoiceDay: 5,
                invoiceEmailOptIn: false,
                invoiceRecipients: [],
                poNumber: "PO-OPS-2024-001",
                shipTo: address("Contoso Operations", "Alice", "Adams", "ops@contoso.com", "US"),
                spendingLimit: "Off",
                status: "Active",
                systemId: "3MTQ-22LX-KT7-PGBW-TLK",
                targetClouds: [],
            },
            tags: { costCenter: "CC-1001", department: "Operations" },
        },
    },
    research: {
        account: "mca",
        record: {
            name: "R3VD-8N5W-CH2-TLK",
            properties: {
                billTo: address("Contoso Ltd", "Dave", "Davis", "research-ap@contoso.com", "US"),
                billingRelationshipType: "Direct",
                currency: "USD",
                displayName: "Contoso Research Billing",
                enabledAzurePlans: AZURE_PLANS,
                invoiceDay: 5,
                invoiceEmailOptIn: false,
                invoiceRecipients: [],
                poNumber: "PO-RND-2024-017",
                shipTo: address("Contoso Research", "Dave", "Davis", "research@contoso.com", "US"),
                spendingLimit: "On",
                status: "Warned",
                statusReasonCode: "PastDue",
                systemId: "8RVD-41QN-CH2-XMPL-TLK",
                targetClouds: [],
            },
            tags: { costCenter: "CC-2040" },
        },
    },
    partner: {
        account: "mpa",
        record: {
            name: "P9XH-2J6F-DM4-QRS",
            properties: {
                billTo: address("Contoso Partner Services GmbH", "Rupert", "Reyes", "partner-ap@contoso.com", "DE"),
                billingRelationshipType: "CSPPartner",
                currency: "EUR",
                displayName: "Contoso Partner Billing",
                invoiceDay: 1,
                invoiceEmailOptIn: false,
                invoiceRecipients: [],
                poNumber: "PO-CSP-7781",
                spendingLimit: "Off",
                status: "Active",
                systemId: "5PXH-77JF-DM4-ABCD-QRS",
                targetClouds: [],
            },
            tags: null,
        },
    },
};

/** Who holds which role, at account scope (profile null) or profile scope. */
const GRANTS: Array<[SeedUserKey, keyof typeof ACCOUNTS, ProfileKey | null, RoleKind]> = [
    ["grace", "mca", null, "owner"],
    ["heidi", "mca", null, "contributor"],
    ["ivan", "mca", null, "reader"],
    ["alice", "mca", "operations", "owner"],
    ["bob", "mca", "operations", "contributor"],
    ["carol", "mca", "operations", "reader"],
    ["kiosk", "mca", "operations", "reader"],
    ["dave", "mca", "research", "owner"],
    ["erin", "mca", "research", "contributor"],
    ["frank", "mca", "research", "reader"],
    ["olivia", "mpa", null, "owner"],
    ["peggy", "mpa", null, "contributor"],
    ["quinn", "mpa", null, "reader"],
    ["rupert", "mpa", "partner", "owner"],
    ["sybil", "mpa", "partner", "contributor"],
    ["trent", "mpa", "partner", "reader"],
];

/** The seeded names and tokens, for tests, examples and the CLI. */
export const SEED = {
    tenantId: TENANT_ID,
    accounts: {
        mca: { name: MCA_ACCOUNT, agreementType: "MicrosoftCustomerAgreement", displayName: ACCOUNTS.mca.properties.displayName },
        mpa: { name: MPA_ACCOUNT, agreementType: "MicrosoftPartnerAgreement", displayName: ACCOUNTS.mpa.properties.displayName },
    },
    /** Billing profile references (`{billingAccountName, billingProfileName}`) and display names. */
    profiles: Object.fromEntries(
        Object.entries(PROFILES).map(([k, p]) => [
            k,
            {
                billingAccountName: ACCOUNTS[p.account].name,
                billingProfileName: p.record.name,
                displayName: p.record.properties.displayName as string,
            },
        ]),
    ) as Record<ProfileKey, BillingProfileRef & { displayName: string }>,
    users: Object.fromEntries(Object.entries(USERS).map(([k, u]) => [k, principalOf(k, u)])) as Record<SeedUserKey, PrincipalRecord>,
} as const;

// ---------------------------------------------------------------------------
// Builders (also used by the admin API)

function agreementOf(state: EmulatorState, billingAccountName: string): AgreementType {
    const a = findAccount(state, billingAccountName);
    return a?.properties.agreementType === "MicrosoftPartnerAgreement" ? "MicrosoftPartnerAgreement" : "MicrosoftCustomerAgreement";
}

const RoleKindOrder: RoleKind[] = ["owner", "contributor", "reader", "invoiceManager"];

function addRoleDefinitions(state: EmulatorState, billingAccountName: string, billingProfileName: string | null): void {
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
                actions: ACCOUNT_ACTION_SUFFIXES[kind].map((x) => ACTION_PREFIX[agreement].account + x),
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
            actions: PROFILE_ACTION_SUFFIXES[kind].map((x) => ACTION_PREFIX[agreement].profile + x),
        });
    }
}

/** Azure's timestamp form, without milliseconds. */
export function isoSeconds(d: Date): string {
    return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Adds a role assignment (the seed's and the admin API's way; the Azure-facing
 * API goes through the handlers). Idempotent by (principal, role).
 */
export function grantRole(
    state: EmulatorState,
    grant: { billingAccountName: string; billingProfileName: string | null; principal: PrincipalRecord; kind: RoleKind; createdBy: PrincipalRecord; createdOn: string },
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
function issueMonthlyInvoices(state: EmulatorState, profile: BillingProfileRecord, now: Date): void {
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

/** Builds the whole starting state. Deterministic for a given clock and options. */
export function createSeedState(options: { now: Date; seed?: SeedOptions }): EmulatorState {
    const now = options.now;
    const created = isoSeconds(new Date(Date.UTC(2024, 0, 2, 9, 0, 0)));
    const state: EmulatorState = {
        version: STATE_VERSION,
        tenantId: TENANT_ID,
        blobKey: createHash("sha256").update(`azure-email-invoicing emulator blob key:${TENANT_ID}`).digest("base64"),
        settings: { ...DEFAULT_SETTINGS },
        principals: Object.values(SEED.users).map((p) => ({ ...p })),
        billingAccounts: [],
        billingProfiles: [],
        roleDefinitions: [],
        roleAssignments: [],
        invoices: [],
        counters: { invoice: 0, extraProfile: 0 },
    };
    for (const a of Object.values(ACCOUNTS)) {
        state.billingAccounts.push({ name: a.name, properties: structuredClone(a.properties) as Record<string, unknown>, systemData: { ...a.systemData } });
        addRoleDefinitions(state, a.name, null);
    }
    for (const p of Object.values(PROFILES)) {
        const record: BillingProfileRecord = { billingAccountName: ACCOUNTS[p.account].name, ...structuredClone(p.record) };
        state.billingProfiles.push(record);
        addRoleDefinitions(state, record.billingAccountName, record.name);
    }
    const byKey = SEED.users;
    for (const [user, account, profile, kind] of GRANTS) {
        const billingAccountName = ACCOUNTS[account].name;
        const principal = state.principals.find((p) => p.id === byKey[user].id) as PrincipalRecord;
        // Account roles are made by the account owner; profile roles by the account owner too (as in a new tenant).
        const creator = kind === "owner" && profile === null ? principal : (accountOwnerOf(state, billingAccountName) ?? principal);
        grantRole(state, {
            billingAccountName,
            billingProfileName: profile ? PROFILES[profile].record.name : null,
            principal,
            kind,
            createdBy: creator,
            createdOn: created,
        });
    }
    for (const p of [...state.billingProfiles]) issueMonthlyInvoices(state, p, now);
    const extra = options.seed?.extraProfiles ?? 0;
    if (extra > 0) addExtraProfiles(state, MCA_ACCOUNT, extra, now);
    return state;
}
