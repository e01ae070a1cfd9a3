/**
 * The two email-invoice fields of a billing profile (`invoiceEmailOptIn`,
 * `invoiceRecipients`), the only ones this package ever writes, and the pure
 * functions over payloads that the client, the resources and the
 * reconciler's planner share: reading the fields, comparing recipient lists,
 * building the PUT body of a read-merge-write, and naming an invoice's PDF.
 * Imports schemas only: no client, no I/O.
 */
import { z } from "zod";
import { BILLING_PROFILE_READ_ONLY_PROPERTIES, type BillingProfile, type BillingProfilePutBody, type Invoice } from "./schemas";

/**
 * The two fields as the client writes them. Recipients are checked to be
 * single-line strings only: this is a JSON body, not a mail header, and the
 * client must be able to write back whatever Azure held (a delete restores
 * the recipients a profile had, which Azure may hold in forms our strict
 * input schema refuses). User input is checked strictly before it gets here
 * (`names.emailAddress`, in the resources' `check`).
 */
export const InvoiceEmailSettingsInput = z.object({
    invoiceEmailOptIn: z.boolean({ error: "must be true or false" }),
    invoiceRecipients: z.array(
        z
            .string({ error: "must be a string" })
            .trim()
            .min(1, { error: "is empty" })
            .max(254, { error: "is longer than 254 characters" })
            .refine((r) => !/[\u0000-\u001f\u007f]/.test(r), { error: "contains a line break or another control character: give one address per entry" }),
        { error: "must be a list of email addresses" },
    ),
});
/** The two email-invoice fields of a billing profile. */
export type InvoiceEmailSettings = z.output<typeof InvoiceEmailSettingsInput>;

/** Reads the two email-invoice fields of a profile, with Azure's nulls as defaults. */
export function invoiceEmailSettingsOf(profile: BillingProfile): InvoiceEmailSettings {
    return {
        invoiceEmailOptIn: profile.properties.invoiceEmailOptIn ?? false,
        invoiceRecipients: [...(profile.properties.invoiceRecipients ?? [])],
    };
}

/** Lower-cases, trims, de-duplicates and sorts addresses: the canonical recipient list. */
export function normaliseRecipients(list: readonly string[]): string[] {
    return [...new Set(list.map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0))].sort();
}

/** Recipients compare as a set of lower-cased addresses. */
export function sameRecipients(a: readonly string[], b: readonly string[]): boolean {
    const x = normaliseRecipients(a);
    const y = normaliseRecipients(b);
    return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * Builds the PUT body for a read-merge-write: the profile as read, minus
 * Azure's read-only properties and envelope fields, with only the two
 * email-invoice fields replaced.
 */
export function mergeInvoiceEmailSettings(profile: BillingProfile, desired: InvoiceEmailSettings): BillingProfilePutBody {
    const properties: Record<string, unknown> = { ...profile.properties };
    for (const key of BILLING_PROFILE_READ_ONLY_PROPERTIES) delete properties[key];
    properties.invoiceEmailOptIn = desired.invoiceEmailOptIn;
    properties.invoiceRecipients = [...desired.invoiceRecipients];
    const body: BillingProfilePutBody = { properties: properties as BillingProfilePutBody["properties"] };
    if (profile.tags) body.tags = profile.tags;
    return body;
}

/** The name of an invoice's `Invoice` document (the PDF to send), when Azure lists one. */
export function invoiceDocumentName(invoice: Invoice): string | undefined {
    const docs = invoice.properties.documents ?? [];
    return docs.find((d) => (d.kind ?? "").toLowerCase() === "invoice")?.name ?? undefined;
}
