/**
 * Input schemas for every value that ends up in a URL, a request body or a mail
 * header. They are checked before any request is made, so a malformed value
 * never reaches the network: a typo fails with the property's name before
 * Azure sees it, and nothing is ever half-applied because of one.
 *
 * The patterns are Microsoft's own, from the Microsoft.Billing 2024-04-01
 * OpenAPI `types.json` and `invoice.json` path parameters.
 */
import { z } from "zod";

/** Microsoft's published pattern for `billingAccountName` (types.json). */
export const BILLING_ACCOUNT_NAME_PATTERN =
    /^([0-9]+|([Pp][Cc][Nn]\.[A-Za-z0-9]+)|[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}(:[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}_[0-9]{4}(-[0-9]{2}){2})?)$/;
/** Microsoft's published pattern for `billingProfileName` (types.json). */
export const BILLING_PROFILE_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;
/** Microsoft's published pattern for `billingRoleAssignmentName` (types.json). */
export const ROLE_ASSIGNMENT_NAME_PATTERN =
    /^[a-fA-F0-9]{8}[-]?([a-fA-F0-9]{4}[-]?){3}[a-fA-F0-9]{12}(_[a-fA-F0-9]{8}[-]?([a-fA-F0-9]{4}[-]?){3}[a-fA-F0-9]{12})?$/;
/** Microsoft's published pattern for `invoiceName` (invoice.json). */
export const INVOICE_NAME_PATTERN =
    /^(H[0-9]-[A-Z0-9]+)$|^(?:([GHT]|HT){1}[A-Z0-9]{9})$|^(?:[D]{1}[A-Z0-9]{9})$|^(?:E{1}[B-Z0-9]{1}[A-Z0-9]{8})$|^(?:EA[A-Z0-9]{8})$/;
/** A GUID in its canonical 8-4-4-4-12 form. */
export const GUID_PATTERN = /^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$/;
/** A document name as Azure returns it in an invoice's `documents[].name`. */
export const DOCUMENT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/** A calendar date, as the invoices list takes it. */
export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** The longest billing account name accepted: Azure's longest form (`<guid>:<guid>_<yyyy-mm-dd>`) is 85 characters. */
export const MAX_BILLING_ACCOUNT_NAME_LENGTH = 128;

export const billingAccountName = z
    .string({ error: "must be a string: the billing account name, e.g. 00000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31" })
    // Checked before the pattern: the pattern's digits-only and PCN forms have no length of their own.
    .max(MAX_BILLING_ACCOUNT_NAME_LENGTH, {
        error: `is longer than ${MAX_BILLING_ACCOUNT_NAME_LENGTH} characters, so it is not a billing account name: use the \`name\` of the account from \`az billing account list\``,
        abort: true,
    })
    .regex(BILLING_ACCOUNT_NAME_PATTERN, {
        error: "is not a billing account name: use the `name` of the account from `az billing account list` (digits, PCN.xxx, or <guid>:<guid>_<yyyy-mm-dd>)",
    });

export const billingProfileName = z
    .string({ error: "must be a string: the billing profile name, e.g. AB12-CD34-EF5-GH6" })
    .regex(BILLING_PROFILE_NAME_PATTERN, {
        error: "is not a billing profile name: use 1-128 letters, digits, '-' or '_' (the `name` from `az billing profile list`), not a display name or an ARM id",
    });

export const guid = z
    .string({ error: "must be a string GUID" })
    .regex(GUID_PATTERN, { error: "is not a GUID: use the 8-4-4-4-12 hexadecimal form, e.g. 00000000-0000-0000-0000-000000000000" });

export const roleAssignmentName = z
    .string({ error: "must be a string" })
    .regex(ROLE_ASSIGNMENT_NAME_PATTERN, { error: "is not a billing role assignment name: expected <role-guid>_<principal-guid>" });

export const invoiceName = z
    .string({ error: "must be a string" })
    .regex(INVOICE_NAME_PATTERN, { error: "is not an invoice name: expected Azure's invoice number form, e.g. G123456789" });

export const documentName = z
    .string({ error: "must be a string" })
    .regex(DOCUMENT_NAME_PATTERN, { error: "is not a document name: use the `documents[].name` of the invoice" });

/** A date `YYYY-MM-DD` that is also a real calendar day. */
export const isoDate = z
    .string({ error: "must be a string date" })
    .regex(DATE_PATTERN, { error: "is not a date: use YYYY-MM-DD" })
    .refine((s) => {
        const d = new Date(`${s}T00:00:00Z`);
        return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
    }, { error: "is not a calendar date: use YYYY-MM-DD" });

/**
 * Characters that must never appear in an address: line breaks and NUL
 * (header injection), and the list separators `,` and `;` (one value must be
 * one recipient).
 */
const FORBIDDEN_EMAIL_CHARS = /[\r\n\0,;<>"\s]/;

/**
 * An email address as Azure and SMTP take it: one mailbox, local@domain with a
 * dotted domain, no header-injection or list characters. The value is kept as
 * given; callers that compare addresses lower-case them.
 */
export const emailAddress = z
    .string({ error: "must be a string email address" })
    .max(254, { error: "is longer than 254 characters, the longest email address SMTP allows" })
    .refine((s) => !FORBIDDEN_EMAIL_CHARS.test(s), {
        error: "contains a line break, space, comma, semicolon, quote or angle bracket: give exactly one address, e.g. ap@contoso.com",
    })
    .pipe(z.email({ error: "is not an email address: use the form name@domain.tld, e.g. ap@contoso.com" }));

/**
 * The user identifier Graph takes in `/v1.0/users/{id}`: an object id (GUID)
 * or a user principal name / email address.
 */
export const userIdOrPrincipalName = z.union([guid, emailAddress], {
    error: "is neither a GUID object id nor an email address",
});

/** Path parameters shared by every billing-profile operation. */
export const billingProfileRef = z.object({
    billingAccountName,
    billingProfileName,
});
export type BillingProfileRef = z.infer<typeof billingProfileRef>;

/** Renders a zod path the way users write properties: `a.b[2]`. */
export function propertyPath(path: ReadonlyArray<PropertyKey>, prefix = ""): string {
    let out = prefix;
    for (const seg of path) {
        if (typeof seg === "number") out += `[${seg}]`;
        else out += out ? `.${String(seg)}` : String(seg);
    }
    return out || "(input)";
}
