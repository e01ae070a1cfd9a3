// Every billing profile of an account, from one list: each gets the opt-in,
// its own accounts-payable mailbox, and the same Invoice manager.
import * as pulumi from "@pulumi/pulumi";
import { EmailInvoiceSetting, InvoiceManagerAssignment } from "azure-email-invoicing";

// Default: the local emulator's seeded MCA account.
const billingAccountName =
    new pulumi.Config().get("billingAccountName") ?? "8a9c2f4e-6b1d-4f3a-9c7e-2d5b8a1f4c6e:3e7b1d9a-5c2f-4a8e-b6d1-9f4c2a7e5b3d_2019-05-31";

interface ProfileSettings {
    /** Billing profile name. */
    name: string;
    /** A short key for resource names. */
    key: string;
    recipients: string[];
    invoiceManagers: string[];
}

const profiles: ProfileSettings[] = [
    { key: "operations", name: "K7QM-4T2X-BG7-PGB", recipients: ["ap-ops@contoso.com"], invoiceManagers: ["jane@contoso.com"] },
    { key: "research", name: "R3VD-8N5W-CH2-TLK", recipients: ["ap-research@contoso.com", "controller@contoso.com"], invoiceManagers: ["jane@contoso.com"] },
];

export const settings = profiles.map((p) => {
    const setting = new EmailInvoiceSetting(`${p.key}-emails`, {
        billingAccountName,
        billingProfileName: p.name,
        enabled: true,
        additionalRecipients: p.recipients,
    });
    const managers = p.invoiceManagers.map(
        (email) =>
            new InvoiceManagerAssignment(`${p.key}-${email.split("@")[0]}`, {
                billingAccountName,
                billingProfileName: p.name,
                userEmailAddress: email,
            }),
    );
    return {
        profile: setting.billingProfileDisplayName,
        recipients: setting.additionalRecipients,
        invoiceManagers: managers.map((m) => m.userEmailAddress),
    };
});
