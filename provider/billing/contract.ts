/**
 * The HTTP contract of the Azure Billing (and Graph) operations we use, as
 * data, after ts-rest: method, path, and a schema per status in one place.
 * The client builds its requests from these entries and the emulator routes
 * on the same entries, so the two cannot drift apart. A status an operation
 * does not declare is an error on both sides.
 *
 * Paths and statuses are Microsoft's: the Microsoft.Billing 2024-04-01
 * OpenAPI specification (Azure/azure-rest-api-specs, specification/billing;
 * its examples are this repository's test vectors, tests/vectors/azure-billing)
 * and Graph v1.0.
 */
import { z } from "zod";
import * as names from "./names";
import { PATHS, fillPath, matchPath } from "./paths";
import { listQueryShape, type ListOptions } from "./query";
import * as s from "./schemas";

/** The ARM api-version every billing operation is sent with. */
export const API_VERSION = "2024-04-01";

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

/**
 * Who may call an operation, by Microsoft's billing role matrix:
 * - `read`: any role on the billing profile (owner, contributor, reader,
 *   invoice manager) or on its billing account; at account scope, a role on
 *   the account or on one of its profiles;
 * - `readAccount`: a role on the billing account itself (owner, contributor,
 *   reader), for what lives at account scope only (its role definitions and
 *   assignments);
 * - `writeProfile`: owner or contributor on the profile or its account;
 * - `manageRoles`: owner on the profile or its account;
 * - `signedIn`: any authenticated principal (Graph user lookups).
 */
export type Access = "read" | "readAccount" | "writeProfile" | "manageRoles" | "signedIn";

/** How each access level is named in error messages, so users know which role to ask for. */
export const REQUIRED_ROLE: Record<Access, string> = {
    read: "a role on the billing profile (owner, contributor, reader or invoice manager) or on its billing account",
    readAccount: "a role on the billing account (billing account owner, contributor or reader)",
    writeProfile: "the billing profile owner or contributor role (or billing account owner or contributor)",
    manageRoles: "the billing profile owner role (or billing account owner)",
    signedIn: "a signed-in principal (for Microsoft Graph, an app or user allowed to read users: User.Read.All)",
};

/** Responses by HTTP status; `null` means the status carries no body. */
export type Responses = Readonly<Partial<Record<number, z.ZodType | null>>>;

export interface Operation<
    P extends z.ZodObject = z.ZodObject,
    Q extends z.ZodObject | undefined = z.ZodObject | undefined,
    B extends z.ZodType | undefined = z.ZodType | undefined,
    R extends Responses = Responses,
    F extends z.ZodType | undefined = z.ZodType | undefined,
> {
    /** Stable name used in logs, errors and the emulator's request log (the OpenAPI operationId, camel-cased). */
    readonly id: string;
    readonly method: HttpMethod;
    /** Which service: ARM (`endpoint`) or Microsoft Graph (`graphEndpoint`). */
    readonly api: "arm" | "graph";
    /** Path template; `{name}` segments are filled from `params`. */
    readonly path: string;
    /** Path parameters, validated before a URL is built. */
    readonly params: P;
    /**
     * Query parameters other than `api-version`: what the client may send
     * and the emulator accepts. Any other name is refused with 400.
     */
    readonly query?: Q;
    /** For list operations: the options its spec declares, implemented or refused (query.ts). */
    readonly list?: ListOptions;
    /** Request body, validated before it is sent. */
    readonly body?: B;
    /** Responses by status. A 202 declares a long-running operation. */
    readonly responses: R;
    /** For long-running operations: the body at the `Location` once it completes. */
    readonly final?: F;
    /** Who may call it (the emulator enforces this). */
    readonly access: Access;
    /**
     * The authorization action it performs, as ARM names it in a denial and
     * `billingPermissions` lists it: what the caller's roles must grant.
     */
    readonly action: string;
}

function op<
    P extends z.ZodObject,
    Q extends z.ZodObject | undefined,
    B extends z.ZodType | undefined,
    R extends Responses,
    F extends z.ZodType | undefined = undefined,
>(o: Operation<P, Q, B, R, F>): Operation<P, Q, B, R, F> {
    return o;
}

const accountParams = z.object({ billingAccountName: names.billingAccountName });
const profileParams = names.billingProfileRef;

/**
 * The list options of each list, as the 2024-04-01 spec declares them for
 * the operation (filter fields: the scalar properties of the listed type
 * that a caller would select by). What is declared and not implemented is
 * refused.
 */
