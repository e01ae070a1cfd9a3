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
import type { dynamic } from "@pulumi/pulumi";
import type { BillingClient } from "../billing/client";
import { createBillingClient } from "../billing/client";
import { resolveSettings, settingsFromEnvironment, settingsFromStackConfig, type SettingsLayer } from "../config";
import { ConfigurationError } from "../errors";
import { SHIM_ABI } from "./abi";
import { RESOURCES, type ResourceKind } from "./registry";

export type { ResourceKind };

/** Process-wide connection state of the dynamic-provider process (never serialized). */
const state: { stack?: SettingsLayer; client?: BillingClient } = {};

function client(): BillingClient {
    if (!state.client) {
        // The environment is read here, at the edge of the provider process, once.
        const settings = resolveSettings({ stack: state.stack, env: settingsFromEnvironment(process.env) });
        state.client = createBillingClient(settings);
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
    return {
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
            return impl.create(client(), inputs);
        },
        async read(id: string, props?: Record<string, unknown>) {
            const r = await impl.read(client(), id, props ?? {});
            // No id tells Pulumi the resource no longer exists.
            if (!r) return {};
            return r.inputs ? { id: r.id, props: r.props, inputs: r.inputs } : { id: r.id, props: r.props };
        },
        async update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
            return { outs: await impl.update(client(), olds, news) };
        },
        async delete(_id: string, props: Record<string, unknown>) {
            await impl.remove(client(), props);
        },
    } satisfies Required<dynamic.ResourceProvider>;
}

/** For tests: forget the configured settings and client. */
export function resetHostState(): void {
    state.stack = undefined;
    state.client = undefined;
}
