// Stack config (project namespace):
//   billingAccountName, billingProfileName   the profile (required)
//   enabled (default true), recipients (JSON list, default [])
//   setting (default true)      declare the EmailInvoiceSetting "emails"
//   manager                     declare the InvoiceManagerAssignment "manager" for this email
//   managerSecret (bool)        pass the manager's email as pulumi.secret(...)
//   chain (bool)                take the assignment's profile name from the setting's output,
//                               so it is unknown during the preview of a new stack
//   plugin (bool)               the classes of azure-email-invoicing/plugin (the provider
//                               plugin) instead of the dynamic ones
//   extra (JSON object)         more arguments of the setting, as a JavaScript program may pass
//                               them (e.g. a misspelt key)
"use strict";
const pulumi = require("@pulumi/pulumi");
const config = new pulumi.Config();
const { EmailInvoiceSetting, InvoiceManagerAssignment } = require(config.getBoolean("plugin") ? "azure-email-invoicing/plugin" : "azure-email-invoicing");

const billingAccountName = config.require("billingAccountName");
const billingProfileName = config.require("billingProfileName");

let setting;
if (config.getBoolean("setting") !== false) {
    setting = new EmailInvoiceSetting("emails", {
        billingAccountName,
        billingProfileName,
        enabled: config.getBoolean("enabled") ?? true,
        additionalRecipients: config.getObject("recipients") ?? [],
        ...(config.getObject("extra") ?? {}),
    });
    exports.enabled = setting.enabled;
    exports.additionalRecipients = setting.additionalRecipients;
    exports.providerVersion = setting.providerVersion;
    exports.billingProfileId = setting.billingProfileId;
}

const manager = config.get("manager");
if (manager) {
    const assignment = new InvoiceManagerAssignment("manager", {
        billingAccountName,
        billingProfileName: config.getBoolean("chain") && setting ? setting.billingProfileName : billingProfileName,
        userEmailAddress: config.getBoolean("managerSecret") ? pulumi.secret(manager) : manager,
    });
    exports.assignment = assignment.billingRoleAssignmentName;
    exports.assignmentId = assignment.billingRoleAssignmentId;
}
