/**
 * azure-email-invoicing: Azure's email-invoicing settings as Pulumi resources.
 *
 * ```ts
 * import { EmailInvoiceSetting, InvoiceManagerAssignment } from "azure-email-invoicing";
 * new EmailInvoiceSetting("finance-emails", { billingAccountName, billingProfileName, enabled: true, additionalRecipients: ["ap@contoso.com"] });
 * new InvoiceManagerAssignment("jane", { billingAccountName, billingProfileName, userEmailAddress: "jane@contoso.com" });
 * ```
 *
 * Endpoint and credential come from stack config (`azure-email-invoicing:endpoint`,
 * `:graphEndpoint`, `:token` as a secret) or the environment
 * (`AZURE_EMAIL_INVOICING_ENDPOINT`, `..._GRAPH_ENDPOINT`, `..._TOKEN`), else real
 * Azure with `DefaultAzureCredential`.
 */
import * as pulumi from "@pulumi/pulumi";
import { OUTPUT_FROM_ID } from "../provider/resources/stored";
import { openTraceWindow } from "./construct";
import { emailInvoiceSettingProvider, invoiceManagerAssignmentProvider } from "./shims";

/** The module part of our resource type tokens: `pulumi-nodejs:dynamic/azure-email-invoicing:<Type>`. */
export const MODULE = "azure-email-invoicing";

export interface EmailInvoiceSettingArgs {
    /** Billing account name (the `name` from `az billing account list`), e.g. `<guid>:<guid>_2019-05-31`. Changing it replaces the resource. */
    billingAccountName: pulumi.Input<string>;
    /** Billing profile name (the `name` from `az billing profile list`), e.g. `AB12-CD34-EF5-GH6`, not the display name. Changing it replaces the resource. */
    billingProfileName: pulumi.Input<string>;
    /** The opt-in (`invoiceEmailOptIn`): true sends every invoice of the profile by email to its owners, contributors, readers, invoice managers and additional recipients. */
    enabled: pulumi.Input<boolean>;
    /** Additional recipients (`invoiceRecipients`), at most 100. Normalised: trimmed, lower-cased, de-duplicated and sorted. Default: none. */
    additionalRecipients?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * The invoice email preference of one billing profile (MCA or MPA): the
 * opt-in and the additional recipients. Needs the billing profile owner or
 * contributor role (or billing account owner or contributor). Delete restores
 * the opt-in and recipients the profile had when this resource was created,
 * or, for an imported resource, when it was imported.
 */
export class EmailInvoiceSetting extends pulumi.dynamic.Resource {
    /** Billing account name. */
    declare public readonly billingAccountName: pulumi.Output<string>;
    /** Billing profile name. */
    declare public readonly billingProfileName: pulumi.Output<string>;
    /** The live opt-in (`invoiceEmailOptIn`), as Azure holds it. */
    declare public readonly enabled: pulumi.Output<boolean>;
    /** The live additional recipients (`invoiceRecipients`), normalised. */
    declare public readonly additionalRecipients: pulumi.Output<string[]>;
    /** ARM id of the billing profile (also the resource id). */
    declare public readonly billingProfileId: pulumi.Output<string>;
    /** Display name of the billing profile. */
    declare public readonly billingProfileDisplayName: pulumi.Output<string>;
    /** The opt-in the profile had when this resource was created (or imported); restored on delete. */
    declare public readonly priorEnabled: pulumi.Output<boolean>;
    /** The recipients the profile had when this resource was created (or imported); restored on delete. */
    declare public readonly priorAdditionalRecipients: pulumi.Output<string[]>;
    /** Version of azure-email-invoicing that last wrote this resource's state. */
    declare public readonly providerVersion: pulumi.Output<string | undefined>;

