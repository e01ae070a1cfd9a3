/**
 * The two resources, as both providers see them: the dynamic provider
 * (host.ts, behind the serialized shims) and the provider plugin
 * (provider/plugin) call these same handlers, so there is one implementation
 * of each operation.
 */
import type { dynamic } from "@pulumi/pulumi";
import type { z } from "zod";
import type { BillingClient } from "../billing/client";
import * as emailInvoiceSetting from "./emailInvoiceSetting";
import * as invoiceManagerAssignment from "./invoiceManagerAssignment";
import type { CheckResult, DiffResult } from "./common";

export type ResourceKind = typeof emailInvoiceSetting.TYPE_NAME | typeof invoiceManagerAssignment.TYPE_NAME;

/** What one resource kind implements; the same shape for both. */
export interface ResourceModule {
    /** One zod schema per input property, described (`.describe`). */
    inputShape: Record<string, z.ZodType>;
    /** The state the resource records; its description is the resource's. */
    Outputs: z.ZodObject;
    check(news: Record<string, unknown>): CheckResult;
    diff(olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult;
    create(client: BillingClient, news: Record<string, unknown>): Promise<Required<dynamic.CreateResult<Record<string, unknown>>>>;
    /**
     * `props` are the recorded outputs; empty for an import, where the id
     * alone names the resource. `inputs`, when returned, are the inputs that
     * describe what was read (refresh records them; import generates code
     * from them).
     */
    read(
        client: BillingClient,
        id: string,
        props: Record<string, unknown>,
    ): Promise<{ id: string; props: Record<string, unknown>; inputs?: Record<string, unknown> } | undefined>;
    update(client: BillingClient, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<Record<string, unknown>>;
    remove(client: BillingClient, props: Record<string, unknown>): Promise<void>;
}

export const RESOURCES: Record<ResourceKind, ResourceModule> = {
    EmailInvoiceSetting: emailInvoiceSetting,
    InvoiceManagerAssignment: invoiceManagerAssignment,
};

/** The resource kinds, in a stable order. */
export const RESOURCE_KINDS = Object.keys(RESOURCES) as ResourceKind[];

export function isResourceKind(kind: string): kind is ResourceKind {
    return Object.prototype.hasOwnProperty.call(RESOURCES, kind);
}
