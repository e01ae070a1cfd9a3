/**
 * The shapes the planner, the message and the ledger share: what a stored
 * plan knows of an invoice ({@link InvoiceFacts}), who receives it
 * ({@link PlannedDelivery}) and who could not be mailed
 * ({@link UnresolvedRecipient}). A module of their own, importing only
 * schemas, so that `plan.ts` (which names messages) and `message.ts` (which
 * renders the facts) do not import each other.
 */
import { z } from "zod";
import type { BillingProfileRef } from "../billing/names";

/** `billingAccountName/billingProfileName`, the form users type in `--profile`. */
export function profileLabel(ref: BillingProfileRef): string {
    return `${ref.billingAccountName}/${ref.billingProfileName}`;
}

/** Lower-cased key of a billing profile: ARM names compare case-insensitively. */
export function profileKey(ref: BillingProfileRef): string {
    return profileLabel(ref).toLowerCase();
}

/** An amount of an invoice as Azure gives it. */
export const InvoiceAmount = z.object({ value: z.number(), currency: z.string().nullable() });
export type InvoiceAmount = z.infer<typeof InvoiceAmount>;

/**
 * The facts of an invoice a message needs, as stored with its plan (one
 * schema: the ledger parses it back with this). Frozen when planned: the
 * email shows the invoice as it was then. Plans stored before `totalAmount`
 * and `taxAmount` were kept lack them (undefined), and their emails leave
 * those rows out; `null` is Azure giving none.
 */
export const InvoiceFacts = z.object({
    billingAccountName: z.string(),
    billingProfileName: z.string(),
    billingProfileDisplayName: z.string().nullable(),
    invoiceName: z.string(),
    /** The `documents[].name` of the invoice PDF, when Azure lists one. */
    documentName: z.string().nullable(),
    invoiceDate: z.string().nullable(),
    dueDate: z.string().nullable(),
    periodStartDate: z.string().nullable(),
    periodEndDate: z.string().nullable(),
    amountDue: InvoiceAmount.nullable(),
    /** The invoice total, tax included (Azure's `totalAmount`). */
    totalAmount: InvoiceAmount.nullable().optional(),
    /** Azure's `taxAmount`. */
    taxAmount: InvoiceAmount.nullable().optional(),
    /** Azure's status: `Due`, `OverDue`, `Paid`, `Void`, `Locked` or `Other`. */
    status: z.string().nullable(),
});
export type InvoiceFacts = z.infer<typeof InvoiceFacts>;

/** A role holder (or listed address) who cannot be mailed, and why. Reported, never guessed. */
export const UnresolvedRecipient = z.object({
    principalId: z.string().optional(),
    /** The role name, or "invoiceRecipients" for a malformed additional recipient. */
    source: z.string(),
    displayName: z.string().optional(),
    /** What is wrong, in words a person can act on. */
    reason: z.string(),
});
export type UnresolvedRecipient = z.infer<typeof UnresolvedRecipient>;

/** One message to send: an invoice to a recipient. */
export interface PlannedDelivery {
    billingAccountName: string;
    billingProfileName: string;
    invoiceName: string;
    /** The address to send to. */
    recipient: string;
    /** Lower-cased address. */
    recipientKey: string;
    /** Why this recipient gets the invoice. */
    reasons: string[];
    /** Stable `Message-ID` from (billing profile, invoice, recipient). */
    messageId: string;
}

/** The plan of one invoice: frozen once stored (its recipients are those present when it is first planned). */
export interface InvoicePlan {
    invoice: InvoiceFacts;
    deliveries: PlannedDelivery[];
    /** Role holders who could not be mailed when the plan was made. */
    unresolved: UnresolvedRecipient[];
}
