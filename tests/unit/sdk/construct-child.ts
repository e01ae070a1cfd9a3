/**
 * A Pulumi program run in its own process by construct.test.ts, as Pulumi's
 * program runner runs one: source-map-support installed, the SDK's mock
 * monitor in place of the engine. It constructs each resource class and
 * prints, as JSON, what the engine was told and what the program saw.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as dynamic from "../../../sdk/index";
import * as plugin from "../../../sdk/plugin";

// The copy Pulumi's program runner installs (`@pulumi/pulumi/cmd/run`).
require(require.resolve("source-map-support/register", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }));

export interface ConstructReport {
    defaultLimit: number;
    resources: { name: string; limitInside: number; limitAfter: number; source?: string }[];
    failure?: { message: string; stack: string; limitAfter: number };
}

async function main(): Promise<void> {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "p", "s", true);
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: unknown, cb: unknown): unknown };
    const positions = new Map<string, string>();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
        const r = req as { getName(): string; getSourceposition(): { getUri(): string; getLine(): number } | undefined };
        const p = r.getSourceposition();
        if (p) positions.set(r.getName(), `${p.getUri()}:${p.getLine()}`);
        return register(req, cb);
    };
    const report: ConstructReport = { defaultLimit: Error.stackTraceLimit, resources: [] };
    const names = { billingAccountName: "ba", billingProfileName: "BP1" };
    const made: pulumi.CustomResource[] = [];
    const record = (name: string, make: (opts: pulumi.CustomResourceOptions) => pulumi.CustomResource) => {
        let limitInside = NaN;
        // A stack transformation is user code that Pulumi runs inside the constructor.
        const opts = { transformations: [() => { limitInside = Error.stackTraceLimit; return undefined; }] };
        made.push(make(opts));
        report.resources.push({ name, limitInside, limitAfter: Error.stackTraceLimit });
    };
    record("setting", (o) => new dynamic.EmailInvoiceSetting("setting", { ...names, enabled: true }, o));
    record("assignment", (o) => new dynamic.InvoiceManagerAssignment("assignment", { ...names, userEmailAddress: "jane@contoso.com" }, o));
    record("plugin-setting", (o) => new plugin.EmailInvoiceSetting("plugin-setting", { ...names, enabled: true }, o));
    record("plugin-assignment", (o) => new plugin.InvoiceManagerAssignment("plugin-assignment", { ...names, userEmailAddress: "jane@contoso.com" }, o));
    await Promise.all(made.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
    for (const r of report.resources) r.source = positions.get(r.name);

    const boom = () => { throw new Error("the transformation failed"); };
    try {
        new dynamic.EmailInvoiceSetting("failing", { ...names, enabled: true }, { transformations: [boom] });
    } catch (err) {
        report.failure = { message: (err as Error).message, stack: String((err as Error).stack), limitAfter: Error.stackTraceLimit };
    }
    process.stdout.write(JSON.stringify(report));
}

main().catch((err) => {
    process.stderr.write(String(err?.stack ?? err));
    process.exit(1);
});
