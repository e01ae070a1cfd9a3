/**
 * One zod schema per Azure payload shape. The client parses every response
 * with these and the emulator answers in them, so both sides agree by
 * construction. Types are inferred, never written twice, so a shape cannot
 * change in one place and not the other.
 *
 * Response schemas are deliberately tolerant: they name and type the fields we
 * use and keep every other field (`looseObject`), because Azure adds
 * properties without a new api-version, and a profile we PUT back must carry
 * the properties we did not touch. Path-name patterns are not applied to
 * response fields (Microsoft's own examples use placeholders such as
 * `{billingProfileName}`).
 */
import { z } from "zod";

/** ARM `systemData`, present on some billing resources. */
export const SystemData = z.looseObject({
    createdBy: z.string().optional(),
    createdByType: z.string().optional(),
    createdAt: z.string().optional(),
    lastModifiedBy: z.string().optional(),
    lastModifiedByType: z.string().optional(),
    lastModifiedAt: z.string().optional(),
});

/** A money amount (`Amount` in types.json). */
export const Amount = z.looseObject({
    currency: z.string().optional(),
    value: z.number().optional(),
});
export type Amount = z.infer<typeof Amount>;

/** Fields shared by every ARM proxy resource. */
const armResource = {
    id: z.string(),
    name: z.string(),
    type: z.string().optional(),
    systemData: SystemData.optional(),
    tags: z.record(z.string(), z.string()).nullish(),
};

/** A list page: `value` and an optional `nextLink` (absolute or relative). */
export function ListPage<T extends z.ZodType>(item: T) {
    return z.looseObject({
        value: z.array(item),
        nextLink: z.string().nullish(),
    });
}

// ---------------------------------------------------------------------------
// Billing accounts

export const BillingAccountProperties = z.looseObject({
    displayName: z.string().nullish(),
    agreementType: z.string().nullish(),
    accountType: z.string().nullish(),
    accountStatus: z.string().nullish(),
    hasReadAccess: z.boolean().nullish(),
    soldTo: z.unknown().nullish(),
});
export const BillingAccount = z.looseObject({ ...armResource, properties: BillingAccountProperties.optional() });
export type BillingAccount = z.infer<typeof BillingAccount>;
export const BillingAccountList = ListPage(BillingAccount);

// ---------------------------------------------------------------------------
// Billing profiles

export const BillingProfileProperties = z.looseObject({
    displayName: z.string().nullish(),
    billingRelationshipType: z.string().nullish(),
    currency: z.string().nullish(),
    invoiceDay: z.number().nullish(),
    invoiceEmailOptIn: z.boolean().nullish(),
    invoiceRecipients: z.array(z.string()).nullish(),
    status: z.string().nullish(),
    systemId: z.string().nullish(),
    hasReadAccess: z.boolean().nullish(),
});
export const BillingProfile = z.looseObject({ ...armResource, properties: BillingProfileProperties });
export type BillingProfile = z.infer<typeof BillingProfile>;
export const BillingProfileList = ListPage(BillingProfile);

/** One reason a billing profile cannot be deleted (`DeleteBillingProfileEligibilityDetail`). */
export const DeleteEligibilityDetail = z.looseObject({
    code: z.string().nullish(),
    message: z.string().nullish(),
});
/** The answer of `validateDeleteEligibility`: `Allowed`, or `NotAllowed` with the reasons. */
export const DeleteBillingProfileEligibilityResult = z.looseObject({
    eligibilityStatus: z.string().nullish(),
    eligibilityDetails: z.array(DeleteEligibilityDetail).nullish(),
});
export type DeleteBillingProfileEligibilityResult = z.infer<typeof DeleteBillingProfileEligibilityResult>;

/**
 * Properties of a billing profile that Azure marks `readOnly` in
 * billingProfile.json. The client strips them before a PUT.
 */
export const BILLING_PROFILE_READ_ONLY_PROPERTIES = [
    "provisioningState",
    "billingRelationshipType",
    "currency",
    "hasReadAccess",
    "invoiceDay",
    "spendingLimit",
    "spendingLimitDetails",
    "status",
    "statusReasonCode",
    "systemId",
    "targetClouds",
    "otherPaymentTerms",
] as const;

/** The body of `PUT .../billingProfiles/{name}`: writable properties only. */
export const BillingProfilePutBody = z.looseObject({
    properties: z.looseObject({
        displayName: z.string().nullish(),
        invoiceEmailOptIn: z.boolean().optional(),
        invoiceRecipients: z.array(z.string()).nullish(),
    }),
    tags: z.record(z.string(), z.string()).nullish(),
});
export type BillingProfilePutBody = z.infer<typeof BillingProfilePutBody>;

// ---------------------------------------------------------------------------
// Role definitions and assignments

export const BillingPermission = z.looseObject({
    actions: z.array(z.string()).nullish(),
    notActions: z.array(z.string()).nullish(),
});
export type BillingPermission = z.infer<typeof BillingPermission>;
/** The caller's own permissions at a scope (`billingPermissions`): the action ids its roles grant. */
export const BillingPermissionList = ListPage(BillingPermission);
export const BillingRoleDefinition = z.looseObject({
    ...armResource,
    properties: z.looseObject({
        roleName: z.string(),
        description: z.string().nullish(),
        permissions: z.array(BillingPermission).nullish(),
    }),
});
export type BillingRoleDefinition = z.infer<typeof BillingRoleDefinition>;
export const BillingRoleDefinitionList = ListPage(BillingRoleDefinition);

