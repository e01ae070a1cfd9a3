/**
 * What the emulator holds, as zod schemas (the types are inferred from them,
 * never written twice), and
 * the pure functions that turn stored records into Azure's response shapes.
 *
 * The state is plain JSON so that a store can persist it as it is. It is
 * parsed with {@link EmulatorState} whenever it is loaded from disk, so a
 * corrupt or outdated file is refused at start-up instead of failing later.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { OperationId } from "../provider/billing/contract";
import { billingAccountId, billingProfileId, invoiceId, roleAssignmentId, roleDefinitionId, roleScopeId } from "../provider/billing/paths";
import type * as s from "../provider/billing/schemas";
import { targetOf } from "./store/drafts";

// ---------------------------------------------------------------------------
// Settings

/** The largest `pdfPaddingBytes` (16 MiB). */
export const MAX_PDF_PADDING_BYTES = 16 * 1024 * 1024;

const settingsFields = {
    /**
     * `never` (default): PUT billing profile and createBillingRoleAssignment
     * answer 200 at once. `always`: they answer 202 + Location and complete
     * after `pendingPolls` polls. Invoice download is always 202.
     */
    lro: z.enum(["always", "never"]),
    /** How many polls of an operation's Location answer 202 before it completes (default 1). */
    pendingPolls: z.number().int().min(0).max(1000),
    /** The `Retry-After` seconds on 202 answers (default 1; 0 lets tests poll without waiting). */
    retryAfterSeconds: z.number().int().min(0).max(3600),
    /** Items per page of a list; more items add a `nextLink` (default 50). */
    pageSize: z.number().int().min(1).max(1000),
    /** When true, `nextLink` is a path (`/providers/...`) instead of an absolute URL (default false). */
    relativeNextLinks: z.boolean(),
    /**
     * Pads every invoice PDF to at least this many bytes (default 0: no
     * padding), up to {@link MAX_PDF_PADDING_BYTES}: real invoices run to
     * 100 KB and more, the emulator's own to a few KB. The padding is one
     * extra stream object of deterministic bytes, so the file stays a valid
     * PDF and the same invoice still gives the same bytes.
     */
    pdfPaddingBytes: z.number().int().min(0).max(MAX_PDF_PADDING_BYTES),
    /**
     * How a request body that fails validation is answered: `arm` (default),
     * ARM's envelope with one `details` entry per property; `problem`, the
     * ASP.NET validation problem `{title,status,errors}` that clients also
     * meet from Azure's billing service.
     */
    validationErrors: z.enum(["arm", "problem"]),
};

/**
 * Behaviour switches, changed at start-up (`startEmulator({settings})`) or at
 * runtime (`POST /_emulator/settings`). Persisted with the state.
 */
export const EmulatorSettings = z.strictObject({
    ...settingsFields,
    // State written before this setting existed reads as the default.
    validationErrors: settingsFields.validationErrors.default("arm"),
});
export type EmulatorSettings = z.infer<typeof EmulatorSettings>;
export const DEFAULT_SETTINGS: EmulatorSettings = {
    lro: "never",
    pendingPolls: 1,
    retryAfterSeconds: 1,
    pageSize: 50,
    relativeNextLinks: false,
    pdfPaddingBytes: 0,
    validationErrors: "arm",
};
/**
 * A partial change of settings, as `POST /_emulator/settings` takes it. No
 * defaults here on purpose: a field left out keeps its current value.
 */
export const SettingsPatch = z.strictObject(settingsFields).partial();
export type SettingsPatch = z.infer<typeof SettingsPatch>;

// ---------------------------------------------------------------------------
// Records

/** The billing roles of Microsoft's matrix. `invoiceManager` exists only at profile scope. */
export const RoleKind = z.enum(["owner", "contributor", "reader", "invoiceManager"]);
export type RoleKind = z.infer<typeof RoleKind>;

/** A user of the emulator's directory (Graph) who can also call ARM with its token. */
export const PrincipalRecord = z.object({
    id: z.string(),
    tenantId: z.string(),
    displayName: z.string(),
    givenName: z.string().nullable(),
    surname: z.string().nullable(),
    userPrincipalName: z.string(),
    /** Null for a user without a mailbox. */
    mail: z.string().nullable(),
    /** The bearer token that authenticates this principal (deterministic). */
    token: z.string(),
});
export type PrincipalRecord = z.infer<typeof PrincipalRecord>;

const Json = z.record(z.string(), z.unknown());

export const BillingAccountRecord = z.object({
    name: z.string(),
    properties: Json,
    systemData: Json.optional(),
});
export type BillingAccountRecord = z.infer<typeof BillingAccountRecord>;

