import { expect } from "chai";
import { isoDay, parseIsoInstant } from "../../../provider/billing/dates";

describe("Azure dates, read strictly (pure)", () => {
    it("reads ISO 8601 dates and date-times as Azure sends them", () => {
        expect(isoDay("2024-05-15")).to.equal("2024-05-15");
        expect(isoDay("2024-05-15T00:00:00Z")).to.equal("2024-05-15");
        expect(isoDay("2024-05-15T17:32:28.0000000Z")).to.equal("2024-05-15");
        expect(isoDay("2024-05-15T23:30:00")).to.equal("2024-05-15");
        expect(isoDay("2024-05-15T23:30:00-02:00")).to.equal("2024-05-16");
        expect(isoDay("2024-02-29T12:00Z")).to.equal("2024-02-29");
        expect(parseIsoInstant("2024-05-15T00:00:00.5Z")).to.equal(Date.UTC(2024, 4, 15) + 500);
    });

    it("refuses what Date.parse would read as another day, or as a date at all", () => {
        for (const bad of [
            "2026-02-30",
            "2025-02-29",
            "2026-02-30T00:00:00Z",
            "2026-13-01",
            "2026-00-10",
            "2026-01-01T24:00:00Z",
            "2026-01-01T12:60:00Z",
            "2026-01-01T12:00:60Z",
            "2026-01-01T12:00:00+25:00",
            "Invoice 7",
            "7",
            "June 1, 2024",
            "2024-6-1",
            "2024-06-01 12:00:00",
            " 2024-06-01",
            "2024-06-01\r\nBcc: x@example.com",
            "",
        ]) {
            expect(isoDay(bad), JSON.stringify(bad)).to.equal(undefined);
        }
    });
});
