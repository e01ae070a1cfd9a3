/**
 * The scope step of a pass: which billing profiles are reconciled, and how
 * their invoices are listed. Today each profile lists its own invoices (one
 * paged call per profile); listing them once per billing account instead
 * changes only this file, because a {@link ProfileTarget} carries its own
 * way to list.
 */
import type { BillingClient } from "../billing/client";
import type { BillingProfileRef } from "../billing/names";
import { parseBillingProfileId } from "../billing/paths";
import type { BillingProfile, Invoice } from "../billing/schemas";
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
    const add = (profile: BillingProfile, fallback: BillingProfileRef) => {
        const ref = refOf(profile, fallback);
        const k = profileKey(ref);
        if (seen.has(k)) return;
        seen.add(k);
        targets.push({
            ref,
            profile,
            listInvoices: (window) => client.listInvoices(ref, { periodStartDate: window.start, periodEndDate: window.end }),
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
                        add(p, { billingAccountName: account.name, billingProfileName: p.name });
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
                add(await client.getBillingProfile(ref), ref);
            } catch (err) {
                const s = emptyProfileSummary(ref, null, null);
                s.errors.push(`cannot read the billing profile: ${describeError(err)}`);
                unreadable.push(s);
            }
        }
    }
    return { targets, unreadable, errors };
}
