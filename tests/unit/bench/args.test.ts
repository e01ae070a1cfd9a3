import { expect } from "chai";
import { UsageError, benchFlags, listFlag, numberFlag, wholeNumberFlag, wholeNumberListFlag } from "../../../bench/args";
import { thrownBy } from "../../support/thrown";

const usageErrorOf = (fn: () => unknown) => thrownBy(fn, UsageError);

describe("benchmark flags", () => {
    it("parses the declared flags strictly", () => {
        const values = benchFlags(["--invoices", "4000", "--no-cpu-bound"], { invoices: { type: "string" }, "no-cpu-bound": { type: "boolean" } });
        expect(values).to.deep.equal({ invoices: "4000", "no-cpu-bound": true });
    });

    it("an unknown flag, a missing value and a positional are usage errors", () => {
        const options = { invoices: { type: "string" } } as const;
        expect(usageErrorOf(() => benchFlags(["--invoice", "4000"], options)).message).to.match(/Unknown option '--invoice'/);
        expect(usageErrorOf(() => benchFlags(["--invoices"], options)).message).to.match(/Option '--invoices <value>' argument missing/);
        expect(usageErrorOf(() => benchFlags(["4000"], options)).message).to.match(/Unexpected argument '4000'/);
    });

    it("a whole number: the fallback when absent, else checked against its range", () => {
        expect(wholeNumberFlag("rounds", undefined, 3, 1, 20)).to.equal(3);
        expect(wholeNumberFlag("rounds", "20", 3, 1, 20)).to.equal(20);
        for (const raw of ["0", "21", "2.5", "abc", "", " ", "1e99", "NaN"]) {
            expect(usageErrorOf(() => wholeNumberFlag("rounds", raw, 3, 1, 20)).message, raw).to.equal(`--rounds must be a whole number from 1 to 20, not '${raw}'`);
        }
    });

    it("a number: decimals allowed, the range checked", () => {
        expect(numberFlag("rate", "12.5", 200, 0.1, 100_000)).to.equal(12.5);
        expect(numberFlag("rate", undefined, 200, 0.1, 100_000)).to.equal(200);
        for (const raw of ["0", "-1", "Infinity", "100001", "fast", ""]) {
            expect(usageErrorOf(() => numberFlag("rate", raw, 200, 0.1, 100_000)).message, raw).to.equal(`--rate must be a number from 0.1 to 100000, not '${raw}'`);
        }
    });

    it("a list of whole numbers names the word that is wrong", () => {
        expect(wholeNumberListFlag("invoices", "100,2000", [5], 3, 200_000)).to.deep.equal([100, 2000]);
        expect(wholeNumberListFlag("invoices", undefined, [100, 2000], 3, 200_000)).to.deep.equal([100, 2000]);
        expect(usageErrorOf(() => wholeNumberListFlag("invoices", "100,x", [], 3, 200_000)).message).to.equal("--invoices takes comma-separated whole numbers from 3 to 200000, not 'x'");
        expect(usageErrorOf(() => wholeNumberListFlag("invoices", "100,", [], 3, 200_000)).message).to.equal("--invoices takes comma-separated whole numbers from 3 to 200000, not ''");
    });

    it("a list of names: in the given order, each checked, none from Object's prototype", () => {
        const allowed = { up: "up", refresh: "refresh", destroy: "destroy" };
        expect(listFlag("operations", "destroy, up", allowed, ["up", "refresh", "destroy"])).to.deep.equal(["up", "destroy"]);
        expect(usageErrorOf(() => listFlag("operations", "up,fly", allowed, ["up"])).message).to.equal("--operations takes a comma-separated list of up, refresh, destroy, not 'fly'");
        expect(usageErrorOf(() => listFlag("operations", "toString", allowed, ["up"])).message).to.match(/not 'toString'/);
    });
});
