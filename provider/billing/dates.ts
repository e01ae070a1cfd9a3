/**
 * Dates as Azure sends them, read strictly (pure). `Date.parse` accepts far
 * more than ISO 8601 and rolls impossible days over: it reads `2026-02-30` as
 * 2 March and "Invoice 7" as July 2001. A date from the billing API ends up in
 * an email and decides which invoices a run sends, so it is accepted only in
 * ISO 8601's calendar form and only when the instant it names reads back as
 * the same calendar fields (the round-trip check that refuses 30 February).
 */

/**
 * `YYYY-MM-DD`, optionally followed by `THH:MM`, `:SS`, a fraction of any
 * length (Azure sends seven digits) and a zone (`Z` or `±HH:MM`; none means
 * UTC, as Azure's billing dates are).
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;

/**
 * The instant an ISO 8601 date or date-time names, in ms since the epoch, or
 * undefined when `value` is not one (wrong form, or a day, hour, minute or
 * second that does not exist, such as `2026-02-30` or `24:00`).
 */
export function parseIsoInstant(value: string): number | undefined {
    const m = ISO_8601.exec(value);
    if (!m) return undefined;
    const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v))) as number[];
    const fraction = m[7] ? Number(`0.${m[7]}`) : 0;
    // Round trip: the calendar fields must survive being turned into an instant and back.
    const local = Date.UTC(year, month - 1, day, hour, minute, second);
    const back = new Date(local);
    if (
        back.getUTCFullYear() !== year ||
        back.getUTCMonth() !== month - 1 ||
        back.getUTCDate() !== day ||
        back.getUTCHours() !== hour ||
        back.getUTCMinutes() !== minute ||
        back.getUTCSeconds() !== second
    ) {
        return undefined;
    }
    let offsetMinutes = 0;
    const zone = m[8];
    if (zone && zone !== "Z" && zone !== "z") {
        const hours = Number(zone.slice(1, 3));
        const minutes = Number(zone.slice(4, 6));
        if (hours > 23 || minutes > 59) return undefined;
        offsetMinutes = (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
    }
    return local + Math.floor(fraction * 1000) - offsetMinutes * 60_000;
}

/**
 * The UTC calendar day (`YYYY-MM-DD`) of an ISO 8601 date or date-time, or
 * undefined when `value` is not a valid one.
 */
export function isoDay(value: string): string | undefined {
    const t = parseIsoInstant(value);
    return t === undefined ? undefined : new Date(t).toISOString().slice(0, 10);
}
