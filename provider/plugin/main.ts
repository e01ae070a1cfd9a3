/**
 * `pulumi-resource-azure-email-invoicing`: the provider plugin executable.
 * Pulumi starts it (from PATH, or from the plugin folder `pulumi plugin
 * install` made) as `pulumi-resource-azure-email-invoicing [flags] <engine
 * address>`; it prints the port of its gRPC server on its first line and
 * serves until the engine stops it. The engine's address and flags are not
 * needed: the plugin makes no calls back to the engine.
 *
 * This is the configuration edge of the plugin process: the environment is
 * read here, once.
 */
import { PluginProvider } from "./provider";
import { serve } from "./server";

async function main(): Promise<void> {
    const env = { ...process.env };
    const { port } = await serve(new PluginProvider(env), env);
    process.stdout.write(`${port}\n`);
}

main().catch((err: unknown) => {
    process.stderr.write(`pulumi-resource-azure-email-invoicing: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
});
