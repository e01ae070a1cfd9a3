/**
 * The emulator's run-time records stay bounded: long-running operations
 * expire by time and count, the PDF cache by bytes.
 */
import { expect } from "chai";
import { OperationTable } from "../../../emulator/lro";
import type { LroRecord } from "../../../emulator/model";
import { ConnectionNumbers, PDF_CACHE_BYTES, PdfCache, RequestLog, createRuntime, type RequestLogEntry } from "../../../emulator/runtime";
import { startEmulator } from "../../../emulator";
import { ConfigurationError } from "../../../provider/errors";

function op(id: string): LroRecord {
    return {
        id,
        kind: "invoiceDownload",
        billingAccountName: "A",
        billingProfileName: null,
        invoiceName: "G1",
        input: { documentName: "1" },
        principalId: "p",
        pollsRemaining: 0,
        status: "Pending",
        createdAt: "2025-01-01T00:00:00Z",
    };
}

const at = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms);

describe("emulator runtime: operations", () => {
    it("forgets an operation its retention after it was accepted or last used", () => {
        const table = new OperationTable({ retentionMs: 1000, max: 100 });
        table.add(op("a"), at(0));
        table.add(op("b"), at(500));
        expect(table.use("A", at(900))?.id, "case-insensitive, and use restarts the retention").to.equal("a");
        expect(table.list(at(1600)).map((o) => o.id), "b expired at 1500").to.deep.equal(["a"]);
        expect(table.use("a", at(1899))?.id).to.equal("a");
        expect(table.use("a", at(2900))).to.equal(undefined);
        expect(table.size).to.equal(0);
    });

    it("keeps at most `max` operations, dropping the least recently used", () => {
        const table = new OperationTable({ retentionMs: 60_000, max: 3 });
        for (const id of ["a", "b", "c"]) table.add(op(id), at(0));
        table.use("a", at(1));
        table.add(op("d"), at(2));
        expect(table.list(at(3)).map((o) => o.id)).to.deep.equal(["c", "a", "d"]);
    });
});

describe("emulator runtime: PDF cache", () => {
    it("evicts the least recently used PDFs beyond its byte budget, but keeps the newest", () => {
        const cache = new PdfCache(10);
        cache.set("a", new Uint8Array(4));
        cache.set("b", new Uint8Array(4));
        expect(cache.get("a")).to.have.length(4);
        cache.set("c", new Uint8Array(4));
        expect(cache.get("b")).to.equal(undefined);
        expect(cache.get("a")).to.have.length(4);
        cache.set("huge", new Uint8Array(50));
        expect(cache.get("huge")).to.have.length(50);
        expect(cache.get("a")).to.equal(undefined);
    });

    it("takes its budget from the emulator's pdfCacheBytes: 256 MiB by default, any size asked for", () => {
        const pdf = () => new Uint8Array(1024 * 1024);
        const byDefault = createRuntime().pdfCache;
        for (let i = 0; i < 256; i++) byDefault.set(`p${i}`, pdf());
        expect(byDefault.get("p0"), "256 PDFs of 1 MiB fit the default").to.have.length(1024 * 1024);
        byDefault.set("one more", pdf());
        expect(byDefault.get("p1"), "the least recently used goes").to.equal(undefined);
        expect(PDF_CACHE_BYTES).to.equal(256 * 1024 * 1024);
        const small = createRuntime({ pdfCacheBytes: 3 * 1024 * 1024 }).pdfCache;
        for (let i = 0; i < 4; i++) small.set(`p${i}`, pdf());
        expect([0, 1, 2, 3].map((i) => small.get(`p${i}`) !== undefined)).to.deep.equal([false, true, true, true]);
    });

    it("refuses a pdfCacheBytes that is not a whole number of bytes from 0 to 16 GiB, naming the option, before listening", async () => {
        for (const pdfCacheBytes of [-1, 1.5, 17 * 1024 * 1024 * 1024]) {
            let error: unknown;
            await startEmulator({ pdfCacheBytes }).catch((e: unknown) => (error = e));
            expect(error, String(pdfCacheBytes)).to.be.instanceOf(ConfigurationError);
            expect((error as Error).message).to.contain("pdfCacheBytes");
        }
    });
});

describe("emulator runtime: request log", () => {
    const entry = (n: number): RequestLogEntry => ({ time: "", method: "GET", path: `/${n}`, query: {}, operation: null, status: 200, principal: null, connection: 1 });

    it("keeps the last `limit` entries, however many were added", () => {
        const log = new RequestLog(3);
        for (let i = 0; i < 10; i++) {
            log.add(entry(i));
            expect(log.list().map((e) => e.path)).to.deep.equal([...Array(i + 1).keys()].slice(-3).map((k) => `/${k}`));
        }
        log.clear();
        expect(log.list()).to.deep.equal([]);
    });

    it("numbers connections in the order they first carry a request", () => {
        const numbers = new ConnectionNumbers();
        const [a, b] = [{}, {}];
        expect([numbers.of(a), numbers.of(b), numbers.of(a), numbers.of({})]).to.deep.equal([1, 2, 1, 3]);
    });
});
