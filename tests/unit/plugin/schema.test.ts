/**
 * One declaration, three readers: the zod schemas the resources validate
 * with, the plugin's package schema (served by GetSchema, committed as
 * schema.json for the SDK generators) and the hand-written TypeScript SDK
 * (sdk/index.ts, kept for its TSDoc). These tests fail when any two disagree
 * on a property, its type, whether it is required, or its description.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { z } from "zod";
import { packageSchema, schemaJson, typeToken, type PropertySpec } from "../../../provider/plugin/schema";
import { RESOURCES, RESOURCE_KINDS, type ResourceKind } from "../../../provider/resources/registry";
import { providerSettingsShape, SECRET_SETTINGS, STACK_CONFIG } from "../../../provider/config";
import { REPO_ROOT } from "../../../dev/paths";

/** Whitespace as a reader sees it: a wrapped TSDoc paragraph equals the one-line description. */
const words = (s: string | undefined) => (s ?? "").replace(/\s+/g, " ").trim();

interface TsMember {
    type: string;
    optional: boolean;
    doc: string;
}

/** The members of an interface (Args) or the declared properties of a class (outputs) in sdk/index.ts. */
function sdkMembers(): { args: Map<string, Map<string, TsMember>>; outputs: Map<string, Map<string, TsMember>>; classDocs: Map<string, string> } {
    const file = path.join(REPO_ROOT, "sdk", "index.ts");
    const program = ts.createProgram([file], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, skipLibCheck: true, noResolve: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file)!;
    const doc = (node: ts.Node) => {
        const symbol = checker.getSymbolAtLocation((node as ts.NamedDeclaration).name!);
        return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)) : "";
    };
    const args = new Map<string, Map<string, TsMember>>();
    const outputs = new Map<string, Map<string, TsMember>>();
    const classDocs = new Map<string, string>();
    source.forEachChild((node) => {
        if (ts.isInterfaceDeclaration(node) && node.name.text.endsWith("Args")) {
            const members = new Map<string, TsMember>();
            for (const m of node.members) {
                if (!ts.isPropertySignature(m) || !m.type) continue;
                members.set((m.name as ts.Identifier).text, { type: unwrap(m.type.getText(source), "pulumi.Input"), optional: !!m.questionToken, doc: doc(m) });
            }
            args.set(node.name.text.replace(/Args$/, ""), members);
        }
        if (ts.isClassDeclaration(node) && node.name) {
            classDocs.set(node.name.text, doc(node));
            const members = new Map<string, TsMember>();
            for (const m of node.members) {
                if (!ts.isPropertyDeclaration(m) || !m.type) continue;
                const type = unwrap(m.type.getText(source), "pulumi.Output");
                const optional = /\| undefined$/.test(type);
                members.set((m.name as ts.Identifier).text, { type: type.replace(/ \| undefined$/, ""), optional, doc: doc(m) });
            }
            outputs.set(node.name.text, members);
        }
    });
    return { args, outputs, classDocs };
}

/** `pulumi.Input<pulumi.Input<string>[]>` -> `string[]`; `pulumi.Output<string | undefined>` -> `string | undefined`. */
function unwrap(type: string, wrapper: string): string {
    let t = type.trim();
    for (;;) {
        const next = t.replace(new RegExp(`${wrapper.replace(".", "\\.")}<([^<>]*)>`, "g"), "$1");
        if (next === t) return t;
        t = next;
    }
}

/** The TypeScript type a schema property stands for; a union of string literals is a string. */
function tsTypeOf(spec: PropertySpec): string {
    if (spec.type === "array") return `${tsTypeOf(spec.items!)}[]`;
    return spec.type;
}
function normaliseTs(type: string): string {
    return /^"[^"]*"( \| "[^"]*")*$/.test(type) ? "string" : type;
}

