/**
 * Long-running operations, the ARM `Location` pattern Microsoft's billing API
 * uses (`final-state-via: location`): the request answers 202 with `Location`
 * and `Retry-After`; GET on the Location answers 202 while the operation is
 * pending and 200 with the final body once it completes.
 *
 * The emulator applies the change when the operation completes (on the poll
 * after `pendingPolls` polls), not when it is accepted: until then a GET of
 * the resource shows the old state, so a client that does not poll sees that
 * its change has not landed yet. Azure may show either; this is the stricter
 * of the two for clients.
 *
 * Locations (absolute, on the origin the request was sent to):
 * - PUT billing profile: `{account}/operationResults/putBillingProfile_<guid>`
 * - createBillingRoleAssignment: `{profile}/operationResults/createBillingRoleAssignment_<guid>`
 * - invoice download: `{account}/invoices/{invoice}/operationResults/invoiceDownload_<guid>`
 */
import { API_VERSION } from "../provider/billing/contract";
import { fail } from "./errors";
import { type EmulatorSettings, type EmulatorState, type LroKind, type LroRecord, accountPath, deterministicGuid, profilePath, sameName } from "./model";
import type { EmulatorStore } from "./store";

/** The path (without query) of an operation's Location. */
export function operationResultPath(rec: Pick<LroRecord, "kind" | "id" | "billingAccountName" | "billingProfileName" | "invoiceName">): string {
    switch (rec.kind) {
        case "putBillingProfile":
            return `${accountPath(rec.billingAccountName)}/operationResults/${rec.id}`;
        case "createBillingRoleAssignment":
            return `${profilePath(rec.billingAccountName, rec.billingProfileName ?? "")}/operationResults/${rec.id}`;
        case "invoiceDownload":
            return `${accountPath(rec.billingAccountName)}/invoices/${rec.invoiceName ?? ""}/operationResults/${rec.id}`;
    }
}

/** The absolute Location of an operation, on `origin`. */
export function locationOf(origin: string, rec: LroRecord): string {
    return `${origin}${operationResultPath(rec)}?api-version=${API_VERSION}`;
}

/** Headers of a 202: where to poll and how long to wait. */
export function acceptedHeaders(origin: string, rec: LroRecord, settings: EmulatorSettings): Record<string, string> {
    return { Location: locationOf(origin, rec), "Retry-After": String(settings.retryAfterSeconds) };
}

/**
 * Records a new pending operation. Its input must already be validated and
 * authorized: completion only applies it.
 */
export function acceptOperation(
    store: EmulatorStore,
    init: { kind: LroKind; billingAccountName: string; billingProfileName?: string; invoiceName?: string; input: unknown; principalId: string; now: Date },
): { record: LroRecord; settings: EmulatorSettings } {
    return store.update((draft) => {
        const n = ++draft.counters.operation;
        const record: LroRecord = {
            id: `${init.kind}_${deterministicGuid(`operation:${n}`)}`,
            kind: init.kind,
            billingAccountName: init.billingAccountName,
            billingProfileName: init.billingProfileName ?? null,
            invoiceName: init.invoiceName ?? null,
            input: init.input,
            principalId: init.principalId,
            pollsRemaining: draft.settings.pendingPolls,
            status: "Pending",
            createdAt: init.now.toISOString(),
        };
        draft.operations.push(record);
        return { record: structuredClone(record), settings: draft.settings };
    });
}

/** A Location path the emulator answers, parsed. */
export interface OperationResultRoute {
    billingAccountName: string;
    billingProfileName?: string;
    invoiceName?: string;
    operationName: string;
}

const ROUTES: Array<{ re: RegExp; keys: Array<keyof OperationResultRoute> }> = [
    { re: /^\/providers\/Microsoft\.Billing\/billingAccounts\/([^/]+)\/operationResults\/([^/]+)\/?$/i, keys: ["billingAccountName", "operationName"] },
    {
        re: /^\/providers\/Microsoft\.Billing\/billingAccounts\/([^/]+)\/billingProfiles\/([^/]+)\/operationResults\/([^/]+)\/?$/i,
        keys: ["billingAccountName", "billingProfileName", "operationName"],
    },
    {
        re: /^\/providers\/Microsoft\.Billing\/billingAccounts\/([^/]+)\/invoices\/([^/]+)\/operationResults\/([^/]+)\/?$/i,
        keys: ["billingAccountName", "invoiceName", "operationName"],
    },
];

/** Matches an operation-result path (any method; the caller checks it is GET). */
export function matchOperationResult(pathname: string): OperationResultRoute | undefined {
    for (const { re, keys } of ROUTES) {
        const m = re.exec(pathname);
        if (!m) continue;
        const out: Partial<OperationResultRoute> = {};
        keys.forEach((k, i) => {
            out[k] = decodeURIComponent(m[i + 1]);
        });
        return out as OperationResultRoute;
    }
    return undefined;
}

/** Applies a completed operation to the state and returns its final body. Throws to fail the poll (nothing is committed). */
export type CompleteOperation = (draft: EmulatorState, rec: LroRecord) => unknown;

/**
 * Answers one poll of a Location: 202 while polls remain (counting this one
 * down), else completes the operation (once) and answers 200 with its final
 * body. Throws 404 when no such operation exists at that path.
 */
export function pollOperation(
    store: EmulatorStore,
    route: OperationResultRoute,
    complete: CompleteOperation,
): { status: 200; record: LroRecord; body: unknown } | { status: 202; record: LroRecord; settings: EmulatorSettings } {
    return store.update((draft) => {
        const rec = draft.operations.find(
            (o) =>
                sameName(o.id, route.operationName) &&
                sameName(o.billingAccountName, route.billingAccountName) &&
                (route.billingProfileName === undefined || sameName(o.billingProfileName, route.billingProfileName)) &&
                (route.invoiceName === undefined || sameName(o.invoiceName, route.invoiceName)),
        );
        if (!rec) throw fail.notFound("OperationNotFound", `Operation '${route.operationName}' was not found at this location.`);
        // A Location of one kind must not answer at another kind's path.
        const expected = operationResultPath(rec).toLowerCase();
        const kindMatches =
            (route.invoiceName !== undefined) === (rec.kind === "invoiceDownload") &&
            (route.billingProfileName !== undefined) === (rec.kind === "createBillingRoleAssignment");
        if (!kindMatches || !expected.endsWith(route.operationName.toLowerCase())) {
            throw fail.notFound("OperationNotFound", `Operation '${route.operationName}' was not found at this location.`);
        }
        if (rec.status === "Succeeded") return { status: 200 as const, record: structuredClone(rec), body: rec.result };
        if (rec.pollsRemaining > 0) {
            rec.pollsRemaining--;
            return { status: 202 as const, record: structuredClone(rec), settings: draft.settings };
        }
        const body = complete(draft, rec);
        rec.status = "Succeeded";
        rec.result = body;
        return { status: 200 as const, record: structuredClone(rec), body };
    });
}