const LIST: Record<"accounts" | "profiles" | "roleAssignments" | "invoices" | "plain", ListOptions> = {
    accounts: {
        paging: true,
        filter: ["name", "displayName", "agreementType", "accountType", "accountSubType", "accountStatus", "primaryBillingTenantId"],
        flags: ["includeAll", "includeAllWithoutBillingProfiles", "includeDeleted", "includePendingAgreement", "includeResellee"],
        refused: ["legalOwnerTID", "legalOwnerOID", "expand", "search"],
    },
    profiles: {
        paging: true,
        filter: ["name", "displayName", "status", "currency", "billingRelationshipType", "invoiceEmailOptIn", "systemId", "spendingLimit", "poNumber"],
        flags: ["includeDeleted"],
        refused: ["orderBy", "count", "search"],
    },
    roleAssignments: {
        paging: true,
        filter: ["name", "principalId", "principalTenantId", "principalType", "roleDefinitionId", "scope", "createdByPrincipalId", "billingProfileId"],
        refused: [],
    },
    invoices: {
        paging: true,
        filter: ["name", "status", "documentType", "invoiceType", "isMonthlyInvoice", "billingProfileId", "billingProfileDisplayName", "purchaseOrderNumber", "subscriptionId", "invoiceDate", "dueDate"],
        orderBy: ["invoiceDate", "dueDate", "invoicePeriodStartDate", "invoicePeriodEndDate"],
        refused: ["count", "search"],
    },
    /** A list whose spec declares no options: only ARM's `$skiptoken` of its next links. */
    plain: { paging: false, refused: [] },
};

/** The period of an invoice list: both dates optional in 2024-04-01, `YYYY-MM-DD` (the spec's `format: date`). */
const invoicePeriod = { periodStartDate: names.isoDate.optional(), periodEndDate: names.isoDate.optional() };

