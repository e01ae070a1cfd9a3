/**
 * What the two resources share: Pulumi's unknown-value marker, turning zod
 * issues into `check` failures, and turning Azure errors into messages that
 * say which operation failed on what and which role the caller needs.
 * Pure, except {@link packageVersion}, which reads package.json once.
 */
import type { dynamic } from "@pulumi/pulumi";
import { z } from "zod";
import { AzureApiError, ConfigurationError, ValidationError, issuesFromZod, type InputIssue } from "../errors";
import { REQUIRED_ROLE, operations, type Access } from "../billing/contract";
import type { BillingClient } from "../billing/client";
import * as names from "../billing/names";
import type { BillingProfileRef } from "../billing/names";
import { PATHS, matchPath } from "../billing/paths";
import { terminalSafe } from "../terminal";

/**
 * The value Pulumi's engine sends for an input that is not known yet (during
 * preview, an output of a resource not created yet). Same literal as
 * `pulumi.runtime.unknownValue`; repeated here so the pure core does not load
 * the Pulumi runtime.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(v: unknown): boolean {
    return v === UNKNOWN;
}

/** True when the value, or anything inside it, is unknown. */
export function containsUnknown(v: unknown): boolean {
    if (isUnknown(v)) return true;
    if (Array.isArray(v)) return v.some(containsUnknown);
    if (v && typeof v === "object") return Object.values(v).some(containsUnknown);
    return false;
}

/**
 * What a resource's pure `check` answers: Pulumi's dynamic `CheckResult`,
 * with both fields always present. Each failure is an {@link InputIssue},
 * the shape Pulumi's `CheckFailure` has, so it is reported as it is.
 */
export type CheckResult = Required<dynamic.CheckResult<Record<string, unknown>>> & { failures: InputIssue[] };

/**
 * Validates each property that is known with its schema and reports every
 * problem as a property-level failure; unknown values pass untouched. A
 * `null` counts as absent (Pulumi programs in other languages, and YAML,
 * write an unset optional input as null). An input the resource does not
 * have is a failure too, naming the closest property: a misspelt `enabeld`
 * must not be silently ignored. Pulumi's own keys (`__provider`, anything
 * beginning with `__`) and keys without a value are not inputs.
 * Returns the parsed (normalised) value of each known property, and the
 * inputs to hand back to the engine: `news` with those values in place.
 */
export function checkProperties<S extends Record<string, z.ZodType>>(
    shape: S,
    news: Record<string, unknown>,
): { values: { [K in keyof S]?: z.output<S[K]> }; inputs: Record<string, unknown>; failures: InputIssue[] } {
    const values: Record<string, unknown> = {};
    const failures: InputIssue[] = unknownInputs(Object.keys(shape), news);
    for (const [key, schema] of Object.entries(shape)) {
        const raw = news[key] === null ? undefined : news[key];
        if (containsUnknown(raw)) {
            values[key] = raw;
            continue;
        }
        const result = schema.safeParse(raw);
        if (result.success) values[key] = result.data;
        else for (const f of topLevelFailures(key, issuesFromZod(result.error, key))) failures.push(f);
    }
    return { values: values as { [K in keyof S]?: z.output<S[K]> }, inputs: { ...news, ...values }, failures };
}

/** One failure per input key that is not a property, naming the closest property. */
export function unknownInputs(properties: readonly string[], news: Record<string, unknown>): InputIssue[] {
    const failures: InputIssue[] = [];
    for (const key of Object.keys(news)) {
        if (properties.includes(key) || key.startsWith("__") || news[key] === undefined) continue;
        const closest = closestName(key, properties);
        failures.push({
            property: key,
            reason: `is not an input of this resource${closest ? `: did you mean '${closest}'?` : "."} Its inputs are ${properties.join(", ")}.`,
        });
    }
    return failures;
}

