/**
 * The admin API's errors: a caller's mistake keeps its own status (409 for a
 * profile name that is taken, 404 for an unknown account); anything else
 * thrown while building is an emulator bug and answers 500, not 409.
 */
import { expect } from "chai";
import { handleAdmin } from "../../../emulator/admin";
import { errorReply } from "../../../emulator/errors";
import { createRuntime } from "../../../emulator/runtime";
import { SEED } from "../../../emulator";
import { createSeedState } from "../../../emulator/seed";
import { createMemoryStore, type EmulatorStore } from "../../../emulator/store";

const NOW = new Date("2025-03-15T10:00:00Z");
const MCA = SEED.accounts.mca.name;

/** Answers one admin POST as the server would: the reply, or the error factory's answer to what it threw. */
async function post(store: EmulatorStore, path: string, body: unknown): Promise<{ status: number; body: any }> {
    const url = new URL(`http://127.0.0.1${path}`);
    try {
        const reply = await handleAdmin({ store, runtime: createRuntime(), now: () => NOW, origin: url.origin }, "POST", url, Buffer.from(JSON.stringify(body)));
        return { status: reply.status, body: reply.body };
    } catch (err) {
        const e = errorReply(err, { requestId: "r", api: "admin", now: NOW });
        return { status: e.status, body: JSON.parse(e.body) };
    }
}

describe("emulator admin API: errors", () => {
    it("answers 409 BillingProfileAlreadyExists for a taken profile name, and changes nothing", async () => {
        const store = createMemoryStore(createSeedState({ now: NOW }));
        const before = store.snapshot();
        const r = await post(store, `/_emulator/billingAccounts/${MCA}/billingProfiles`, { name: SEED.profiles.operations.billingProfileName, displayName: "Again" });
        expect(r.status).to.equal(409);
        expect(r.body.error.code).to.equal("BillingProfileAlreadyExists");
        expect(r.body.error.message).to.contain(SEED.profiles.operations.billingProfileName);
        expect(store.snapshot()).to.deep.equal(before);
    });

    it("answers 404 for an unknown billing account", async () => {
        const store = createMemoryStore(createSeedState({ now: NOW }));
        const r = await post(store, `/_emulator/billingAccounts/00000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000_2019-05-31/billingProfiles`, { count: 1 });
        expect(r.status).to.equal(404);
    });

    it("answers 500, not 409, when building fails for any other reason (here: an account without an owner)", async () => {
        const state = createSeedState({ now: NOW });
        state.roleAssignments = state.roleAssignments.filter((a) => !(a.billingAccountName === MCA && a.billingProfileName === null && a.principalId === SEED.users.grace.id));
        const store = createMemoryStore(state);
        const before = store.snapshot();
        const r = await post(store, `/_emulator/billingAccounts/${MCA}/billingProfiles`, { count: 1 });
        expect(r.status).to.equal(500);
        expect(r.body.error.code).to.equal("InternalServerError");
        expect(r.body.error.message).to.contain("has no owner");
        expect(store.snapshot(), "all or nothing").to.deep.equal(before);
    });
});
