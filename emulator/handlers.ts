/**
 * One stateless handler per contract operation. The server has already
 * routed the request, authenticated the principal, validated path, query and
 * body with the contract, found the scope (404) and authorized the caller
 * (403) before a handler runs; the handler reads or changes the store and
 * returns a reply, which the server checks against the contract's response
 * schema for its status.
 *
 * Mutations go through `store.update`, which is all-or-nothing: a handler
 * that throws halfway leaves the state as it was.
 */
import type { z } from "zod";
import { operations, type OperationId, type Operations } from "../provider/billing/contract";
import * as names from "../provider/billing/names";
import { PATHS, matchPath } from "../provider/billing/paths";
import { canonicalName, matchesFilter, orderComparator, parseFilter, parseOrderBy } from "../provider/billing/query";
import { BILLING_PROFILE_READ_ONLY_PROPERTIES, type BillingProfilePutBody } from "../provider/billing/schemas";
import { hasAccountRole, permissionsAt, requireAccount, visibleAccounts, visibleProfiles, type Scope } from "./authz";
import { documentLink } from "./documents";
import { fail } from "./errors";
import { acceptOperation, acceptedHeaders, type CompleteOperation } from "./lro";
import {
    type BillingAccountRecord,
    type BillingProfileRecord,
    type DocumentUrl,
    type EmulatorSettings,
    type EmulatorState,
    type InvoiceRecord,
    type PrincipalRecord,
    type RoleAssignmentRecord,
    type RoleDefinitionRecord,
    assignmentsAt,
    billingAccountView,
    billingProfileView,
    copyOf,
    definitionOf,
    findInvoice,
    findPrincipalById,
    findProfile,
    graphUserView,
    invoiceView,
    profilesOf,
    roleAssignmentView,
    roleDefinitionView,
    roleDefinitionsAt,
    sameName,
} from "./model";
import type { Runtime } from "./runtime";
import { isoSeconds } from "./builders";
import { PROFILE_ROLE_NAMES } from "./fixtures";
import type { EmulatorStore } from "./store";

/** Everything a handler may use. Handlers keep nothing between requests. */
export interface HandlerContext {
    store: EmulatorStore;
    runtime: Runtime;
    now: () => Date;
    /** `http://host:port` as the client addressed the emulator: Locations and links are built on it. */
    origin: string;
    /** The request URL (paging links keep its query). */
    url: URL;
    /** The authenticated caller. */
    principal: PrincipalRecord;
    /** What the operation acts on, resolved and authorized by the server. */
    scope: Scope;
}

/** A successful answer; errors are thrown as `EmulatorError`. */
export interface Reply {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
}

type Op<K extends OperationId> = Operations[K];

/** The validated input of an operation, as the contract's schemas output it. */
export interface Input<K extends OperationId> {
    params: z.output<Op<K>["params"]>;
    query: NonNullable<Op<K>["query"]> extends z.ZodType ? z.output<NonNullable<Op<K>["query"]>> : Record<string, never>;
    body: NonNullable<Op<K>["body"]> extends z.ZodType ? z.output<NonNullable<Op<K>["body"]>> : undefined;
}

export type Handler<K extends OperationId> = (ctx: HandlerContext, input: Input<K>) => Reply | Promise<Reply>;

// ---------------------------------------------------------------------------
// Lists: filter, order, page

/** The list options of a request, as the contract's query schema parsed them. */
interface ListInput {
    top?: number;
    skip?: number;
    filter?: string;
    orderBy?: string;
    skipToken?: string;
}

function encodeSkipToken(offset: number): string {
    return Buffer.from(`offset:${offset}`).toString("base64url");
}

function decodeSkipToken(token: string | undefined): number | undefined {
    if (token === undefined) return undefined;
    const m = /^offset:(\d{1,9})$/.exec(Buffer.from(token, "base64url").toString("utf8"));
    if (!m) throw fail.badRequest("InvalidSkipToken", `The $skiptoken '${token}' is not valid. Use the nextLink of the previous page as it is.`);
    return Number(m[1]);
}

/** The names a next link drops from the request's query before it sets its own (any spelling). */
const PAGING_NAMES = new Set(["top", "skip", "skiptoken"]);

