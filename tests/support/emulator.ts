/**
 * Test harness for the billing emulator: one emulator per suite on a free
 * loopback port, admin helpers, and billing clients acting as the seeded
 * principals. Tests talk to it over real HTTP only.
 */
import { adminCall } from "../../dev/emulator-admin";
import { SEED, startEmulator, type RequestLogEntry } from "../../emulator";
import { createBillingClient, type BillingClient } from "../../provider/billing/client";
import { resolveSettings, type RetrySettings } from "../../provider/config";

export { SEED };
export type SeedUser = keyof typeof SEED.users;

/** Fast retries and polls, so fault tests do not wait seconds between attempts. */
export const FAST_RETRY: Partial<RetrySettings> = { retryDelayInMs: 20, maxRetryDelayInMs: 200, lroDefaultPollInMs: 20 };

export type { RequestLogEntry };

export interface TestEmulator {
    url: string;
    /** A billing client authenticated as a seeded user (or with a raw token). */
    client(user: SeedUser | { token: string }, retry?: Partial<RetrySettings>): BillingClient;
    token(user: SeedUser): string;
    admin: {
        settings(patch: Record<string, unknown>): Promise<void>;
        faults(spec: Record<string, unknown>): Promise<void>;
        clearFaults(): Promise<void>;
        requests(): Promise<RequestLogEntry[]>;
        clearRequests(): Promise<void>;
        state(): Promise<any>;
        issueInvoice(billingAccountName: string, billingProfileName: string, body?: Record<string, unknown>): Promise<any>;
    };
    close(): Promise<void>;
}

/** Starts an emulator (port 0) with the given options. */
export async function startTestEmulator(options: Parameters<typeof startEmulator>[0] = {}): Promise<TestEmulator> {
    const emu = await startEmulator(options);
    const url = emu.url;
    return {
        url,
        token: (user) => SEED.users[user].token,
        client(user, retry) {
            const token = typeof user === "string" ? SEED.users[user].token : user.token;
            return createBillingClient(resolveSettings({ explicit: { endpoint: url, token }, retry: { ...FAST_RETRY, ...retry } }));
        },
        admin: {
            settings: (patch) => adminCall(url, "POST", "settings", patch),
            faults: (spec) => adminCall(url, "POST", "faults", spec),
            clearFaults: () => adminCall(url, "DELETE", "faults"),
            requests: async () => {
                const r = await adminCall(url, "GET", "requests");
                return (Array.isArray(r) ? r : r.value) as RequestLogEntry[];
            },
            clearRequests: () => adminCall(url, "DELETE", "requests"),
            state: () => adminCall(url, "GET", "state"),
            issueInvoice: (ba, bp, body) => adminCall(url, "POST", `billingAccounts/${ba}/billingProfiles/${bp}/invoices`, body ?? {}),
        },
        close: () => emu.close(),
    };
}
