/**
 * The words of the invoice email, per language, as data: one JSON file per
 * language in `locales/` (`en.json`, `sv.json`, ...), each checked against
 * the one schema {@link Catalogue}, which requires every key and, in every
 * message, exactly the placeholders the renderer fills (`{invoice}`, ...).
 * A catalogue with a missing, misspelt or extra key, or a message that loses
 * or invents a placeholder, is refused when it is loaded, naming the file
 * and the key.
 *
 * A locale (`sv-SE`, `en-GB`, ...) is served by the catalogue of its
 * language subtag (`sv`, `en`), or by one named after the whole tag
 * (`pt-BR.json`) when there is one; dates and amounts are formatted by `Intl`
 * for the whole tag, so `en-US` and `en-GB` share words but not date order.
 *
 * To add a language: copy `locales/en.json` to `locales/<language>.json`,
 * translate every value (keep each `{placeholder}`), and run the unit tests.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";

/** The locale of a profile whose routing names none. */
export const DEFAULT_LOCALE = "en-US";

/** The messages of a catalogue and the placeholders each must hold, exactly. */
const MESSAGES = {
    subject: ["invoice", "profile", "period"],
    preheader: ["invoice", "amount", "dueDate"],
    preheaderPaid: ["invoice", "amount"],
    heading: ["invoice"],
    intro: ["profile"],
    amountDueLabel: [],
    dueOn: ["date"],
    pastDueSince: ["date"],
    paidInFull: [],
    portalButton: [],
    portalText: [],
    attachment: ["file"],
    replyTo: ["replyTo"],
    footer: ["profile"],
} as const;

/** The labels of the invoice's facts, in the order the email shows them. */
export const FACT_KEYS = ["invoiceNumber", "billingProfile", "billingAccount", "billingPeriod", "invoiceDate", "dueDate", "totalAmount", "tax", "amountDue", "status"] as const;
export type FactKey = (typeof FACT_KEYS)[number];

/** The invoice statuses the email names (Azure's `Due`, `Paid`, `OverDue`, `Void`, `Locked`, `Other`). */
export const STATUS_KEYS = ["due", "paid", "pastDue", "void", "locked", "other"] as const;
export type StatusKey = (typeof STATUS_KEYS)[number];

type MessageKey = keyof typeof MESSAGES;

function placeholdersOf(text: string): string[] {
    return [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]).sort();
}

function message(key: MessageKey) {
    const expected = [...MESSAGES[key]].sort();
    return z
        .string()
        .trim()
        .min(1, { error: "is empty" })
        .refine((s) => JSON.stringify(placeholdersOf(s)) === JSON.stringify(expected), {
            error: expected.length > 0 ? `must hold exactly the placeholders ${expected.map((p) => `{${p}}`).join(", ")}` : "must hold no {placeholder}",
        });
}

const label = z.string().trim().min(1, { error: "is empty" }).refine((s) => !/[{}]/.test(s), { error: "must hold no {placeholder}" });

/** One language's catalogue: every key required, none other allowed. */
export const Catalogue = z.strictObject({
    /** The language's name in itself ("Svenska"), for listings. */
    language: label,
    ...(Object.fromEntries(Object.keys(MESSAGES).map((k) => [k, message(k as MessageKey)])) as { [K in MessageKey]: ReturnType<typeof message> }),
    labels: z.strictObject(Object.fromEntries(FACT_KEYS.map((k) => [k, label])) as Record<FactKey, typeof label>),
    status: z.strictObject(Object.fromEntries(STATUS_KEYS.map((k) => [k, label])) as Record<StatusKey, typeof label>),
});
export type Catalogue = z.infer<typeof Catalogue>;

/** Where the catalogues are (beside this module, in the sources and in dist/). */
export const CATALOGUE_DIR = path.join(__dirname, "locales");

let loaded: Map<string, Catalogue> | undefined;

/** Reads and checks one catalogue file; throws naming the file and the key. */
export function readCatalogue(file: string): Catalogue {
    let raw: unknown;
    try {
        raw = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new Error(`message catalogue ${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    const r = Catalogue.safeParse(raw);
    if (!r.success) {
        throw new Error(`message catalogue ${file}: ${r.error.issues.map((i) => `${i.path.join(".") || "(file)"}: ${i.message}`).join("; ")}`);
    }
    return r.data;
}

/** Every catalogue, by lower-cased file name without `.json` (`en`, `sv`, `pt-br`). Read once. */
export function catalogues(): ReadonlyMap<string, Catalogue> {
    if (!loaded) {
        const out = new Map<string, Catalogue>();
        for (const name of fs.readdirSync(CATALOGUE_DIR).sort()) {
            if (!name.endsWith(".json")) continue;
            out.set(name.slice(0, -".json".length).toLowerCase(), readCatalogue(path.join(CATALOGUE_DIR, name)));
        }
        loaded = out;
    }
    return loaded;
}

/** A locale the email can be written in: its canonical tag (for `Intl` and `lang`) and its catalogue. */
export interface MessageLocale {
    tag: string;
    catalogue: Catalogue;
}

/**
 * The locale for a BCP 47 tag (`sv-SE`, `en`, `en-GB`), or the reason it
 * cannot be used: not a language tag, no catalogue for its language, or no
 * date and number formats for it in this Node.js.
 */
export function messageLocale(tag: string): { ok: true; locale: MessageLocale } | { ok: false; reason: string } {
    // Asked for every invoice sent: the answer for a tag never changes within a process.
    let known = locales.get(tag);
    if (!known) {
        known = resolveLocale(tag);
        if (locales.size < 1000) locales.set(tag, known);
    }
    return known;
}

const locales = new Map<string, ReturnType<typeof messageLocale>>();

function resolveLocale(tag: string): ReturnType<typeof messageLocale> {
    let canonical: string;
    try {
        [canonical] = Intl.getCanonicalLocales(tag);
    } catch {
        return { ok: false, reason: `'${tag}' is not a language tag: use one such as en-US or sv-SE` };
    }
    const all = catalogues();
    const language = canonical.split("-")[0].toLowerCase();
    const catalogue = all.get(canonical.toLowerCase()) ?? all.get(language);
    const known = [...all.keys()].join(", ");
    if (!catalogue) return { ok: false, reason: `there is no message catalogue for '${tag}' (languages: ${known})` };
    if (Intl.DateTimeFormat.supportedLocalesOf([canonical]).length === 0 || Intl.NumberFormat.supportedLocalesOf([canonical]).length === 0) {
        return { ok: false, reason: `this Node.js has no date and number formats for '${tag}'` };
    }
    return { ok: true, locale: { tag: canonical, catalogue } };
}

/** {@link messageLocale}, throwing for a tag that cannot be used (for built-in defaults and tests). */
export function localeOf(tag: string): MessageLocale {
    const r = messageLocale(tag);
    if (!r.ok) throw new Error(r.reason);
    return r.locale;
}

/** Fills `{name}` placeholders with values; a placeholder without a value stays as written. */
export function fill(template: string, values: Readonly<Record<string, string>>): string {
    return template.replace(/\{([^{}]*)\}/g, (whole, name: string) => (Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole));
}
