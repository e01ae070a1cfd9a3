/**
 * Every example type-checks against the published typings of this package
 * (dist/sdk) — including the azure-native one, which needs the azure-native
 * plugin and real Azure to run, so this is the only test it gets. The
 * runnable examples also run through the Pulumi engine in tests/e2e.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../dev/paths";

const examplesDir = path.join(REPO_ROOT, "examples");

describe("examples", () => {
    const examples = fs.readdirSync(examplesDir).filter((d) => fs.statSync(path.join(examplesDir, d)).isDirectory());

    it("each has its own Pulumi.yaml and README", () => {
        expect(examples).to.include.members(["quickstart", "multi-profile", "ci", "azure-native", "yaml"]);
        for (const e of examples) {
            expect(fs.existsSync(path.join(examplesDir, e, "Pulumi.yaml")), `${e}/Pulumi.yaml`).to.equal(true);
            expect(fs.existsSync(path.join(examplesDir, e, "README.md")), `${e}/README.md`).to.equal(true);
        }
    });

    for (const e of ["quickstart", "multi-profile", "azure-native"]) {
        it(`${e} type-checks`, function () {
            this.timeout(180000);
            const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
            const r = spawnSync(process.execPath, [tsc, "-p", path.join(examplesDir, e, "tsconfig.json")], { encoding: "utf8" });
            expect(r.status, r.stdout + r.stderr).to.equal(0);
        });
    }

    it("the root Pulumi.yaml runs the quickstart", () => {
        const root = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8");
        expect(root).to.match(/^main: examples\/quickstart\/?$/m);
        expect(root).to.match(/runtime:\s*\n\s*name: nodejs/);
    });
});