describe("plugin: one schema for the plugin, the zod schemas and sdk/index.ts", () => {
    const schema = packageSchema();
    const sdk = sdkMembers();

    it("schema.json at the repository root is what the zod schemas generate (run `npm run generate` after changing them)", () => {
        const committed = fs.readFileSync(path.join(REPO_ROOT, "schema.json"), "utf8");
        expect(committed, "schema.json is stale: run `npm run generate`").to.equal(schemaJson());
    });

    it("serves exactly the two resource types, under the package's name", () => {
        expect(Object.keys(schema.resources)).to.deep.equal([
            "azure-email-invoicing:index:EmailInvoiceSetting",
            "azure-email-invoicing:index:InvoiceManagerAssignment",
        ]);
        expect(schema.name).to.equal("azure-email-invoicing");
        expect(schema.version).to.equal((require(path.join(REPO_ROOT, "package.json")) as { version: string }).version);
    });

    for (const kind of RESOURCE_KINDS as ResourceKind[]) {
        describe(kind, () => {
            const spec = () => schema.resources[typeToken(kind)];
            const mod = RESOURCES[kind];

            it("every input: the zod description and requiredness reach the schema", () => {
                const inputs = z.toJSONSchema(z.object(mod.inputShape), { io: "input" }) as { required?: string[] };
                expect(Object.keys(spec().inputProperties)).to.deep.equal(Object.keys(mod.inputShape));
                for (const [key, zod] of Object.entries(mod.inputShape)) {
                    expect(zod.description, `${kind}.${key} has no .describe()`).to.be.a("string").and.not.equal("");
                    expect(spec().inputProperties[key].description, key).to.equal(zod.description);
                }
                expect(spec().requiredInputs).to.deep.equal([...(inputs.required ?? [])].sort());
            });

            it("every output: the zod description and requiredness reach the schema", () => {
                expect(Object.keys(spec().properties)).to.deep.equal(Object.keys(mod.Outputs.shape));
                for (const [key, zod] of Object.entries(mod.Outputs.shape as Record<string, z.ZodType>)) {
                    expect(zod.description, `${kind} output ${key} has no .describe()`).to.be.a("string").and.not.equal("");
                    expect(spec().properties[key].description, key).to.equal(zod.description);
                    expect(spec().required.includes(key), `${key} required`).to.equal(!zod.safeParse(undefined).success);
                }
                expect(spec().description).to.equal(mod.Outputs.description);
            });

            it(`sdk/index.ts ${kind}Args: the same inputs, types, optionality and descriptions`, () => {
                const args = sdk.args.get(kind)!;
                expect(args, `no interface ${kind}Args in sdk/index.ts`).to.not.equal(undefined);
                expect([...args.keys()]).to.deep.equal(Object.keys(spec().inputProperties));
                for (const [key, prop] of Object.entries(spec().inputProperties)) {
                    const m = args.get(key)!;
                    expect(normaliseTs(m.type), `${kind}Args.${key} type`).to.equal(tsTypeOf(prop));
                    expect(m.optional, `${kind}Args.${key} optional`).to.equal(!spec().requiredInputs.includes(key));
                    expect(words(m.doc), `${kind}Args.${key} TSDoc`).to.equal(words(prop.description));
                }
            });

            it(`sdk/index.ts class ${kind}: the same outputs, types, optionality and descriptions, and the resource's description`, () => {
                const outs = sdk.outputs.get(kind)!;
                expect([...outs.keys()].sort()).to.deep.equal(Object.keys(spec().properties).sort());
                for (const [key, prop] of Object.entries(spec().properties)) {
                    const m = outs.get(key)!;
                    expect(normaliseTs(m.type), `${kind}.${key} type`).to.equal(tsTypeOf(prop));
                    expect(m.optional, `${kind}.${key} may be undefined`).to.equal(!spec().required.includes(key));
                    expect(words(m.doc), `${kind}.${key} TSDoc`).to.equal(words(prop.description));
                }
                expect(words(sdk.classDocs.get(kind))).to.equal(words(spec().description));
            });
        });
    }

    it("the provider configuration is the dynamic provider's settings, the two tokens secret", () => {
        // Every stack-config setting the dynamic provider reads is a described plugin setting too.
        expect(Object.keys(providerSettingsShape), "a STACK_CONFIG key without a providerSettingsShape entry").to.deep.equal(Object.keys(STACK_CONFIG));
        expect(Object.keys(schema.config.variables)).to.deep.equal(Object.keys(providerSettingsShape));
        expect(schema.provider.inputProperties).to.deep.equal(schema.config.variables);
        for (const [key, spec] of Object.entries(schema.config.variables)) {
            expect(spec.description).to.equal((providerSettingsShape as Record<string, z.ZodType>)[key].description);
            expect(spec.secret ?? false, `${key} secret`).to.equal((SECRET_SETTINGS as readonly string[]).includes(key));
        }
        expect(SECRET_SETTINGS).to.deep.equal(["token", "graphToken"]);
    });
});