export const BillingProfileRecord = z.object({
    billingAccountName: z.string(),
    name: z.string(),
    /** All properties, read-only ones included (`hasReadAccess` is added per response). */
    properties: Json,
    tags: z.record(z.string(), z.string()).nullable(),
});
export type BillingProfileRecord = z.infer<typeof BillingProfileRecord>;

export const RoleDefinitionRecord = z.object({
    billingAccountName: z.string(),
    /** Null for an account-scope role definition. */
    billingProfileName: z.string().nullable(),
    /** The GUID. */
    name: z.string(),
    roleName: z.string(),
    /** Which row of the authorization matrix the role grants. */
    kind: RoleKind,
    description: z.string(),
    actions: z.array(z.string()),
});
export type RoleDefinitionRecord = z.infer<typeof RoleDefinitionRecord>;

export const RoleAssignmentRecord = z.object({
    billingAccountName: z.string(),
    /** Null for an account-scope assignment. */
    billingProfileName: z.string().nullable(),
    /** `<roleDefinitionGuid>_<principalId>`: the idempotency key of (principal, role). */
    name: z.string(),
    roleDefinitionName: z.string(),
    principalId: z.string(),
    principalTenantId: z.string(),
    createdOn: z.string(),
    createdByPrincipalId: z.string(),
    createdByPrincipalTenantId: z.string(),
});
export type RoleAssignmentRecord = z.infer<typeof RoleAssignmentRecord>;

export const InvoiceRecord = z.object({
    billingAccountName: z.string(),
    billingProfileName: z.string(),
    /** Unique across the emulator (one counter), e.g. `G100000001`. */
    name: z.string(),
    properties: Json,
});
export type InvoiceRecord = z.infer<typeof InvoiceRecord>;

/** The operations the emulator runs as long-running operations. */
export const LroKind = z.enum(["putBillingProfile", "createBillingRoleAssignment", "invoiceDownload"]);
export type LroKind = z.infer<typeof LroKind>;

/** Which contract operation each long-running kind completes. */
export const LRO_OPERATION: Record<LroKind, OperationId> = {
    putBillingProfile: "putBillingProfile",
    createBillingRoleAssignment: "createBillingRoleAssignment",
    invoiceDownload: "downloadInvoice",
};

/**
 * A long-running operation. The change it stands for is applied when it
 * completes (the poll after `pollsRemaining` reaches 0), not when it is
 * accepted; its result is kept so later polls answer the same.
 *
 * Operations are run-time records (lro.ts keeps them, in memory only, for a
 * bounded time), not part of {@link EmulatorState}: Azure expires them too,
 * and keeping them out of the state keeps a download from being a change.
 */
export const LroRecord = z.object({
    /** `<kind>_<guid>`, the last segment of the Location. */
    id: z.string(),
    kind: LroKind,
    billingAccountName: z.string(),
    billingProfileName: z.string().nullable(),
    invoiceName: z.string().nullable(),
    /** What the completion needs (validated at accept time). */
    input: z.unknown(),
    principalId: z.string(),
    pollsRemaining: z.number().int(),
    status: z.enum(["Pending", "Succeeded"]),
    /** The final body, once succeeded. */
    result: z.unknown().optional(),
    createdAt: z.string(),
});
export type LroRecord = z.infer<typeof LroRecord>;

/**
 * Version 2 no longer holds long-running operations (see {@link LroRecord})
 * and has `settings.pdfPaddingBytes`; {@link migrateState} reads version 1.
 */
export const STATE_VERSION = 2;

export const EmulatorState = z.object({
    version: z.literal(STATE_VERSION),
    tenantId: z.string(),
    /** HMAC key of the SAS-like document links. */
    blobKey: z.string(),
    settings: EmulatorSettings,
    principals: z.array(PrincipalRecord),
    billingAccounts: z.array(BillingAccountRecord),
    billingProfiles: z.array(BillingProfileRecord),
    roleDefinitions: z.array(RoleDefinitionRecord),
    roleAssignments: z.array(RoleAssignmentRecord),
    invoices: z.array(InvoiceRecord),
    counters: z.object({
        /** Last invoice sequence number issued (invoice `G` + 100000000 + n). */
        invoice: z.number().int(),
        /** Last extra profile number issued (`EX0001-MCA-BP`, ...). */
        extraProfile: z.number().int(),
    }),
});
export type EmulatorState = z.infer<typeof EmulatorState>;

/**
 * Upgrades state written by an earlier version, as parsed JSON, before it is
 * validated: version 1 kept long-running operations (dropped: a restart
 * forgets operations) and had no `pdfPaddingBytes` (default). Anything else
 * is returned as it is, for {@link EmulatorState} to accept or refuse.
 */