/**
 * One page of a list operation, after its options: `filter` keeps the items
 * whose fields equal the values, `orderBy` sorts them (stably, so equal
 * items keep the list's own order), `skip` (or the next link's
 * `$skiptoken`) sets where the page starts, and the page holds `top` items,
 * at most `pageSize` (the server's page size, as Azure pages server-side).
 * When items remain, `nextLink` repeats the request's query with the page
 * size as `$top` (when the operation declares `top`, as Azure's next links
 * do) and a `$skiptoken`, absolute or relative per the settings.
 *
 * `view` turns an item into what the list answers, when `all` holds
 * records: only the page's are viewed unless a `filter` or `orderBy` must
 * see every one. An account's invoice list is thousands of records, each
 * view signs its document links, and a client reads it a page at a time:
 * viewing them all for every page made reading the whole list cost the
 * square of its length.
 */
function page<T>(ctx: HandlerContext, operationId: OperationId, all: readonly T[], input: ListInput, view: (item: T) => unknown = (item) => item): Reply {
    const options = operations[operationId].list;
    if (!options) throw fail.internal(`${operationId} is not a list operation of the contract`);
    const settings = ctx.store.read((s) => s.settings);
    const offset = decodeSkipToken(input.skipToken) ?? input.skip ?? 0;
    const size = Math.min(input.top ?? settings.pageSize, settings.pageSize);
    const seesAll = input.filter !== undefined || input.orderBy !== undefined;
    let items: readonly unknown[] = seesAll ? all.map(view) : all;
    if (input.filter !== undefined) {
        const clauses = parseFilter(input.filter, options.filter ?? []);
        items = items.filter((item) => matchesFilter(item, clauses));
    }
    if (input.orderBy !== undefined) {
        items = [...items].sort(orderComparator(parseOrderBy(input.orderBy, options.orderBy ?? [])));
    }
    const shown = items.slice(offset, offset + size);
    const body: { value: unknown[]; nextLink?: string } = { value: seesAll ? shown : shown.map((item) => view(item as T)) };
    if (offset + size < items.length) {
        const q = new URLSearchParams();
        for (const [k, v] of ctx.url.searchParams) if (!PAGING_NAMES.has(canonicalName(k))) q.append(k, v);
        if (options.paging) q.set("$top", String(size));
        q.set("$skiptoken", encodeSkipToken(offset + size));
        const rel = `${ctx.url.pathname}?${q.toString()}`;
        body.nextLink = settings.relativeNextLinks ? rel : `${ctx.origin}${rel}`;
    }
    return { status: 200, body };
}

/** Signed links to invoice documents, on the origin the caller used, as `documents[].url`. */
export function documentUrls(ctx: Pick<HandlerContext, "store" | "origin" | "now">): DocumentUrl {
    const key = ctx.store.read((s) => s.blobKey);
    const now = ctx.now();
    return (invoiceName, documentName) => documentLink(key, ctx.origin, invoiceName, documentName, now).url;
}

