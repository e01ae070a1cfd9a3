/**
 * The Python and Go SDKs, generated from schema.json by Pulumi's own
 * generators (scripts/sdkgen) and committed under sdk/: they are what the
 * schema generates today, the Python SDK installs and imports with the
 * `pulumi` package from PyPI (in a venv of its own), the Go SDK builds
 * against github.com/pulumi/pulumi/sdk/v3 from the Go module proxy, and in
 * both, each resource registers under Pulumi's mocks with its type token and
 * inputs. These languages are generated and compiled here, not run end to end
 * (no language plugin for them can be had).
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../../dev/paths";
import { PROGRAMS } from "../../dev/pulumi-stack";

/** The Pulumi SDK version to pair with: the one this repository pins. */
const PULUMI_VERSION = (require("@pulumi/pulumi/package.json") as { version: string }).version;

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
    const r = spawnSync(cmd, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw new Error(`${cmd} could not be run (${r.error.message}); it is needed to check the generated SDKs`);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** Every file under a folder, relative path -> content. */
function tree(dir: string): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.set(path.relative(dir, p), fs.readFileSync(p, "utf8"));
        }
    };
    walk(dir);
    return out;
}

describe("e2e: the generated Python and Go SDKs", function () {
    this.timeout(15 * 60 * 1000);
    let tmp: string;

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aei-sdks-"));
    });
    after(() => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("sdk/python and sdk/go are what schema.json generates (else: npm run generate)", () => {
        const out = path.join(tmp, "generated");
        run("bash", [path.join(REPO_ROOT, "scripts", "sdkgen", "sdkgen.sh"), "-schema", path.join(REPO_ROOT, "schema.json"), "-out", out]);
        for (const lang of ["python", "go"]) {
            const generated = tree(path.join(out, lang));
            const committed = tree(path.join(REPO_ROOT, "sdk", lang));
            expect([...committed.keys()].sort(), `sdk/${lang} files`).to.deep.equal([...generated.keys()].sort());
            for (const [file, text] of generated) expect(committed.get(file), `sdk/${lang}/${file} is stale: run npm run generate`).to.equal(text);
        }
    });

    it(`Python: installs with pulumi==${PULUMI_VERSION} from PyPI in a venv, imports, and registers both resources under mocks`, () => {
        const venv = path.join(tmp, "venv");
        run("python3", ["-m", "venv", venv]);
        // A copy: building the package writes into its folder.
        const pkg = path.join(tmp, "sdk-python");
        fs.cpSync(path.join(REPO_ROOT, "sdk", "python"), pkg, { recursive: true });
        run(path.join(venv, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", `pulumi==${PULUMI_VERSION}`, pkg]);
        const out = run(path.join(venv, "bin", "python"), [path.join(PROGRAMS, "sdk-python", "check_sdk.py")]);
        const result = JSON.parse(out.trim().split("\n").pop()!) as { registered: Array<{ type: string; name: string; inputs: Record<string, unknown> }>; outputs: unknown[] };
        expect(result.registered.map((r) => r.type).sort()).to.deep.equal([
            "azure-email-invoicing:index:EmailInvoiceSetting",
            "azure-email-invoicing:index:InvoiceManagerAssignment",
        ]);
        const setting = result.registered.find((r) => r.name === "finance-emails")!;
        expect(setting.inputs).to.deep.equal({ billingAccountName: "ba", billingProfileName: "bp", enabled: true, additionalRecipients: ["ap@contoso.com"] });
        expect(result.outputs).to.deep.equal([true, ["ap@contoso.com"], "jane@contoso.com"]);
    });

    it(`Go: builds against github.com/pulumi/pulumi/sdk/v3 v${PULUMI_VERSION} from the module proxy and registers both resources under mocks`, () => {
        const mod = path.join(tmp, "sdk-go-check");
        fs.mkdirSync(mod);
        fs.copyFileSync(path.join(PROGRAMS, "sdk-go", "sdk_test.go"), path.join(mod, "sdk_test.go"));
        const sdkModule = "github.com/azure-email-invoicing/azure-email-invoicing/sdk/go";
        fs.writeFileSync(
            path.join(mod, "go.mod"),
            [
                "module sdkcheck",
                "",
                "go 1.25",
                "",
                `require ${sdkModule} v0.0.0`,
                `require github.com/pulumi/pulumi/sdk/v3 v${PULUMI_VERSION}`,
                "",
                `replace ${sdkModule} => ${path.join(REPO_ROOT, "sdk", "go")}`,
                "",
            ].join("\n"),
        );
        const env = { GOWORK: "off", GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
        run("go", ["mod", "tidy"], { cwd: mod, env });
        const out = run("go", ["test", "-count=1", "./..."], { cwd: mod, env });
        expect(out).to.match(/^ok\s+sdkcheck/m);
        // The SDK really is built against the pinned Pulumi Go SDK.
        expect(fs.readFileSync(path.join(mod, "go.mod"), "utf8")).to.include(`github.com/pulumi/pulumi/sdk/v3 v${PULUMI_VERSION}`);
    });
});
