/**
 * Routing: per billing profile, who besides (or instead of) Azure's rule
 * receives the invoices, in which language, and from and to which address
 * replies go. Pure: the config file's `defaults` and `routing` blocks are
 * checked by the schemas here once, at start-up, and {@link Routing} answers
 * for each profile.
 *
 * Routing never changes the scope (`profiles` does) nor the opt-in rule: a
 * profile that is not opted in gets nothing whatever its routing says.
 *
 * - `recipients`: whose invoices Azure's data names.
 *   - `azure-rule` (default): Azure's rule, the holders of the four roles and
 *     the profile's `invoiceRecipients`;
 *   - `additional-only`: only the profile's `invoiceRecipients` (for teams
 *     whose role holders already receive Microsoft's own email);
 *   - `none`: nobody from Azure's data (with `extraRecipients`, only those).
 * - `extraRecipients`: addresses outside Azure (an AP system's intake),
 *   added to the above, normalised and de-duplicated like `invoiceRecipients`.
 * - `exclude`: address globs (`*` any run of characters, `?` one; case-
 *   insensitive; nothing else is special) removed from every source. A
 *   pattern that matches nobody is a warning.
 * - `locale`, `from`, `replyTo`: how the messages are written and signed.
 *
 * Each key of a profile's entry replaces the same key of `defaults` (lists
 * are replaced, not merged). `from`: the `--from` flag wins, then the
 * profile's entry, then `defaults`, then `INVOICE_MAIL_FROM`.
 *
 * Recipients are frozen with a plan: a routing change applies to invoices
 * planned after it. The locale, From and Reply-To are read when a message is
 * sent.
 */
import { z } from "zod";
import { emailAddress, type BillingProfileRef } from "../billing/names";
import { profileKey, profileLabel } from "./facts";
import { DEFAULT_LOCALE, localeOf, messageLocale, type MessageLocale } from "./message";
import { RECIPIENT_POLICIES, parseProfileArg, type RecipientPolicy, type RecipientRouting } from "./plan";

export { RECIPIENT_POLICIES, type RecipientPolicy } from "./plan";

const ROUTING_KEYS = ["recipients", "extraRecipients", "exclude", "locale", "from", "replyTo"] as const;

/**
 * A mailbox as a header takes it: `address` or `Display Name <address>`, one
 * line. Returns the reason it is not one, or undefined.
 */
export function mailboxProblem(value: string): string | undefined {
    const v = value.trim();
    if (/[\r\n\0]/.test(v)) return 'contains a line break: give one address on one line, e.g. billing@contoso.com or "Contoso Billing <billing@contoso.com>"';
    const m = /^(?:"?([^"<>]*?)"?\s*)?<([^<>]+)>$/.exec(v);
    const address = m ? m[2].trim() : v;
    if (!emailAddress.safeParse(address).success) return `'${value}' is not an address: use billing@contoso.com or "Contoso Billing <billing@contoso.com>"`;
    return undefined;
}

