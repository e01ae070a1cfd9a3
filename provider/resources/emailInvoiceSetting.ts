/**
 * EmailInvoiceSetting: one billing profile's invoice email preference — the
 * opt-in (`invoiceEmailOptIn`) and the additional recipients
 * (`invoiceRecipients`). The pure core (`check`, `diff`, output building) is
 * at the top; the handlers that talk to Azure are at the bottom.
 *
 * Lifecycle contract:
 * - create: reads the profile, records the prior opt-in and recipients in
 *   state, then writes only those two fields (read-merge-write). If the
 *   profile already has the desired values nothing is written. If Azure
 *   refuses the write nothing was changed and nothing is recorded; if the
 *   write may have been applied, Pulumi records the resource with the prior
 *   values (see `create`).
 * - read: returns the live values, as outputs and as inputs (so refresh
 *   shows portal changes and names the property); a profile that no longer
 *   exists returns no id.
 * - update: writes the two fields.
 * - delete: restores the values recorded at create ("leave it as you found
 *   it"). A profile that no longer exists counts as deleted.
 */
import { z } from "zod";
import type { BillingClient } from "../billing/client";
import { invoiceEmailSettingsOf, normaliseRecipients, sameRecipients } from "../billing/profile";
import * as names from "../billing/names";
import type { BillingProfileRef } from "../billing/names";
import type { BillingProfile } from "../billing/schemas";
import { AzureApiError } from "../errors";
import {
    checkProperties,
    providerVersionOutput,
    containsUnknown,
    isUnknown,
    operationError,
    refusedWriteError,
    packageVersion,
    checkedInputs,
    changedProfileKeys,
    checkNames,
    billingProfileRefFromId,
    isImport,
    withPartialResource,
    writeMayHaveApplied,
    type CheckResult,
    type DiffResult,
} from "./common";

export const TYPE_NAME = "EmailInvoiceSetting";

/**
 * Input schemas, one per property, so `check` can report each property on its
 * own. Each description is the one the plugin's schema, the generated SDKs and
 * `sdk/index.ts` show (a unit test holds them equal).
 */
export const inputShape = {
    billingAccountName: names.billingAccountName.describe(
        "Billing account name (the `name` from `az billing account list`), e.g. `<guid>:<guid>_2019-05-31`. Changing it replaces the resource.",
    ),
    billingProfileName: names.billingProfileName.describe(
        "Billing profile name (the `name` from `az billing profile list`), e.g. `AB12-CD34-EF5-GH6`, not the display name. Changing it replaces the resource.",
    ),
    enabled: z
        .boolean({ error: "must be true (send invoices by email) or false (do not)" })
        .describe(
            "The opt-in (`invoiceEmailOptIn`): true sends every invoice of the profile by email to its owners, contributors, readers, invoice managers and additional recipients.",
        ),
    additionalRecipients: z
        .array(z.string({ error: "must be an email address string" }).trim().pipe(names.emailAddress), {
            error: "must be a list of email addresses",
        })
        .max(100, { error: "has more than 100 addresses; use a distribution list" })
        .optional()
        .default([])
        .transform(normaliseRecipients)
        .describe(
            "Additional recipients (`invoiceRecipients`), at most 100. Normalised: trimmed, lower-cased, de-duplicated and sorted. Default: none.",
        ),
};
export const Inputs = z.object(inputShape);
/** Inputs after `check`: validated and normalised. */
export type Inputs = z.output<typeof Inputs>;

/**
 * What the resource records in state. Its description is the resource's, as
 * the plugin's schema and the generated SDKs show it.
 */
export const Outputs = z
    .looseObject({
        billingAccountName: z.string().describe("Billing account name."),
        billingProfileName: z.string().describe("Billing profile name."),
        enabled: z.boolean().describe("The live opt-in (`invoiceEmailOptIn`), as Azure holds it."),
        additionalRecipients: z.array(z.string()).describe("The live additional recipients (`invoiceRecipients`), normalised."),
        billingProfileId: z.string().describe("ARM id of the billing profile (also the resource id)."),
        billingProfileDisplayName: z.string().describe("Display name of the billing profile."),
        priorEnabled: z
            .boolean()
            .describe("The opt-in the profile had when this resource was created (or imported); restored on delete."),
        priorAdditionalRecipients: z
            .array(z.string())
            .describe("The recipients the profile had when this resource was created (or imported); restored on delete."),
        providerVersion: providerVersionOutput,
    })
    .describe(
        "The invoice email preference of one billing profile (MCA or MPA): the opt-in and the additional recipients. Needs the billing profile owner or contributor role (or billing account owner or contributor). Delete restores the opt-in and recipients the profile had when this resource was created, or, for an imported resource, when it was imported.",
    );