export const BillingRoleAssignmentProperties = z.looseObject({
    createdOn: z.string().nullish(),
    createdByPrincipalId: z.string().nullish(),
    createdByPrincipalTenantId: z.string().nullish(),
    createdByUserEmailAddress: z.string().nullish(),
    principalId: z.string().nullish(),
    principalTenantId: z.string().nullish(),
    principalDisplayName: z.string().nullish(),
    principalType: z.string().nullish(),
    roleDefinitionId: z.string(),
    scope: z.string().nullish(),
    userEmailAddress: z.string().nullish(),
    userAuthenticationType: z.string().nullish(),
    provisioningState: z.string().nullish(),
});
export const BillingRoleAssignment = z.looseObject({ ...armResource, properties: BillingRoleAssignmentProperties });
export type BillingRoleAssignment = z.infer<typeof BillingRoleAssignment>;
export const BillingRoleAssignmentList = ListPage(BillingRoleAssignment);

/** The flat body of `POST .../createBillingRoleAssignment`. */
export const CreateBillingRoleAssignmentBody = z.looseObject({
    roleDefinitionId: z.string(),
    principalId: z.string().optional(),
    principalTenantId: z.string().optional(),
    userEmailAddress: z.string().optional(),
});
export type CreateBillingRoleAssignmentBody = z.infer<typeof CreateBillingRoleAssignmentBody>;

// ---------------------------------------------------------------------------
// Invoices

export const InvoiceDocument = z.looseObject({
    kind: z.string().nullish(),
    name: z.string().nullish(),
    url: z.string().nullish(),
    source: z.string().nullish(),
    documentNumbers: z.array(z.string()).nullish(),
});
export type InvoiceDocument = z.infer<typeof InvoiceDocument>;

export const InvoiceProperties = z.looseObject({
    amountDue: Amount.nullish(),
    billedAmount: Amount.nullish(),
    totalAmount: Amount.nullish(),
    subTotal: Amount.nullish(),
    taxAmount: Amount.nullish(),
    billingProfileId: z.string().nullish(),
    billingProfileDisplayName: z.string().nullish(),
    documents: z.array(InvoiceDocument).nullish(),
    documentType: z.string().nullish(),
    dueDate: z.string().nullish(),
    invoiceDate: z.string().nullish(),
    invoicePeriodStartDate: z.string().nullish(),
    invoicePeriodEndDate: z.string().nullish(),
    isMonthlyInvoice: z.boolean().nullish(),
    purchaseOrderNumber: z.string().nullish(),
    status: z.string().nullish(),
});
export const Invoice = z.looseObject({ ...armResource, properties: InvoiceProperties });
export type Invoice = z.infer<typeof Invoice>;
export const InvoiceList = ListPage(Invoice);

/** Result of an invoice download operation (`DocumentDownloadResult`). */
export const DocumentDownloadResult = z.looseObject({
    url: z.string(),
    expiryTime: z.string().nullish(),
});
export type DocumentDownloadResult = z.infer<typeof DocumentDownloadResult>;

// ---------------------------------------------------------------------------
// Microsoft Graph

/** The fields of a Graph `user` we select. `mail` is null for users without a mailbox. */
export const GraphUser = z.looseObject({
    id: z.string(),
    mail: z.string().nullish(),
    userPrincipalName: z.string().nullish(),
    displayName: z.string().nullish(),
});
export type GraphUser = z.infer<typeof GraphUser>;

// ---------------------------------------------------------------------------
// Error bodies. Azure's billing service is known to answer with all three.

/** The ARM envelope `{error:{code,message,target,details}}` (common-types v5 ErrorResponse). */
export const ArmErrorEnvelope = z.looseObject({
    error: z.looseObject({
        code: z.string(),
        message: z.string().optional().default(""),
        target: z.string().nullish(),
        details: z.array(z.unknown()).nullish(),
    }),
});
/** A bare `{code,message}`, as some billing endpoints return. */
export const BareError = z.looseObject({
    code: z.string(),
    message: z.string().optional().default(""),
    target: z.string().nullish(),
});
/** An ASP.NET validation problem `{title,status,errors}`. */
export const ValidationProblem = z.looseObject({
    title: z.string(),
    status: z.number().optional(),
    type: z.string().optional(),
    traceId: z.string().optional(),
    errors: z.record(z.string(), z.array(z.string())).optional(),
});
export type ArmErrorEnvelope = z.infer<typeof ArmErrorEnvelope>;

/** One entry of the ARM envelope's `details` (common-types v5 ErrorDetail). */
export interface ArmErrorDetail {
    code: string;
    message: string;
    target?: string;
}

/** The ARM envelope, as the emulator writes it; `target` and `details` only when given. */
export function armError(code: string, message: string, target?: string, details?: readonly ArmErrorDetail[]): z.input<typeof ArmErrorEnvelope> {
    return { error: { code, message, ...(target ? { target } : {}), ...(details?.length ? { details: [...details] } : {}) } };
}

/**
 * Reads any of the three error bodies into `{code, message, target}`.
 * Returns undefined when the body is none of them.
 */
export function parseErrorBody(body: unknown): { code: string; message: string; target?: string } | undefined {
    const arm = ArmErrorEnvelope.safeParse(body);
    if (arm.success) return { code: arm.data.error.code, message: arm.data.error.message, target: arm.data.error.target ?? undefined };
    const bare = BareError.safeParse(body);
    if (bare.success) return { code: bare.data.code, message: bare.data.message, target: bare.data.target ?? undefined };
    const problem = ValidationProblem.safeParse(body);
    if (problem.success) {
        const fields = Object.entries(problem.data.errors ?? {});
        const detail = fields.map(([k, v]) => `${k}: ${v.join(" ")}`).join("; ");
        return {
            code: "ValidationFailed",
            message: detail ? `${problem.data.title} ${detail}` : problem.data.title,
            target: fields.length === 1 ? fields[0][0] : undefined,
        };
    }
    return undefined;
}
