/**
 * The Azure Billing (and Graph) client. Every request is built from the
 * shared contract (contract.ts), every input is validated before a URL exists,
 * and every response is parsed with its zod schema before a caller sees it.
 *
 * Failure contract, for every method:
 * - bad input -> {@link ValidationError} naming the property; no request made;
 * - Azure says no -> {@link AzureApiError} with status, ARM code, message and
 *   request id (after the pipeline's retries for 408/429/5xx);
 * - Azure answers something the contract does not declare, or a body that
 *   does not parse -> {@link AzureApiError} with code `UnexpectedStatus` /
 *   `InvalidResponse`.
 * Methods named `tryGet…` return `undefined` for 404 instead of throwing.
 */
import { ZodError, type z } from "zod";
import type { HttpClient } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/core-auth";
import type { ClientSettings } from "../config";
import { isLoopbackHost } from "../config";
import { AzureApiError, ValidationError, issuesFromZod } from "../errors";
import { sleep } from "../sleep";
import { buildRequest, operations, responseSchema, type AnyOperation, type BodyOf, type ItemOf, type ParamsOf, type QueryOf, type ResultOf } from "./contract";
import { type BillingProfileRef } from "./names";
import type { ListQuery } from "./query";
import { sameId } from "./paths";
import { InvoiceEmailSettingsInput, invoiceEmailSettingsOf, mergeInvoiceEmailSettings, sameRecipients, type InvoiceEmailSettings } from "./profile";
import {
    parseErrorBody,
    type BillingAccount,
    type BillingProfile,
    type BillingRoleAssignment,
    type BillingRoleDefinition,
    type CreateBillingRoleAssignmentBody,
    type DeleteBillingProfileEligibilityResult,
    type DocumentDownloadResult,
    type GraphUser,
    type Invoice,
} from "./schemas";
import { Transport, type RawResponse, type RequestTiming } from "./transport";
import { formatDuration } from "../units";

/** Outcome of {@link BillingClient.updateInvoiceEmailSettings}. */
export interface InvoiceEmailUpdate {
    /** The profile as Azure holds it after the call. */
    profile: BillingProfile;
    /** The two fields before the call. */
    before: InvoiceEmailSettings;
    /** False when the profile already had the desired values and nothing was written. */
    written: boolean;
}

function checkInvoiceEmailSettings(desired: InvoiceEmailSettings): InvoiceEmailSettings {
    const checked = InvoiceEmailSettingsInput.safeParse(desired);
    if (!checked.success) throw new ValidationError(issuesFromZod(checked.error), "invoice email settings: invalid input");
    return checked.data;
}

function toValidationError(err: unknown, context: string): never {
    if (err instanceof ZodError) throw new ValidationError(issuesFromZod(err), context);
    throw err;
}

export interface BillingClientOptions {
    /** Replace the HTTP client (tests, proxies). */
    httpClient?: HttpClient;
    /** Replace the credential the settings would create. */
    credential?: TokenCredential;
    /** Told of every request once it is over, with its timing (a trace; see resources/trace.ts). */
    onRequest?: (timing: RequestTiming) => void;
}

/** What an invoice list takes: the period and the list options (both dates optional, `YYYY-MM-DD`). */
export interface InvoiceListQuery extends ListQuery {
    periodStartDate?: string;
    periodEndDate?: string;
}

export class BillingClient {
    private readonly transport: Transport;

    constructor(
        readonly settings: ClientSettings,
        options: BillingClientOptions = {},
    ) {
        this.transport = new Transport(settings, options);
    }

    // -----------------------------------------------------------------------
    // Generic contract calls

    /**
     * Calls one operation: validates, sends, follows a long-running operation
     * to completion, and parses the result with the contract's schema.
     */
    async call<O extends AnyOperation>(
        operation: O,
        params: ParamsOf<O>,
        options: { query?: QueryOf<O>; body?: BodyOf<O> } = {},
    ): Promise<{ status: number; value: ResultOf<O>; requestId?: string }> {
        let built;
        try {
            built = buildRequest(operation, params, options.query, options.body);
        } catch (err) {
            toValidationError(err, `${operation.id}: invalid input`);
        }
        const url = this.transport.base(operation.api) + built.pathAndQuery;
        const response = await this.transport.send(operation.api, built.method, url, built.body, operation.id);
        const completed =
            response.status === 202 && "final" in operation && operation.final
                ? await this.pollLongRunning(operation, response)
                : { status: response.status, value: this.parse(operation, response), requestId: response.requestId };
        // The contract's schema for the status (or the final body) parsed the value.
        return completed as { status: number; value: ResultOf<O>; requestId?: string };
    }

