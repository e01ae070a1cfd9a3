/**
 * InvoiceManagerAssignment: the "Invoice manager" billing role on one MCA or
 * MPA billing profile, for one user given by email address (resolved through
 * Microsoft Graph at create time) or by object id. The pure core is at the
 * top; the handlers that talk to Azure are at the bottom.
 *
 * Lifecycle contract:
 * - create: resolves the principal and the role definition (by name, never
 *   a hard-coded id), adopts an existing assignment of that role to that
 *   principal instead of creating a duplicate, otherwise creates one and waits
 *   for the long-running operation. If creation fails, nothing is left behind;
 *   if Azure accepted it but we could not confirm it, the error carries the
 *   assignment's id so Pulumi records it.
 * - read: the live assignment, or no id when it was removed out of band.
 * - update: only when the inputs still name the same principal (e.g. the
 *   email was swapped for the same user's object id); refreshes the outputs.
 * - any other change of inputs -> replace, creating the new assignment
 *   before deleting the old one.
 * - delete: DELETE; an assignment that is already gone counts as deleted.
 */
import { z } from "zod";
import type { BillingClient } from "../billing/client";
import { sameId } from "../billing/paths";
import * as names from "../billing/names";
import type { BillingProfileRef } from "../billing/names";
import type { BillingRoleAssignment, CreateBillingRoleAssignmentBody } from "../billing/schemas";
import type { AzureApiError } from "../errors";
import { terminalSafe } from "../terminal";
import {
    changedProfileKeys,
    checkNames,
    checkProperties,
    providerVersionOutput,
    containsUnknown,
    operationError,
    refusedWriteError,
    packageVersion,
    checkedInputs,
    isImport,
    roleAssignmentRefFromId,
    sameName,
    withPartialResource,
    writeMayHaveApplied,
    type CheckResult,
    type DiffResult,
} from "./common";

export const TYPE_NAME = "InvoiceManagerAssignment";
/** The role's `roleName` in the profile's role definitions (MCA and MPA). */
export const INVOICE_MANAGER_ROLE_NAME = "Invoice manager";

/** Input schemas, one per property; the descriptions are the ones every SDK shows (see emailInvoiceSetting.inputShape). */
export const inputShape = {
    billingAccountName: names.billingAccountName.describe("Billing account name. Changing it replaces the assignment."),
    billingProfileName: names.billingProfileName.describe("Billing profile name. Changing it replaces the assignment."),
    userEmailAddress: z
        .string({ error: "must be an email address string" })
        .trim()
        .pipe(names.emailAddress)
        .transform((s) => s.toLowerCase())
        .optional()
        .describe(
            "The user's email (user principal name), resolved to an object id through Microsoft Graph at create. Give this or `principalId`.",
        ),
    principalId: names.guid
        .transform((s) => s.toLowerCase())
        .optional()
        .describe("The user's Entra object id. Give this or `userEmailAddress`."),
    principalTenantId: names.guid
        .transform((s) => s.toLowerCase())
        .optional()
        .describe("The user's home tenant, with `principalId` only. Default: the billing account's tenant."),
};
export const Inputs = z.object(inputShape);
export type Inputs = z.output<typeof Inputs>;

/** What the resource records in state; its description is the resource's. */
export const Outputs = z
    .looseObject({
        billingAccountName: z.string().describe("Billing account name."),
        billingProfileName: z.string().describe("Billing profile name."),
        principalSource: z.enum(["userEmailAddress", "principalId"]).describe("Which input named the user: `userEmailAddress` or `principalId`."),
        userEmailAddress: z.string().optional().describe("The user's email: the input, or Graph's `mail` when given by object id."),
        principalId: z.string().describe("The user's Entra object id."),
        principalTenantId: z.string().optional().describe("The user's tenant, as Azure records it."),
        roleDefinitionId: z.string().describe("Full id of the profile's \"Invoice manager\" role definition."),
        billingRoleAssignmentName: z.string().describe("The assignment's name, `<role guid>_<principal id>` on MCA."),
        billingRoleAssignmentId: z.string().describe("The assignment's ARM id (also the resource id)."),
        createdOn: z.string().optional().describe("When Azure created the assignment."),
        adopted: z
            .boolean()
            .describe("True when an assignment that already existed was brought under management (adopted at create, or imported)."),
        providerVersion: providerVersionOutput,
    })
    .describe(
        "The \"Invoice manager\" role on one billing profile for one user: they can view, download and pay its invoices, and receive invoice emails when the profile is opted in. Needs the billing profile owner role (or billing account owner). An existing assignment of the role to the same user is adopted, not duplicated. Delete removes the assignment.",
    );
export type Outputs = z.output<typeof Outputs>;

// ---------------------------------------------------------------------------
// Pure core

