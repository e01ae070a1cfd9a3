/**
 * The Pulumi package schema of the provider plugin, generated from the zod
 * schemas the resources validate with: each resource's input shape (inputs),
 * its `Outputs` (properties, and the resource's description) and the
 * provider settings of provider/config.ts (config). Descriptions live once,
 * on the zod schemas (`.describe`). `GetSchema` serves this; `schema.json`
 * at the repository root is the same document, committed for the SDK
 * generators and for review (a unit test fails when it is stale).
 */
import { z } from "zod";
import { providerSettingsShape, SECRET_SETTINGS } from "../config";
import { packageVersion } from "../resources/common";
import { RESOURCES, RESOURCE_KINDS, type ResourceKind } from "../resources/registry";

/** The package name: the plugin is `pulumi-resource-azure-email-invoicing`, config keys are `azure-email-invoicing:<key>`. */
export const PACKAGE_NAME = "azure-email-invoicing";

/** The resource type token of a kind, e.g. `azure-email-invoicing:index:EmailInvoiceSetting`. */
export function typeToken(kind: ResourceKind): string {
    return `${PACKAGE_NAME}:index:${kind}`;
}

/** The kind a type token names, if it is one of ours. */
export function kindOfToken(token: string): ResourceKind | undefined {
    return RESOURCE_KINDS.find((k) => typeToken(k) === token);
}

/** A Pulumi schema property (the subset our resources use). */
export interface PropertySpec {
    type: "string" | "boolean" | "number" | "integer" | "array" | "object";
    items?: PropertySpec;
    additionalProperties?: PropertySpec;
    description?: string;
    secret?: boolean;
}

interface JsonSchema {
    type?: string;
    items?: JsonSchema;
    additionalProperties?: JsonSchema | boolean;
    enum?: unknown[];
    description?: string;
    properties?: Record<string, JsonSchema>;
    required?: string[];
}

/** Maps a JSON Schema (as zod writes it) onto a Pulumi property; patterns and limits stay in `check`. */
function fromJsonSchema(json: JsonSchema, where: string): PropertySpec {
    let spec: PropertySpec;
    if (json.enum && json.enum.every((v) => typeof v === "string")) spec = { type: "string" };
    else if (json.type === "string" || json.type === "boolean" || json.type === "number" || json.type === "integer") spec = { type: json.type };
    else if (json.type === "array" && json.items) spec = { type: "array", items: fromJsonSchema(json.items, `${where}[]`) };
    else throw new Error(`${where}: no Pulumi schema type for ${JSON.stringify(json)}`);
    if (json.description) spec.description = json.description;
    return spec;
}

/** The JSON Schema of a zod object as its inputs (`io: "input"`: defaults make a property optional) or its outputs. */
function objectSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
    return z.toJSONSchema(schema, { io, unrepresentable: "throw", target: "draft-2020-12" }) as JsonSchema;
}

/** Properties and required keys of a zod object, as Pulumi schema. */
function propertiesOf(schema: z.ZodType, io: "input" | "output", where: string): { properties: Record<string, PropertySpec>; required: string[] } {
    const json = objectSchema(schema, io);
    const properties: Record<string, PropertySpec> = {};
    for (const [key, value] of Object.entries(json.properties ?? {})) properties[key] = fromJsonSchema(value, `${where}.${key}`);
    return { properties, required: [...(json.required ?? [])].sort() };
}

export interface ResourceSpec {
    description: string;
    properties: Record<string, PropertySpec>;
    required: string[];
    inputProperties: Record<string, PropertySpec>;
    requiredInputs: string[];
}

export interface PackageSchema {
    name: string;
    displayName: string;
    version: string;
    description: string;
    keywords: string[];
    license: string;
    meta: { moduleFormat: string; supportPack: boolean };
    language: Record<string, unknown>;
    config: { variables: Record<string, PropertySpec> };
    provider: { description: string; inputProperties: Record<string, PropertySpec> };
    resources: Record<string, ResourceSpec>;
}

/** The schema of one resource kind. */
export function resourceSpec(kind: ResourceKind): ResourceSpec {
    const mod = RESOURCES[kind];
    const description = mod.Outputs.description;
    if (!description) throw new Error(`${kind}: its Outputs schema has no description`);
    const outputs = propertiesOf(mod.Outputs, "output", kind);
    const inputs = propertiesOf(z.object(mod.inputShape), "input", kind);
    return {
        description,
        properties: outputs.properties,
        required: outputs.required,
        inputProperties: inputs.properties,
        requiredInputs: inputs.required,
    };
}

function providerSettings(): Record<string, PropertySpec> {
    const { properties } = propertiesOf(z.object(providerSettingsShape), "input", "provider");
    for (const key of SECRET_SETTINGS) properties[key] = { ...properties[key], secret: true };
    return properties;
}

/** The whole package schema, for `GetSchema`, `schema.json` and the SDK generators. */
export function packageSchema(): PackageSchema {
    const resources: Record<string, ResourceSpec> = {};
    for (const kind of RESOURCE_KINDS) resources[typeToken(kind)] = resourceSpec(kind);
    const settings = providerSettings();
    return {
        name: PACKAGE_NAME,
        displayName: "Azure email invoicing",
        version: packageVersion(),
        description:
            "Azure's email-invoicing settings as code: the invoice email opt-in and additional recipients of a billing profile, and the Invoice manager role.",
        keywords: ["pulumi", "azure", "billing", "invoices", "category/cloud", "kind/native"],
        license: "MIT",
        meta: { moduleFormat: "(.*)", supportPack: true },
        language: {
            go: {
                importBasePath: "github.com/azure-email-invoicing/azure-email-invoicing/sdk/go/azureemailinvoicing",
                generateResourceContainerTypes: true,
            },
            python: {
                packageName: "pulumi_azure_email_invoicing",
                pyproject: { enabled: true },
                requires: { pulumi: ">=3.0.0,<4.0.0" },
            },
        },
        config: { variables: settings },
        provider: {
            description: "The azure-email-invoicing provider: where it talks to Azure and as whom. Each setting falls back to its environment variable, then to its default.",
            inputProperties: settings,
        },
        resources,
    };
}

let cached: string | undefined;

/** The schema as `GetSchema` serves it and `schema.json` holds it: pretty-printed JSON with a trailing newline. */
export function schemaJson(): string {
    cached ??= JSON.stringify(packageSchema(), null, 4) + "\n";
    return cached;
}
