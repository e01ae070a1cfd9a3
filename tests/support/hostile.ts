/**
 * A small HTTP server of the tests' own that plays a hostile or broken
 * service: it answers each request with whatever the test says (never, one
 * byte at a time, a body far over any cap), and records what it was asked and
 * how much of each answer it got to write before the client hung up. On
 * 127.0.0.1, port 0.
 */
import { expect } from "chai";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { AzureApiError } from "../../provider/errors";

export interface HostileRequest {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
}

export type HostileHandler = (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void | Promise<void>;

export interface HostileServer {
    url: string;
    /** Every request received, in order. */
    requests: HostileRequest[];
    /** How to answer from now on. */
    handle(handler: HostileHandler): void;
    close(): Promise<void>;
}

export async function startHostileServer(handler: HostileHandler = () => undefined): Promise<HostileServer> {
    let current = handler;
    const requests: HostileRequest[] = [];
    const server = http.createServer((req, res) => {
        const index = requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers }) - 1;
        req.resume();
        void Promise.resolve(current(req, res, index)).catch(() => res.destroy());
    });
    // A server that never answers must not be cut off by node's own request timeout.
    server.requestTimeout = 0;
    server.headersTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        requests,
        handle(h) {
            current = h;
        },
        async close() {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

/**
 * Writes `total` bytes of `fill` to `res` (with a `Content-Length` when
 * `declareLength`), respecting back-pressure, until done or the client hangs
 * up. Resolves with the bytes written into the socket by then: far fewer
 * than `total` means the client stopped reading.
 */
export function writeLarge(res: http.ServerResponse, total: number, options: { declareLength: boolean; contentType?: string; prefix?: Buffer }): Promise<number> {
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const headers: Record<string, string | number> = { "Content-Type": options.contentType ?? "application/json" };
    if (options.declareLength) headers["Content-Length"] = total;
    res.writeHead(200, headers);
    let written = 0;
    return new Promise((resolve) => {
        let done = false;
        const finish = () => {
            if (done) return;
            done = true;
            resolve(written);
        };
        res.on("close", finish);
        const pump = () => {
            while (!done && written < total) {
                const piece = written === 0 && options.prefix ? options.prefix : chunk.subarray(0, Math.min(chunk.length, total - written));
                written += piece.length;
                if (!res.write(piece)) return void res.once("drain", pump);
            }
            if (!done && written >= total) res.end();
        };
        pump();
    });
}

/** Writes one byte every `everyMs` after the headers, forever (until the client hangs up). */
export function drip(res: http.ServerResponse, everyMs: number, contentType = "application/json"): void {
    res.writeHead(200, { "Content-Type": contentType });
    const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write(" ");
    }, everyMs);
    res.on("close", () => clearInterval(timer));
}

/** The {@link AzureApiError} a call ends in; fails the test when the call succeeds or throws anything else. */
export async function azureFailure(p: Promise<unknown>): Promise<AzureApiError> {
    const err = await p.then(
        () => undefined,
        (e: unknown) => e,
    );
    expect(err, "expected an AzureApiError").to.be.instanceOf(AzureApiError);
    return err as AzureApiError;
}
