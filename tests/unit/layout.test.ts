/**
 * The layout is a picture of the architecture, and these tests keep it one:
 * no import cycle, the emulator shares only the contract with the provider,
 * the published folders never reach into the development ones, and the CLI
 * enters the emulator by its front door. One rule of code rides along: no
 * array is spread into a call's arguments (forwarding a rest parameter aside).
 *
 * They read the TypeScript sources, not dist/: a cycle of `import type`
 * leaves no trace in the compiled JavaScript but still ties two modules
 * together for a reader and for the compiler.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { REPO_ROOT } from "../../dev/paths";

const FOLDERS = ["provider", "sdk", "emulator", "cli", "dev", "tests", "bench"];

/**
 * Cycles that are known and being removed, each as its sorted files. Empty
 * it as they go: the test fails for a listed cycle that no longer exists.
 */
const KNOWN_CYCLES: string[][] = [];

/** Every source file under the folders, by path relative to the root (forward slashes). */
function sources(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
            const rel = `${dir}/${e.name}`;
            if (e.isDirectory()) {
                if (e.name !== "node_modules" && e.name !== "programs") walk(rel);
            } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(rel);
        }
    };
    for (const f of FOLDERS) walk(f);
    return out.sort();
}

/** The READMEs and scripts: prose and shell that a reader follows too. */
function documents(): string[] {
    const out = fs.readdirSync(REPO_ROOT).filter((f) => f.endsWith(".md"));
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
            const rel = `${dir}/${e.name}`;
            if (e.isDirectory()) {
                if (e.name !== "node_modules" && e.name !== "vectors") walk(rel);
            } else if (/\.(md|sh|js)$/.test(e.name)) out.push(rel);
        }
    };
    for (const f of [...FOLDERS, "scripts", "examples"]) walk(f);
    return out.sort();
}

/** The repository files a source imports (values, types and `require` calls). */
function importsOf(file: string): string[] {
    const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
    const info = ts.preProcessFile(text, true, true);
    const out: string[] = [];
    for (const ref of info.importedFiles) {
        if (!ref.fileName.startsWith(".")) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), ref.fileName));
        const found = [`${target}.ts`, `${target}/index.ts`].find((c) => fs.existsSync(path.join(REPO_ROOT, c)));
        if (found) out.push(found);
    }
    return out;
}

const GRAPH = new Map<string, string[]>();
function graph(): Map<string, string[]> {
    if (GRAPH.size === 0) for (const f of sources()) GRAPH.set(f, importsOf(f));
    return GRAPH;
}

