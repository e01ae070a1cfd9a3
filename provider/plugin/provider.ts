/**
 * The provider plugin's behaviour, in plain values (server.ts translates
 * gRPC to and from these): configuration, and for each resource operation a
 * call of the same handler the dynamic provider calls (provider/resources).
 * What only a plugin can do is here too: a detailed diff that names each
 * changed property, down to an element of the recipient list, and import by
 * ARM id (the handlers' `read` given no recorded state).
 *
 * Configuration enters at the edge: `configure` receives the provider's
 * settings (stack config `azure-email-invoicing:*`, or an explicit provider's
 * inputs) and the environment is the one the plugin process was started with;
 * both are resolved once by provider/config.ts, exactly as the dynamic
 * provider resolves them, and the client is built on first use.
 */
import type { BillingClient } from "../billing/client";
import { createBillingClient } from "../billing/client";
import { providerSettingsShape, resolveSettings, settingsFromEnvironment, settingsFromStackConfig, type SettingsLayer } from "../config";
import { ConfigurationError } from "../errors";
import { containsUnknown, type CheckResult, type DiffResult } from "../resources/common";
import type { InputIssue } from "../errors";
import { RESOURCES, type ResourceKind } from "../resources/registry";
import { withOutputFromId } from "../resources/stored";
import { kindOfToken } from "./schema";

/** One entry of a detailed diff: how the property at a path changes, and whether that replaces the resource. */
export interface PropertyChange {
    kind: "add" | "delete" | "update";
    replace: boolean;
}

/** What `Diff` answers: the handler's verdict plus a path-level account of it. */
export interface DetailedDiffResult extends DiffResult {
    detailedDiff: Record<string, PropertyChange>;
}

/**
 * The detailed diff of a handler's verdict: one entry per changed property,
 * and for a list of strings (the recipients) one entry per address added (at
 * its index in the new list) or removed (at its index in the old list), as
 * Pulumi's display reads paths (an index that loses one address and gains
 * another is one update). `olds` are the recorded outputs, `news` the checked
 * inputs.
 */
export function detailedDiff(olds: Record<string, unknown>, news: Record<string, unknown>, verdict: DiffResult): Record<string, PropertyChange> {
    const out: Record<string, PropertyChange> = {};
    for (const key of verdict.changed) {
        const replace = verdict.replaces.includes(key);
        const o = olds[key];
        const n = news[key];
        if (isStringList(o) && isStringList(n) && !containsUnknown(n)) {
            const before = new Set(o);
            const after = new Set(n);
            const removed = o.flatMap((v, i) => (after.has(v) ? [] : [i]));
            const added = n.flatMap((v, i) => (before.has(v) ? [] : [i]));
            for (const i of removed) out[`${key}[${i}]`] = { kind: "delete", replace };
            // An address removed and another added at the same index is one element updated.
            for (const i of added) out[`${key}[${i}]`] = { kind: out[`${key}[${i}]`] ? "update" : "add", replace };
            if (removed.length + added.length > 0) continue;
        }
        out[key] = { kind: o === undefined || o === null ? "add" : n === undefined || n === null ? "delete" : "update", replace };
    }
    return out;
}