export const operations = {
    listBillingAccounts: op({
        id: "listBillingAccounts",
        method: "GET",
        api: "arm",
        path: PATHS.billingAccounts,
        params: z.object({}),
        query: z.object(listQueryShape(LIST.accounts)),
        list: LIST.accounts,
        responses: { 200: s.BillingAccountList },
        access: "signedIn",
        action: "Microsoft.Billing/billingAccounts/read",
    }),
    getBillingAccount: op({
        id: "getBillingAccount",
        method: "GET",
        api: "arm",
        path: PATHS.billingAccount,
        params: accountParams,
        responses: { 200: s.BillingAccount },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/read",
    }),
    listBillingProfiles: op({
        id: "listBillingProfiles",
        method: "GET",
        api: "arm",
        path: PATHS.billingProfiles,
        params: accountParams,
        query: z.object(listQueryShape(LIST.profiles)),
        list: LIST.profiles,
        responses: { 200: s.BillingProfileList },
        access: "signedIn",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/read",
    }),
    getBillingProfile: op({
        id: "getBillingProfile",
        method: "GET",
        api: "arm",
        path: PATHS.billingProfile,
        params: profileParams,
        responses: { 200: s.BillingProfile },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/read",
    }),
    putBillingProfile: op({
        id: "putBillingProfile",
        method: "PUT",
        api: "arm",
        path: PATHS.billingProfile,
        params: profileParams,
        body: s.BillingProfilePutBody,
        responses: { 200: s.BillingProfile, 201: s.BillingProfile, 202: null },
        final: s.BillingProfile,
        access: "writeProfile",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/write",
    }),
    listBillingRoleDefinitions: op({
        id: "listBillingRoleDefinitions",
        method: "GET",
        api: "arm",
        path: PATHS.billingRoleDefinitions,
        params: profileParams,
        query: z.object(listQueryShape(LIST.plain)),
        list: LIST.plain,
        responses: { 200: s.BillingRoleDefinitionList },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/billingRoleDefinitions/read",
    }),
    getBillingRoleDefinition: op({
        id: "getBillingRoleDefinition",
        method: "GET",
        api: "arm",
        path: PATHS.billingRoleDefinition,
        params: profileParams.extend({ roleDefinitionName: names.guid }),
        responses: { 200: s.BillingRoleDefinition },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/billingRoleDefinitions/read",
    }),
    listBillingRoleAssignments: op({
        id: "listBillingRoleAssignments",
        method: "GET",
        api: "arm",
        path: PATHS.billingRoleAssignments,
        params: profileParams,
        query: z.object(listQueryShape(LIST.roleAssignments)),
        list: LIST.roleAssignments,
        responses: { 200: s.BillingRoleAssignmentList },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/billingRoleAssignments/read",
    }),
    getBillingRoleAssignment: op({
        id: "getBillingRoleAssignment",
        method: "GET",
        api: "arm",
        path: PATHS.billingRoleAssignment,
        params: profileParams.extend({ billingRoleAssignmentName: names.roleAssignmentName }),
        responses: { 200: s.BillingRoleAssignment },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/billingRoleAssignments/read",
    }),
    createBillingRoleAssignment: op({
        id: "createBillingRoleAssignment",
        method: "POST",
        api: "arm",
        path: PATHS.createBillingRoleAssignment,
        params: profileParams,
        body: s.CreateBillingRoleAssignmentBody,
        responses: { 200: s.BillingRoleAssignment, 202: null },
        final: s.BillingRoleAssignment,
        access: "manageRoles",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/createBillingRoleAssignment/action",
    }),
    deleteBillingRoleAssignment: op({
        id: "deleteBillingRoleAssignment",
        method: "DELETE",
        api: "arm",
        path: PATHS.billingRoleAssignment,
        params: profileParams.extend({ billingRoleAssignmentName: names.roleAssignmentName }),
        responses: { 200: z.unknown(), 204: null },
        access: "manageRoles",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/billingRoleAssignments/delete",
    }),
    listInvoices: op({
        id: "listInvoices",
        method: "GET",
        api: "arm",
        path: PATHS.invoices,
        params: profileParams,
        query: z.object({ ...invoicePeriod, ...listQueryShape(LIST.invoices) }),
        list: LIST.invoices,
        responses: { 200: s.InvoiceList },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/invoices/read",
    }),
    listInvoicesByBillingAccount: op({
        id: "listInvoicesByBillingAccount",
        method: "GET",
        api: "arm",
        path: PATHS.accountInvoices,
        params: accountParams,
        query: z.object({ ...invoicePeriod, ...listQueryShape(LIST.invoices) }),
        list: LIST.invoices,
        responses: { 200: s.InvoiceList },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/invoices/read",
    }),
    listBillingRoleDefinitionsByBillingAccount: op({
        id: "listBillingRoleDefinitionsByBillingAccount",
        method: "GET",
        api: "arm",
        path: PATHS.accountRoleDefinitions,
        params: accountParams,
        query: z.object(listQueryShape(LIST.plain)),
        list: LIST.plain,
        responses: { 200: s.BillingRoleDefinitionList },
        access: "readAccount",
        action: "Microsoft.Billing/billingAccounts/billingRoleDefinitions/read",
    }),
    getBillingRoleDefinitionByBillingAccount: op({
        id: "getBillingRoleDefinitionByBillingAccount",
        method: "GET",
        api: "arm",
        path: PATHS.accountRoleDefinition,
        params: accountParams.extend({ roleDefinitionName: names.guid }),
        responses: { 200: s.BillingRoleDefinition },
        access: "readAccount",
        action: "Microsoft.Billing/billingAccounts/billingRoleDefinitions/read",
    }),
    listBillingRoleAssignmentsByBillingAccount: op({
        id: "listBillingRoleAssignmentsByBillingAccount",
        method: "GET",
        api: "arm",
        path: PATHS.accountRoleAssignments,
        params: accountParams,
        query: z.object(listQueryShape(LIST.roleAssignments)),
        list: LIST.roleAssignments,
        responses: { 200: s.BillingRoleAssignmentList },
        access: "readAccount",
        action: "Microsoft.Billing/billingAccounts/billingRoleAssignments/read",
    }),
    getBillingRoleAssignmentByBillingAccount: op({
        id: "getBillingRoleAssignmentByBillingAccount",
        method: "GET",
        api: "arm",
        path: PATHS.accountRoleAssignment,
        params: accountParams.extend({ billingRoleAssignmentName: names.roleAssignmentName }),
        responses: { 200: s.BillingRoleAssignment },
        access: "readAccount",
        action: "Microsoft.Billing/billingAccounts/billingRoleAssignments/read",
    }),
    listBillingPermissions: op({
        id: "listBillingPermissions",
        method: "GET",
        api: "arm",
        path: PATHS.billingPermissions,
        params: profileParams,
        query: z.object(listQueryShape(LIST.plain)),
        list: LIST.plain,
        responses: { 200: s.BillingPermissionList },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/billingPermissions/read",
    }),
    validateBillingProfileDeleteEligibility: op({
        id: "validateBillingProfileDeleteEligibility",
        method: "POST",
        api: "arm",
        path: PATHS.validateDeleteEligibility,
        params: profileParams,
        responses: { 200: s.DeleteBillingProfileEligibilityResult },
        access: "writeProfile",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/validateDeleteEligibility/action",
    }),
    deleteBillingProfile: op({
        id: "deleteBillingProfile",
        method: "DELETE",
        api: "arm",
        path: PATHS.billingProfile,
        params: profileParams,
        responses: { 202: null, 204: null },
        final: z.unknown(),
        access: "writeProfile",
        action: "Microsoft.Billing/billingAccounts/billingProfiles/delete",
    }),
    getInvoice: op({
        id: "getInvoice",
        method: "GET",
        api: "arm",
        path: PATHS.invoice,
        params: accountParams.extend({ invoiceName: names.invoiceName }),
        responses: { 200: s.Invoice },
        access: "read",
        action: "Microsoft.Billing/billingAccounts/invoices/read",
    }),
    downloadInvoice: op({
        id: "downloadInvoice",
        method: "POST",
        api: "arm",
        path: PATHS.invoiceDownload,
        params: accountParams.extend({ invoiceName: names.invoiceName }),
        query: z.object({ documentName: names.documentName.optional() }),
        responses: { 200: s.DocumentDownloadResult, 202: null },
        final: s.DocumentDownloadResult,
        access: "read",
        action: "Microsoft.Billing/billingAccounts/invoices/download/action",
    }),
    getGraphUser: op({
        id: "getGraphUser",
        method: "GET",
        api: "graph",
        path: PATHS.graphUser,
        params: z.object({ userId: names.userIdOrPrincipalName }),
        query: z.object({ $select: z.string().optional() }),
        responses: { 200: s.GraphUser },
        access: "signedIn",
        action: "microsoft.directory/users/basic/read",
    }),
} as const;

