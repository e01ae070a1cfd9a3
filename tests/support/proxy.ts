/**
 * A tampering proxy of the tests' own in front of the emulator: it forwards
 * every request, and lets a test rewrite what comes back (a display name
 * with escape sequences, an impossible invoice date, a Location or nextLink
 * on a foreign origin) or answer a document link itself (a 200 MB "PDF", an
 * HTML page). Everything it does not touch is the emulator's honest answer,
 * so a reconciler behind it runs its whole real protocol. On 127.0.0.1,
 * port 0.
 *
 * Links the emulator builds point at the emulator; the proxy rewrites its
 * origin to the proxy's own in headers and JSON bodies, so a client behind
 * the proxy sees one consistent service, as it would see Azure.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** What a test may change in one JSON answer. */
export interface JsonAnswer {
    method: string;
    /** The request path with its query, e.g. `/providers/Microsoft.Billing/billingAccounts?api-version=2024-04-01`. */
    url: string;
    status: number;
    headers: Record<string, string>;
    body: any;
}

export interface Tamper {
    /** Rewrites a JSON or body-less answer in place (status, headers, body); called after the origin rewrite. */
    json?(answer: JsonAnswer): void;
    /** Answers a request itself; return true when it did (the emulator is then not asked). */
    intercept?(req: http.IncomingMessage, res: http.ServerResponse): boolean;
}

export interface TamperingProxy {
    url: string;
    /** Replaces the tampering from now on. */
    set(tamper: Tamper): void;
    close(): Promise<void>;
}

export async function startTamperingProxy(upstream: string, initial: Tamper = {}): Promise<TamperingProxy> {
    let tamper = initial;
    const up = new URL(upstream);
    let self = "";
    const rewrite = (s: string) => s.split(up.origin).join(self);
    const server = http.createServer((req, res) => {
        if (tamper.intercept?.(req, res)) {
            req.resume();
            return;
        }
        const headers = { ...req.headers, host: up.host };
        delete headers.origin;
        const out = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (answer) => {
            const chunks: Buffer[] = [];
            answer.on("data", (c: Buffer) => chunks.push(c));
            answer.on("end", () => {
                const raw = Buffer.concat(chunks);
                const h: Record<string, string> = {};
                for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined) h[k] = rewrite(Array.isArray(v) ? v.join(", ") : v);
                delete h["content-length"];
                delete h["transfer-encoding"];
                delete h["connection"];
                delete h["keep-alive"];
                const isJson = (h["content-type"] ?? "").includes("json") && raw.length > 0;
                const a: JsonAnswer = { method: req.method ?? "GET", url: req.url ?? "/", status: answer.statusCode ?? 502, headers: h, body: isJson ? JSON.parse(rewrite(raw.toString("utf8"))) : undefined };
                // JSON answers and body-less ones (a 202 with its Location) are the test's to change; documents pass through.
                if (isJson || raw.length === 0) tamper.json?.(a);
                const body = isJson ? Buffer.from(JSON.stringify(a.body), "utf8") : raw;
                res.writeHead(a.status, { ...a.headers, "content-length": body.length });
                res.end(body);
            });
        });
        out.on("error", () => res.destroy());
        req.pipe(out);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
        url: self,
        set(t) {
            tamper = t;
        },
        async close() {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

/**
 * Answers with `total` bytes of "PDF" (a `%PDF-` header, then filler), with or
 * without a `Content-Length`, respecting back-pressure, until done or the
 * client hangs up. Resolves with the bytes written by then.
 */
export function serveLargePdf(res: http.ServerResponse, total: number, declareLength: boolean): Promise<number> {
    const head = Buffer.from("%PDF-1.7\n");
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    res.writeHead(200, declareLength ? { "Content-Type": "application/pdf", "Content-Length": total } : { "Content-Type": "application/pdf" });
    let written = 0;
    return new Promise((resolve) => {
        let done = false;
        res.on("close", () => {
            done = true;
            resolve(written);
        });
        const pump = () => {
            while (!done && written < total) {
                const piece = written === 0 ? head : chunk.subarray(0, Math.min(chunk.length, total - written));
                written += piece.length;
                if (!res.write(piece)) return void res.once("drain", pump);
            }
            if (!done) res.end();
        };
        pump();
    });
}
