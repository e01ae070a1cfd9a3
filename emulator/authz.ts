/**
 * Authorization by Microsoft's billing role matrix, applied to each contract
 * operation's `access` (see `Access` in provider/billing/contract.ts):
 *
 * | access         | billing profile roles                          | billing account roles          |
 * |----------------|------------------------------------------------|--------------------------------|
 * | `read`         | owner, contributor, reader, invoice manager    | owner, contributor, reader     |
 * | `readAccount`  | (none: account scope only)                     | owner, contributor, reader     |
 * | `writeProfile` | owner, contributor                             | owner, contributor             |
 * | `manageRoles`  | owner                                          | owner                          |
 * | `signedIn`     | any authenticated principal                    |                                |
 *
 * Account roles are inherited by every profile of the account. Reading the
 * billing account itself needs an account role or any role on one of its
 * profiles (Azure lists the account for both). Lists that are `signedIn`
 * (accounts, profiles) are filtered to what the caller has a role on.
 *
 * Pure functions over the state; the server calls {@link resolveScope} then
 * {@link authorize} before any handler runs.
 */
import { REQUIRED_ROLE, operations, type Access, type OperationId } from "../provider/billing/contract";
import { billingAccountId, billingProfileId } from "../provider/billing/paths";
import { fail } from "./errors";
import {
    type BillingAccountRecord,
    type BillingProfileRecord,
    type EmulatorState,
    type InvoiceRecord,
    type LroRecord,
    type PrincipalRecord,
    type RoleKind,
    assignmentsAt,
    definitionOf,
    findAccount,
    findInvoice,
    findProfile,
    LRO_OPERATION,
    profilesOf,
    sameName,
} from "./model";

/** The operations performed on a billing account itself (everything else but the tenant-wide ones acts on a profile). */
const ACCOUNT_SCOPED: ReadonlySet<OperationId> = new Set<OperationId>([
    "getBillingAccount",
    "listInvoicesByBillingAccount",
    "listBillingRoleDefinitionsByBillingAccount",
    "getBillingRoleDefinitionByBillingAccount",
    "listBillingRoleAssignmentsByBillingAccount",
    "getBillingRoleAssignmentByBillingAccount",
]);
/** The operations any signed-in principal may call; their lists show only what the caller has a role on. */
const TENANT_SCOPED: ReadonlySet<OperationId> = new Set<OperationId>(["listBillingAccounts", "listBillingProfiles", "getGraphUser"]);

/** What kind of scope an operation acts on. */
export function scopeKindOf(operationId: OperationId): "tenant" | "account" | "profile" {
    return TENANT_SCOPED.has(operationId) ? "tenant" : ACCOUNT_SCOPED.has(operationId) ? "account" : "profile";
}

/** Which roles satisfy each access level (the matrix above, as data). */
export const MATRIX: Record<Exclude<Access, "signedIn">, { profile: readonly RoleKind[]; account: readonly RoleKind[] }> = {
    read: { profile: ["owner", "contributor", "reader", "invoiceManager"], account: ["owner", "contributor", "reader"] },
    readAccount: { profile: [], account: ["owner", "contributor", "reader"] },
    writeProfile: { profile: ["owner", "contributor"], account: ["owner", "contributor"] },
    manageRoles: { profile: ["owner"], account: ["owner"] },
};

/** What an operation is performed on. */
export type Scope =
    | { kind: "tenant" }
    | { kind: "account"; account: BillingAccountRecord }
    | { kind: "profile"; account: BillingAccountRecord; profile: BillingProfileRecord; invoice?: InvoiceRecord };

/** The roles a principal holds directly at one scope (profile null = account scope). */
export function rolesAt(state: Readonly<EmulatorState>, principalId: string, account: string, profile: string | null): RoleKind[] {
    const kinds: RoleKind[] = [];
    for (const a of assignmentsAt(state, account, profile)) {
        if (!sameName(a.principalId, principalId)) continue;
        const def = definitionOf(state, a);
        if (def && !kinds.includes(def.kind)) kinds.push(def.kind);
    }
    return kinds;
}

