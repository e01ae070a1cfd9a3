// Stack config (project namespace):
//   mode                "ours" (default, the dynamic provider), "plugin" (the provider plugin) or "noop"
//   billingAccountName  the account of the profiles
//   profiles            JSON list of billing profile names
//   manager             the Invoice manager's email
//   pad                 "noop" only: characters of one more input, "pad" (the padded floor: the
//                       no-op resources with a state as large as ours)
// "ours": per profile, an EmailInvoiceSetting (opt-in, one recipient) and an
// InvoiceManagerAssignment. "noop": per profile, two dynamic resources with the
// same inputs whose provider does nothing (no diff, no read: the engine's own
// input comparison), which is the least any dynamic resource costs. "plugin":
// the same two resources as "ours", from azure-email-invoicing/plugin.
"use strict";
const pulumi = require("@pulumi/pulumi");
const config = new pulumi.Config();
const mode = config.get("mode") ?? "ours";
const { EmailInvoiceSetting, InvoiceManagerAssignment } = require(mode === "plugin" ? "azure-email-invoicing/plugin" : "azure-email-invoicing");
const billingAccountName = config.require("billingAccountName");
const profiles = config.requireObject("profiles");
const manager = config.require("manager");
const pad = config.getNumber("pad") ? { pad: "x".repeat(config.getNumber("pad")) } : {};

const noopProvider = {
    async create(inputs) {
        return { id: `${inputs.billingProfileName}/${inputs.kind}`, outs: inputs };
    },
};

class Noop extends pulumi.dynamic.Resource {
    constructor(name, args, opts) {
        super(noopProvider, name, args, opts, "bench", "Noop");
    }
}

profiles.forEach((billingProfileName, i) => {
    const key = `p${String(i).padStart(4, "0")}`;
    if (mode === "noop") {
        new Noop(`${key}-emails`, { kind: "setting", billingAccountName, billingProfileName, enabled: true, additionalRecipients: [`ap-${key}@contoso.com`], ...pad });
        new Noop(`${key}-manager`, { kind: "assignment", billingAccountName, billingProfileName, userEmailAddress: manager, ...pad });
    } else {
        new EmailInvoiceSetting(`${key}-emails`, { billingAccountName, billingProfileName, enabled: true, additionalRecipients: [`ap-${key}@contoso.com`] });
        new InvoiceManagerAssignment(`${key}-manager`, { billingAccountName, billingProfileName, userEmailAddress: manager });
    }
});
