/**
 * Dates, periods, amounts and statuses as a reader of one locale writes them,
 * by `Intl` (pure; formatters are built once per locale, because building one
 * costs far more than using it). A value Azure did not give, or gave in a
 * form that is not what it claims (a date that is not ISO 8601), is shown as
 * {@link MISSING}, never guessed.
 */
import { isoDay } from "../../billing/dates";
import type { StatusKey } from "./catalogue";

/** What the email shows for a fact Azure did not give. */
export const MISSING = "—";

/** An amount as stored in the plan's facts. */
export interface Money {
    value: number;
    currency: string | null;
}

/** Formats, and answers about currency codes, by key: building either costs more than the formatting. */
const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat | boolean>();

function cached<T extends Intl.DateTimeFormat | Intl.NumberFormat | boolean>(key: string, make: () => T): T {
    if (cache.has(key)) return cache.get(key) as T;
    const value = make();
    cache.set(key, value);
    return value;
}

/** Dates are calendar days in UTC, as Azure's billing dates are meant: 2024-06-01T17:32:28Z is 1 June everywhere. */
function dayFormat(locale: string): Intl.DateTimeFormat {
    return cached(`date|${locale}`, () => new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" }));
}

/** The UTC midnight of an Azure date's day, or undefined when it is no ISO 8601 date. */
function dayOf(value: string | null | undefined): Date | undefined {
    const day = value ? isoDay(value) : undefined;
    return day === undefined ? undefined : new Date(`${day}T00:00:00Z`);
}

/** A date as the locale writes it (`June 1, 2024`, `1 juni 2024`), or {@link MISSING}. */
export function formatDate(locale: string, value: string | null | undefined): string {
    const d = dayOf(value);
    return d ? dayFormat(locale).format(d) : MISSING;
}

/** A billing period as the locale writes a range (`May 1 – 31, 2024`, `1–31 maj 2024`); a missing end is {@link MISSING}. */
export function formatPeriod(locale: string, start: string | null | undefined, end: string | null | undefined): string {
    const a = dayOf(start);
    const b = dayOf(end);
    if (a && b && a.getTime() <= b.getTime()) {
        // formatRange costs about 0.25 ms a call, and an account's invoices share a few periods: one answer per locale and days.
        const key = `${locale}|${a.getTime()}|${b.getTime()}`;
        let text = periods.get(key);
        if (text === undefined) {
            if (periods.size >= MAX_PERIODS) periods.clear();
            text = dayFormat(locale).formatRange(a, b);
            periods.set(key, text);
        }
        return text;
    }
    return `${a ? dayFormat(locale).format(a) : MISSING} – ${b ? dayFormat(locale).format(b) : MISSING}`;
}

/** Periods as written, by locale and days; emptied when full, so it never holds more than this many. */
const periods = new Map<string, string>();
const MAX_PERIODS = 4096;

/** True for an ISO 4217 code `Intl` knows (Azure's currency is free text in the schema). */
function knownCurrency(currency: string): boolean {
    if (!/^[A-Za-z]{3}$/.test(currency)) return false;
    // Codes compare case-insensitively, so one answer per three letters: at most 17,576 kept.
    return cached(`currency|${currency.toUpperCase()}`, () => {
        try {
            new Intl.NumberFormat("en", { style: "currency", currency });
            return true;
        } catch {
            return false;
        }
    });
}

/**
 * An amount as the locale writes it, with the ISO currency code finance
 * teams match on (`USD 1,234.50`, `1 234,50 USD`) and the currency's own
 * number of decimals; an unknown currency keeps its code beside a plain
 * number; no amount is {@link MISSING}.
 */
export function formatMoney(locale: string, amount: Money | null | undefined): string {
    if (!amount || !Number.isFinite(amount.value)) return MISSING;
    const currency = amount.currency?.trim() || null;
    if (currency && knownCurrency(currency)) {
        return cached(`money|${locale}|${currency.toUpperCase()}`, () => new Intl.NumberFormat(locale, { style: "currency", currency, currencyDisplay: "code" })).format(amount.value);
    }
    const n = cached(`number|${locale}`, () => new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 })).format(amount.value);
    return currency ? `${n} ${currency}` : n;
}

/**
 * The status an email names for Azure's invoice status (`Due`, `OverDue`,
 * `Paid`, `Void`, `Locked`, `Other`, compared case-insensitively), or
 * undefined for a value Azure's schema does not list (shown as Azure wrote it).
 */
export function statusKeyOf(status: string): StatusKey | undefined {
    switch (status.trim().toLowerCase()) {
        case "due":
            return "due";
        case "overdue":
        case "pastdue":
            return "pastDue";
        case "paid":
            return "paid";
        case "void":
            return "void";
        case "locked":
            return "locked";
        case "other":
            return "other";
        default:
            return undefined;
    }
}