/** Invoices by invoice date within the optional period (inclusive), then by name: the lists' own order. */
function invoicesIn(invoices: readonly InvoiceRecord[], query: { periodStartDate?: string; periodEndDate?: string }): InvoiceRecord[] {
    // Both dates are optional in 2024-04-01 (required in 2020-05-01): a missing one leaves that side unbounded.
    const from = query.periodStartDate;
    const to = query.periodEndDate;
    if (from !== undefined && to !== undefined && from > to) {
        throw fail.badRequest("InvalidQueryParameterValue", `periodStartDate (${from}) is after periodEndDate (${to}).`, "periodStartDate");
    }
    return invoices
        .filter((i) => {
            const day = String(i.properties.invoiceDate ?? "").slice(0, 10);
            return (from === undefined || day >= from) && (to === undefined || day <= to);
        })
        .sort((a, b) => String(a.properties.invoiceDate).localeCompare(String(b.properties.invoiceDate)) || a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------
// Billing profile PUT

/**
 * Replaces the writable properties of a profile with the body's and keeps the
 * read-only ones (BILLING_PROFILE_READ_ONLY_PROPERTIES) as the server holds
 * them; read-only properties in the body are ignored, as ARM does. `tags` are
 * replaced too (absent = none), from the body's `tags`, else from its
 * `properties.tags` (the spec has both). Returns the new record.
 */
export function applyProfilePut(draft: EmulatorState, billingAccountName: string, billingProfileName: string, body: BillingProfilePutBody) {
    const profile = findProfile(draft, billingAccountName, billingProfileName);
    if (!profile) throw fail.notFound("ResourceNotFound", `Billing profile '${billingProfileName}' was not found in billing account '${billingAccountName}'.`);
    const readOnly = new Set<string>(BILLING_PROFILE_READ_ONLY_PROPERTIES);
    const properties: Record<string, unknown> = {};
    // Tags are held once (the record's `tags`): the view shows them at both places the spec has them.
    for (const [k, v] of Object.entries(body.properties)) if (!readOnly.has(k) && k !== "tags" && v !== undefined) properties[k] = v;
    for (const k of readOnly) if (k in profile.properties) properties[k] = profile.properties[k];
    profile.properties = properties;
    const propertyTags = body.properties.tags as Record<string, string> | null | undefined;
    profile.tags = body.tags ?? propertyTags ?? null;
    return copyOf(profile);
}

/** Checks what the contract's schema cannot: each recipient is an email address. */
function validateProfileBody(body: BillingProfilePutBody): void {
    const fields: Record<string, string[]> = {};
    (body.properties.invoiceRecipients ?? []).forEach((r, i) => {
        const ok = names.emailAddress.safeParse(r);
        if (!ok.success) fields[`properties.invoiceRecipients[${i}]`] = [`'${r}' ${ok.error.issues[0].message}`];
    });
    if (Object.keys(fields).length > 0) throw fail.validationProblem(fields);
}

// ---------------------------------------------------------------------------
// Role assignments

/** What a validated createBillingRoleAssignment resolves to; kept as the operation's input. */
interface AssignmentRequest {
    principalId: string;
    roleDefinitionName: string;
    createdByPrincipalId: string;
}

function parseRoleDefinitionId(id: string): { account: string; profile: string; name: string } | undefined {
    const path = id.trim();
    const m = matchPath(PATHS.billingRoleDefinition, path.startsWith("/") ? path : `/${path}`);
    return m ? { account: m.billingAccountName, profile: m.billingProfileName, name: m.roleDefinitionName } : undefined;
}

/**
 * Resolves the role definition (full id of one of this profile's role
 * definitions) and the principal (object id, or email address looked up in
 * the directory). Throws 400 with what to change.
 */
function resolveAssignment(
    state: Readonly<EmulatorState>,
    scope: Extract<Scope, { kind: "profile" }>,
    body: Input<"createBillingRoleAssignment">["body"],
): { principal: PrincipalRecord; definition: RoleDefinitionRecord } {
    const defs = roleDefinitionsAt(state, scope.account.name, scope.profile.name);
    const choices = defs.map((d) => `${d.roleName} (${d.name})`).join(", ");
    const ref = parseRoleDefinitionId(body.roleDefinitionId);
    const definition =
        ref && sameName(ref.account, scope.account.name) && sameName(ref.profile, scope.profile.name) ? defs.find((d) => sameName(d.name, ref.name)) : undefined;
    if (!definition) {
        throw fail.badRequest(
            "InvalidRoleDefinitionId",
            `The role definition '${body.roleDefinitionId}' is not a role definition of billing profile '${scope.profile.name}'. ` +
                `Use the full id of one of its role definitions (GET .../billingProfiles/${scope.profile.name}/billingRoleDefinitions): ${choices}.`,
            "roleDefinitionId",
        );
    }
    let principal: PrincipalRecord | undefined;
    if (body.principalId) {
        principal = findPrincipalById(state, body.principalId);
        if (!principal) {
            throw fail.badRequest(
                "PrincipalNotFound",
                `No user with object id '${body.principalId}' exists in the directory of tenant '${state.tenantId}'. Check the principalId, or give userEmailAddress instead.`,
                "principalId",
            );
        }
        if (body.principalTenantId && !sameName(body.principalTenantId, principal.tenantId)) {
            throw fail.badRequest(
                "InvalidPrincipalTenantId",
                `The user '${principal.id}' belongs to tenant '${principal.tenantId}', not '${body.principalTenantId}'.`,
                "principalTenantId",
            );
        }
        if (body.userEmailAddress && !sameName(body.userEmailAddress, principal.mail) && !sameName(body.userEmailAddress, principal.userPrincipalName)) {
            throw fail.badRequest(
                "PrincipalMismatch",
                `principalId '${principal.id}' and userEmailAddress '${body.userEmailAddress}' name different users; give one of them.`,
                "userEmailAddress",
            );
        }
    } else if (body.userEmailAddress) {
        const email = body.userEmailAddress;
        principal = state.principals.find((p) => sameName(p.mail, email) || sameName(p.userPrincipalName, email));
        if (!principal) {
            throw fail.badRequest(
                "PrincipalNotFound",
                `No user with email address '${email}' exists in the directory of tenant '${state.tenantId}'. Invite the user to the tenant first, or give their principalId.`,
                "userEmailAddress",
            );
        }
    } else {
        throw fail.badRequest("MissingPrincipal", "Give the principalId (and principalTenantId) or the userEmailAddress of the user to assign the role to.");
    }
    return { principal, definition };
}

/** Creates the assignment of (principal, role) on a profile, or returns the existing one: never a duplicate. */
export function applyAssignment(draft: EmulatorState, billingAccountName: string, billingProfileName: string, req: AssignmentRequest, now: Date): RoleAssignmentRecord {
    const name = `${req.roleDefinitionName}_${req.principalId}`;
    const existing = assignmentsAt(draft, billingAccountName, billingProfileName).find((a) => sameName(a.name, name));
    if (existing) return copyOf(existing);
    const principal = findPrincipalById(draft, req.principalId);
    const creator = findPrincipalById(draft, req.createdByPrincipalId);
    if (!principal || !creator) throw fail.badRequest("PrincipalNotFound", `The user '${req.principalId}' no longer exists.`);
    const record: RoleAssignmentRecord = {
        billingAccountName,
        billingProfileName,
        name,
        roleDefinitionName: req.roleDefinitionName,
        principalId: principal.id,
        principalTenantId: principal.tenantId,
        createdOn: isoSeconds(now),
        createdByPrincipalId: creator.id,
        createdByPrincipalTenantId: creator.tenantId,
    };
    draft.roleAssignments.push(record);
    return copyOf(record);
}

// ---------------------------------------------------------------------------
// Handlers

function profileScope(ctx: HandlerContext): Extract<Scope, { kind: "profile" }> {
    if (ctx.scope.kind !== "profile") throw fail.internal("operation resolved to a scope without a billing profile");
    return ctx.scope;
}

function accountScope(ctx: HandlerContext): BillingAccountRecord {
    if (ctx.scope.kind !== "account") throw fail.internal("operation resolved to a scope that is not a billing account");
    return ctx.scope.account;
}

/**
 * Why a billing profile cannot be deleted, in `validateDeleteEligibility`'s
 * words (`DeleteBillingProfileEligibilityDetail`): every profile with an
 * invoice still owes it or has charges accruing for the current period, and
 * an account keeps its last profile. The emulator never deletes a profile;
 * a profile with none of these reasons is refused as `NotSupported`.
 */
export function deleteIneligibility(state: Readonly<EmulatorState>, profile: BillingProfileRecord): Array<{ code: string; message: string }> {
    const out: Array<{ code: string; message: string }> = [];
    const invoices = state.invoices.filter((i) => sameName(i.billingAccountName, profile.billingAccountName) && sameName(i.billingProfileName, profile.name));
    if (invoices.some((i) => Number((i.properties.amountDue as { value?: number } | undefined)?.value ?? 0) > 0)) {
        out.push({ code: "OutstandingCharges", message: "Billing Profile cannot be deleted as there are outstanding charges on this billing profile." });
    }
    if (invoices.length > 0) {
        out.push({ code: "PendingCharges", message: "Billing Profile cannot be deleted as there are pending charges accumulating on this billing profile." });
    }
    if (profilesOf(state, profile.billingAccountName).length <= 1) {
        out.push({ code: "LastBillingProfile", message: "Billing profile cannot be deleted as this is the only billing profile in this billing account." });
    }
    if (out.length === 0) out.push({ code: "NotSupported", message: "The emulator does not delete billing profiles." });
    return out;
}

/** Where a role definition or assignment is read: the request's profile, or its account (profile null). */
function roleScopeOf(ctx: HandlerContext): { billingAccountName: string; billingProfileName: string | null; where: string } {
    if (ctx.scope.kind === "profile") {
        return { billingAccountName: ctx.scope.account.name, billingProfileName: ctx.scope.profile.name, where: `billing profile '${ctx.scope.profile.name}'` };
    }
    return { billingAccountName: accountScope(ctx).name, billingProfileName: null, where: `billing account '${accountScope(ctx).name}'` };
}

/** The records of one kind at a scope (role definitions, role assignments), as the finders of model.ts give them. */
type AtScope<R> = (state: Readonly<EmulatorState>, billingAccountName: string, billingProfileName: string | null) => R[];

/** The scope's records of one kind, in their response shape, one page of the list operation. */
function listAtScope<R>(ctx: HandlerContext, operationId: OperationId, query: ListInput, of: AtScope<R>, view: (state: Readonly<EmulatorState>, record: R) => unknown): Reply {
    const at = roleScopeOf(ctx);
    return page(ctx, operationId, ctx.store.read((s) => of(s, at.billingAccountName, at.billingProfileName).map((r) => view(s, r))), query);
}

/** The scope's record of one kind with this name (case-insensitive), in its response shape; 404 naming it when there is none. */
function getAtScope<R extends { name: string }>(ctx: HandlerContext, of: AtScope<R>, view: (state: Readonly<EmulatorState>, record: R) => unknown, name: string, what: string): Reply {
    const at = roleScopeOf(ctx);
    const body = ctx.store.read((s) => {
        const found = of(s, at.billingAccountName, at.billingProfileName).find((r) => sameName(r.name, name));
        return found && view(s, found);
    });
    if (!body) throw fail.notFound("ResourceNotFound", `${what} '${name}' was not found on ${at.where}.`);
    return { status: 200, body };
}

/** A role definition's response shape, as {@link listAtScope} and {@link getAtScope} take views. */
const definitionView = (_state: Readonly<EmulatorState>, d: RoleDefinitionRecord) => roleDefinitionView(d);

/**
 * Accepts a long-running operation on the request's billing profile:
 * 202 + Location. The change it stands for is made when a poll completes it.
 */
function acceptedAtProfile(ctx: HandlerContext, settings: EmulatorSettings, kind: "putBillingProfile" | "createBillingRoleAssignment", input: unknown): Reply {
    const scope = profileScope(ctx);
    const record = acceptOperation(ctx.runtime.operations, settings, {
        kind,
        billingAccountName: scope.account.name,
        billingProfileName: scope.profile.name,
        input,
        principalId: ctx.principal.id,
        now: ctx.now(),
    });
    return { status: 202, headers: acceptedHeaders(ctx.origin, record, settings) };
}

function settingsOf(ctx: HandlerContext): EmulatorSettings {
    return ctx.store.read((s) => s.settings);
}

export const handlers: { [K in OperationId]: Handler<K> } = {
    listBillingAccounts(ctx, { query }) {
        const items = ctx.store.read((s) =>
            visibleAccounts(s, ctx.principal.id).map((a) => billingAccountView(s, a, hasAccountRole(s, ctx.principal.id, a.name))),
        );
        return page(ctx, "listBillingAccounts", items, query);
    },

    getBillingAccount(ctx) {
        const account = accountScope(ctx);
        return { status: 200, body: ctx.store.read((s) => billingAccountView(s, account, hasAccountRole(s, ctx.principal.id, account.name))) };
    },

    listBillingProfiles(ctx, { params, query }) {
        const items = ctx.store.read((s) => {
            const account = requireAccount(s, params.billingAccountName);
            return visibleProfiles(s, ctx.principal.id, account.name).map(billingProfileView);
        });
        return page(ctx, "listBillingProfiles", items, query);
    },

    getBillingProfile(ctx) {
        return { status: 200, body: billingProfileView(profileScope(ctx).profile) };
    },

    putBillingProfile(ctx, { body }) {
        const scope = profileScope(ctx);
        validateProfileBody(body);
        const settings = settingsOf(ctx);
        if (settings.lro === "always") return acceptedAtProfile(ctx, settings, "putBillingProfile", body);
        const profile = ctx.store.update((draft) => applyProfilePut(draft, scope.account.name, scope.profile.name, body));
        return { status: 200, body: billingProfileView(profile) };
    },

    validateBillingProfileDeleteEligibility(ctx) {
        const scope = profileScope(ctx);
        const details = ctx.store.read((s) => deleteIneligibility(s, scope.profile));
        return {
            status: 200,
            body: details.length === 0 ? { eligibilityStatus: "Allowed" } : { eligibilityStatus: "NotAllowed", eligibilityDetails: details },
        };
    },

    deleteBillingProfile(ctx) {
        const scope = profileScope(ctx);
        const details = ctx.store.read((s) => deleteIneligibility(s, scope.profile));
        throw fail.conflictWithDetails(
            "BillingProfileDeletionNotAllowed",
            `Billing profile '${scope.profile.name}' cannot be deleted: ${details.map((d) => d.message).join(" ")} ` +
                `POST .../validateDeleteEligibility lists the same reasons.`,
            details,
        );
    },

    listBillingPermissions(ctx, { query }) {
        const scope = profileScope(ctx);
        const actions = ctx.store.read((s) => permissionsAt(s, ctx.principal, scope));
        return page(ctx, "listBillingPermissions", [{ actions, notActions: [] }], query);
    },

    listBillingRoleDefinitions(ctx, { query }) {
        return listAtScope(ctx, "listBillingRoleDefinitions", query, roleDefinitionsAt, definitionView);
    },

    getBillingRoleDefinition(ctx, { params }) {
        return getAtScope(ctx, roleDefinitionsAt, definitionView, params.roleDefinitionName, "Role definition");
    },

    listBillingRoleDefinitionsByBillingAccount(ctx, { query }) {
        return listAtScope(ctx, "listBillingRoleDefinitionsByBillingAccount", query, roleDefinitionsAt, definitionView);
    },

    getBillingRoleDefinitionByBillingAccount(ctx, { params }) {
        return getAtScope(ctx, roleDefinitionsAt, definitionView, params.roleDefinitionName, "Role definition");
    },

    listBillingRoleAssignments(ctx, { query }) {
        return listAtScope(ctx, "listBillingRoleAssignments", query, assignmentsAt, roleAssignmentView);
    },

    getBillingRoleAssignment(ctx, { params }) {
        return getAtScope(ctx, assignmentsAt, roleAssignmentView, params.billingRoleAssignmentName, "Role assignment");
    },

    listBillingRoleAssignmentsByBillingAccount(ctx, { query }) {
        return listAtScope(ctx, "listBillingRoleAssignmentsByBillingAccount", query, assignmentsAt, roleAssignmentView);
    },

    getBillingRoleAssignmentByBillingAccount(ctx, { params }) {
        return getAtScope(ctx, assignmentsAt, roleAssignmentView, params.billingRoleAssignmentName, "Role assignment");
    },

    createBillingRoleAssignment(ctx, { body }) {
        const scope = profileScope(ctx);
        const { principal, definition } = ctx.store.read((s) => resolveAssignment(s, scope, body));
        const request: AssignmentRequest = { principalId: principal.id, roleDefinitionName: definition.name, createdByPrincipalId: ctx.principal.id };
        const settings = settingsOf(ctx);
        if (settings.lro === "always") return acceptedAtProfile(ctx, settings, "createBillingRoleAssignment", request);
        return { status: 200, body: ctx.store.update((draft) => roleAssignmentView(draft, applyAssignment(draft, scope.account.name, scope.profile.name, request, ctx.now()))) };
    },

    deleteBillingRoleAssignment(ctx, { params }) {
        const scope = profileScope(ctx);
        ctx.store.update((draft) => {
            const here = assignmentsAt(draft, scope.account.name, scope.profile.name);
            const target = here.find((x) => sameName(x.name, params.billingRoleAssignmentName));
            if (!target) {
                throw fail.notFound(
                    "ResourceNotFound",
                    `Role assignment '${params.billingRoleAssignmentName}' was not found on billing profile '${scope.profile.name}'.`,
                );
            }
            if (definitionOf(draft, target)?.kind === "owner") {
                const owners = here.filter((x) => definitionOf(draft, x)?.kind === "owner");
                if (owners.length <= 1) {
                    throw fail.conflict(
                        "LastOwnerRemovalNotAllowed",
                        `'${target.name}' is the last ${PROFILE_ROLE_NAMES.owner} assignment of billing profile '${scope.profile.name}'; ` +
                            `a billing profile must keep an owner. Assign another owner first, then remove this one.`,
                    );
                }
            }
            draft.roleAssignments = draft.roleAssignments.filter((x) => x !== target);
        });
        return { status: 204 };
    },

    listInvoices(ctx, { query }) {
        const scope = profileScope(ctx);
        const url = documentUrls(ctx);
        return ctx.store.read((s) =>
            page(
                ctx,
                "listInvoices",
                invoicesIn(
                    s.invoices.filter((i) => sameName(i.billingAccountName, scope.account.name) && sameName(i.billingProfileName, scope.profile.name)),
                    query,
                ),
                query,
                (i) => invoiceView(i, url),
            ),
        );
    },

    listInvoicesByBillingAccount(ctx, { query }) {
        const account = accountScope(ctx);
        const url = documentUrls(ctx);
        // The account's invoices of the profiles the caller may read: all of them with an account role.
        return ctx.store.read((s) => {
            const readable = new Set(visibleProfiles(s, ctx.principal.id, account.name).map((p) => p.name.toLowerCase()));
            return page(
                ctx,
                "listInvoicesByBillingAccount",
                invoicesIn(
                    s.invoices.filter((i) => sameName(i.billingAccountName, account.name) && readable.has(i.billingProfileName.toLowerCase())),
                    query,
                ),
                query,
                (i) => invoiceView(i, url),
            );
        });
    },

    getInvoice(ctx) {
        const invoice = profileScope(ctx).invoice;
        if (!invoice) throw fail.internal("getInvoice resolved without an invoice");
        return { status: 200, body: invoiceView(invoice, documentUrls(ctx)) };
    },

    downloadInvoice(ctx, { query }) {
        const scope = profileScope(ctx);
        const invoice = scope.invoice;
        if (!invoice) throw fail.internal("downloadInvoice resolved without an invoice");
        const docs = (invoice.properties.documents ?? []) as Array<{ kind?: string; name?: string }>;
        const doc = query.documentName
            ? docs.find((d) => sameName(d.name, query.documentName))
            : docs.find((d) => (d.kind ?? "").toLowerCase() === "invoice");
        if (!doc?.name) {
            const known = docs.map((d) => d.name).filter(Boolean).join(", ") || "none";
            throw fail.documentNotFound(
                `Document '${query.documentName ?? "(invoice PDF)"}' was not found for invoice '${invoice.name}'. Use one of the invoice's documents[].name: ${known}.`,
            );
        }
        const settings = settingsOf(ctx);
        const record = acceptOperation(ctx.runtime.operations, settings, {
            kind: "invoiceDownload",
            billingAccountName: scope.account.name,
            invoiceName: invoice.name,
            input: { documentName: doc.name },
            principalId: ctx.principal.id,
            now: ctx.now(),
        });
        return { status: 202, headers: acceptedHeaders(ctx.origin, record, settings) };
    },

    getGraphUser(ctx, { params, query }) {
        const id = params.userId;
        const user = ctx.store.read((s) => s.principals.find((p) => sameName(p.id, id) || sameName(p.userPrincipalName, id)));
        if (!user) {
            throw fail.notFound(
                "Request_ResourceNotFound",
                `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
            );
        }
        const select = query.$select ? query.$select.split(",") : undefined;
        return { status: 200, body: graphUserView(user, select) };
    },
};

/**
 * Completes a long-running operation (see lro.ts): applies the change it
 * stands for and returns its final body, in the operation's `final` shape.
 */
export function completeOperation(now: () => Date, origin: string): CompleteOperation {
    return (store, rec) => {
        switch (rec.kind) {
            case "putBillingProfile": {
                const input = rec.input as BillingProfilePutBody;
                return billingProfileView(store.update((draft) => applyProfilePut(draft, rec.billingAccountName, rec.billingProfileName ?? "", input)));
            }
            case "createBillingRoleAssignment": {
                const input = rec.input as AssignmentRequest;
                return store.update((draft) => roleAssignmentView(draft, applyAssignment(draft, rec.billingAccountName, rec.billingProfileName ?? "", input, now())));
            }
            case "invoiceDownload":
                // A download changes nothing: it hands out a signed link.
                return store.read((s) => {
                    const invoice = findInvoice(s, rec.billingAccountName, rec.invoiceName ?? "");
                    if (!invoice) throw fail.notFound("ResourceNotFound", `Invoice '${rec.invoiceName}' no longer exists.`);
                    const { documentName } = rec.input as { documentName: string };
                    return documentLink(s.blobKey, origin, invoice.name, documentName, now());
                });
        }
    };
}

