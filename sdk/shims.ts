/**
 * The provider objects Pulumi serializes into state, one per resource type.
 *
 * They are shims: Pulumi's closure serializer stores each one's code twice
 * per resource (in its inputs and its outputs), so it holds as little as a
 * dynamic provider can: the kind, the shim ABI number and one method. It never
 * holds a client, credential, schema or module state. Keep it that way:
 * anything a method here refers to is copied into every stack's state (a unit
 * test checks the size and content).
 *
 * The one method is `configure`. Pulumi's dynamic-provider host deserializes a
 * provider once per process and calls its `configure` before any other method
 * (`getProvider` in `@pulumi/pulumi/cmd/dynamic-provider`), then calls
 * `check`, `diff`, `create`, ... on that same object, looking each up when it
 * calls it. So `configure` loads the implementation by package name, copies
 * its methods onto the object (the object becomes the provider, and every
 * later call goes straight to the implementation), and configures it.
 *
 * `require` is not captured by the serializer; at run time it resolves
 * `azure-email-invoicing` from the program's node_modules, so the installed
 * version's code runs (see host.ts for the upgrade contract).
 */
import type * as pulumi from "@pulumi/pulumi";
import { SHIM_ABI } from "../provider/resources/abi";

function shimFor(kind: "EmailInvoiceSetting" | "InvoiceManagerAssignment"): pulumi.dynamic.ResourceProvider {
    // A local, so the serialized closure holds the number, not the module it comes from.
    const abi = SHIM_ABI;
    const shim = {
        // On one line: the serializer stores the method's source text as it is written.
        configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> { return Object.assign(this, require("azure-email-invoicing/dynamic").host(kind, abi)).configure(req); },
    };
    // The other methods arrive with `configure`, which the host always calls first.
    return shim as typeof shim & pulumi.dynamic.ResourceProvider;
}

export const emailInvoiceSettingProvider = shimFor("EmailInvoiceSetting");
export const invoiceManagerAssignmentProvider = shimFor("InvoiceManagerAssignment");