function hasAnyProfileRole(state: Readonly<EmulatorState>, principalId: string, account: string): boolean {
    return state.roleAssignments.some((a) => sameName(a.principalId, principalId) && sameName(a.billingAccountName, account) && a.billingProfileName !== null);
}

/** Whether `principal` may perform `access` at `scope`. */
export function isAllowed(state: Readonly<EmulatorState>, principal: PrincipalRecord, access: Access, scope: Scope): boolean {
    if (access === "signedIn" || scope.kind === "tenant") return true;
    const rule = MATRIX[access];
    const accountRoles = rolesAt(state, principal.id, scope.account.name, null);
    if (accountRoles.some((r) => rule.account.includes(r))) return true;
    if (scope.kind === "account") {
        return access === "read" && hasAnyProfileRole(state, principal.id, scope.account.name);
    }
    return rolesAt(state, principal.id, scope.account.name, scope.profile.name).some((r) => rule.profile.includes(r));
}

/** The ARM id of a scope, as denials name it. */
export function scopePath(scope: Scope): string {
    if (scope.kind === "tenant") return "/";
    if (scope.kind === "account") return billingAccountId(scope.account.name);
    return billingProfileId({ billingAccountName: scope.account.name, billingProfileName: scope.profile.name });
}

/**
 * Throws 403 `AuthorizationFailed` unless `principal` may perform the
 * operation at `scope`. The message names the principal, the action, the
 * scope and the role to ask for (REQUIRED_ROLE).
 */
export function authorize(state: Readonly<EmulatorState>, principal: PrincipalRecord, operationId: OperationId, access: Access, scope: Scope): void {
    if (isAllowed(state, principal, access, scope)) return;
    throw fail.forbidden(
        `The client '${principal.userPrincipalName}' with object id '${principal.id}' does not have authorization to perform action ` +
            `'${operations[operationId].action}' over scope '${scopePath(scope)}' or the scope is invalid. ` +
            `It needs ${REQUIRED_ROLE[access]}. If access was recently granted, please refresh your credentials.`,
    );
}

/**
 * Authorizes a poll of a long-running operation's Location as ARM does: by
 * the poller's roles now, at the scope the operation acts on (the profile of
 * a PUT or role assignment, the invoice's profile for a download), with the
 * access of the operation that accepted it. Whoever may start the operation
 * may poll it, and nobody else: a poll can complete a pending PUT and hands
 * out the final body (a profile, an assignment, a signed PDF link), so a
 * principal without that access gets 403 `AuthorizationFailed`, like any
 * other denial (ARM authorizes before the resource provider looks, and
 * answers 403 rather than hiding the resource). The principal who started the
 * operation is no exception: if its role was removed meanwhile, its poll is
 * refused too, and the change is not made. Throws 404 when the scope is gone.
 */
export function authorizeOperationResult(state: Readonly<EmulatorState>, principal: PrincipalRecord, rec: Readonly<LroRecord>): void {
    const operationId = LRO_OPERATION[rec.kind];
    const params: Record<string, string> =
        rec.kind === "invoiceDownload"
            ? { billingAccountName: rec.billingAccountName, invoiceName: rec.invoiceName ?? "" }
            : { billingAccountName: rec.billingAccountName, billingProfileName: rec.billingProfileName ?? "" };
    authorize(state, principal, operationId, operations[operationId].access, resolveScope(state, operationId, params));
}

/**
 * Finds what an operation is performed on from its validated path
 * parameters. Throws 404 when the account, profile or invoice does not exist.
 */