export function migrateState(raw: unknown): { state: unknown; migrated: boolean } {
    if (typeof raw !== "object" || raw === null || (raw as { version?: unknown }).version !== 1) return { state: raw, migrated: false };
    const { operations: _operations, counters, settings, ...rest } = raw as Record<string, unknown>;
    const { operation: _operation, ...keptCounters } = (counters ?? {}) as Record<string, unknown>;
    return {
        state: { ...rest, version: STATE_VERSION, settings: { ...DEFAULT_SETTINGS, ...(settings as object | undefined) }, counters: keptCounters },
        migrated: true,
    };
}

/**
 * A deep copy of a state value (the state is plain JSON). Use it, not
 * `structuredClone`, inside `store.update`: the drafts it hands out are
 * proxies, which `structuredClone` refuses.
 */
export function copyOf<T>(value: T): T {
    return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

// ---------------------------------------------------------------------------
// Helpers

/** Case-insensitive equality, as ARM compares names and GUIDs. */
export function sameName(a: string | null | undefined, b: string | null | undefined): boolean {
    return a != null && b != null && a.toLowerCase() === b.toLowerCase();
}

/** A GUID derived from a label: the same label always gives the same GUID. */
export function deterministicGuid(label: string): string {
    const h = createHash("sha256").update(label).digest("hex");
    const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------
// Finders (case-insensitive, like ARM)

export function findAccount(state: Readonly<EmulatorState>, name: string): BillingAccountRecord | undefined {
    return state.billingAccounts.find((a) => sameName(a.name, name));
}
export function findProfile(state: Readonly<EmulatorState>, account: string, name: string): BillingProfileRecord | undefined {
    return atKey(state.billingProfiles, PROFILE_KEY, scopeKey(account, name))[0];
}
export function profilesOf(state: Readonly<EmulatorState>, account: string): BillingProfileRecord[] {
    return state.billingProfiles.filter((p) => sameName(p.billingAccountName, account));
}
export function roleDefinitionsAt(state: Readonly<EmulatorState>, account: string, profile: string | null): RoleDefinitionRecord[] {
    return atKey(state.roleDefinitions, SCOPE_KEY, scopeKey(account, profile));
}
export function assignmentsAt(state: Readonly<EmulatorState>, account: string, profile: string | null): RoleAssignmentRecord[] {
    return atKey(state.roleAssignments, SCOPE_KEY, scopeKey(account, profile));
}

/**
 * The key of an account and a profile (null: the account itself), compared
 * case-insensitively as ARM compares names. A missing name never equals a
 * given one, as in {@link sameName}.
 */
function scopeKey(account: string | null | undefined, profile: string | null | undefined): string {
    // U+0000 cannot occur in a name: it separates the parts, and stands alone for "no profile".
    return `${account == null ? "\u0000" : account.toLowerCase()}\u0000${profile == null ? "\u0000" : profile.toLowerCase()}`;
}

/** A profile's key: its account and its name. */
const PROFILE_KEY = (p: BillingProfileRecord) => scopeKey(p.billingAccountName, p.name);
/** A role definition's or assignment's key: the scope it is at. */
const SCOPE_KEY = (r: { billingAccountName: string; billingProfileName: string | null }) => scopeKey(r.billingAccountName, r.billingProfileName);

/** Positions of records by key, per array (the stored one, never a draft) and key function: see {@link atKey}. */
const keyIndexes = new WeakMap<readonly object[], Map<(r: never) => string, { records: readonly object[]; positions: Map<string, number[]> }>>();

/**
 * `list`'s records whose `keyOf` is `key`, in the array's order (a new
 * array). Profiles, role definitions and role assignments are looked up on
 * every request (to authorize it, and to list roles), so this keeps an index
 * of positions beside each stored array instead of comparing names along all
 * of it, which made a request's cost grow with the number of profiles. The
 * index is never trusted: each use checks that the array still holds the
 * same records in the same places (a comparison of references, no names),
 * and a difference rebuilds it, so changes the store makes in place cannot
 * make it answer wrongly (a record's own names never change once stored).
 * Inside `store.update` `list` is a draft: the index is of the array it
 * stands for, and the records come from the draft, so writes to them are
 * still logged. `keyOf` keys the index too, so it is a module-level
 * function, not one made per call.
 */
function atKey<T extends object>(list: readonly T[], keyOf: (r: T) => string, key: string): T[] {
    const stored = targetOf(list);
    let perKey = keyIndexes.get(stored);
    if (!perKey) keyIndexes.set(stored, (perKey = new Map()));
    let known = perKey.get(keyOf as (r: never) => string);
    if (!known || !sameRecords(known.records, stored)) {
        const positions = new Map<string, number[]>();
        stored.forEach((r, i) => {
            const k = keyOf(r);
            const at = positions.get(k);
            if (at) at.push(i);
            else positions.set(k, [i]);
        });
        known = { records: [...stored], positions };
        perKey.set(keyOf as (r: never) => string, known);
    }
    return (known.positions.get(key) ?? []).map((i) => list[i]);
}

function sameRecords(a: readonly object[], b: readonly object[]): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
}
export function definitionOf(state: Readonly<EmulatorState>, a: RoleAssignmentRecord): RoleDefinitionRecord | undefined {
    return roleDefinitionsAt(state, a.billingAccountName, a.billingProfileName).find((d) => sameName(d.name, a.roleDefinitionName));
}
export function findPrincipalById(state: Readonly<EmulatorState>, id: string): PrincipalRecord | undefined {
    return state.principals.find((p) => sameName(p.id, id));
}
export function findInvoice(state: Readonly<EmulatorState>, account: string, name: string): InvoiceRecord | undefined {
    const byName = findInvoiceNamed(state, name);
    if (!byName || sameName(byName.billingAccountName, account)) return byName;
    return state.invoices.find((i) => sameName(i.billingAccountName, account) && sameName(i.name, name));
}

/** Invoice positions by lower-cased name, per `invoices` array (see {@link findInvoiceNamed}). */
const invoiceIndex = new WeakMap<readonly InvoiceRecord[], Map<string, number>>();

/**
 * The (first) invoice with this name, in any account. Invoices are looked up
 * on every download, poll and document request, so this keeps an index
 * beside the array instead of scanning it. The index is never trusted: a hit
 * is checked against the array, and a miss rebuilds it once, so changes to
 * the array (which the store makes in place) cannot make it answer wrongly.
 */
export function findInvoiceNamed(state: Readonly<EmulatorState>, name: string): InvoiceRecord | undefined {
    const invoices = state.invoices;
    const key = name.toLowerCase();
    const lookup = (index: Map<string, number> | undefined) => {
        const i = index?.get(key);
        const invoice = i === undefined ? undefined : invoices[i];
        return invoice && invoice.name.toLowerCase() === key ? invoice : undefined;
    };
    const hit = lookup(invoiceIndex.get(invoices));
    if (hit) return hit;
    const index = new Map<string, number>();
    for (let i = invoices.length - 1; i >= 0; i--) index.set(invoices[i].name.toLowerCase(), i);
    invoiceIndex.set(invoices, index);
    return lookup(index);
}

// ---------------------------------------------------------------------------
// Views: records in Azure's response shapes (as in Microsoft's examples, tests/vectors/azure-billing)

type Shape<T extends z.ZodType> = z.input<T>;

/**
 * A billing account. `provisioningState` and `hasNoBillingProfiles` are
 * derived; the rest is the record's (fixtures.ts: the properties Microsoft
 * documents for MCA and MPA accounts).
 */
export function billingAccountView(state: Readonly<EmulatorState>, a: BillingAccountRecord, hasReadAccess: boolean): Shape<typeof s.BillingAccount> {
    return {
        id: billingAccountId(a.name),
        name: a.name,
        type: "Microsoft.Billing/billingAccounts",
        properties: {
            provisioningState: "Succeeded",
            ...a.properties,
            hasNoBillingProfiles: !state.billingProfiles.some((p) => sameName(p.billingAccountName, a.name)),
            hasReadAccess,
        },
        ...(a.systemData ? { systemData: a.systemData } : {}),
    };
}

/**
 * A billing profile. Its tags are held once (`tags`) and shown both where
 * ARM puts them and where the 2024-04-01 spec repeats them
 * (`properties.tags`).
 */
export function billingProfileView(p: BillingProfileRecord): Shape<typeof s.BillingProfile> {
    return {
        id: billingProfileId({ billingAccountName: p.billingAccountName, billingProfileName: p.name }),
        name: p.name,
        type: "Microsoft.Billing/billingAccounts/billingProfiles",
        properties: { provisioningState: "Succeeded", ...p.properties, hasReadAccess: true, ...(p.tags ? { tags: p.tags } : {}) },
        ...(p.tags ? { tags: p.tags } : {}),
    };
}

export function roleDefinitionView(d: RoleDefinitionRecord): Shape<typeof s.BillingRoleDefinition> {
    return {
        id: roleDefinitionId(d, d.name),
        name: d.name,
        type: d.billingProfileName
            ? "Microsoft.Billing/billingAccounts/billingProfiles/billingRoleDefinitions"
            : "Microsoft.Billing/billingAccounts/billingRoleDefinitions",
        properties: {
            description: d.description,
            permissions: [{ actions: [...d.actions] }],
            roleName: d.roleName,
        },
    };
}

/**
 * An assignment as the MCA API returns it: object ids, the principal's
 * display name and type, and the names of the account and profile it is on.
 * No email address (Microsoft documents `userEmailAddress`,
 * `createdByUserEmailAddress` and `modifiedByUserEmailAddress` as EA-only),
 * so callers resolve principals through Graph. Assignments are never
 * changed once made, so `modifiedOn` and `modifiedBy*` are the creation's.
 */
export function roleAssignmentView(state: Readonly<EmulatorState>, a: RoleAssignmentRecord): Shape<typeof s.BillingRoleAssignment> {
    const scope = roleScopeId(a);
    const account = findAccount(state, a.billingAccountName);
    const profile = a.billingProfileName === null ? undefined : findProfile(state, a.billingAccountName, a.billingProfileName);
    const principal = findPrincipalById(state, a.principalId);
    return {
        id: roleAssignmentId(a, a.name),
        name: a.name,
        type: a.billingProfileName
            ? "Microsoft.Billing/billingAccounts/billingProfiles/billingRoleAssignments"
            : "Microsoft.Billing/billingAccounts/billingRoleAssignments",
        properties: {
            provisioningState: "Succeeded",
            createdOn: a.createdOn,
            createdByPrincipalTenantId: a.createdByPrincipalTenantId,
            createdByPrincipalId: a.createdByPrincipalId,
            modifiedOn: a.createdOn,
            modifiedByPrincipalId: a.createdByPrincipalId,
            modifiedByPrincipalTenantId: a.createdByPrincipalTenantId,
            principalId: a.principalId,
            principalTenantId: a.principalTenantId,
            // Microsoft documents this name for the billing account's primary tenant, the emulator's only one.
            principalTenantName: "Primary Tenant",
            ...(principal ? { principalDisplayName: principal.displayName } : {}),
            principalType: "User",
            roleDefinitionId: roleDefinitionId(a, a.roleDefinitionName),
            scope,
            billingAccountId: billingAccountId(a.billingAccountName),
            ...(account ? { billingAccountDisplayName: String(account.properties.displayName ?? "") } : {}),
            ...(a.billingProfileName !== null
                ? {
                      billingProfileId: billingProfileId({ billingAccountName: a.billingAccountName, billingProfileName: a.billingProfileName }),
                      ...(profile ? { billingProfileDisplayName: String(profile.properties.displayName ?? "") } : {}),
                  }
                : {}),
        },
    };
}

/** The link of one invoice document, as the caller's request may fetch it (a signed link, as a download gives). */
export type DocumentUrl = (invoiceName: string, documentName: string) => string;

/** An invoice; each document carries its `url` when `documentUrl` is given (every Azure-facing answer gives it). */
export function invoiceView(i: InvoiceRecord, documentUrl?: DocumentUrl): Shape<typeof s.Invoice> {
    const properties = { ...i.properties };
    if (documentUrl && Array.isArray(properties.documents)) {
        properties.documents = (properties.documents as Array<Record<string, unknown>>).map((d) =>
            typeof d.name === "string" ? { ...d, url: documentUrl(i.name, d.name) } : { ...d },
        );
    }
    return {
        id: invoiceId(i.billingAccountName, i.name),
        name: i.name,
        type: "Microsoft.Billing/billingAccounts/invoices",
        properties,
    };
}

/** Graph's `user` resource, restricted to `$select` when given (the id is always kept). */
export function graphUserView(p: PrincipalRecord, select: string[] | undefined): Record<string, unknown> {
    const full: Record<string, unknown> = {
        businessPhones: [],
        displayName: p.displayName,
        givenName: p.givenName,
        jobTitle: null,
        mail: p.mail,
        mobilePhone: null,
        officeLocation: null,
        preferredLanguage: null,
        surname: p.surname,
        userPrincipalName: p.userPrincipalName,
        id: p.id,
    };
    if (!select || select.length === 0) {
        return { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", ...full };
    }
    const wanted = new Set(select.map((f) => f.trim()).filter(Boolean));
    const out: Record<string, unknown> = {
        "@odata.context": `https://graph.microsoft.com/v1.0/$metadata#users(${[...wanted].join(",")})/$entity`,
    };
    for (const [k, v] of Object.entries(full)) {
        if (wanted.has(k) || k === "id") out[k] = v;
    }
    return out;
}
