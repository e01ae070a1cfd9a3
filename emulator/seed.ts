/**
 * The emulator's deterministic starting state, built from the fixture data
 * (fixtures.ts) with the builders (builders.ts): the accounts, profiles and
 * role definitions, the directory, the role grants, and three monthly
 * invoices per profile dated relative to the emulator's clock.
 *
 * The same inputs (clock, options) always give the same state, byte for byte.
 */
import { createHash } from "node:crypto";
import { accountOwnerOf, addExtraProfiles, addRoleDefinitions, grantRole, isoSeconds, issueMonthlyInvoices } from "./builders";
import { ACCOUNTS, GRANTS, MCA_ACCOUNT, PROFILES, SEED, TENANT_ID } from "./fixtures";
import { type BillingProfileRecord, type EmulatorState, type PrincipalRecord, DEFAULT_SETTINGS, STATE_VERSION } from "./model";

/** Options of the seed. */
export interface SeedOptions {
    /**
     * Extra billing profiles on the MCA account (default 0), e.g. 100 for a
     * benchmark. Each has the seeded role definitions, the MCA account owner
     * (grace@contoso.com) as its billing profile owner, and three invoices.
     */
    extraProfiles?: number;
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