    /** Lists every item of a list operation, following `nextLink` (absolute or relative). */
    async listAll<O extends AnyOperation>(operation: O, params: ParamsOf<O>, query?: QueryOf<O>): Promise<Array<ItemOf<O>>> {
        type Page = { value: Array<ItemOf<O>>; nextLink?: string | null };
        let page = (await this.call(operation, params, { query })).value as Page;
        const items: Array<ItemOf<O>> = [];
        const seen = new Set<string>();
        for (;;) {
            // One by one: spreading a page into push()'s arguments overflows the stack on a large page.
            for (const item of page.value) items.push(item);
            if (!page.nextLink) return items;
            const next = this.sameOriginUrl(operation.api, page.nextLink, "nextLink", operation.id, 200);
            if (seen.has(next)) {
                throw new AzureApiError({ status: 200, code: "InvalidResponse", message: `nextLink loops: page ${seen.size + 1} links back to ${next}, a page already read`, operation: operation.id });
            }
            const maxPages = this.settings.limits.maxPages;
            if (seen.size >= maxPages - 1) {
                throw new AzureApiError({ status: 200, code: "InvalidResponse", message: `the list has more than ${maxPages.toLocaleString("en-US")} pages; refusing to read further`, operation: operation.id });
            }
            seen.add(next);
            const response = await this.transport.send(operation.api, "GET", next, undefined, operation.id);
            page = this.parse(operation, response) as Page;
        }
    }

    /** Parses a response with the contract; non-success statuses become {@link AzureApiError}. */
    private parse(operation: AnyOperation, response: RawResponse, schemaOverride?: z.ZodType): unknown {
        const declared = schemaOverride ?? responseSchema(operation, response.status);
        if (response.status >= 400 || declared === undefined) throw this.errorFrom(operation, response);
        if (declared === null) return undefined;
        const result = declared.safeParse(response.json);
        if (!result.success) {
            const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
            throw new AzureApiError({
                status: response.status,
                code: "InvalidResponse",
                message: `the response body does not match the ${operation.id} contract: ${issues.join("; ")}`,
                operation: operation.id,
                requestId: response.requestId,
            });
        }
        return result.data;
    }

    private errorFrom(operation: AnyOperation, response: RawResponse): AzureApiError {
        const parsed = parseErrorBody(response.json);
        if (parsed) {
            return new AzureApiError({ status: response.status, ...parsed, operation: operation.id, requestId: response.requestId });
        }
        const code = response.status >= 400 ? `Http${response.status}` : "UnexpectedStatus";
        const text = response.bodyText ? `: ${response.bodyText.slice(0, 300)}` : "";
        return new AzureApiError({
            status: response.status,
            code,
            message: response.status >= 400 ? `the service answered ${response.status}${text}` : `status ${response.status} is not in the ${operation.id} contract${text}`,
            operation: operation.id,
            requestId: response.requestId,
        });
    }

    /**
     * Resolves a link Azure gave us and refuses to send our token to any
     * other origin. `status` is that of the answer that carried the link (a
     * Location comes with a 202, a nextLink with a 200), for the error.
     */
    private sameOriginUrl(api: "arm" | "graph", link: string, what: string, operation: string, status: number): string {
        const base = this.transport.base(api);
        let url: URL;
        try {
            url = new URL(link, base + "/");
        } catch {
            throw new AzureApiError({ status, code: "InvalidResponse", message: `${what} '${link}' is not a URL`, operation });
        }
        if (url.origin !== new URL(base).origin) {
            throw new AzureApiError({
                status,
                code: "InvalidResponse",
                message: `${what} points at ${url.origin}, not ${new URL(base).origin}; refusing to send credentials there`,
                operation,
            });
        }
        return url.toString();
    }