/** Validates inputs; exactly one of `userEmailAddress` and `principalId`. Never throws for user mistakes. */
export function check(news: Record<string, unknown>): CheckResult {
    const { inputs, failures } = checkProperties(inputShape, news);
    for (const k of ["userEmailAddress", "principalId", "principalTenantId"]) if (inputs[k] === undefined) delete inputs[k];
    // null is absent: another language's SDK (or YAML) sends an unset optional input as null.
    const hasEmail = news.userEmailAddress !== undefined && news.userEmailAddress !== null;
    const hasId = news.principalId !== undefined && news.principalId !== null;
    if (hasEmail && hasId) {
        failures.push({
            property: "principalId",
            reason: "give either userEmailAddress or principalId, not both: the email is resolved to an object id through Microsoft Graph",
        });
    } else if (!hasEmail && !hasId) {
        failures.push({
            property: "userEmailAddress",
            reason: "name the user: set userEmailAddress (e.g. jane@contoso.com) or principalId (the user's Entra object id)",
        });
    }
    if (news.principalTenantId !== undefined && news.principalTenantId !== null && !hasId) {
        failures.push({ property: "principalTenantId", reason: "only applies with principalId; remove it, or give principalId instead of userEmailAddress" });
    }
    return { inputs, failures };
}

/**
 * Any change that names another principal or profile replaces the
 * assignment; a change that still names the same principal (email swapped for
 * the same user's object id) is an in-place update.
 *
 * A replace creates the new assignment before deleting the old one, except
 * when the new inputs may name the same user on the same profile: then the
 * replacement would adopt the very assignment the old resource deletes next,
 * so the old one is deleted first (`deleteBeforeReplace`). That is the case
 * when the user cannot be told apart without Graph (an object id swapped for
 * an email that is not the recorded one, unknown values) and when only the
 * tenant changes (Azure records the tenant on the assignment).
 */
export function diff(olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
    const replaces = changedProfileKeys(olds, news);
    const sameProfile = replaces.length === 0;
    const changed: string[] = [];
    const principalKey = typeof news.principalId === "string" || containsUnknown(news.principalId) ? "principalId" : "userEmailAddress";
    let verdict: "same" | "other" | "unsure";
    if (containsUnknown(news.userEmailAddress) || containsUnknown(news.principalId)) verdict = "unsure";
    else if (principalKey === "principalId") verdict = sameName(olds.principalId, news.principalId) ? "same" : "other";
    else if (sameName(olds.userEmailAddress, news.userEmailAddress)) verdict = "same";
    // Two sign-in names are two users; an object id's mailbox may not be its sign-in name.
    else verdict = olds.principalSource === "userEmailAddress" ? "other" : "unsure";

    let deleteBeforeReplace = false;
    if (verdict === "same") {
        if (olds.principalSource !== principalKey) changed.push(principalKey);
    } else {
        replaces.push(principalKey);
        if (verdict === "unsure" && sameProfile) deleteBeforeReplace = true;
    }
    if (principalKey === "principalId" && news.principalTenantId !== undefined && !sameName(olds.principalTenantId, news.principalTenantId)) {
        replaces.push("principalTenantId");
        if (verdict !== "other" && sameProfile) deleteBeforeReplace = true;
    }
    return { changes: changed.length + replaces.length > 0, replaces, changed: [...new Set([...changed, ...replaces])], deleteBeforeReplace };
}

/** Finds an assignment of the role to the principal among a profile's assignments. */
export function findAssignment(all: BillingRoleAssignment[], principalId: string, roleDefinitionId: string): BillingRoleAssignment | undefined {
    return all.find((a) => sameName(a.properties.principalId, principalId) && sameId(a.properties.roleDefinitionId, roleDefinitionId));
}

/** Outputs for a live assignment. */
export function outputsFor(
    assignment: BillingRoleAssignment,
    ctx: BillingProfileRef & {
        principalSource: "userEmailAddress" | "principalId";
        userEmailAddress?: string;
        principalId: string;
        principalTenantId?: string;
        roleDefinitionId: string;
        adopted: boolean;
    },
): Outputs {
    const p = assignment.properties;
    const out: Outputs = {
        billingAccountName: ctx.billingAccountName,
        billingProfileName: ctx.billingProfileName,
        principalSource: ctx.principalSource,
        principalId: (p.principalId ?? ctx.principalId).toLowerCase(),
        roleDefinitionId: ctx.roleDefinitionId,
        billingRoleAssignmentName: assignment.name,
        billingRoleAssignmentId: assignment.id,
        adopted: ctx.adopted,
        providerVersion: packageVersion(),
    };
    const email = ctx.userEmailAddress ?? p.userEmailAddress ?? undefined;
    if (email) out.userEmailAddress = email.toLowerCase();
    const tenant = p.principalTenantId ?? ctx.principalTenantId;
    if (tenant) out.principalTenantId = tenant.toLowerCase();
    if (p.createdOn) out.createdOn = p.createdOn;
    return out;
}

