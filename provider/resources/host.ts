/**
 * The dynamic-provider implementation that the serialized shims load by
 * package name (`require("azure-email-invoicing/dynamic")`) inside Pulumi's
 * dynamic-provider process. This is the configuration edge of that process:
 * settings come from `configure()` (stack config) and the process
 * environment, are resolved once, and are passed down as a typed value, so
 * the resources never read the environment themselves.
 *
 * Because the stored shim only names this module, whatever version of the
 * package is installed when Pulumi calls read/update/delete is the code that
 * runs: a fix here reaches stacks created by earlier versions. `abi` is the
 * version of the shim's calling convention; a stack written by a newer shim
 * than this code understands fails with a clear message instead of guessing.
 */
// First, so that its clock starts before the rest of the package loads.
import { LOAD_STARTED_AT, TRACE_FILE_ENV, Tracer, epochMs } from "./trace";
import type { dynamic } from "@pulumi/pulumi";
import type { BillingClient } from "../billing/client";
import { resolveSettings, settingsFromEnvironment, settingsFromStackConfig, type SettingsLayer } from "../config";
import { ConfigurationError } from "../errors";
import { SHIM_ABI } from "./abi";
import { RESOURCES, type ResourceKind } from "./registry";
import { withOutputFromId, withoutOutputFromId } from "./stored";

export type { ResourceKind };

/** Process-wide connection state of the dynamic-provider process (never serialized). */
const state: { stack?: SettingsLayer; client?: BillingClient; tracer?: Tracer | null } = {};

/**
 * The trace of this process, when its environment asks for one (trace.ts),
 * decided on first use; its first line says how long this package took to load.
 */
function tracer(): Tracer | undefined {
    if (state.tracer === undefined) {
        const file = process.env[TRACE_FILE_ENV];
        state.tracer = file ? new Tracer(file) : null;
        state.tracer?.write({ type: "load", pid: process.pid, start: LOAD_STARTED_AT, end: epochMs() });
    }
    return state.tracer ?? undefined;
}

/**
 * The one billing client of the process, made on first use and kept, so its
 * connections stay alive from one resource to the next.
 */
function client(): BillingClient {
    if (!state.client) {
        // The environment is read here, at the edge of the provider process, once.
        const settings = resolveSettings({ stack: state.stack, env: settingsFromEnvironment(process.env) });
        // Loaded on first use: check and diff (all a preview calls) need no client, and its
        // HTTP stack is the larger part of what this package takes to load.
        const { createBillingClient } = require("../billing/client") as typeof import("../billing/client");
        const trace = tracer();
        state.client = createBillingClient(settings, { onRequest: trace && ((t) => trace.write({ type: "request", pid: process.pid, ...t })) });
    }
    return state.client;
}

/** A Pulumi dynamic ResourceProvider for one kind. No network in check/diff. */
export function host(kind: ResourceKind, abi: number) {
    if (abi > SHIM_ABI) {
        throw new ConfigurationError(
            "azure-email-invoicing package",
            `this stack's ${kind} was written by a newer azure-email-invoicing (shim ABI ${abi}; this installation understands ${SHIM_ABI}): upgrade the azure-email-invoicing package`,
        );
    }
    const impl = RESOURCES[kind];
    if (!impl) {
        throw new ConfigurationError(
            "azure-email-invoicing package",
            `this stack names a resource kind '${kind}' that this installation does not have (it has ${Object.keys(RESOURCES).join(", ")}): install the azure-email-invoicing version that wrote the stack`,
        );
    }
    // The output that is the resource id is not stored (stored.ts): left out of what is
    // returned, put back into what the handlers are given.
    const stored = (outs: Record<string, unknown>) => withoutOutputFromId(kind, outs);
    const recorded = (id: string, props: Record<string, unknown>) => withOutputFromId(kind, id, props);
    const provider = {
        /** Needs only `config.get` of Pulumi's request (tests pass a plain getter). */
        async configure(req: { config: Pick<dynamic.Config, "get"> }): Promise<void> {
            const stack = settingsFromStackConfig((k) => req.config.get(k));
            if (JSON.stringify(stack) !== JSON.stringify(state.stack)) {
                state.stack = stack;
                state.client = undefined;
            }
        },
        async check(_olds: Record<string, unknown>, news: Record<string, unknown>) {
            return impl.check(news);
        },
        async diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
            const d = impl.diff(olds, news);
            return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace ?? false };
        },
        async create(inputs: Record<string, unknown>) {
            try {
                const r = await impl.create(client(), inputs);
                return { id: r.id, outs: stored(r.outs) };
            } catch (err) {
                // A write that may have applied: Pulumi records the error's properties as the resource's state.
                const partial = err as { properties?: Record<string, unknown> } | null;
                if (partial && typeof partial === "object" && partial.properties) partial.properties = stored(partial.properties);
                throw err;
            }
        },
        async read(id: string, props?: Record<string, unknown>) {
            const r = await impl.read(client(), id, recorded(id, props ?? {}));
            // No id tells Pulumi the resource no longer exists.
            if (!r) return {};
            return r.inputs ? { id: r.id, props: stored(r.props), inputs: r.inputs } : { id: r.id, props: stored(r.props) };
        },
        async update(id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
            return { outs: stored(await impl.update(client(), recorded(id, olds), news)) };
        },
        async delete(id: string, props: Record<string, unknown>) {
            await impl.remove(client(), recorded(id, props));
        },
    } satisfies Required<dynamic.ResourceProvider>;
    const trace = tracer();
    return trace ? traced(kind, provider, trace) : provider;
}

/** The provider with each engine call timed into the trace. */
function traced<P extends Required<dynamic.ResourceProvider>>(kind: string, provider: P, trace: Tracer): P {
    const out = { ...provider };
    for (const method of ["check", "diff", "create", "read", "update", "delete"] as const) {
        const inner = provider[method] as (...args: unknown[]) => Promise<unknown>;
        (out as Record<string, unknown>)[method] = (...args: unknown[]) => trace.call(kind, method, () => inner(...args));
    }
    return out;
}

/** For tests: forget the configured settings and client. */
export function resetHostState(): void {
    state.stack = undefined;
    state.client = undefined;
    state.tracer = undefined;
}