    constructor(name: string, args: EmailInvoiceSettingArgs, opts?: pulumi.CustomResourceOptions) {
        // Pulumi's per-promise debugging traces are skipped while it runs (construct.ts).
        const traces = openTraceWindow();
        try {
            super(emailInvoiceSettingProvider, name, emailInvoiceSettingProps(args), opts, MODULE, "EmailInvoiceSetting");
        } catch (err) {
            throw traces.failed(err, new.target);
        } finally {
            traces.end();
        }
        setOutputFromId(this, "EmailInvoiceSetting");
    }
}

export interface InvoiceManagerAssignmentArgs {
    /** Billing account name. Changing it replaces the assignment. */
    billingAccountName: pulumi.Input<string>;
    /** Billing profile name. Changing it replaces the assignment. */
    billingProfileName: pulumi.Input<string>;
    /** The user's email (user principal name), resolved to an object id through Microsoft Graph at create. Give this or `principalId`. */
    userEmailAddress?: pulumi.Input<string>;
    /** The user's Entra object id. Give this or `userEmailAddress`. */
    principalId?: pulumi.Input<string>;
    /** The user's home tenant, with `principalId` only. Default: the billing account's tenant. */
    principalTenantId?: pulumi.Input<string>;
}

/**
 * The "Invoice manager" role on one billing profile for one user: they can
 * view, download and pay its invoices, and receive invoice emails when the
 * profile is opted in. Needs the billing profile owner role (or billing
 * account owner). An existing assignment of the role to the same user is
 * adopted, not duplicated. Delete removes the assignment.
 */
export class InvoiceManagerAssignment extends pulumi.dynamic.Resource {
    /** Billing account name. */
    declare public readonly billingAccountName: pulumi.Output<string>;
    /** Billing profile name. */
    declare public readonly billingProfileName: pulumi.Output<string>;
    /** Which input named the user: `userEmailAddress` or `principalId`. */
    declare public readonly principalSource: pulumi.Output<"userEmailAddress" | "principalId">;
    /** The user's email: the input, or Graph's `mail` when given by object id. */
    declare public readonly userEmailAddress: pulumi.Output<string | undefined>;
    /** The user's Entra object id. */
    declare public readonly principalId: pulumi.Output<string>;
    /** The user's tenant, as Azure records it. */
    declare public readonly principalTenantId: pulumi.Output<string | undefined>;
    /** Full id of the profile's "Invoice manager" role definition. */
    declare public readonly roleDefinitionId: pulumi.Output<string>;
    /** The assignment's name, `<role guid>_<principal id>` on MCA. */
    declare public readonly billingRoleAssignmentName: pulumi.Output<string>;
    /** The assignment's ARM id (also the resource id). */
    declare public readonly billingRoleAssignmentId: pulumi.Output<string>;
    /** When Azure created the assignment. */
    declare public readonly createdOn: pulumi.Output<string | undefined>;
    /** True when an assignment that already existed was brought under management (adopted at create, or imported). */
    declare public readonly adopted: pulumi.Output<boolean>;
    /** Version of azure-email-invoicing that last wrote this resource's state. */
    declare public readonly providerVersion: pulumi.Output<string | undefined>;

    constructor(name: string, args: InvoiceManagerAssignmentArgs, opts?: pulumi.CustomResourceOptions) {
        // Pulumi's per-promise debugging traces are skipped while it runs (construct.ts).
        const traces = openTraceWindow();
        try {
            super(invoiceManagerAssignmentProvider, name, invoiceManagerAssignmentProps(args), opts, MODULE, "InvoiceManagerAssignment");
        } catch (err) {
            throw traces.failed(err, new.target);
        } finally {
            traces.end();
        }
        setOutputFromId(this, "InvoiceManagerAssignment");
    }
}

/**
 * Sets the output that is the resource id itself (`billingProfileId`,
 * `billingRoleAssignmentId`) from `id`, after Pulumi's constructor. The
 * dynamic provider does not store it (provider/resources/stored.ts); every
 * class, the plugin's too, sets it this way, so a stack moved from one to the
 * other has it at once.
 */
export function setOutputFromId(resource: pulumi.CustomResource, kind: keyof typeof OUTPUT_FROM_ID): void {
    (resource as unknown as Record<string, unknown>)[OUTPUT_FROM_ID[kind]] = resource.id;
}

/**
 * The properties a resource registers: its inputs, and each output as
 * `undefined` so that Pulumi gives the object an output property of that
 * name (all but the one set from the id, {@link setOutputFromId}). Shared by
 * these classes and the provider plugin's (sdk/plugin.ts).
 */
export function emailInvoiceSettingProps(args: EmailInvoiceSettingArgs): pulumi.Inputs {
    return {
        // Every argument, also one the resource does not have: check rejects a misspelt key instead of it vanishing here.
        ...args,
        billingAccountName: args.billingAccountName,
        billingProfileName: args.billingProfileName,
        enabled: args.enabled,
        additionalRecipients: args.additionalRecipients ?? [],
        billingProfileDisplayName: undefined,
        priorEnabled: undefined,
        priorAdditionalRecipients: undefined,
        providerVersion: undefined,
    };
}

/** See {@link emailInvoiceSettingProps}. */
export function invoiceManagerAssignmentProps(args: InvoiceManagerAssignmentArgs): pulumi.Inputs {
    return {
        // Every argument, also one the resource does not have: check rejects a misspelt key instead of it vanishing here.
        ...args,
        billingAccountName: args.billingAccountName,
        billingProfileName: args.billingProfileName,
        userEmailAddress: args.userEmailAddress,
        principalId: args.principalId,
        principalTenantId: args.principalTenantId,
        principalSource: undefined,
        roleDefinitionId: undefined,
        billingRoleAssignmentName: undefined,
        createdOn: undefined,
        adopted: undefined,
        providerVersion: undefined,
    };
}
