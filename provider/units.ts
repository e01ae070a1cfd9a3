/**
 * Durations and byte sizes as users type them (`30s`, `15m`, `25MB`) and as
 * messages print them (pure). One parser for stack config, the environment
 * and command-line flags, so a value means the same wherever it is set.
 */

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses a duration: a number and a unit, `ms`, `s`, `m` or `h` (e.g. `30s`,
 * `5m`, `1h`, `1.5s`). Returns milliseconds, or undefined when malformed. A
 * bare number is refused: `60` could mean seconds or milliseconds.
 */
export function parseDuration(value: string): number | undefined {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
    if (!m) return undefined;
    const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS]);
    return Number.isFinite(ms) ? ms : undefined;
}

/** A duration for a message: `60 s`, `15 min`, `1.5 h`, `250 ms`. */
export function formatDuration(ms: number): string {
    const trim = (n: number) => String(Math.round(n * 10) / 10);
    if (ms < 1000) return `${ms} ms`;
    if (ms < 60_000) return `${trim(ms / 1000)} s`;
    if (ms < 3_600_000) return `${trim(ms / 60_000)} min`;
    return `${trim(ms / 3_600_000)} h`;
}

/** Byte units: decimal (MB = 10^6 bytes, as disk and network sizes are quoted) and binary (MiB = 2^20). */
const SIZE_UNITS: Record<string, number> = {
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    kib: 2 ** 10,
    mib: 2 ** 20,
    gib: 2 ** 30,
};

/**
 * Parses a byte size: a number and a unit, `B`, `kB`, `MB`, `GB` (powers of
 * 1000) or `KiB`, `MiB`, `GiB` (powers of 1024), case-insensitive (e.g.
 * `25MB`, `32 MiB`, `1.5GB`). Returns bytes, or undefined when malformed. A
 * bare number is refused: `25` would be 25 bytes to us and 25 MB to a reader.
 */
export function parseByteSize(value: string): number | undefined {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]{1,3})\s*$/i.exec(value);
    if (!m) return undefined;
    const unit = SIZE_UNITS[m[2].toLowerCase()];
    if (unit === undefined) return undefined;
    const bytes = Math.round(Number(m[1]) * unit);
    return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A byte size for a message, in decimal units: `25 MB`, `1.5 kB`, `812 bytes`. */
export function formatByteSize(bytes: number): string {
    const trim = (n: number) => String(Math.round(n * 10) / 10);
    if (bytes < 1000) return `${bytes} bytes`;
    if (bytes < 1e6) return `${trim(bytes / 1e3)} kB`;
    if (bytes < 1e9) return `${trim(bytes / 1e6)} MB`;
    return `${trim(bytes / 1e9)} GB`;
}
