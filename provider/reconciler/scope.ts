/**
 * The scope step of a pass: which billing profiles are reconciled, and how
 * their invoices are listed. When the pass covers every profile the caller
 * can read, a billing account with two or more of them lists its invoices
 * once, in one paged call for the whole account
 * (`GET .../billingAccounts/{account}/invoices`), shared by its profiles, so
 * a pass with nothing new makes O(accounts + pages) calls instead of one
 * list per profile. Profiles named one by one (`--profile`, the config's
 * `profiles`) list their own: a few profiles of a large account need not
 * page through all of its invoices, and one profile's broken list fails
 * that profile only. A {@link ProfileTarget} carries its own way to list, so
 * nothing else knows.
 */
import type { BillingClient } from "../billing/client";
import type { BillingProfileRef } from "../billing/names";
import { parseBillingProfileId } from "../billing/paths";
import type { BillingProfile, Invoice } from "../billing/schemas";
import { AzureApiError } from "../errors";
import { profileKey } from "./facts";
import { isOptedIn, type InvoiceWindow } from "./plan";
import { describeError, emptyProfileSummary, type ProfileSummary } from "./summary";

/** One billing profile to reconcile. */
export interface ProfileTarget {
    /** The profile's names as Azure spells them. */
    ref: BillingProfileRef;
    profile: BillingProfile;
    /** Lists the profile's invoices in the window. */
    listInvoices(window: InvoiceWindow): Promise<Invoice[]>;
    /** Filled in as the pass goes. */
    summary: ProfileSummary;
}

/** What the scope step found. */
export interface Scope {
    targets: ProfileTarget[];
    /** Profiles asked for by name that could not be read (reported, not reconciled). */
    unreadable: ProfileSummary[];
    /** Listing failures not tied to one profile. */
    errors: string[];
}

/**
 * One billing account's invoices in a window, listed once for all of its
 * profiles in the pass and handed out per profile (by each invoice's
 * `billingProfileId`). When the account's list is refused (a caller with
 * roles on some profiles only), or names an invoice without a profile it can
 * be given to, each profile lists its own instead: nothing is guessed.
 */
class AccountInvoices {
    private readonly lists = new Map<string, Promise<Map<string, Invoice[]> | undefined>>();
    constructor(
        private readonly client: BillingClient,
        private readonly billingAccountName: string,
    ) {}

    async of(ref: BillingProfileRef, window: InvoiceWindow): Promise<Invoice[]> {
        const period = { periodStartDate: window.start, periodEndDate: window.end };
        const key = `${window.start}/${window.end}`;
        let list = this.lists.get(key);
        if (!list) {
            list = this.client.listInvoicesByBillingAccount(this.billingAccountName, period).then(byProfile, (err: unknown) => {
                if (err instanceof AzureApiError && err.forbidden) return undefined;
                throw err;
            });
            this.lists.set(key, list);
        }
        const groups = await list;
        if (!groups) return this.client.listInvoices(ref, period);
        return groups.get(profileKey(ref)) ?? [];
    }
}

/** An account's invoices by profile key; undefined when one cannot be given to a profile. */
function byProfile(invoices: Invoice[]): Map<string, Invoice[]> | undefined {
    const groups = new Map<string, Invoice[]>();
    for (const invoice of invoices) {
        const ref = invoice.properties.billingProfileId ? parseBillingProfileId(invoice.properties.billingProfileId) : undefined;
        if (!ref) return undefined;
        const k = profileKey(ref);
        const group = groups.get(k);
        if (group) group.push(invoice);
        else groups.set(k, [invoice]);
    }
    return groups;
}

/** The names of a profile as Azure spells them (from its id), falling back to what was asked. */
function refOf(profile: BillingProfile, fallback: BillingProfileRef): BillingProfileRef {
    return parseBillingProfileId(profile.id) ?? { billingAccountName: fallback.billingAccountName, billingProfileName: profile.name };
}

/**
 * Reads the profiles in scope: the ones named (each read once; one that
 * cannot be read is reported), or every profile of every billing account
 * the caller can read (profiles listed with `hasReadAccess: false` are
 * skipped). Never throws for an API error: it is reported.
 */
export async function resolveScope(client: BillingClient, scope: BillingProfileRef[] | "all", signal?: AbortSignal): Promise<Scope> {
    const targets: ProfileTarget[] = [];
    const unreadable: ProfileSummary[] = [];
    const errors: string[] = [];
    const seen = new Set<string>();
    /** Profiles in the pass per billing account (lower-cased) that may share its list; counted before any is listed. */
    const perAccount = new Map<string, number>();
    const accounts = new Map<string, AccountInvoices>();
    const add = (profile: BillingProfile, fallback: BillingProfileRef, byAccount: boolean) => {
        const ref = refOf(profile, fallback);
        const k = profileKey(ref);
        if (seen.has(k)) return;
        seen.add(k);
        const account = ref.billingAccountName.toLowerCase();
        if (byAccount) perAccount.set(account, (perAccount.get(account) ?? 0) + 1);
        targets.push({
            ref,
            profile,
            listInvoices: (window) => {
                if ((perAccount.get(account) ?? 0) < 2) return client.listInvoices(ref, { periodStartDate: window.start, periodEndDate: window.end });
                let shared = accounts.get(account);
                if (!shared) accounts.set(account, (shared = new AccountInvoices(client, ref.billingAccountName)));
                return shared.of(ref, window);
            },
            summary: emptyProfileSummary(ref, profile.properties.displayName ?? null, isOptedIn(profile)),
        });
    };
    if (scope === "all") {
        try {
            for (const account of await client.listBillingAccounts()) {
                if (signal?.aborted) break;
                try {
                    for (const p of await client.listBillingProfiles(account.name)) {
                        // Listed but not readable (e.g. a role on another profile of the account only).
                        if (p.properties.hasReadAccess === false) continue;
                        add(p, { billingAccountName: account.name, billingProfileName: p.name }, true);
                    }
                } catch (err) {
                    errors.push(`billing account ${account.name}: cannot list its billing profiles: ${describeError(err)}`);
                }
            }
        } catch (err) {
            errors.push(`cannot list billing accounts: ${describeError(err)}`);
        }
    } else {
        for (const ref of scope) {
            if (signal?.aborted) break;
            try {
                add(await client.getBillingProfile(ref), ref, false);
            } catch (err) {
                const s = emptyProfileSummary(ref, null, null);
                s.errors.push(`cannot read the billing profile: ${describeError(err)}`);
                unreadable.push(s);
            }
        }
    }
    return { targets, unreadable, errors };
}
