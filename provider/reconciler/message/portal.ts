/**
 * The link to an invoice in the Azure portal of the cloud the billing API is
 * in. Known clouds only, recognised by their Azure Resource Manager host (the
 * pairs of Azure's own environment definitions: `resourceManagerEndpointUrl`
 * and `portalUrl` of AzureCloud, AzureUSGovernment and AzureChinaCloud); the
 * emulator, a proxy or any other endpoint gets no link, because a link into
 * the wrong portal is worse than none.
 *
 * The invoice's page is the portal's invoice details view, addressed as the
 * portal itself addresses it:
 *
 *     https://portal.azure.com/#view/Microsoft_Azure_GTM/InvoiceDetailsBlade
 *       /invoiceId/<invoice>/scopeId/<invoice's ARM id>
 *       /invoicePeriodStartDate/<start>/invoicePeriodEndDate/<end>
 *
 * each value URL-encoded, the dates as Azure returns them. Without a billing
 * period it cannot be addressed, and the link is to the portal's invoice list
 * (`#view/Microsoft_Azure_GTM/ModernBillingMenuBlade/~/Invoices`) instead.
 */
import { invoiceId } from "../../billing/paths";
import type { InvoiceFacts } from "../facts";

/** A cloud whose portal we can link to. */
export interface AzureCloud {
    name: "AzureCloud" | "AzureUSGovernment" | "AzureChinaCloud";
    /** The portal's origin, no trailing slash. */
    portal: string;
}

const CLOUDS_BY_ARM_HOST: Readonly<Record<string, AzureCloud>> = {
    "management.azure.com": { name: "AzureCloud", portal: "https://portal.azure.com" },
    "management.usgovcloudapi.net": { name: "AzureUSGovernment", portal: "https://portal.azure.us" },
    "management.chinacloudapi.cn": { name: "AzureChinaCloud", portal: "https://portal.azure.cn" },
};

/** The cloud of an ARM endpoint (`https://management.azure.com`), or undefined for any other (the emulator, a proxy). */
export function cloudOf(armEndpoint: string): AzureCloud | undefined {
    let url: URL;
    try {
        url = new URL(armEndpoint);
    } catch {
        return undefined;
    }
    if (url.protocol !== "https:" || (url.port !== "" && url.port !== "443")) return undefined;
    return CLOUDS_BY_ARM_HOST[url.hostname.toLowerCase()];
}

/** The invoice's page in the cloud's portal (see the module comment). */
export function invoicePortalUrl(cloud: AzureCloud, facts: Pick<InvoiceFacts, "billingAccountName" | "invoiceName" | "periodStartDate" | "periodEndDate">): string {
    const start = facts.periodStartDate?.trim();
    const end = facts.periodEndDate?.trim();
    if (!start || !end) return `${cloud.portal}/#view/Microsoft_Azure_GTM/ModernBillingMenuBlade/~/Invoices`;
    const scopeId = invoiceId(facts.billingAccountName, facts.invoiceName);
    const parts = ["invoiceId", facts.invoiceName, "scopeId", scopeId, "invoicePeriodStartDate", start, "invoicePeriodEndDate", end];
    return `${cloud.portal}/#view/Microsoft_Azure_GTM/InvoiceDetailsBlade/${parts.map(encodeURIComponent).join("/")}`;
}
