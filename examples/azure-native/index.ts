// azure-email-invoicing beside @pulumi/azure-native.
//
// azure-native reads the billing profile and tells us who is deploying
// (`authorization.getClientConfig`); our resources manage what azure-native
// cannot: the invoice email opt-in without rewriting the whole profile, and
// the Invoice manager role at billing-profile scope (azure-native has role
// assignment resources only at billing account, department and enrollment
// account scope).
//
// This example needs the azure-native provider plugin and real Azure, so the
// test suite only type-checks it.
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { EmailInvoiceSetting, InvoiceManagerAssignment } from "azure-email-invoicing";

const config = new pulumi.Config();
const billingAccountName = config.require("billingAccountName");
const billingProfileName = config.require("billingProfileName");

// Who is running `pulumi up` (a user, or the CI workload identity).
const deployer = azure.authorization.getClientConfigOutput();

// Read-only view of the profile through azure-native, for outputs.
const profile = azure.billing.getBillingProfileOutput({ billingAccountName, billingProfileName });

const emails = new EmailInvoiceSetting("invoice-emails", {
    billingAccountName,
    billingProfileName,
    enabled: true,
    additionalRecipients: config.getObject<string[]>("additionalRecipients") ?? [],
});

// The deploying identity becomes Invoice manager, by object id and tenant.
const deployerIsInvoiceManager = new InvoiceManagerAssignment("deployer-invoice-manager", {
    billingAccountName,
    billingProfileName,
    principalId: deployer.objectId,
    principalTenantId: deployer.tenantId,
});

export const profileDisplayName = profile.properties.apply((p) => p.displayName);
export const profileCurrency = profile.properties.apply((p) => p.currency);
export const invoiceEmailsEnabled = emails.enabled;
export const invoiceManagerAssignment = deployerIsInvoiceManager.billingRoleAssignmentId;