export type Outputs = z.output<typeof Outputs>;

// ---------------------------------------------------------------------------
// Pure core

/**
 * Validates and normalises inputs. Never throws for user mistakes: each
 * problem is a property-level failure. Unknown values (preview) pass through.
 */
export function check(news: Record<string, unknown>): CheckResult {
    const { inputs, failures } = checkProperties(inputShape, news);
    return { inputs, failures };
}

/**
 * Compares recorded state (`olds`, outputs) with desired inputs (`news`).
 * Used by `pulumi up` (olds = state, news = program) and by `pulumi refresh`
 * (olds = live values read from Azure, news = the inputs in state), so drift
 * shows up on the property that drifted. Account or profile -> replace.
 */
export function diff(olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
    const replaces = changedProfileKeys(olds, news);
    const changed = [...replaces];
    if (isUnknown(news.enabled) || olds.enabled !== news.enabled) changed.push("enabled");
    const newRecipients = news.additionalRecipients ?? [];
    if (containsUnknown(newRecipients) || !sameRecipients((olds.additionalRecipients as string[] | undefined) ?? [], newRecipients as string[])) {
        changed.push("additionalRecipients");
    }
    return { changes: changed.length > 0, replaces, changed };
}

/** The outputs for a profile as Azure holds it, keeping the recorded prior values. */
export function outputsFor(
    profile: BillingProfile,
    ref: BillingProfileRef,
    prior: { priorEnabled: boolean; priorAdditionalRecipients: string[] },
): Outputs {
    const live = invoiceEmailSettingsOf(profile);
    return {
        billingAccountName: ref.billingAccountName,
        billingProfileName: ref.billingProfileName,
        enabled: live.invoiceEmailOptIn,
        additionalRecipients: normaliseRecipients(live.invoiceRecipients),
        billingProfileId: profile.id,
        billingProfileDisplayName: profile.properties.displayName ?? "",
        priorEnabled: prior.priorEnabled,
        // Exactly as Azure held them: delete writes them back as they were.
        priorAdditionalRecipients: [...prior.priorAdditionalRecipients],
        providerVersion: packageVersion(),
    };
}

/**
 * Reads state written by any earlier version into today's shape. Version
 * 0.1 is the first; later changes to the recorded shape add a step here so
 * that stacks created by older versions keep working (see "Upgrades" in the
 * README).
 */
export function migrateOutputs(raw: Record<string, unknown>): Outputs {
    const withDefaults = {
        priorEnabled: false,
        priorAdditionalRecipients: [],
        billingProfileDisplayName: "",
        additionalRecipients: [],
        ...raw,
    };
    return Outputs.parse(withDefaults);
}

function parseInputs(news: Record<string, unknown>): Inputs {
    return checkedInputs(check(news), Inputs, TYPE_NAME);
}

function describe(ref: BillingProfileRef): string {
    return `${TYPE_NAME} on billing profile ${ref.billingProfileName} (account ${ref.billingAccountName})`;
}

// ---------------------------------------------------------------------------
// Handlers (I/O)

/**
 * Creates the setting. Returns the profile's ARM id as the resource id.
 *
 * Failure: if reading the profile fails or Azure refuses the write, nothing
 * was changed and nothing is left for Pulumi to record. If the write was
 * accepted but not confirmed (it may have been applied), the error carries
 * the profile's id and the prior values read before the write, so Pulumi
 * records the resource and a later delete can still restore them.
 */