    /**
     * Polls the `Location` of a 202 until the operation completes, waiting
     * `Retry-After` seconds between polls (or the default poll interval).
     * Hand-written rather than @azure/core-lro: our operations only use the
     * `Location` pattern, and the final body must go through our contract.
     */
    private async pollLongRunning(operation: AnyOperation, accepted: RawResponse): Promise<{ status: number; value: unknown; requestId?: string }> {
        const final = "final" in operation ? (operation.final as z.ZodType) : undefined;
        // Our operations complete via Location (`final-state-via: location` in the spec).
        const location = accepted.headers["location"];
        if (!location) {
            throw new AzureApiError({
                status: 202,
                code: "InvalidResponse",
                message: "accepted (202) without a Location header to poll",
                operation: operation.id,
                requestId: accepted.requestId,
            });
        }
        const url = this.sameOriginUrl(operation.api, location, "Location", operation.id, accepted.status);
        const limitMs = this.settings.limits.operationTimeoutInMs;
        const deadline = Date.now() + limitMs;
        // The deadline holds during a poll too: it aborts a poll in flight (and the pipeline's retries of it).
        const timedOut = () =>
            new AzureApiError({
                status: 0,
                code: "OperationTimedOut",
                message: `the long-running operation did not complete within ${formatDuration(limitMs)} (the operation timeout); it may still complete: poll ${url} or try again later. To wait longer, raise ${this.settings.sources.limits.operationTimeout}`,
                operation: operation.id,
                requestId: accepted.requestId,
            });
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(timedOut()), limitMs);
        try {
            let last = accepted;
            for (;;) {
                const wait = Math.min(this.retryAfterMs(last), deadline - Date.now());
                if (wait < 0 || controller.signal.aborted) throw timedOut();
                await sleep(wait, controller.signal);
                if (controller.signal.aborted) throw timedOut();
                last = await this.transport.send(operation.api, "GET", url, undefined, operation.id, controller.signal);
                if (last.status === 202) continue;
                if (last.status === 204 || (last.status === 200 && !last.bodyText)) {
                    return { status: last.status, value: undefined, requestId: accepted.requestId };
                }
                if (last.status === 200 && final) {
                    return { status: 200, value: this.parse(operation, last, final), requestId: accepted.requestId };
                }
                throw this.errorFrom(operation, last);
            }
        } finally {
            clearTimeout(timer);
        }
    }

    private retryAfterMs(response: RawResponse): number {
        const h = response.headers["retry-after"];
        if (h !== undefined) {
            const seconds = Number(h);
            const cap = this.settings.retry.maxRetryAfterInMs;
            if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, cap);
            const date = Date.parse(h);
            if (Number.isFinite(date)) return Math.min(Math.max(0, date - Date.now()), cap);
        }
        return this.settings.retry.lroDefaultPollInMs;
    }

    // -----------------------------------------------------------------------
    // Billing accounts and profiles

    /** The billing accounts the caller has a role on (or on one of whose profiles), all pages. */
    async listBillingAccounts(options: ListQuery = {}): Promise<BillingAccount[]> {
        return this.listAll(operations.listBillingAccounts, {}, options);
    }

    async getBillingAccount(billingAccountName: string): Promise<BillingAccount> {
        return (await this.call(operations.getBillingAccount, { billingAccountName })).value;
    }

    async listBillingProfiles(billingAccountName: string, options: Omit<ListQuery, "orderBy"> = {}): Promise<BillingProfile[]> {
        return this.listAll(operations.listBillingProfiles, { billingAccountName }, options);
    }

    async getBillingProfile(ref: BillingProfileRef): Promise<BillingProfile> {
        return (await this.call(operations.getBillingProfile, ref)).value;
    }

    /** Like {@link getBillingProfile}, but `undefined` when the profile does not exist (404). */
    async tryGetBillingProfile(ref: BillingProfileRef): Promise<BillingProfile | undefined> {
        return this.orUndefinedOn404(() => this.getBillingProfile(ref));
    }

    /**
     * Sets the opt-in and the additional recipients of a billing profile by
     * read-merge-write: GET the profile, then {@link writeInvoiceEmailSettings}.
     * The desired values are validated before any request.
     */
    async updateInvoiceEmailSettings(ref: BillingProfileRef, desired: InvoiceEmailSettings): Promise<InvoiceEmailUpdate> {
        checkInvoiceEmailSettings(desired);
        return this.writeInvoiceEmailSettings(ref, await this.getBillingProfile(ref), desired);
    }

    /**
     * The write half of a read-merge-write, for callers that read the profile
     * themselves (to record what it held first): replaces only
     * `invoiceEmailOptIn` and `invoiceRecipients` of `current`, PUTs it back
     * without read-only properties, and follows a 202 to completion. Writes
     * nothing when `current` already has the desired values (recipients
     * compared case-insensitively as a set).
     *
     * Failure: a refused PUT (4xx) changed nothing. A PUT that was accepted
     * but not confirmed (long-running operation timed out, connection lost,
     * 5xx after retries) may or may not have been applied: see
     * `writeMayHaveApplied` in the resources.
     */
    async writeInvoiceEmailSettings(ref: BillingProfileRef, current: BillingProfile, desired: InvoiceEmailSettings): Promise<InvoiceEmailUpdate> {
        desired = checkInvoiceEmailSettings(desired);
        const before = invoiceEmailSettingsOf(current);
        if (before.invoiceEmailOptIn === desired.invoiceEmailOptIn && sameRecipients(before.invoiceRecipients, desired.invoiceRecipients)) {
            return { profile: current, before, written: false };
        }
        const body = mergeInvoiceEmailSettings(current, desired);
        const result = await this.call(operations.putBillingProfile, ref, { body });
        // A 202 whose operation result has no body: read the profile back.
        const profile = result.value ?? (await this.getBillingProfile(ref));
        return { profile, before, written: true };
    }

    /** Whether a billing profile may be deleted, and if not, why (`validateDeleteEligibility`). */
    async validateBillingProfileDeleteEligibility(ref: BillingProfileRef): Promise<DeleteBillingProfileEligibilityResult> {
        return (await this.call(operations.validateBillingProfileDeleteEligibility, ref)).value;
    }

    /**
     * Deletes a billing profile, following a 202 to completion. Azure refuses
     * a profile that has invoices, charges or is the account's last one
     * ({@link AzureApiError} with the reasons in its message, as
     * {@link validateBillingProfileDeleteEligibility} lists them).
     */
    async deleteBillingProfile(ref: BillingProfileRef): Promise<void> {
        await this.call(operations.deleteBillingProfile, ref);
    }

    // -----------------------------------------------------------------------
    // Role definitions and assignments

    async listRoleDefinitions(ref: BillingProfileRef): Promise<BillingRoleDefinition[]> {
        return this.listAll(operations.listBillingRoleDefinitions, ref);
    }

    /**
     * Finds a role definition of the profile by its `roleName` (case-insensitive),
     * e.g. "Invoice manager". Never assumes a GUID: MCA and MPA differ.
     */
    async resolveRoleDefinition(ref: BillingProfileRef, roleName: string): Promise<BillingRoleDefinition> {
        const all = await this.listRoleDefinitions(ref);
        const wanted = roleName.trim().toLowerCase();
        const found = all.find((d) => d.properties.roleName.trim().toLowerCase() === wanted);
        if (!found) {
            throw new AzureApiError({
                status: 404,
                code: "RoleDefinitionNotFound",
                message: `billing profile ${ref.billingProfileName} has no role named '${roleName}'; it has: ${all.map((d) => d.properties.roleName).join(", ") || "none"}`,
                operation: "resolveRoleDefinition",
            });
        }
        return found;
    }

    async listRoleAssignments(ref: BillingProfileRef, options: Omit<ListQuery, "orderBy"> = {}): Promise<BillingRoleAssignment[]> {
        return this.listAll(operations.listBillingRoleAssignments, ref, options);
    }

    /** The role definitions of a billing account itself (Billing account owner, contributor, reader). Needs an account role. */
    async listAccountRoleDefinitions(billingAccountName: string): Promise<BillingRoleDefinition[]> {
        return this.listAll(operations.listBillingRoleDefinitionsByBillingAccount, { billingAccountName });
    }

    async getAccountRoleDefinition(billingAccountName: string, roleDefinitionName: string): Promise<BillingRoleDefinition> {
        return (await this.call(operations.getBillingRoleDefinitionByBillingAccount, { billingAccountName, roleDefinitionName })).value;
    }

    /** The role assignments at a billing account's own scope. Needs an account role. */
    async listAccountRoleAssignments(billingAccountName: string, options: Omit<ListQuery, "orderBy"> = {}): Promise<BillingRoleAssignment[]> {
        return this.listAll(operations.listBillingRoleAssignmentsByBillingAccount, { billingAccountName }, options);
    }

    async getAccountRoleAssignment(billingAccountName: string, billingRoleAssignmentName: string): Promise<BillingRoleAssignment> {
        return (await this.call(operations.getBillingRoleAssignmentByBillingAccount, { billingAccountName, billingRoleAssignmentName })).value;
    }

    /**
     * The actions the caller may perform on a billing profile
     * (`billingPermissions`): the union of every entry's `actions`, less its
     * `notActions`, in the order Azure lists them.
     */
    async listBillingPermissions(ref: BillingProfileRef): Promise<string[]> {
        const entries = await this.listAll(operations.listBillingPermissions, ref);
        const not = new Set(entries.flatMap((e) => e.notActions ?? []).map((a) => a.toLowerCase()));
        const actions = entries.flatMap((e) => e.actions ?? []).filter((a) => !not.has(a.toLowerCase()));
        return [...new Set(actions)];
    }

    async getRoleAssignment(ref: BillingProfileRef, billingRoleAssignmentName: string): Promise<BillingRoleAssignment> {
        return (await this.call(operations.getBillingRoleAssignment, { ...ref, billingRoleAssignmentName })).value;
    }

    /** Like {@link getRoleAssignment}, but `undefined` when it does not exist (404). */
    async tryGetRoleAssignment(ref: BillingProfileRef, billingRoleAssignmentName: string): Promise<BillingRoleAssignment | undefined> {
        return this.orUndefinedOn404(() => this.getRoleAssignment(ref, billingRoleAssignmentName));
    }

    /**
     * Creates a role assignment on the profile (POST createBillingRoleAssignment)
     * and waits for the long-running operation when Azure answers 202.
     */
    async createRoleAssignment(ref: BillingProfileRef, body: CreateBillingRoleAssignmentBody): Promise<BillingRoleAssignment> {
        const result = await this.call(operations.createBillingRoleAssignment, ref, { body });
        if (result.value) return result.value;
        // Completed without a body: find what was created.
        const all = await this.listRoleAssignments(ref);
        const created = all.find(
            (a) =>
                sameId(a.properties.roleDefinitionId, body.roleDefinitionId) &&
                (body.principalId
                    ? a.properties.principalId?.toLowerCase() === body.principalId.toLowerCase()
                    : a.properties.userEmailAddress?.toLowerCase() === body.userEmailAddress?.toLowerCase()),
        );
        if (!created) {
            throw new AzureApiError({
                status: result.status,
                code: "InvalidResponse",
                message: "the role assignment operation completed but the assignment is not listed",
                operation: "createBillingRoleAssignment",
                requestId: result.requestId,
            });
        }
        return created;
    }

    /** Deletes a role assignment. Returns false when it was already gone (404), which is success. */
    async deleteRoleAssignment(ref: BillingProfileRef, billingRoleAssignmentName: string): Promise<{ deleted: boolean }> {
        try {
            await this.call(operations.deleteBillingRoleAssignment, { ...ref, billingRoleAssignmentName });
            return { deleted: true };
        } catch (err) {
            if (err instanceof AzureApiError && err.notFound) return { deleted: false };
            throw err;
        }
    }

    // -----------------------------------------------------------------------
    // Invoices

    /**
     * Invoices of a profile, all pages. The period (dates `YYYY-MM-DD`,
     * inclusive, each optional) bounds the invoice date; a date left out is
     * not sent, and leaves that side unbounded. `filter`, `orderBy` (invoice
     * dates) and `top` (the page size) as {@link ListQuery} says.
     */
    async listInvoices(ref: BillingProfileRef, query: InvoiceListQuery = {}): Promise<Invoice[]> {
        return this.listAll(operations.listInvoices, ref, query);
    }

    /**
     * Invoices of every billing profile of an account the caller may read,
     * all pages: one paged list instead of one per profile. Takes what
     * {@link listInvoices} takes.
     */
    async listInvoicesByBillingAccount(billingAccountName: string, query: InvoiceListQuery = {}): Promise<Invoice[]> {
        return this.listAll(operations.listInvoicesByBillingAccount, { billingAccountName }, query);
    }

    async getInvoice(billingAccountName: string, invoiceName: string): Promise<Invoice> {
        return (await this.call(operations.getInvoice, { billingAccountName, invoiceName })).value;
    }

    /**
     * Asks Azure for a download link of an invoice document (long-running:
     * 202 + Location, then `{url, expiryTime}`).
     */
    async requestInvoiceDownload(billingAccountName: string, invoiceName: string, documentName?: string): Promise<DocumentDownloadResult> {
        const result = await this.call(operations.downloadInvoice, { billingAccountName, invoiceName }, { query: { documentName } });
        if (!result.value) {
            throw new AzureApiError({
                status: result.status,
                code: "InvalidResponse",
                message: "the download operation completed without a document link",
                operation: "downloadInvoice",
                requestId: result.requestId,
            });
        }
        return result.value;
    }

    /**
     * Checks that a document link is safe to fetch: https, or the configured
     * emulator's own origin when the emulator runs on loopback over http.
     * Throws {@link ValidationError} on property `url`. Pure.
     */
    checkDocumentUrl(link: string): URL {
        let url: URL;
        try {
            url = new URL(link);
        } catch {
            throw new ValidationError([{ property: "url", reason: `'${link}' is not an absolute URL` }], "invoice document link");
        }
        if (url.protocol === "https:") return url;
        const emulator = new URL(this.settings.endpoint);
        if (url.protocol === "http:" && emulator.protocol === "http:" && isLoopbackHost(emulator.hostname) && url.origin === emulator.origin) {
            return url;
        }
        throw new ValidationError(
            [{ property: "url", reason: `refusing to download over ${url.protocol.replace(":", "")} from ${url.origin}: document links must be https (plain http only from the configured local emulator)` }],
            "invoice document link",
        );
    }

    /** GETs a document link without the ARM token and returns its bytes. */
    async fetchDocument(link: string): Promise<Buffer> {
        const url = this.checkDocumentUrl(link);
        return (await this.transport.getDocument(url.toString(), "downloadDocument")).bytes;
    }

    /**
     * Downloads the PDF of an invoice: requests the link of the named
     * document (or, without `documentName`, the one Azure picks), then fetches
     * the bytes and checks they are a PDF (else {@link AzureApiError}
     * `InvalidDocument`). The document name is the invoice's
     * `invoiceDocumentName` (billing/profile.ts) when the caller has the
     * invoice, or what a stored plan recorded of it.
     */
    async downloadInvoicePdf(document: {
        billingAccountName: string;
        invoiceName: string;
        documentName?: string;
    }): Promise<{ bytes: Buffer; link: DocumentDownloadResult }> {
        const link = await this.requestInvoiceDownload(document.billingAccountName, document.invoiceName, document.documentName);
        const bytes = await this.fetchDocument(link.url);
        if (bytes.subarray(0, 5).toString("latin1") !== "%PDF-") {
            throw new AzureApiError({
                status: 200,
                code: "InvalidDocument",
                message: `the document of invoice ${document.invoiceName} is not a PDF (${bytes.length} bytes starting ${JSON.stringify(bytes.subarray(0, 16).toString("latin1"))})`,
                operation: "downloadDocument",
            });
        }
        return { bytes, link };
    }

    // -----------------------------------------------------------------------
    // Microsoft Graph

    /** Resolves a user by object id or user principal name (email). */
    async getGraphUser(userId: string): Promise<GraphUser> {
        const result = await this.call(operations.getGraphUser, { userId }, { query: { $select: "id,mail,userPrincipalName,displayName" } });
        return result.value;
    }

    /** Like {@link getGraphUser}, but `undefined` when there is no such user (404). */
    async tryGetGraphUser(userId: string): Promise<GraphUser | undefined> {
        return this.orUndefinedOn404(() => this.getGraphUser(userId));
    }

    private async orUndefinedOn404<T>(fn: () => Promise<T>): Promise<T | undefined> {
        try {
            return await fn();
        } catch (err) {
            if (err instanceof AzureApiError && err.notFound) return undefined;
            throw err;
        }
    }
}

/** Creates a client for resolved settings. */
export function createBillingClient(settings: ClientSettings, options?: BillingClientOptions): BillingClient {
    return new BillingClient(settings, options);
}
