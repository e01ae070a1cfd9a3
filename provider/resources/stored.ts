/**
 * What the dynamic provider leaves out of each resource's stored outputs:
 * the one output that is the resource id itself (`billingProfileId` is the
 * profile's ARM id, `billingRoleAssignmentId` the assignment's). The SDK
 * classes (sdk/index.ts) set it from the id; the host (host.ts) leaves it out
 * of what it returns and puts it back, from the id, into what it is given, so
 * the handlers see every output. Storing it would repeat the id's 190 to 260
 * characters in every resource's state, and the engine rewrites the whole
 * checkpoint after every step.
 *
 * The provider plugin stores it: its schema declares it, and every language's
 * SDK reads it from the engine.
 *
 * Dependency-free on purpose: sdk/index.ts loads it in every Pulumi program
 * (the registry is imported for its type only, which compiles away).
 */
import type { ResourceKind } from "./registry";

export const OUTPUT_FROM_ID = {
    EmailInvoiceSetting: "billingProfileId",
    InvoiceManagerAssignment: "billingRoleAssignmentId",
} as const satisfies Record<ResourceKind, string>;

/** The outputs as the dynamic provider stores them: without the one that is the resource id. */
export function withoutOutputFromId(kind: ResourceKind, outs: Record<string, unknown>): Record<string, unknown> {
    const { [OUTPUT_FROM_ID[kind]]: _id, ...rest } = outs;
    return rest;
}

/**
 * Recorded outputs as the handlers take them: with the output that is the
 * resource id, put back from `id` when the state does not hold it (the
 * dynamic provider's, also after a stack moved to the plugin). Empty
 * outputs, an import's, stay empty.
 */
export function withOutputFromId(kind: ResourceKind, id: string, props: Record<string, unknown>): Record<string, unknown> {
    const key = OUTPUT_FROM_ID[kind];
    return Object.keys(props).length === 0 || props[key] !== undefined ? props : { ...props, [key]: id };
}