/** Reads state written by any earlier version into today's shape (see emailInvoiceSetting.migrateOutputs). */
export function migrateOutputs(raw: Record<string, unknown>): Outputs {
    return Outputs.parse({ adopted: false, principalSource: raw.userEmailAddress ? "userEmailAddress" : "principalId", ...raw });
}

function parseInputs(news: Record<string, unknown>): Inputs {
    return checkedInputs(check(news), Inputs, TYPE_NAME);
}

function describe(ref: BillingProfileRef, who?: string): string {
    return `${TYPE_NAME}${who ? ` for ${who}` : ""} on billing profile ${ref.billingProfileName} (account ${ref.billingAccountName})`;
}

// ---------------------------------------------------------------------------
// Handlers (I/O)

/**
 * The principal the inputs name, resolved through Graph when given by email.
 * A user Graph does not know fails with Graph's own 404 ({@link AzureApiError},
 * `notFound`), which `create` says with the address to check.
 */
async function resolvePrincipal(
    client: BillingClient,
    inputs: Inputs,
): Promise<{ principalId: string; principalTenantId?: string; userEmailAddress?: string; source: "userEmailAddress" | "principalId" }> {
    if (inputs.principalId) {
        // Graph is only asked for the email to report; a missing user is not fatal here.
        const user = await client.tryGetGraphUser(inputs.principalId).catch(() => undefined);
        return {
            principalId: inputs.principalId,
            principalTenantId: inputs.principalTenantId,
            userEmailAddress: user?.mail ?? undefined,
            source: "principalId",
        };
    }
    const email = inputs.userEmailAddress!;
    const user = await client.getGraphUser(email);
    return { principalId: user.id.toLowerCase(), userEmailAddress: email, source: "userEmailAddress" };
}

/**
 * Creates (or adopts) the assignment. Failure contract: when the create call
 * fails nothing exists and nothing is recorded; when Azure accepted the
 * create but completing it failed, we look for the assignment and, if it is
 * there, raise an error that carries its id and outputs, so Pulumi records it
 * (as a resource that failed to initialise) rather than losing it.
 */
export async function create(client: BillingClient, news: Record<string, unknown>): Promise<{ id: string; outs: Outputs }> {
    const inputs = parseInputs(news);
    const who = inputs.userEmailAddress ?? inputs.principalId;
    const what = `creating ${describe(inputs, who)}`;
    // The three reads do not depend on each other: one round trip instead of three.
    const [principalRead, roleRead, assignmentsRead] = await Promise.allSettled([
        resolvePrincipal(client, inputs),
        client.resolveRoleDefinition(inputs, INVOICE_MANAGER_ROLE_NAME),
        client.listRoleAssignments(inputs),
    ]);
    if (principalRead.status === "rejected") {
        throw operationError(
            what,
            principalRead.reason,
            `There is no user with email (user principal name) ${inputs.userEmailAddress} in the directory: check the address, or give principalId.`,
        );
    }
    if (roleRead.status === "rejected") throw operationError(what, roleRead.reason, checkNames(inputs));
    if (assignmentsRead.status === "rejected") throw operationError(what, assignmentsRead.reason, checkNames(inputs));
    const principal = principalRead.value;
    const role = roleRead.value;
    const existing = findAssignment(assignmentsRead.value, principal.principalId, role.id);
    const ctx = {
        billingAccountName: inputs.billingAccountName,
        billingProfileName: inputs.billingProfileName,
        principalSource: principal.source,
        userEmailAddress: principal.userEmailAddress,
        principalId: principal.principalId,
        principalTenantId: principal.principalTenantId,
        roleDefinitionId: role.id,
    };
    if (existing) {
        const outs = outputsFor(existing, { ...ctx, adopted: true });
        return { id: existing.id, outs };
    }
    try {
        const body: CreateBillingRoleAssignmentBody = {
            roleDefinitionId: role.id,
            principalId: principal.principalId,
        };
        if (principal.principalTenantId) body.principalTenantId = principal.principalTenantId;
        if (principal.userEmailAddress) body.userEmailAddress = principal.userEmailAddress;
        const created = await client.createRoleAssignment(inputs, body);
        const outs = outputsFor(created, { ...ctx, adopted: false });
        return { id: created.id, outs };
    } catch (err) {
        const error = await refusedWriteError(client, inputs, what, err);
        // Accepted but not confirmed (e.g. the long-running operation timed out): report what exists.
        if (writeMayHaveApplied(err)) {
            const found = await client
                .listRoleAssignments(inputs)
                .then((all) => findAssignment(all, principal.principalId, role.id))
                .catch(() => undefined);
            if (found) throw withPartialResource(error, found.id, outputsFor(found, { ...ctx, adopted: false }));
        }
        throw error;
    }
}