/** The strongly connected components with more than one file (Tarjan), each sorted. */
function cycles(g: Map<string, string[]>): string[][] {
    let next = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const found: string[][] = [];
    const visit = (v: string) => {
        index.set(v, next);
        low.set(v, next);
        next++;
        stack.push(v);
        onStack.add(v);
        for (const w of g.get(v) ?? []) {
            if (!index.has(w)) {
                visit(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
        if (low.get(v) === index.get(v)) {
            const component: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                onStack.delete(w);
                component.push(w);
            } while (w !== v);
            if (component.length > 1) found.push(component.sort());
        }
    };
    for (const v of g.keys()) if (!index.has(v)) visit(v);
    return found;
}

/** Every import from a file matching `from` to a file `allowed` refuses, as `a -> b` lines. */
function offending(from: (file: string) => boolean, allowed: (target: string, file: string) => boolean): string[] {
    const out: string[] = [];
    for (const [file, targets] of graph()) {
        if (!from(file)) continue;
        for (const t of targets) if (!allowed(t, file)) out.push(`${file} -> ${t}`);
    }
    return out;
}

describe("layout", () => {
    it("has no import cycle (type imports included) beyond the known ones, which still exist", () => {
        const found = cycles(graph());
        const key = (c: string[]) => c.join(" <-> ");
        const known = new Set(KNOWN_CYCLES.map((c) => key([...c].sort())));
        const unexpected = found.filter((c) => !known.has(key(c)));
        expect(unexpected.map(key), "import cycles").to.deep.equal([]);
        const gone = [...known].filter((k) => !found.some((c) => key(c) === k));
        expect(gone, "listed in KNOWN_CYCLES but no longer a cycle: remove them from the list").to.deep.equal([]);
    });

    it("the emulator shares only the contract with the provider", () => {
        const CONTRACT = ["contract", "names", "query", "schemas", "paths", "configurationError"].map((m) => `provider/billing/${m}.ts`);
        expect(offending((f) => f.startsWith("emulator/"), (t) => t.startsWith("emulator/") || CONTRACT.includes(t))).to.deep.equal([]);
    });

    it("the contract imports nothing but itself", () => {
        const CONTRACT = ["contract", "names", "query", "schemas", "paths", "configurationError"].map((m) => `provider/billing/${m}.ts`);
        expect(offending((f) => CONTRACT.includes(f), (t) => CONTRACT.includes(t))).to.deep.equal([]);
    });

    it("published code never imports the development folders", () => {
        const published = (f: string) => ["provider/", "sdk/", "emulator/", "cli/"].some((p) => f.startsWith(p));
        expect(offending(published, published)).to.deep.equal([]);
    });

    it("the CLI and the development tools enter the emulator through emulator/index.ts", () => {
        const outside = (f: string) => f.startsWith("cli/") || f.startsWith("dev/") || f.startsWith("bench/");
        expect(offending(outside, (t) => !t.startsWith("emulator/") || t === "emulator/index.ts")).to.deep.equal([]);
    });

    it("no comment points at a document this repository does not hold (a habit or issue number, the team's shared folder)", () => {
        const pointer = /\b(?:habit|issue) #?\d+\b|\bshared\/(?:azure-billing|seed)\b/i;
        const found: string[] = [];
        for (const file of [...sources(), ...documents()]) {
            fs.readFileSync(path.join(REPO_ROOT, file), "utf8")
                .split("\n")
                .forEach((line, i) => {
                    if (pointer.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
                });
        }
        expect(found, "say the reason itself instead").to.deep.equal([]);
    });

    it("ARM paths are built and read in provider/billing/paths.ts only", () => {
        const published = sources().filter((f) => ["provider/", "sdk/", "emulator/", "cli/"].some((p) => f.startsWith(p)));
        const handBuilt = published.filter((f) => f !== "provider/billing/paths.ts" && fs.readFileSync(path.join(REPO_ROOT, f), "utf8").includes("/providers/Microsoft."));
        expect(handBuilt, "use billingAccountId, billingProfileId, invoiceId, PATHS and matchPath").to.deep.equal([]);
    });

    it("the serialized shims import nothing of the provider but the shim ABI", () => {
        expect(offending((f) => f === "sdk/shims.ts", (t) => t === "provider/resources/abi.ts")).to.deep.equal([]);
        expect(graph().get("provider/resources/abi.ts")).to.deep.equal([]);
    });

    /** `f(...args)` where `args` is a rest parameter of an enclosing function: it forwards what already were arguments. */
    function forwardsRest(spread: ts.SpreadElement): boolean {
        if (!ts.isIdentifier(spread.expression)) return false;
        const name = spread.expression.text;
        for (let n: ts.Node | undefined = spread.parent; n; n = n.parent) {
            if (!ts.isFunctionLike(n)) continue;
            const param = n.parameters.find((p) => ts.isIdentifier(p.name) && p.name.text === name);
            if (param) return param.dotDotDotToken !== undefined;
        }
        return false;
    }

    it("spreads no array into a call's arguments (a long one overflows the call stack: push(...page.value) crashed on 600,000 invoices)", () => {
        const found: string[] = [];
        for (const file of sources()) {
            const source = ts.createSourceFile(file, fs.readFileSync(path.join(REPO_ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
            const visit = (node: ts.Node) => {
                if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments?.some((a) => ts.isSpreadElement(a) && !forwardsRest(a))) {
                    found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText().split("\n")[0]}`);
                }
                ts.forEachChild(node, visit);
            };
            visit(source);
        }
        expect(found, "use a loop, reduce, or an array literal ([...a, ...b]) instead").to.deep.equal([]);
    });
});