export async function create(client: BillingClient, news: Record<string, unknown>): Promise<{ id: string; outs: Outputs }> {
    const inputs = parseInputs(news);
    const what = `creating ${describe(inputs)}`;
    let current;
    try {
        current = await client.getBillingProfile(inputs);
    } catch (err) {
        throw operationError(what, err, checkNames(inputs));
    }
    const found = invoiceEmailSettingsOf(current);
    const prior = { priorEnabled: found.invoiceEmailOptIn, priorAdditionalRecipients: found.invoiceRecipients };
    try {
        const result = await client.writeInvoiceEmailSettings(inputs, current, {
            invoiceEmailOptIn: inputs.enabled,
            invoiceRecipients: inputs.additionalRecipients,
        });
        return { id: result.profile.id, outs: outputsFor(result.profile, inputs, prior) };
    } catch (err) {
        const error = await refusedWriteError(client, inputs, what, err, checkNames(inputs));
        throw writeMayHaveApplied(err) ? withPartialResource(error, current.id, outputsFor(current, inputs, prior)) : error;
    }
}

/**
 * The inputs that describe the profile as these outputs hold it: what
 * `pulumi refresh` records as the resource's inputs. Same keys and
 * normalisation as `check` produces, so without drift they equal the inputs
 * already in state.
 *
 * Why: the engine shows a refresh's changed properties (`[diff: ~enabled]`)
 * by comparing the inputs before and after the refresh; a dynamic provider
 * cannot report changed keys from `diff`. Without live inputs, `pulumi refresh
 * --preview-only --expect-no-changes` would fail without saying which
 * property drifted, and the following `pulumi up` would show an update
 * without its property.
 */
export function inputsFor(outs: Outputs): Inputs {
    return {
        billingAccountName: outs.billingAccountName,
        billingProfileName: outs.billingProfileName,
        enabled: outs.enabled,
        // Already normalised by outputsFor.
        additionalRecipients: outs.additionalRecipients,
    };
}

/**
 * Reads the live values, and the inputs that describe them (see
 * {@link inputsFor}). Returns `undefined` when the billing profile no longer
 * exists, so Pulumi drops the resource from state on refresh.
 *
 * Import (`pulumi import` sends only the id, the billing profile's ARM id):
 * the names come from the id, and the values found become the prior values,
 * so a later delete leaves the profile as it was at import.
 */
export async function read(
    client: BillingClient,
    id: string,
    props: Record<string, unknown>,
): Promise<{ id: string; props: Outputs; inputs: Inputs } | undefined> {
    const importing = isImport(props);
    const ref = importing ? billingProfileRefFromId(id, TYPE_NAME) : migrateOutputs(props);
    let profile;
    try {
        profile = await client.tryGetBillingProfile(ref);
    } catch (err) {
        throw operationError(`${importing ? "importing" : "reading"} ${describe(ref)}`, err, importing ? checkNames(ref) : undefined);
    }
    if (!profile) return undefined;
    let prior: { priorEnabled: boolean; priorAdditionalRecipients: string[] };
    if (importing) {
        const found = invoiceEmailSettingsOf(profile);
        prior = { priorEnabled: found.invoiceEmailOptIn, priorAdditionalRecipients: found.invoiceRecipients };
    } else {
        prior = ref as Outputs;
    }
    const outs = outputsFor(profile, ref, prior);
    return { id: profile.id || id, props: outs, inputs: inputsFor(outs) };
}

/** Writes the desired opt-in and recipients; keeps the recorded prior values. */
export async function update(client: BillingClient, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<Outputs> {
    const old = migrateOutputs(olds);
    const inputs = parseInputs(news);
    try {
        const result = await client.updateInvoiceEmailSettings(inputs, {
            invoiceEmailOptIn: inputs.enabled,
            invoiceRecipients: inputs.additionalRecipients,
        });
        return outputsFor(result.profile, inputs, old);
    } catch (err) {
        throw await refusedWriteError(client, inputs, `updating ${describe(inputs)}`, err, checkNames(inputs));
    }
}

/**
 * Restores the opt-in and recipients recorded at create. A billing profile
 * that no longer exists counts as deleted. On failure the profile keeps its
 * current values and the resource stays in state, so delete can be retried.
 */
export async function remove(client: BillingClient, props: Record<string, unknown>): Promise<void> {
    const old = migrateOutputs(props);
    try {
        await client.updateInvoiceEmailSettings(old, {
            invoiceEmailOptIn: old.priorEnabled,
            invoiceRecipients: old.priorAdditionalRecipients,
        });
    } catch (err) {
        // The profile is gone (its read answered 404): nothing to restore.
        if (err instanceof AzureApiError && err.notFound && err.operation === "getBillingProfile") return;
        throw await refusedWriteError(client, old, `deleting ${describe(old)} (restoring the values it found at create)`, err);
    }
}

