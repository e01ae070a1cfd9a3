/**
 * The emulator's fixture data: two billing accounts (MCA and MPA), three
 * billing profiles, Microsoft's billing role definitions (names, GUIDs,
 * descriptions, actions), a small directory of users with deterministic
 * tokens, and who holds which role. README.md in this folder has the same
 * data as tables. Data only: seed.ts builds the starting state from it with
 * the builders of builders.ts.
 */
import type { BillingProfileRef } from "../provider/billing/names";
import { type BillingProfileRecord, type PrincipalRecord, type RoleKind, deterministicGuid } from "./model";

export const TENANT_ID = "5f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
export const MCA_ACCOUNT = "8a9c2f4e-6b1d-4f3a-9c7e-2d5b8a1f4c6e:3e7b1d9a-5c2f-4a8e-b6d1-9f4c2a7e5b3d_2019-05-31";
export const MPA_ACCOUNT = "c4d8e2a6-1f3b-4c5d-8e9f-0a1b2c3d4e5f:7b2e9c4a-3d6f-4e1b-a8c5-6f0d3b9e2a7c_2018-09-30";

export type AgreementType = "MicrosoftCustomerAgreement" | "MicrosoftPartnerAgreement";

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

export const PROFILE_ROLE_DESCRIPTIONS: Record<RoleKind, string> = {
    owner: "The Owner role gives the user all permissions including access management rights to the billing profile.",
    contributor: "The Contributor role gives the user all permissions except access management rights to the billing profile.",
    reader: "The Reader role gives the user read only access to the billing profile.",
    invoiceManager: "The Invoice Manager role gives the user the ability to view and manage invoices.",
};
export const ACCOUNT_ROLE_DESCRIPTIONS: Record<Exclude<RoleKind, "invoiceManager">, string> = {
    owner: "The Owner role gives the user all permissions including access management rights to the billing account.",
    contributor: "The Contributor role gives the user all permissions except access management rights to the billing account.",
    reader: "The Reader role gives the user read only access to the billing account.",
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

export const USERS = {
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

export function principalOf(key: string, u: UserSeed): PrincipalRecord {
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

export type ProfileKey = "operations" | "research" | "partner";

/** Who each account is sold to; its profiles show the same address (`soldTo`). */
const SOLD_TO = {
    mca: { companyName: "Contoso Ltd", addressLine1: "1 Contoso Way", city: "Redmond", region: "WA", postalCode: "98052", country: "US" },
    mpa: { companyName: "Contoso Partner Services GmbH", addressLine1: "Friedrichstrasse 100", city: "Berlin", postalCode: "10117", country: "DE" },
};

export const ACCOUNTS = {
    mca: {
        name: MCA_ACCOUNT,
        agreementType: "MicrosoftCustomerAgreement" as AgreementType,
        properties: {
            accountStatus: "Active",
            accountType: "Business",
            accountSubType: "Enterprise",
            agreementType: "MicrosoftCustomerAgreement",
            billingRelationshipTypes: ["Direct"],
            displayName: "Contoso Ltd",
            primaryBillingTenantId: TENANT_ID,
            qualifications: ["Commercial"],
            soldTo: SOLD_TO.mca,
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
            billingRelationshipTypes: ["CSPPartner"],
            displayName: "Contoso Partner Services",
            primaryBillingTenantId: TENANT_ID,
            qualifications: ["Commercial"],
            taxIds: [{ id: "DE123456789", type: "VatId", country: "DE", status: "Valid" }],
            soldTo: SOLD_TO.mpa,
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

/** The payment term every seeded profile has: Microsoft's standard net 30 days since the profile was set up. */
const NET30 = { term: "net30", startDate: "2024-01-02T00:00:00Z", isDefault: true };

const AZURE_PLANS = [
    { skuId: "0001", skuDescription: "Microsoft Azure Plan" },
    { skuId: "0002", skuDescription: "Microsoft Azure Plan for DevTest" },
];

export const PROFILES: Record<ProfileKey, { account: keyof typeof ACCOUNTS; record: Omit<BillingProfileRecord, "billingAccountName"> }> = {
    operations: {
        account: "mca",
        record: {
            name: "K7QM-4T2X-BG7-PGB",
            properties: {
                billTo: address("Contoso Ltd", "Alice", "Adams", "ap@contoso.com", "US"),
                billingRelationshipType: "Direct",
                currency: "USD",
                currentPaymentTerm: NET30,
                displayName: "Contoso Operations Billing",
                enabledAzurePlans: AZURE_PLANS,
                invoiceDay: 5,
                invoiceEmailOptIn: false,
                invoiceRecipients: [],
                poNumber: "PO-OPS-2024-001",
                shipTo: address("Contoso Operations", "Alice", "Adams", "ops@contoso.com", "US"),
                soldTo: SOLD_TO.mca,
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
                currentPaymentTerm: NET30,
                displayName: "Contoso Research Billing",
                enabledAzurePlans: AZURE_PLANS,
                invoiceDay: 5,
                invoiceEmailOptIn: false,
                invoiceRecipients: [],
                poNumber: "PO-RND-2024-017",
                shipTo: address("Contoso Research", "Dave", "Davis", "research@contoso.com", "US"),
                soldTo: SOLD_TO.mca,
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
                currentPaymentTerm: NET30,
                displayName: "Contoso Partner Billing",
                invoiceDay: 1,
                invoiceEmailOptIn: false,
                invoiceRecipients: [],
                poNumber: "PO-CSP-7781",
                soldTo: SOLD_TO.mpa,
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
export const GRANTS: Array<[SeedUserKey, keyof typeof ACCOUNTS, ProfileKey | null, RoleKind]> = [
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
