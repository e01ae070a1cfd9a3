/**
 * The local Azure Billing + Graph emulator: a small, honest Azure for tests,
 * examples and demos (see README.md in this folder).
 *
 * ```ts
 * const emulator = await startEmulator({ dataDir: ".emulator" });
 * // ARM and Graph endpoint: emulator.url; tokens: emulator.principals
 * await emulator.close();
 * ```
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { z } from "zod";
import { ConfigurationError } from "../provider/billing/configurationError";
import { type PrincipalSummary, principalsView } from "./admin";
import { type EmulatorSettings, type EmulatorState, SettingsPatch } from "./model";
import { DEFAULT_REQUEST_LOG_LIMIT, MAX_PDF_CACHE_BYTES, MAX_REQUEST_LOG_LIMIT, PDF_CACHE_BYTES, createRuntime } from "./runtime";
import { type SeedOptions, createSeedState } from "./seed";
import { createRequestListener } from "./server";
import { type EmulatorStore, createMemoryStore, openFileStore } from "./store";

export { SEED, MCA_ACCOUNT, MPA_ACCOUNT, TENANT_ID, ROLE_DEFINITION_IDS, PROFILE_ROLE_NAMES, ACCOUNT_ROLE_NAMES, type SeedUserKey } from "./fixtures";
export type { SeedOptions } from "./seed";
export { MAX_PDF_PADDING_BYTES, type EmulatorSettings, type EmulatorState, type SettingsPatch } from "./model";
export type { PrincipalSummary } from "./admin";
export type { RequestLogEntry, FaultRule } from "./runtime";
export { DEFAULT_REQUEST_LOG_LIMIT, MAX_PDF_CACHE_BYTES, MAX_REQUEST_LOG_LIMIT, PDF_CACHE_BYTES } from "./runtime";
export type { EmulatorStore } from "./store";

/** The only address the emulator listens on: it has no authentication of its own admin API. */
export const EMULATOR_HOST = "127.0.0.1";

export interface EmulatorOptions {
    /** TCP port; 0 (default) picks a free one, reported as `handle.port`. */
    port?: number;
    /** Directory to keep state in across restarts; without it, state lives in memory. One running emulator per directory (`dataDir/.lock`). */
    dataDir?: string;
    /** The clock (default: the system clock). Seeded invoices are dated relative to it. */
    now?: () => Date;
    /** Seed options, used only when the state is created (not when an existing `dataDir` is reopened). */
    seed?: SeedOptions;
    /** Settings to apply at start (they override persisted ones); see `EmulatorSettings`. */
    settings?: SettingsPatch;
    /** Receives one line per Azure-facing request (default: silent). */
    log?: (line: string) => void;
    /** How many requests `GET /_emulator/requests` keeps, the last ones (default 10,000). */
    requestLogLimit?: number;
    /**
     * How many bytes of rendered invoice PDFs to keep, least recently used
     * dropped first (default 256 MiB: 2,000 invoices padded to 100 KB). A
     * PDF not kept is rendered again on its next download, which costs the
     * emulator milliseconds of CPU: raise it for a load test over more
     * invoices than that.
     */
    pdfCacheBytes?: number;
}

export interface EmulatorHandle {
    /** `http://127.0.0.1:PORT`: the ARM endpoint and the Graph endpoint (Graph paths start with `/v1.0`). */
    readonly url: string;
    /** The port bound. */
    readonly port: number;
    readonly host: typeof EMULATOR_HOST;
    /** Same as `url`; named for the client's settings. */
    readonly armEndpoint: string;
    /** Same as `url`; named for the client's settings. */
    readonly graphEndpoint: string;
    /** The state file, when `dataDir` was given. */
    readonly stateFile: string | undefined;
    /** True when this start created the state (seeded), false when it reopened `dataDir`. */
    readonly seeded: boolean;
    /** The principals with their tokens and role assignments, as at start. */
    readonly principals: readonly PrincipalSummary[];
    /** The current settings. */
    settings(): EmulatorSettings;
    /** A deep copy of the current state (what `GET /_emulator/state` returns). Change state through the APIs. */
    state(): EmulatorState;
    /**
     * Stops listening, ends open connections and releases the store. The
     * state is already persisted after every change, so closing never loses
     * one. Safe to call twice.
     */
    close(): Promise<void>;
}

