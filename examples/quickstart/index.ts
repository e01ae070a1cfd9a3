// Quickstart: send a billing profile's invoices by email to an accounts-payable
// mailbox, and make Jane an Invoice manager (she can view, download and pay
// invoices, and receives them by email too).
import * as pulumi from "@pulumi/pulumi";
import { EmailInvoiceSetting, InvoiceManagerAssignment } from "azure-email-invoicing";

// Defaults are the local emulator's seeded "Contoso Operations Billing" profile;
// set these config keys to your own account and profile for real Azure.
const config = new pulumi.Config();
const billingAccountName =
    config.get("billingAccountName") ?? "8a9c2f4e-6b1d-4f3a-9c7e-2d5b8a1f4c6e:3e7b1d9a-5c2f-4a8e-b6d1-9f4c2a7e5b3d_2019-05-31";
const billingProfileName = config.get("billingProfileName") ?? "K7QM-4T2X-BG7-PGB";

const emails = new EmailInvoiceSetting("finance-emails", {
    billingAccountName,
    billingProfileName,
    enabled: true,
    additionalRecipients: [config.get("additionalRecipient") ?? "ap@contoso.com"],
});

const jane = new InvoiceManagerAssignment("jane", {
    billingAccountName,
    billingProfileName,
    userEmailAddress: config.get("invoiceManagerEmail") ?? "jane@contoso.com",
});

export const billingProfile = emails.billingProfileDisplayName;
export const invoiceEmailsEnabled = emails.enabled;
export const additionalRecipients = emails.additionalRecipients;
export const invoiceManager = jane.userEmailAddress;
export const invoiceManagerAssignment = jane.billingRoleAssignmentName;
