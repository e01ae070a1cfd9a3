/**
 * `azure-email-invoicing/plugin`: the same two resources for TypeScript and
 * JavaScript programs, served by the provider plugin
 * (`pulumi-resource-azure-email-invoicing`) instead of the dynamic provider.
 * Same arguments and outputs as the classes of `azure-email-invoicing`; what
 * changes is what the plugin brings: `pulumi import` by ARM id, a detailed
 * diff down to each recipient, and no provider code in state.
 *
 * Each class carries an alias to the dynamic type of the same name, so a stack
 * moves from `azure-email-invoicing` to `azure-email-invoicing/plugin` by
 * changing the import and running `pulumi up`: the engine matches each
 * resource to its state, asks the plugin for a diff (none: nothing is written
 * to Azure, and the values recorded at create stay), and records it under the
 * plugin (see "Moving a stack to the plugin" in the README).
 */
import * as pulumi from "@pulumi/pulumi";
import { openTraceWindow } from "./construct";
import {
    MODULE,
    emailInvoiceSettingProps,
    invoiceManagerAssignmentProps,
    setOutputFromId,
    type EmailInvoiceSetting as DynamicEmailInvoiceSetting,
    type EmailInvoiceSettingArgs,
    type InvoiceManagerAssignment as DynamicInvoiceManagerAssignment,
    type InvoiceManagerAssignmentArgs,
} from "./index";

export type { EmailInvoiceSettingArgs, InvoiceManagerAssignmentArgs };

/** The plugin's package: its type tokens are `azure-email-invoicing:index:<Type>`. */
export const PACKAGE = "azure-email-invoicing";

/** The outputs of a class: what it declares beyond a custom resource's own members. */
type OutputsOf<T> = Omit<T, keyof pulumi.CustomResource>;

function withDynamicAlias(type: string, opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
    return { ...opts, aliases: [...(opts?.aliases ?? []), { type: `pulumi-nodejs:dynamic/${MODULE}:${type}` }] };
}

/** The invoice email preference of one billing profile, served by the provider plugin; see `azure-email-invoicing`'s class of the same name. */
export interface EmailInvoiceSetting extends OutputsOf<DynamicEmailInvoiceSetting> {}
export class EmailInvoiceSetting extends pulumi.CustomResource {
    constructor(name: string, args: EmailInvoiceSettingArgs, opts?: pulumi.CustomResourceOptions) {
        // Pulumi's per-promise debugging traces are skipped while it runs (construct.ts).
        const traces = openTraceWindow();
        try {
            super(`${PACKAGE}:index:EmailInvoiceSetting`, name, emailInvoiceSettingProps(args), withDynamicAlias("EmailInvoiceSetting", opts));
        } catch (err) {
            throw traces.failed(err, new.target);
        } finally {
            traces.end();
        }
        setOutputFromId(this, "EmailInvoiceSetting");
    }
}

/** The Invoice manager role on one billing profile for one user, served by the provider plugin; see `azure-email-invoicing`'s class of the same name. */
export interface InvoiceManagerAssignment extends OutputsOf<DynamicInvoiceManagerAssignment> {}
export class InvoiceManagerAssignment extends pulumi.CustomResource {
    constructor(name: string, args: InvoiceManagerAssignmentArgs, opts?: pulumi.CustomResourceOptions) {
        // Pulumi's per-promise debugging traces are skipped while it runs (construct.ts).
        const traces = openTraceWindow();
        try {
            super(`${PACKAGE}:index:InvoiceManagerAssignment`, name, invoiceManagerAssignmentProps(args), withDynamicAlias("InvoiceManagerAssignment", opts));
        } catch (err) {
            throw traces.failed(err, new.target);
        } finally {
            traces.end();
        }
        setOutputFromId(this, "InvoiceManagerAssignment");
    }
}