const mailbox = z
    .string({ error: "must be a string address" })
    .superRefine((v, ctx) => {
        const problem = mailboxProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform((v) => v.trim());

/** An address glob: one line of visible characters, no spaces. */
const addressGlob = z
    .string({ error: "must be a string glob such as *@contractor.example" })
    .trim()
    .min(1, { error: "is empty" })
    .max(254, { error: "is longer than 254 characters" })
    .refine((s) => /^[^\s\u0000-\u001f\u007f<>,;"]+$/.test(s), { error: "must be one address glob without spaces, commas or angle brackets, e.g. *@contractor.example" });

const locale = z.string({ error: "must be a language tag such as en-US or sv-SE" }).superRefine((v, ctx) => {
    const r = messageLocale(v);
    if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason });
});

/** One routing entry (and `defaults`). Strict: a misspelt key is an error naming the keys there are. */
export const RoutingOptions = z.strictObject(
    {
        recipients: z
            .enum(RECIPIENT_POLICIES, { error: (iss) => `must be one of ${RECIPIENT_POLICIES.join(", ")}, not ${JSON.stringify(iss.input)}` })
            .optional(),
        extraRecipients: z.array(emailAddress.transform((s) => s.trim()), { error: "must be a list of addresses" }).max(1000).optional(),
        exclude: z.array(addressGlob, { error: "must be a list of address globs" }).max(1000).optional(),
        locale: locale.optional(),
        from: mailbox.optional(),
        replyTo: mailbox.optional(),
    },
    {
        error: (iss) =>
            iss.code === "unrecognized_keys" ? `unknown key${iss.keys.length > 1 ? "s" : ""} ${iss.keys.map((k) => `'${k}'`).join(", ")}: use ${ROUTING_KEYS.join(", ")}` : undefined,
    },
);
export type RoutingOptions = z.infer<typeof RoutingOptions>;

/** The `routing` map: keys `<billingAccountName>/<billingProfileName>`, each named once (case-insensitively). */
export const RoutingMap = z.record(z.string(), RoutingOptions).transform((entries, ctx) => {
    const out = new Map<string, { ref: BillingProfileRef; options: RoutingOptions }>();
    for (const [key, options] of Object.entries(entries)) {
        const r = parseProfileArg(key);
        if (!r.ok) {
            ctx.addIssue({ code: "custom", path: [key], message: r.reason });
            continue;
        }
        const k = profileKey(r.ref);
        const seen = out.get(k);
        if (seen) {
            ctx.addIssue({ code: "custom", path: [key], message: `names the same billing profile as '${profileLabel(seen.ref)}': give each profile one entry` });
            continue;
        }
        out.set(k, { ref: r.ref, options });
    }
    return out;
});
export type RoutingMap = z.infer<typeof RoutingMap>;

/** What a profile's routing comes to. */
export interface ProfileRouting {
    recipients: RecipientPolicy;
    extraRecipients: string[];
    exclude: string[];
    locale: MessageLocale;
    /** Undefined only when nothing names a sender (then the profile cannot be sent to). */
    from: string | undefined;
    replyTo: string | undefined;
}

/** What {@link Routing} is made of. */
export interface RoutingInput {
    defaults?: RoutingOptions;
    routing?: RoutingMap;
    /** `--from`: wins over everything. */
    fromFlag?: string;
    /** `INVOICE_MAIL_FROM`: the last resort. */
    fromEnvironment?: string;
}

/** The routing of every profile (see the module comment). Immutable. */
export class Routing {
    private readonly defaults: RoutingOptions;
    private readonly entries: RoutingMap;

    constructor(private readonly input: RoutingInput = {}) {
        this.defaults = input.defaults ?? {};
        this.entries = input.routing ?? new Map();
    }

    /** The profile's routing: its entry over `defaults` over the built-in defaults. */
    forProfile(ref: BillingProfileRef): ProfileRouting {
        const entry = this.entries.get(profileKey(ref))?.options ?? {};
        const pick = <K extends keyof RoutingOptions>(k: K): RoutingOptions[K] => (entry[k] !== undefined ? entry[k] : this.defaults[k]);
        return {
            recipients: pick("recipients") ?? "azure-rule",
            extraRecipients: [...(pick("extraRecipients") ?? [])],
            exclude: [...(pick("exclude") ?? [])],
            locale: localeOf(pick("locale") ?? DEFAULT_LOCALE),
            from: this.input.fromFlag ?? entry.from ?? this.defaults.from ?? this.input.fromEnvironment,
            replyTo: pick("replyTo"),
        };
    }

    /** The recipient part of a profile's routing, as the planner takes it. */
    recipientsOf(ref: BillingProfileRef): RecipientRouting {
        const r = this.forProfile(ref);
        return { policy: r.recipients, extraRecipients: r.extraRecipients, exclude: r.exclude };
    }

    /** The profiles named in `routing`. */
    profiles(): BillingProfileRef[] {
        return [...this.entries.values()].map((e) => e.ref);
    }

    /** True when a sender is known for every profile without its own: `--from`, `defaults.from` or `INVOICE_MAIL_FROM`. */
    hasDefaultFrom(): boolean {
        return (this.input.fromFlag ?? this.defaults.from ?? this.input.fromEnvironment) !== undefined;
    }
}