/**
 * Reads the live assignment; `undefined` when it was removed out of band.
 *
 * Import (`pulumi import` sends only the id, the billing role assignment's
 * ARM id): the profile and assignment come from the id, the assignment must
 * hold the profile's Invoice manager role, and the inputs name the user by
 * object id, which Azure records on every assignment (an email would need
 * Graph, and a mailbox may not be the sign-in name).
 */
export async function read(
    client: BillingClient,
    id: string,
    props: Record<string, unknown>,
): Promise<{ id: string; props: Outputs; inputs?: Inputs } | undefined> {
    if (isImport(props)) return importById(client, id);
    const old = migrateOutputs(props);
    let live;
    try {
        live = await client.tryGetRoleAssignment(old, old.billingRoleAssignmentName);
    } catch (err) {
        throw operationError(`reading ${describe(old, old.userEmailAddress ?? old.principalId)}`, err);
    }
    if (!live) return undefined;
    const outs = outputsFor(live, {
        ...old,
        userEmailAddress: old.principalSource === "userEmailAddress" ? old.userEmailAddress : (live.properties.userEmailAddress ?? old.userEmailAddress),
        adopted: old.adopted,
    });
    return { id: live.id || id, props: outs };
}

async function importById(client: BillingClient, id: string): Promise<{ id: string; props: Outputs; inputs: Inputs } | undefined> {
    const ref = roleAssignmentRefFromId(id, TYPE_NAME);
    const what = `importing ${describe(ref)}`;
    let live, role;
    try {
        live = await client.tryGetRoleAssignment(ref, ref.billingRoleAssignmentName);
        if (!live) return undefined;
        role = await client.resolveRoleDefinition(ref, INVOICE_MANAGER_ROLE_NAME);
    } catch (err) {
        throw operationError(what, err, checkNames(ref));
    }
    if (!sameId(live.properties.roleDefinitionId, role.id)) {
        // Terminal-safe: the role id is Azure's text, and Pulumi prints the message as it is.
        throw new Error(terminalSafe(`${what}: ${id} assigns the role ${live.properties.roleDefinitionId}, not the profile's ${INVOICE_MANAGER_ROLE_NAME} role (${role.id})`));
    }
    if (!live.properties.principalId) throw new Error(`${what}: Azure records no principalId on ${id}`);
    const outs = outputsFor(live, {
        billingAccountName: ref.billingAccountName,
        billingProfileName: ref.billingProfileName,
        principalSource: "principalId",
        userEmailAddress: live.properties.userEmailAddress ?? undefined,
        principalId: live.properties.principalId,
        roleDefinitionId: role.id,
        adopted: true,
    });
    return {
        id: live.id || id,
        props: outs,
        inputs: { billingAccountName: ref.billingAccountName, billingProfileName: ref.billingProfileName, principalId: outs.principalId },
    };
}

/** In-place update for inputs that still name the same principal: re-reads and records. */
export async function update(client: BillingClient, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<Outputs> {
    const old = migrateOutputs(olds);
    const inputs = parseInputs(news);
    const what = `updating ${describe(inputs, inputs.userEmailAddress ?? inputs.principalId)}`;
    let live;
    try {
        live = await client.getRoleAssignment(old, old.billingRoleAssignmentName);
    } catch (err) {
        throw operationError(what, err, `The assignment ${old.billingRoleAssignmentName} no longer exists: run \`pulumi refresh\` and then \`pulumi up\` to create it again.`);
    }
    return outputsFor(live, {
        billingAccountName: inputs.billingAccountName,
        billingProfileName: inputs.billingProfileName,
        principalSource: inputs.principalId ? "principalId" : "userEmailAddress",
        userEmailAddress: inputs.userEmailAddress ?? old.userEmailAddress,
        principalId: old.principalId,
        principalTenantId: inputs.principalTenantId ?? old.principalTenantId,
        roleDefinitionId: old.roleDefinitionId,
        adopted: old.adopted,
    });
}

/** Deletes the assignment; already gone counts as deleted. On failure it still exists and stays in state. */
export async function remove(client: BillingClient, props: Record<string, unknown>): Promise<void> {
    const old = migrateOutputs(props);
    try {
        await client.deleteRoleAssignment(old, old.billingRoleAssignmentName);
    } catch (err) {
        throw await refusedWriteError(client, old, `deleting ${describe(old, old.userEmailAddress ?? old.principalId)}`, err);
    }
}