/** The name in `names` closest to `key` (case-insensitive edit distance), when it is close enough to be a likely typo. */
export function closestName(key: string, names: readonly string[]): string | undefined {
    let best: { name: string; d: number } | undefined;
    for (const name of names) {
        const d = editDistance(key.toLowerCase(), name.toLowerCase());
        if (!best || d < best.d) best = { name, d };
    }
    return best && best.d <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

/** Levenshtein distance with adjacent transpositions (`enabeld` is one edit from `enabled`). */
function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/** What a resource's pure `diff` answers. */
export interface DiffResult {
    changes: boolean;
    /** Properties whose change replaces the resource. */
    replaces: string[];
    /** Properties whose values differ (for messages and tests). */
    changed: string[];
    /** Delete the old resource before creating its replacement (default: create first). */
    deleteBeforeReplace?: boolean;
}

/** The properties that locate a billing profile: a change to either replaces the resource. */
export const PROFILE_KEYS = ["billingAccountName", "billingProfileName"] as const;

/** What to check when Azure says a billing profile does not exist (the hint of a 404). */
export function checkNames(ref: BillingProfileRef): string {
    return `Check billingAccountName '${ref.billingAccountName}' and billingProfileName '${ref.billingProfileName}' (the names from \`az billing profile list --account-name ...\`, not display names).`;
}

/** Which of the profile keys changed (unknown counts as changed). */
export function changedProfileKeys(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
    return PROFILE_KEYS.filter((key) => isUnknown(news[key]) || !sameName(olds[key], news[key]));
}

/**
 * Pulumi prints a check failure as "property X value {…} has a problem" and
 * looks X up among the top-level inputs only, so a failure is reported on the
 * top-level property, with the element's path (e.g. `additionalRecipients[1]`)
 * leading the reason. The value itself is not repeated: it may be a secret.
 */
function topLevelFailures(key: string, issues: InputIssue[]): InputIssue[] {
    return issues.map((i) => (i.property === key ? i : { property: key, reason: `${i.property}: ${i.reason}` }));
}

/** Names compare case-insensitively in ARM. */
export function sameName(a: unknown, b: unknown): boolean {
    return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

/** What the caller may do on the profile, read after a write was refused (or why that could not be read). */
export type CallerPermissions = { actions: string[] } | { unreadable: string };

/**
 * The error a resource operation raises: the failure, said with what we were
 * doing on what, and for a 401/403 the role the caller needs — the role and
 * action the failed operation needs, as the contract records them, and,
 * when `permissions` are given (a refused write, see
 * {@link refusedWriteError}), precisely which actions the caller does have
 * there. `notFound` is added to the message of a 404 (e.g. which inputs to
 * check). Errors of the catalogue stay of their class (an
 * {@link AzureApiError} keeps its status, code, request id and retry
 * verdict), with the original as `cause`. An error from outside the
 * catalogue (a credential library's, a bug) is not ours to classify: it is
 * wrapped in a plain Error with the context, and kept as `cause`.
 *
 * The message (and the stack's first line) is terminal-safe: the Pulumi CLI
 * prints it as it is, and it can quote a server (Azure's error message,
 * code and target), whose escape sequences and line breaks would otherwise
 * act on the terminal of whoever runs `pulumi up`. `azureMessage` and the
 * `cause` keep the server's text exact.
 */
export function operationError(what: string, err: unknown, notFound?: string, permissions?: { profile: BillingProfileRef; found: CallerPermissions }): Error {
    const error = describedError(what, err, notFound, permissions);
    const safe = terminalSafe(error.message);
    if (safe !== error.message) {
        if (error.stack) error.stack = error.stack.replace(error.message, () => safe);
        error.message = safe;
    }
    return error;
}

function describedError(what: string, err: unknown, notFound?: string, permissions?: { profile: BillingProfileRef; found: CallerPermissions }): Error {
    if (err instanceof AzureApiError) {
        let hint: string | undefined;
        const op = (operations as Record<string, { access: Access; action: string } | undefined>)[err.operation];
        if (err.status === 403 && op) hint = `The caller needs ${REQUIRED_ROLE[op.access]} (action ${op.action}).`;
        if (err.status === 403 && permissions) hint = `${hint ?? ""} ${describePermissions(permissions.profile, permissions.found)}`.trim();
        if (err.status === 401) hint = "The credential was not accepted: check azure-email-invoicing:token / AZURE_EMAIL_INVOICING_TOKEN or your Azure login.";
        if (err.status === 404 && notFound) hint = notFound;
        return err.withContext(what, hint);
    }
    if (err instanceof ValidationError || err instanceof ConfigurationError) return err.withContext(what);
    return err instanceof Error ? new Error(`${what}: ${err.message}`, { cause: err }) : new Error(`${what}: ${String(err)}`);
}

/** The sentence that says what the caller may do on a profile. */
export function describePermissions(profile: BillingProfileRef, found: CallerPermissions): string {
    const where = `billing profile ${profile.billingProfileName}`;
    if ("unreadable" in found) return `Its permissions on ${where} could not be read (${found.unreadable}).`;
    if (found.actions.length === 0) return `It has no permissions on ${where} (billingPermissions lists none): it holds no role there or on its billing account.`;
    return `On ${where} it may only: ${found.actions.join(", ")} (billingPermissions).`;
}

/** True when the error is Azure refusing (403) an operation that changes something. */
function isRefusedWrite(err: unknown): err is AzureApiError {
    if (!(err instanceof AzureApiError) || err.status !== 403) return false;
    const op = (operations as Record<string, { method: string } | undefined>)[err.operation];
    return op !== undefined && op.method !== "GET";
}

/**
 * {@link operationError} for the failure of a write. When Azure refused the
 * write (403), asks `billingPermissions` for the profile, once, so the
 * message says precisely which actions the caller does have; a failure of
 * that call is reported in the message, never instead of the refusal. Any
 * other failure makes no call. Previews never write, so they never get here.
 */
export async function refusedWriteError(
    client: Pick<BillingClient, "listBillingPermissions">,
    profile: BillingProfileRef,
    what: string,
    err: unknown,
    notFound?: string,
): Promise<Error> {
    if (!isRefusedWrite(err)) return operationError(what, err, notFound);
    let found: CallerPermissions;
    try {
        found = { actions: await client.listBillingPermissions(profile) };
    } catch (e) {
        found = { unreadable: e instanceof AzureApiError ? `${e.status ? `HTTP ${e.status} ` : ""}${e.code}` : e instanceof Error ? e.message : String(e) };
    }
    return operationError(what, err, notFound, { profile, found });
}

/**
 * True when a write failed in a way that does not tell whether Azure applied
 * it: the long-running operation timed out, the connection was lost, or the
 * service kept answering 5xx. A refused write (4xx) changed nothing.
 */
export function writeMayHaveApplied(err: unknown): boolean {
    return err instanceof AzureApiError && (err.code === "OperationTimedOut" || err.status === 0 || err.status >= 500);
}

/**
 * Marks a create error with the id and outputs of what exists, so Pulumi
 * records the resource (as one that failed to initialise) instead of losing
 * it: Pulumi's dynamic-provider host reads `id`, `properties` and `reasons`.
 */
export function withPartialResource(error: Error, id: string, properties: Record<string, unknown>): Error {
    return Object.assign(error, { id, properties, reasons: [error.message] });
}

/**
 * The inputs a handler works with: the result of `check`, whose failures are
 * re-raised as a ValidationError (handlers can be called without `check`),
 * typed by the resource's input schema.
 */
export function checkedInputs<S extends z.ZodType>(checked: CheckResult, schema: S, context: string): z.output<S> {
    if (checked.failures.length > 0) throw new ValidationError(checked.failures, context);
    return schema.parse(checked.inputs);
}

/** The output every resource records: which version of the package last wrote its state. */
export const providerVersionOutput = z.string().optional().describe("Version of azure-email-invoicing that last wrote this resource's state.");

let cachedVersion: string | undefined;

/** The installed package version, recorded in state as `providerVersion`. */
export function packageVersion(): string {
    if (!cachedVersion) {
        // dist/provider/resources/common.js -> package.json at the package root.
        cachedVersion = (require("../../../package.json") as { version: string }).version;
    }
    return cachedVersion;
}

/**
 * True when `read` is given only an id: `pulumi import` (and the plugin's
 * import of an ARM id) sends no recorded state, whereas a refresh always has
 * the outputs written at create.
 */
export function isImport(props: Record<string, unknown>): boolean {
    return props.billingAccountName === undefined && props.billingProfileName === undefined;
}

/** Names from an ARM id read with a path template, each checked like the input it stands for; throws with the expected form otherwise. */
function namesFromId(id: string, template: string, expected: string, kind: string): Record<string, string> {
    const m = matchPath(template, id.trim().replace(/\/+$/, ""));
    const ok =
        m &&
        names.billingAccountName.safeParse(m.billingAccountName).success &&
        names.billingProfileName.safeParse(m.billingProfileName).success &&
        (m.billingRoleAssignmentName === undefined || names.roleAssignmentName.safeParse(m.billingRoleAssignmentName).success);
    if (!m || !ok) throw new Error(`cannot import ${kind} '${id}': the id must be ${expected}`);
    return m;
}

/** The billing profile an EmailInvoiceSetting's import id (the profile's ARM id) names. */
export function billingProfileRefFromId(id: string, kind: string): BillingProfileRef {
    const m = namesFromId(
        id,
        PATHS.billingProfile,
        `the billing profile's ARM id, ${PATHS.billingProfile} (\`id\` in \`az billing profile show\`)`,
        kind,
    );
    return { billingAccountName: m.billingAccountName, billingProfileName: m.billingProfileName };
}

/** The profile and assignment name an InvoiceManagerAssignment's import id (the billing role assignment's ARM id) names. */
export function roleAssignmentRefFromId(
    id: string,
    kind: string,
): BillingProfileRef & { billingRoleAssignmentName: string } {
    const expected =
        `the billing role assignment's ARM id, ${PATHS.billingRoleAssignment} (\`id\` in \`az billing role-assignment list\`)`;
    const m = namesFromId(id, PATHS.billingRoleAssignment, expected, kind);
    return { billingAccountName: m.billingAccountName, billingProfileName: m.billingProfileName, billingRoleAssignmentName: m.billingRoleAssignmentName };
}
