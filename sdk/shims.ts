/**
 * The provider objects Pulumi serializes into state, one per resource type.
 *
 * They are shims: every method loads the implementation by package name when
 * the engine calls it, inside Pulumi's dynamic-provider process. Pulumi's
 * closure serializer therefore stores a few hundred bytes per resource — the
 * kind, the shim ABI number and these forwarding functions — and never a
 * client, credential, schema or module state. Keep it that way: anything a
 * method here refers to is copied into every stack's state (a unit test checks
 * the size and content).
 *
 * `require` is not captured by the serializer; at run time it resolves
 * `azure-email-invoicing` from the program's node_modules, so the installed
 * version's code runs (see host.ts for the upgrade contract).
 */
import type * as pulumi from "@pulumi/pulumi";
import { SHIM_ABI } from "../provider/resources/abi";

function shimFor(kind: "EmailInvoiceSetting" | "InvoiceManagerAssignment"): pulumi.dynamic.ResourceProvider {
    // A local, so the serialized closures hold the number, not the module it comes from.
    const abi = SHIM_ABI;
    const load = () => require("azure-email-invoicing/dynamic").host(kind, abi);
    return {
        configure: (req) => load().configure(req),
        check: (olds, news) => load().check(olds, news),
        diff: (id, olds, news) => load().diff(id, olds, news),
        create: (inputs) => load().create(inputs),
        read: (id, props) => load().read(id, props),
        update: (id, olds, news) => load().update(id, olds, news),
        delete: (id, props) => load().delete(id, props),
    };
}

export const emailInvoiceSettingProvider = shimFor("EmailInvoiceSetting");
export const invoiceManagerAssignmentProvider = shimFor("InvoiceManagerAssignment");
