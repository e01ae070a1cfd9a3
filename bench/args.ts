/**
 * How every benchmark reads its flags: strictly (node's util.parseArgs, no
 * positionals), each number checked against its range before anything
 * starts, so that a typo costs a second and not a ten-minute run that then
 * fails or, worse, measures something else (`--pdf-kb abc` used to pad
 * nothing). A bad flag is the commands' own {@link UsageError}, with their
 * wording: the runner (entry.ts) prints its message and the usage, without a
 * stack, and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError, wholeNumber } from "../cli/args";

export { UsageError };

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>["values"];

/** Parses `argv` strictly; an unknown flag, a missing value or a positional is a {@link UsageError}. */
export function benchFlags<const O extends Options>(argv: string[], options: O): Values<O> {
    try {
        return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
    } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
    }
}

/** A whole-number flag in `[min, max]`, `fallback` when absent. */
export function wholeNumberFlag(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
    return wholeNumber(`--${flag}`, raw, min, max) ?? fallback;
}

/** A number flag (decimals allowed) in `[min, max]`, `fallback` when absent. */
export function numberFlag(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
    const n = raw === undefined ? fallback : Number(raw.trim() === "" ? NaN : raw);
    if (!Number.isFinite(n) || n < min || n > max) {
        throw new UsageError(`--${flag} must be a number from ${min} to ${max}, not '${raw}'`);
    }
    return n;
}

/** A comma-separated list of whole numbers, each in `[min, max]`. */
export function wholeNumberListFlag(flag: string, raw: string | undefined, fallback: readonly number[], min: number, max: number): number[] {
    if (raw === undefined) return [...fallback];
    return raw.split(",").map((word) => {
        try {
            return wholeNumberFlag(flag, word, 0, min, max);
        } catch {
            throw new UsageError(`--${flag} takes comma-separated whole numbers from ${min} to ${max}, not '${word}'`);
        }
    });
}

/** A comma-separated flag's values, each checked against `allowed`, in `order`. */
export function listFlag<T>(flag: string, text: string, allowed: Record<string, T>, order: readonly T[]): T[] {
    const picked = new Set<T>();
    for (const word of text.split(",").map((w) => w.trim())) {
        const v = Object.hasOwn(allowed, word) ? allowed[word] : undefined;
        if (v === undefined) throw new UsageError(`--${flag} takes a comma-separated list of ${Object.keys(allowed).join(", ")}, not '${word}'`);
        picked.add(v);
    }
    return order.filter((v) => picked.has(v));
}
