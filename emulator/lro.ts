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
 * Operations are run-time records, kept in memory only (an
 * {@link OperationTable}), not in the store: accepting or polling one changes
 * no state, so it costs the same at any state size and writes nothing to
 * disk. Like Azure's, they expire: an operation is forgotten
 * {@link OPERATION_RETENTION_MS} after it was accepted or last polled, or
 * when {@link MAX_OPERATIONS} newer ones exist; its Location then answers 404
 * `OperationNotFound`, as does every Location after a restart. The change a
 * PUT or role assignment operation stands for is made in the store when the
 * operation completes, so what a 200 acknowledged survives a restart.
 *
 * A poll is authorized like the request that started the operation: the
 * poller needs, now, the accepting operation's access at the operation's
 * scope (`authorizeOperationResult` in authz.ts), else 403
 * `AuthorizationFailed` and the poll changes nothing. A poll completes a
 * pending change and hands out its result (a signed PDF link for a
 * download), so knowing a Location is not enough.
 *
 * Locations (absolute, on the origin the request was sent to):
 * - PUT billing profile: `{account}/operationResults/putBillingProfile_<guid>`
 * - createBillingRoleAssignment: `{profile}/operationResults/createBillingRoleAssignment_<guid>`
 * - invoice download: `{account}/invoices/{invoice}/operationResults/invoiceDownload_<guid>`
 */
import { randomUUID } from "node:crypto";
import { API_VERSION } from "../provider/billing/contract";
import { fail } from "./errors";
import { PATHS, fillPath, matchPath } from "../provider/billing/paths";
import { type EmulatorSettings, type LroKind, type LroRecord, sameName } from "./model";
import type { EmulatorStore } from "./store";

/** How long an operation is kept after it was accepted or last polled: 10 minutes (on the emulator's clock). */
export const OPERATION_RETENTION_MS = 10 * 60 * 1000;
/** How many operations are kept at most; the least recently used go first. */
export const MAX_OPERATIONS = 10_000;

/**
 * The operations the emulator knows, by id (case-insensitive, like ARM), in
 * order of last use. Bounded in time and count, so a long benchmark or a
 * client that never polls cannot grow it without end.
 */
export class OperationTable {
    private readonly byId = new Map<string, { record: LroRecord; expiresAt: number }>();

    constructor(private readonly limits: { retentionMs: number; max: number } = { retentionMs: OPERATION_RETENTION_MS, max: MAX_OPERATIONS }) {}

    /** Adds a new operation, then forgets the expired and the surplus ones. */
    add(record: LroRecord, now: Date): void {
        this.byId.set(record.id.toLowerCase(), { record, expiresAt: now.getTime() + this.limits.retentionMs });
        this.prune(now);
    }

    /** The operation with this id, if it is still kept, without counting as use (a refused poll must not keep it alive). */
    find(id: string, now: Date): LroRecord | undefined {
        this.prune(now);
        return this.byId.get(id.toLowerCase())?.record;
    }

    /** The operation with this id, if it is still kept; finding it counts as use (its retention starts again). */
    use(id: string, now: Date): LroRecord | undefined {
        this.prune(now);
        const key = id.toLowerCase();
        const entry = this.byId.get(key);
        if (!entry) return undefined;
        this.byId.delete(key);
        entry.expiresAt = now.getTime() + this.limits.retentionMs;
        this.byId.set(key, entry);
        return entry.record;
    }

    /** The operations kept, least recently used first. */
    list(now: Date): LroRecord[] {
        this.prune(now);
        return [...this.byId.values()].map((e) => e.record);
    }

    get size(): number {
        return this.byId.size;
    }

    /** Forgets the operations past their retention and those beyond the count bound (least recently used first). */
    private prune(now: Date): void {
        const t = now.getTime();
        for (const [key, entry] of this.byId) {
            // Map order is order of last use, so (with a clock that moves forward) expiry times grow along it.
            if (entry.expiresAt > t && this.byId.size <= this.limits.max) break;
            this.byId.delete(key);
        }
    }
}

