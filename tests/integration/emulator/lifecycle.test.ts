/**
 * The emulator over real HTTP (port 0). Starting and closing the emulator: the
 * port it binds and reports, and a taken port refused with a configuration
 * error. Each describe block starts its own emulator and makes its own
 * requests, so any one runs alone with --grep.
 */
import { expect } from "chai";
import { startEmulator } from "../../../emulator";

describe("emulator: start and close", () => {
    it("binds 127.0.0.1 on a free port and reports it; two emulators get different ports", async () => {
        const a = await startEmulator();
        const b = await startEmulator();
        try {
            expect(a.port).to.be.above(0);
            expect(a.url).to.equal(`http://127.0.0.1:${a.port}`);
            expect(b.port).to.not.equal(a.port);
            const r = await fetch(`${a.url}/_emulator`);
            expect(r.status).to.equal(200);
        } finally {
            await a.close();
            await b.close();
        }
        let refused = false;
        await fetch(`${a.url}/_emulator`).catch(() => (refused = true));
        expect(refused, "closed emulator no longer answers").to.equal(true);
        await a.close(); // twice is fine
    });

    it("refuses a port that is already taken, with a configuration error", async () => {
        const a = await startEmulator();
        try {
            let message = "";
            await startEmulator({ port: a.port }).catch((e: Error) => (message = e.message));
            expect(message).to.match(/already in use/);
        } finally {
            await a.close();
        }
    });
});