export type Operations = typeof operations;
export type OperationId = keyof Operations;
export type AnyOperation = Operations[OperationId];

/** Path parameters of an operation, as callers pass them. */
export type ParamsOf<O extends Operation> = z.input<O["params"]>;
/** The schema an optional field of an operation declares, or `undefined` when it declares none. */
type Declared<T> = [NonNullable<T>] extends [never] ? undefined : NonNullable<T>;
/** Query parameters of an operation (other than `api-version`), as callers pass them. */
export type QueryOf<O extends Operation> = Declared<O["query"]> extends z.ZodType ? z.input<Declared<O["query"]>> : undefined;
/** Body of an operation, as callers pass it. */
export type BodyOf<O extends Operation> = Declared<O["body"]> extends z.ZodType ? z.input<Declared<O["body"]>> : undefined;
/** True when a declared status of the operation carries no body (a 202 whose operation ends in 204, a 204). */
type MayCompleteEmpty<O extends Operation> = null extends O["responses"][keyof O["responses"]] ? true : false;
/**
 * The parsed body of a successful, completed operation: the final body of a
 * long-running operation, else the 200 body; `undefined` is part of it when
 * the operation may complete without a body.
 */
export type ResultOf<O extends Operation> =
    | (Declared<O["final"]> extends z.ZodType
          ? z.output<Declared<O["final"]>>
          : O["responses"][200] extends z.ZodType
            ? z.output<O["responses"][200]>
            : undefined)
    | (MayCompleteEmpty<O> extends true ? undefined : never);
/** The items of a list operation's pages. */
export type ItemOf<O extends Operation> = ResultOf<O> extends { value: Array<infer T> } ? T : never;

/** The request line and body of one call, ready for a transport. */
export interface BuiltRequest {
    operation: AnyOperation;
    method: HttpMethod;
    /** Path and query, relative to the operation's service endpoint. */
    pathAndQuery: string;
    body?: unknown;
}

/**
 * Validates params, query and body against the contract and builds the path
 * and query. Throws the zod error on bad input; callers turn it into a
 * {@link ValidationError} naming the property. Pure: no I/O.
 */
export function buildRequest(operation: AnyOperation, params: unknown, query?: unknown, body?: unknown): BuiltRequest {
    const p = operation.params.parse(params) as Record<string, string>;
    const search = new URLSearchParams();
    if (operation.api === "arm") search.set("api-version", API_VERSION);
    const q = "query" in operation && operation.query ? (operation.query.parse(query ?? {}) as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(q)) if (v !== undefined) search.set(k, String(v));
    let parsedBody: unknown;
    if ("body" in operation && operation.body) parsedBody = operation.body.parse(body);
    const qs = search.toString();
    return {
        operation,
        method: operation.method,
        pathAndQuery: fillPath(operation.path, p) + (qs ? `?${qs}` : ""),
        body: parsedBody,
    };
}

/**
 * Finds the operation for a method and path (the emulator's router). Returns
 * the raw, decoded path parameters; the caller validates them with
 * `operation.params`.
 */
export function matchOperation(
    method: string,
    pathname: string,
): { operation: AnyOperation; params: Record<string, string> } | { pathMatched: true } | undefined {
    let pathMatched = false;
    for (const operation of Object.values(operations)) {
        const params = matchPath(operation.path, pathname);
        if (!params) continue;
        pathMatched = true;
        if (operation.method !== method.toUpperCase()) continue;
        return { operation, params };
    }
    return pathMatched ? { pathMatched: true } : undefined;
}

/** The schema for a status of an operation: a schema, `null` for no body, or `undefined` when the status is not declared. */
export function responseSchema(operation: AnyOperation, status: number): z.ZodType | null | undefined {
    const r = operation.responses as Responses;
    return status in r ? (r[status] ?? null) : undefined;
}