/** The path (without query) of an operation's Location. */
export function operationResultPath(rec: Pick<LroRecord, "kind" | "id" | "billingAccountName" | "billingProfileName" | "invoiceName">): string {
    const params = { billingAccountName: rec.billingAccountName, operationName: rec.id };
    switch (rec.kind) {
        case "putBillingProfile":
            return fillPath(PATHS.accountOperationResult, params);
        case "createBillingRoleAssignment":
            return fillPath(PATHS.profileOperationResult, { ...params, billingProfileName: rec.billingProfileName ?? "" });
        case "invoiceDownload":
            return fillPath(PATHS.invoiceOperationResult, { ...params, invoiceName: rec.invoiceName ?? "" });
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
 * authorized: completion only applies it. Changes no state.
 */
export function acceptOperation(
    operations: OperationTable,
    settings: EmulatorSettings,
    init: { kind: LroKind; billingAccountName: string; billingProfileName?: string; invoiceName?: string; input: unknown; principalId: string; now: Date },
): LroRecord {
    const record: LroRecord = {
        id: `${init.kind}_${randomUUID()}`,
        kind: init.kind,
        billingAccountName: init.billingAccountName,
        billingProfileName: init.billingProfileName ?? null,
        invoiceName: init.invoiceName ?? null,
        input: init.input,
        principalId: init.principalId,
        pollsRemaining: settings.pendingPolls,
        status: "Pending",
        createdAt: init.now.toISOString(),
    };
    operations.add(record, init.now);
    return structuredClone(record);
}

/** A Location path the emulator answers, parsed. */
export interface OperationResultRoute {
    billingAccountName: string;
    billingProfileName?: string;
    invoiceName?: string;
    operationName: string;
}

const RESULT_PATHS = [PATHS.accountOperationResult, PATHS.profileOperationResult, PATHS.invoiceOperationResult];

/** Matches an operation-result path (any method; the caller checks it is GET). */
export function matchOperationResult(pathname: string): OperationResultRoute | undefined {
    for (const template of RESULT_PATHS) {
        const params = matchPath(template, pathname);
        if (params) {
            const { billingAccountName, billingProfileName, invoiceName, operationName } = params;
            return { billingAccountName, billingProfileName, invoiceName, operationName };
        }
    }
    return undefined;
}

/**
 * Completes an operation: makes the change it stands for in the store (in one
 * `store.update`, all or nothing) and returns its final body. Throws to fail
 * the poll; the operation then stays pending.
 */
export type CompleteOperation = (store: EmulatorStore, rec: LroRecord) => unknown;

/**
 * Authorizes one poll of a kept operation: throws (403) unless the poller may
 * see its result and, while it is pending, complete it. Called before the
 * poll counts down, completes or answers anything.
 */
export type AuthorizePoll = (rec: Readonly<LroRecord>) => void;

/**
 * Answers one poll of a Location: 202 while polls remain (counting this one
 * down), else completes the operation (once) and answers 200 with its final
 * body. Throws 404 when no such operation is kept at that path, and whatever
 * `authorize` throws (403) when the poller may not have its result; a refused
 * poll changes nothing, not even the operation's retention.
 */
export function pollOperation(
    operations: OperationTable,
    store: EmulatorStore,
    route: OperationResultRoute,
    authorize: AuthorizePoll,
    complete: CompleteOperation,
    now: Date,
): { status: 200; record: LroRecord; body: unknown } | { status: 202; record: LroRecord; settings: EmulatorSettings } {
    const notFound = () => fail.notFound("OperationNotFound", `Operation '${route.operationName}' was not found at this location.`);
    const rec = operations.find(route.operationName, now);
    if (
        !rec ||
        !sameName(rec.billingAccountName, route.billingAccountName) ||
        (route.billingProfileName !== undefined && !sameName(rec.billingProfileName, route.billingProfileName)) ||
        (route.invoiceName !== undefined && !sameName(rec.invoiceName, route.invoiceName))
    ) {
        throw notFound();
    }
    // A Location of one kind must not answer at another kind's path.
    const kindMatches =
        (route.invoiceName !== undefined) === (rec.kind === "invoiceDownload") &&
        (route.billingProfileName !== undefined) === (rec.kind === "createBillingRoleAssignment");
    if (!kindMatches) throw notFound();
    authorize(rec);
    operations.use(rec.id, now);
    if (rec.status === "Succeeded") return { status: 200, record: structuredClone(rec), body: rec.result };
    if (rec.pollsRemaining > 0) {
        rec.pollsRemaining--;
        return { status: 202, record: structuredClone(rec), settings: store.read((s) => ({ ...s.settings })) };
    }
    const body = complete(store, rec);
    rec.status = "Succeeded";
    rec.result = body;
    return { status: 200, record: structuredClone(rec), body };
}