const Options = z.object({
    port: z.number().int().min(0).max(65535).default(0),
    dataDir: z.string().min(1).optional(),
    seed: z.object({ extraProfiles: z.number().int().min(0).max(10000).optional() }).optional(),
    settings: SettingsPatch.optional(),
    requestLogLimit: z.number().int().min(1).max(MAX_REQUEST_LOG_LIMIT).default(DEFAULT_REQUEST_LOG_LIMIT),
    pdfCacheBytes: z.number().int().min(0).max(MAX_PDF_CACHE_BYTES).default(PDF_CACHE_BYTES),
});

function listen(server: http.Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
            server.off("listening", onListening);
            reject(
                err.code === "EADDRINUSE"
                    ? new ConfigurationError("emulator port", `port ${port} on ${EMULATOR_HOST} is already in use: choose another port, or 0 for a free one`)
                    : err,
            );
        };
        const onListening = () => {
            server.off("error", onError);
            resolve();
        };
        server.once("error", onError);
        server.once("listening", onListening);
        server.listen(port, EMULATOR_HOST);
    });
}

/**
 * Starts the emulator and resolves once it listens on 127.0.0.1.
 *
 * Fails with a {@link ConfigurationError} for bad options, a taken port or
 * a `dataDir` that another running emulator holds (`dataDir/.lock`), and with an Error naming the file when `dataDir` holds state that is not
 * valid; nothing is left listening in either case.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
    const parsed = Options.safeParse({
        port: options.port,
        dataDir: options.dataDir,
        seed: options.seed,
        settings: options.settings,
        requestLogLimit: options.requestLogLimit,
        pdfCacheBytes: options.pdfCacheBytes,
    });
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ConfigurationError(`emulator option ${issue.path.join(".")}`, issue.message);
    }
    const opts = parsed.data;
    const now = options.now ?? (() => new Date());

    let store: EmulatorStore;
    let seeded = true;
    if (opts.dataDir) {
        const opened = openFileStore(path.resolve(opts.dataDir), () => createSeedState({ now: now(), seed: opts.seed }));
        store = opened.store;
        seeded = opened.created;
    } else {
        store = createMemoryStore(createSeedState({ now: now(), seed: opts.seed }));
    }
    if (opts.settings && Object.keys(opts.settings).length > 0) {
        const patch = opts.settings;
        store.update((d) => {
            d.settings = { ...d.settings, ...patch };
        });
    }

    const runtime = createRuntime({ requestLogLimit: opts.requestLogLimit, pdfCacheBytes: opts.pdfCacheBytes });
    const server = http.createServer(createRequestListener({ store, runtime, now, log: options.log }));
    try {
        await listen(server, opts.port);
    } catch (err) {
        await store.close();
        throw err;
    }
    const port = (server.address() as AddressInfo).port;
    const url = `http://${EMULATOR_HOST}:${port}`;

    let closing: Promise<void> | undefined;
    return {
        url,
        port,
        host: EMULATOR_HOST,
        armEndpoint: url,
        graphEndpoint: url,
        stateFile: store.location,
        seeded,
        principals: store.read(principalsView),
        settings: () => store.read((s) => ({ ...s.settings })),
        state: () => store.snapshot(),
        close() {
            closing ??= (async () => {
                await new Promise<void>((resolve) => {
                    server.close(() => resolve());
                    server.closeAllConnections();
                });
                await store.close();
            })();
            return closing;
        },
    };
}
