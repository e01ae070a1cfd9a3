/**
 * `azure-email-invoicing/provider`: the Azure Billing client, its contract and
 * settings, for programs that want to talk to the API directly (the reconciler
 * and the Pulumi resources are built on the same pieces).
 */
export * from "./errors";
export * from "./config";
export * as names from "./billing/names";
export * as schemas from "./billing/schemas";
export { operations, API_VERSION, REQUIRED_ROLE, type Access } from "./billing/contract";
export { BillingClient, createBillingClient, type InvoiceEmailUpdate } from "./billing/client";
export { invoiceDocumentName, invoiceEmailSettingsOf, mergeInvoiceEmailSettings, sameRecipients, type InvoiceEmailSettings } from "./billing/profile";
export { staticTokenCredential } from "./billing/transport";