function isStringList(v: unknown): v is string[] {
    return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** The provider settings among a provider's config inputs (the engine adds `version`). */
function settingsOf(inputs: Record<string, unknown>): SettingsLayer {
    const layer: Record<string, string | undefined> = {};
    for (const key of Object.keys(providerSettingsShape)) {
        const v = inputs[key];
        layer[key] = v === undefined || v === null ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    }
    return layer as SettingsLayer;
}

/**
 * Validates provider settings before any resource operation: a malformed
 * endpoint or token fails `preview` naming the setting. Unknown values (an
 * output of another resource, during preview) are not checked.
 */
export function checkConfig(news: Record<string, unknown>, env: Record<string, string | undefined>): InputIssue[] {
    if (containsUnknown(news)) return [];
    try {
        resolveSettings({ stack: settingsOf(news), env: settingsFromEnvironment(env) });
        return [];
    } catch (err) {
        if (err instanceof ConfigurationError) {
            // The setting as the provider knows it: `azure-email-invoicing:endpoint` -> `endpoint`.
            const property = err.setting.replace(/^azure-email-invoicing:/, "");
            return [{ property: property in providerSettingsShape ? property : "endpoint", reason: err.message }];
        }
        throw err;
    }
}

/** Which settings differ. A change of settings never replaces a resource: the same profile is reached another way. */
export function diffConfig(olds: Record<string, unknown>, news: Record<string, unknown>): { changes: boolean; changed: string[] } {
    const before = settingsOf(olds);
    const after = settingsOf(news);
    const changed = (Object.keys(providerSettingsShape) as Array<keyof SettingsLayer>).filter((k) => before[k] !== after[k]);
    return { changes: changed.length > 0, changed };
}

/** The resource kind of a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`), or a clear error. */
export function kindOfUrn(urn: string): ResourceKind {
    const qualified = urn.split("::")[2] ?? "";
    const token = qualified.split("$").pop() ?? "";
    const kind = kindOfToken(token);
    if (!kind) throw new Error(`azure-email-invoicing has no resource type '${token}' (it serves EmailInvoiceSetting and InvoiceManagerAssignment)`);
    return kind;
}

/** The plugin's state: the settings `configure` gave it and the one client built from them. */
export class PluginProvider {
    private stack: SettingsLayer = {};
    private client?: BillingClient;

    /** `env` is the plugin process's environment, read once at start (main.ts). */
    constructor(private readonly env: Record<string, string | undefined>) {}

    /**
     * Takes the provider's settings (`azure-email-invoicing:<key>` values).
     * Settings are resolved on first use, so a bad one fails the first
     * operation (and `CheckConfig`, earlier) with the setting's name.
     */
    configure(variables: (key: string) => string | undefined): void {
        const stack = settingsFromStackConfig(variables);
        if (JSON.stringify(stack) !== JSON.stringify(this.stack)) {
            this.stack = stack;
            this.client = undefined;
        }
    }

    private billing(): BillingClient {
        this.client ??= createBillingClient(resolveSettings({ stack: this.stack, env: settingsFromEnvironment(this.env) }));
        return this.client;
    }

    check(urn: string, news: Record<string, unknown>): CheckResult {
        return RESOURCES[kindOfUrn(urn)].check(news);
    }

    diff(urn: string, olds: Record<string, unknown>, news: Record<string, unknown>): DetailedDiffResult {
        const verdict = RESOURCES[kindOfUrn(urn)].diff(olds, news);
        return { ...verdict, detailedDiff: detailedDiff(olds, news, verdict) };
    }

    create(urn: string, news: Record<string, unknown>): Promise<{ id: string; outs: Record<string, unknown> }> {
        return RESOURCES[kindOfUrn(urn)].create(this.billing(), news);
    }

    /**
     * Refresh (`props` = the recorded outputs) or import (`props` empty: the
     * id is the ARM id). `undefined` when the resource no longer exists.
     */
    read(
        urn: string,
        id: string,
        props: Record<string, unknown>,
    ): Promise<{ id: string; props: Record<string, unknown>; inputs?: Record<string, unknown> } | undefined> {
        const kind = kindOfUrn(urn);
        return RESOURCES[kind].read(this.billing(), id, withOutputFromId(kind, id, props));
    }

    /** `olds` may lack the output that is the resource id: a stack moved from the dynamic provider (stored.ts). */
    update(urn: string, id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<Record<string, unknown>> {
        const kind = kindOfUrn(urn);
        return RESOURCES[kind].update(this.billing(), withOutputFromId(kind, id, olds), news);
    }

    remove(urn: string, id: string, props: Record<string, unknown>): Promise<void> {
        const kind = kindOfUrn(urn);
        return RESOURCES[kind].remove(this.billing(), withOutputFromId(kind, id, props));
    }
}
