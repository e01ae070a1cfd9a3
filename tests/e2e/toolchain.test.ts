/**
 * How the e2e tier gets its Pulumi CLI: the developer's toolchain settings
 * (AZURE_EMAIL_INVOICING_CACHE) reach `ensure-pulumi.sh`, their provider and
 * Pulumi settings do not, and asking for the environment writes nothing into
 * the checkout (the default `.pulumi-state` backend is created only by
 * `pulumi.sh`, when it runs pulumi).
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Writable } from "stream";
import { ensurePulumi } from "../../dev/pulumi-toolchain";
import { REPO_ROOT } from "../../dev/paths";
import { TOOLCHAIN_TIMEOUT_MS, pulumiToolchain, testEnvironment } from "../../dev/pulumi-stack";

/** The pulumi-language-yaml version ensure-pulumi.sh builds by default. */
const YAML_VERSION = /AZURE_EMAIL_INVOICING_PULUMI_YAML_VERSION:-(\d+\.\d+\.\d+)/.exec(fs.readFileSync(path.join(REPO_ROOT, "scripts", "pulumi", "ensure-pulumi.sh"), "utf8"))![1];

/** PATH without any folder holding a `pulumi`, so ensure-pulumi.sh consults its cache. */
function pathWithoutPulumi(): string {
    return (process.env.PATH ?? "")
        .split(path.delimiter)
        .filter((dir) => dir && !fs.existsSync(path.join(dir, "pulumi")))
        .join(path.delimiter);
}

describe("e2e: the Pulumi toolchain of the test run", function () {
    this.timeout(60_000);
    let realPulumi: string;
    let tmp: string;
    let cacheBin: string;
    let realYaml: string;

    before(async function () {
        this.timeout(TOOLCHAIN_TIMEOUT_MS);
        const tools = await pulumiToolchain();
        realPulumi = fs.realpathSync(tools.bin);
        realYaml = fs.realpathSync(path.join(tools.binDir, "pulumi-language-yaml"));
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aei-toolchain-"));
        // A cache of our own that holds the CLI already (a link: no copy of 150 MB,
        // no build); ensure-pulumi.sh writes its two wrappers next to it.
        const version = (require(path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "package.json")) as { version: string }).version;
        cacheBin = path.join(tmp, "cache", "pulumi", `v${version}`, "bin");
        fs.mkdirSync(cacheBin, { recursive: true });
        fs.symlinkSync(realPulumi, path.join(cacheBin, "pulumi"));
        // And the YAML language host, in its own cache folder, as a build leaves it.
        const yamlBin = path.join(tmp, "cache", "pulumi-language-yaml", `v${YAML_VERSION}`, "bin");
        fs.mkdirSync(yamlBin, { recursive: true });
        fs.symlinkSync(realYaml, path.join(yamlBin, "pulumi-language-yaml"));
    });
    after(() => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("keeps the toolchain settings and drops the developer's Azure, Pulumi and mail settings", () => {
        const env = testEnvironment({
            HOME: "/home/x",
            AZURE_EMAIL_INVOICING_CACHE: "/c",
            AZURE_EMAIL_INVOICING_LANGUAGE_HOST_MODULE_VERSION: "v3.0.0-x",
            AZURE_EMAIL_INVOICING_PULUMI_YAML_VERSION: "1.25.0",
            AZURE_EMAIL_INVOICING_TOKEN: "t",
            AZURE_EMAIL_INVOICING_ENDPOINT: "https://e",
            AZURE_CLIENT_SECRET: "s",
            PULUMI_BACKEND_URL: "file:///x",
            PULUMI_ACCESS_TOKEN: "p",
            SMTP_URL: "smtp://x",
            INVOICE_MAIL_FROM: "a@b.co",
            UNSET: undefined,
        });
        expect(env).to.deep.equal({
            HOME: "/home/x",
            AZURE_EMAIL_INVOICING_CACHE: "/c",
            AZURE_EMAIL_INVOICING_LANGUAGE_HOST_MODULE_VERSION: "v3.0.0-x",
            AZURE_EMAIL_INVOICING_PULUMI_YAML_VERSION: "1.25.0",
        });
    });

    it("uses the CLI of the cache AZURE_EMAIL_INVOICING_CACHE names", async () => {
        const cache = path.join(tmp, "cache");
        const tools = await ensurePulumi({ baseEnv: testEnvironment({ ...process.env, PATH: pathWithoutPulumi(), AZURE_EMAIL_INVOICING_CACHE: cache }), log: devNull() });
        expect(tools.binDir).to.equal(cacheBin);
        expect(tools.env.AZURE_EMAIL_INVOICING_CACHE).to.equal(cache);
        for (const f of ["pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) expect(fs.existsSync(path.join(cacheBin, f)), f).to.equal(true);
        // The YAML host is linked next to the CLI from its own cache folder, so Pulumi finds it as a bundled plugin.
        const yaml = path.join(cacheBin, "pulumi-language-yaml");
        expect(fs.readlinkSync(yaml)).to.equal(path.join(cache, "pulumi-language-yaml", `v${YAML_VERSION}`, "bin", "pulumi-language-yaml"));
        expect(fs.realpathSync(yaml)).to.equal(realYaml);
    });

    it("naming the default backend creates nothing; pulumi.sh creates it when it runs pulumi", () => {
        // A checkout of our own (the two scripts, the language host, the
        // installed packages), so the assertion holds whatever this one holds.
        const checkout = path.join(tmp, "checkout");
        const scripts = path.join(checkout, "scripts", "pulumi");
        fs.mkdirSync(path.join(scripts, "language-host"), { recursive: true });
        for (const f of ["ensure-pulumi.sh", "pulumi.sh", path.join("language-host", "pulumi-language-nodejs.js")]) {
            fs.copyFileSync(path.join(REPO_ROOT, "scripts", "pulumi", f), path.join(scripts, f));
            fs.chmodSync(path.join(scripts, f), 0o755);
        }
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(checkout, "node_modules"));
        const env = testEnvironment({ ...process.env, PATH: pathWithoutPulumi(), AZURE_EMAIL_INVOICING_CACHE: path.join(tmp, "cache") });
        const state = path.join(checkout, ".pulumi-state");

        const printed = spawnSync("bash", [path.join(scripts, "ensure-pulumi.sh"), "--env"], { env, encoding: "utf8" });
        expect(printed.status, printed.stderr).to.equal(0);
        expect(printed.stdout).to.include(`PULUMI_BACKEND_URL=file://${state}\n`);
        expect(fs.existsSync(state), "--env created .pulumi-state").to.equal(false);

        const ran = spawnSync("bash", [path.join(scripts, "pulumi.sh"), "version"], { env, encoding: "utf8" });
        expect(ran.status, ran.stderr).to.equal(0);
        expect(ran.stdout.trim()).to.match(/^v\d+\.\d+\.\d+$/);
        expect(fs.statSync(state).isDirectory(), "pulumi.sh creates the default backend").to.equal(true);
    });
});

/** Swallows the script's progress lines. */
function devNull(): NodeJS.WritableStream {
    return new Writable({ write: (_chunk, _encoding, done) => done() });
}