export function resolveScope(state: Readonly<EmulatorState>, operationId: OperationId, params: Record<string, string>): Scope {
    const kind = scopeKindOf(operationId);
    if (kind === "tenant") return { kind: "tenant" };
    const account = requireAccount(state, params.billingAccountName);
    if (kind === "account") return { kind: "account", account };
    if (operationId === "getInvoice" || operationId === "downloadInvoice") {
        const invoice = findInvoice(state, account.name, params.invoiceName);
        if (!invoice) {
            throw fail.notFound("ResourceNotFound", `Invoice '${params.invoiceName}' was not found in billing account '${account.name}'.`);
        }
        const profile = findProfile(state, account.name, invoice.billingProfileName);
        if (!profile) throw fail.internal(`invoice ${invoice.name} belongs to a missing billing profile`);
        return { kind: "profile", account, profile, invoice };
    }
    return { kind: "profile", account, profile: requireProfile(state, account, params.billingProfileName) };
}

export function requireAccount(state: Readonly<EmulatorState>, name: string): BillingAccountRecord {
    const account = findAccount(state, name);
    if (!account) throw fail.notFound("ResourceNotFound", `Billing account '${name}' was not found.`);
    return account;
}

export function requireProfile(state: Readonly<EmulatorState>, account: BillingAccountRecord, name: string): BillingProfileRecord {
    const profile = findProfile(state, account.name, name);
    if (!profile) throw fail.notFound("ResourceNotFound", `Billing profile '${name}' was not found in billing account '${account.name}'.`);
    return profile;
}

/** The accounts a principal sees in the account list: an account role or a role on one of its profiles. */
export function visibleAccounts(state: Readonly<EmulatorState>, principalId: string): BillingAccountRecord[] {
    return state.billingAccounts.filter((a) => rolesAt(state, principalId, a.name, null).length > 0 || hasAnyProfileRole(state, principalId, a.name));
}

/** Whether the principal holds an account-scope role (which decides `hasReadAccess` on the account). */
export function hasAccountRole(state: Readonly<EmulatorState>, principalId: string, account: string): boolean {
    return rolesAt(state, principalId, account, null).length > 0;
}

/** The profiles of an account a principal sees: all with an account role, else those it has a role on. */
export function visibleProfiles(state: Readonly<EmulatorState>, principalId: string, account: string): BillingProfileRecord[] {
    const all = profilesOf(state, account);
    if (hasAccountRole(state, principalId, account)) return all;
    return all.filter((p) => rolesAt(state, principalId, account, p.name).length > 0);
}

/**
 * The actions a role grants, from the same matrix that authorizes: at a
 * profile, the action of every profile-scoped operation whose access the
 * role satisfies; at an account, those of the account-scoped operations and,
 * because account roles apply to every profile of the account, of the
 * profile-scoped ones too. Role definitions list these as their
 * permissions, so what a role says it grants is what the emulator allows.
 */
export function actionsGranted(kind: RoleKind, at: "profile" | "account"): string[] {
    const out = new Set<string>();
    for (const op of Object.values(operations)) {
        if (op.access === "signedIn") continue;
        const where = scopeKindOf(op.id as OperationId);
        const rule = MATRIX[op.access];
        const grants = at === "profile" ? where === "profile" && rule.profile.includes(kind) : rule.account.includes(kind);
        if (grants) out.add(op.action);
    }
    return [...out];
}

/**
 * What `billingPermissions` lists for a caller at a profile: the action of
 * every profile-scoped operation the caller may perform there now, by its
 * roles on the profile and on the account. Empty when it may do nothing.
 */
export function permissionsAt(state: Readonly<EmulatorState>, principal: PrincipalRecord, scope: Extract<Scope, { kind: "profile" }>): string[] {
    const out = new Set<string>();
    for (const op of Object.values(operations)) {
        if (op.access === "signedIn" || scopeKindOf(op.id as OperationId) !== "profile") continue;
        if (isAllowed(state, principal, op.access, scope)) out.add(op.action);
    }
    return [...out];
}
