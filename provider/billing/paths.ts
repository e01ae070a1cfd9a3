/**
 * ARM paths of the Microsoft.Billing resources we address, built and read in
 * one place: the contract's path templates, the ids the emulator answers
 * with, its operation-result Locations, and the reconciler's reading of a
 * billing profile's id all come from here. Pure.
 *
 * A template is a path with `{name}` segments (`/providers/Microsoft.Billing/
 * billingAccounts/{billingAccountName}`). {@link fillPath} fills it,
 * {@link matchPath} reads a path back with it; ARM compares paths
 * case-insensitively, and so does the matcher.
 */
import type { BillingProfileRef } from "./names";

/** The resource provider every billing path starts with. */
export const BILLING_PROVIDER = "/providers/Microsoft.Billing";

/** The templates, one per kind of resource, each extending its parent. */
const billingAccounts = `${BILLING_PROVIDER}/billingAccounts`;
const billingAccount = `${billingAccounts}/{billingAccountName}`;
const billingProfile = `${billingAccount}/billingProfiles/{billingProfileName}`;
const invoice = `${billingAccount}/invoices/{invoiceName}`;

export const PATHS = {
    billingAccounts,
    billingAccount,
    billingProfiles: `${billingAccount}/billingProfiles`,
    billingProfile,
    billingRoleDefinitions: `${billingProfile}/billingRoleDefinitions`,
    billingRoleDefinition: `${billingProfile}/billingRoleDefinitions/{roleDefinitionName}`,
    billingRoleAssignments: `${billingProfile}/billingRoleAssignments`,
    billingRoleAssignment: `${billingProfile}/billingRoleAssignments/{billingRoleAssignmentName}`,
    createBillingRoleAssignment: `${billingProfile}/createBillingRoleAssignment`,
    invoices: `${billingProfile}/invoices`,
    billingPermissions: `${billingProfile}/billingPermissions`,
    validateDeleteEligibility: `${billingProfile}/validateDeleteEligibility`,
    accountInvoices: `${billingAccount}/invoices`,
    accountRoleDefinitions: `${billingAccount}/billingRoleDefinitions`,
    accountRoleDefinition: `${billingAccount}/billingRoleDefinitions/{roleDefinitionName}`,
    accountRoleAssignments: `${billingAccount}/billingRoleAssignments`,
    accountRoleAssignment: `${billingAccount}/billingRoleAssignments/{billingRoleAssignmentName}`,
    invoice,
    invoiceDownload: `${invoice}/download`,
    /** Where a long-running operation on an account (a profile PUT) is polled. */
    accountOperationResult: `${billingAccount}/operationResults/{operationName}`,
    /** Where a long-running operation on a profile (a role assignment) is polled. */
    profileOperationResult: `${billingProfile}/operationResults/{operationName}`,
    /** Where an invoice download is polled. */
    invoiceOperationResult: `${invoice}/operationResults/{operationName}`,
    graphUser: "/v1.0/users/{userId}",
} as const;

/**
 * Characters kept as they are in a path segment. All of them are valid
 * `pchar`s (RFC 3986), and `:` appears in MCA billing account names.
 */
function encodeSegment(value: string): string {
    return encodeURIComponent(value).replace(/%3A/gi, ":").replace(/%40/g, "@");
}

/**
 * Fills a path template. Values must already be validated (the contract's
 * `buildRequest` does that); this only encodes. Throws for a parameter the
 * template names and `params` lacks.
 */
export function fillPath(template: string, params: Readonly<Record<string, string>>): string {
    return template.replace(/\{(\w+)\}/g, (_, key: string) => {
        const v = params[key];
        if (v === undefined) throw new Error(`path parameter ${key} missing`);
        return encodeSegment(v);
    });
}

interface CompiledTemplate {
    regex: RegExp;
    keys: string[];
}

const compiled = new Map<string, CompiledTemplate>();

function compile(template: string): CompiledTemplate {
    let c = compiled.get(template);
    if (c) return c;
    const keys: string[] = [];
    const pattern = template
        .split(/(\{\w+\})/)
        .map((part) => {
            const m = /^\{(\w+)\}$/.exec(part);
            if (m) {
                keys.push(m[1]);
                return "([^/]+)";
            }
            return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        })
        .join("");
    // ARM treats paths case-insensitively; a trailing slash is the same path.
    c = { regex: new RegExp(`^${pattern}/?$`, "i"), keys };
    compiled.set(template, c);
    return c;
}

/**
 * Reads a path (without query) with a template: the decoded `{name}`
 * segments, or undefined when the path is not of that template. The values
 * are not validated.
 */
export function matchPath(template: string, pathname: string): Record<string, string> | undefined {
    const { regex, keys } = compile(template);
    const m = regex.exec(pathname);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1]);
    });
    return params;
}

/**
 * Where a role definition or assignment lives: a billing profile, or its
 * billing account (`billingProfileName` null).
 */
export interface RoleScope {
    billingAccountName: string;
    billingProfileName: string | null;
}

/** The ARM id of a role scope: the billing profile's id, or the account's. */
export function roleScopeId(scope: RoleScope): string {
    return scope.billingProfileName === null
        ? billingAccountId(scope.billingAccountName)
        : billingProfileId({ billingAccountName: scope.billingAccountName, billingProfileName: scope.billingProfileName });
}

/** The ARM id of a billing role definition at a scope. */
export function roleDefinitionId(scope: RoleScope, roleDefinitionName: string): string {
    return `${roleScopeId(scope)}/billingRoleDefinitions/${fillPath("{name}", { name: roleDefinitionName })}`;
}

/** The ARM id of a billing role assignment at a scope. */
export function roleAssignmentId(scope: RoleScope, billingRoleAssignmentName: string): string {
    return `${roleScopeId(scope)}/billingRoleAssignments/${fillPath("{name}", { name: billingRoleAssignmentName })}`;
}

/** The ARM id of a billing account. */
export function billingAccountId(billingAccountName: string): string {
    return fillPath(PATHS.billingAccount, { billingAccountName });
}

/** The ARM id of a billing profile. */
export function billingProfileId(ref: BillingProfileRef): string {
    return fillPath(PATHS.billingProfile, ref);
}

/** The ARM id of an invoice (invoices live under the billing account). */
export function invoiceId(billingAccountName: string, invoiceName: string): string {
    return fillPath(PATHS.invoice, { billingAccountName, invoiceName });
}

/**
 * The names in a billing profile's ARM id, as Azure spells them; undefined
 * when `id` is not a billing profile id.
 */
export function parseBillingProfileId(id: string): BillingProfileRef | undefined {
    const m = matchPath(PATHS.billingProfile, id);
    return m ? { billingAccountName: m.billingAccountName, billingProfileName: m.billingProfileName } : undefined;
}

/**
 * Whether two ids name the same role definition: Azure returns a role
 * definition's id at account or at profile scope, so only the trailing GUID
 * is compared (case-insensitively).
 */
export function sameId(a: string | null | undefined, b: string | null | undefined): boolean {
    if (!a || !b) return false;
    const tail = (s: string) => s.split("/").filter(Boolean).pop()?.toLowerCase();
    return tail(a) === tail(b);
}
