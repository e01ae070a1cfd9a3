/**
 * The resource classes skip Pulumi's per-promise debugging traces while they
 * run Pulumi's constructor (sdk/construct.ts). Each case runs a program in
 * its own process (construct-child.ts), under source-map-support as Pulumi
 * runs one, so the limit it sets is the process's own and nothing of the mock
 * monitor stays in this one.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { PROMISE_LEAKS_ENV, withCallerFrames } from "../../../sdk/construct";
import type { ConstructReport } from "./construct-child";

const CHILD = path.join(__dirname, "construct-child.js");

async function run(env: Record<string, string | undefined>): Promise<ConstructReport> {
    const childEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD], { env: childEnv, timeout: 60_000, maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as ConstructReport;
}

describe("resource constructors and Pulumi's promise traces", function () {
    this.timeout(90_000);
    let quiet: ConstructReport;
    let debugging: ConstructReport;
    before(async () => {
        [quiet, debugging] = await Promise.all([run({ [PROMISE_LEAKS_ENV]: undefined }), run({ [PROMISE_LEAKS_ENV]: "1" })]);
    });

    it("capture no frames inside Pulumi's constructor, and restore the limit after it, for all four classes", () => {
        expect(quiet.resources.map((r) => r.name)).to.deep.equal(["setting", "assignment", "plugin-setting", "plugin-assignment"]);
        for (const r of quiet.resources) {
            expect(r.limitInside, r.name).to.equal(0);
            expect(r.limitAfter, r.name).to.equal(quiet.defaultLimit);
        }
        expect(quiet.defaultLimit).to.be.above(0);
    });

    it("keep every frame when PULUMI_DEBUG_PROMISE_LEAKS asks for the traces", () => {
        for (const r of debugging.resources) {
            expect(r.limitInside, r.name).to.equal(debugging.defaultLimit);
            expect(r.limitAfter, r.name).to.equal(debugging.defaultLimit);
        }
    });

    it("tell the engine the same source position either way", () => {
        // Pulumi finds a position by skipping a fixed number of frames; it finds one for the dynamic classes here.
        for (const r of quiet.resources.slice(0, 2)) expect(r.source, r.name).to.be.a("string").and.match(/^file:\/\/.+:\d+$/);
        expect(quiet.resources.map((r) => r.source)).to.deep.equal(debugging.resources.map((r) => r.source));
    });

    it("give an error thrown inside the frames of the program that made the resource, and restore the limit", () => {
        const f = quiet.failure!;
        expect(f.message).to.include("the transformation failed");
        expect(f.stack.split("\n")[0]).to.include("Error: the transformation failed");
        expect(f.stack).to.match(/\n\s+at .*construct-child\.ts:\d+/);
        // The frames start at the caller: the class's own constructor is not among them.
        expect(f.stack).to.not.match(/at new EmailInvoiceSetting/);
        expect(f.limitAfter).to.equal(quiet.defaultLimit);
        // With the traces kept, the error is Pulumi's own, with its own frames.
        expect(debugging.failure!.stack).to.match(/\n\s+at /);
    });

    it("leave an error that has frames as it is", () => {
        const err = new Error("had frames");
        const stack = err.stack;
        expect(withCallerFrames(err, function ctor() {})).to.equal(err);
        expect(err.stack).to.equal(stack);
        expect(withCallerFrames("not an error", function ctor() {})).to.equal("not an error");
    });
});
