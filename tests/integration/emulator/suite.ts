/**
 * What the emulator's HTTP tests share: a fixed clock, an invoice window
 * wide enough for every seeded invoice, and an emulator per describe block on
 * a free port with no Retry-After waits.
 */
import { startEmulator, type EmulatorHandle } from "../../../emulator";
import { EmulatorHttp } from "../support/emulator-http";

export const NOW = new Date("2025-03-15T10:00:00Z");
export const WIDE = { periodStartDate: "2024-01-01", periodEndDate: "2025-12-31" };

/** Starts an emulator on a free port with a fixed clock and no Retry-After waits. */
async function start(extra: Parameters<typeof startEmulator>[0] = {}): Promise<{ emu: EmulatorHandle; api: EmulatorHttp }> {
    const emu = await startEmulator({ now: () => NOW, ...extra, settings: { retryAfterSeconds: 0, ...(extra.settings ?? {}) } });
    return { emu, api: new EmulatorHttp(emu.url) };
}

/** An emulator for the enclosing describe block: started before its tests, closed after them. */
export function suite(extra: Parameters<typeof startEmulator>[0] = {}) {
    const ctx = {} as { emu: EmulatorHandle; api: EmulatorHttp };
    before(async () => Object.assign(ctx, await start(extra)));
    after(async () => ctx.emu?.close());
    return ctx;
}
