/**
 * Routing per billing profile from the config file (`defaults` + `routing`),
 * against the emulator (HTTP) and a real SMTP server (smtp-server over TCP):
 * what each recipient received, in which language and from whom, the reasons
 * stored in the ledger, what the dry run and `ledger` print, and bad routing
 * refused with exit status 2 before anything is done.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ParsedMail } from "mailparser";
import { profileLabel } from "../../../provider/reconciler/facts";
import { SEED, ledgerRows, mailOf, openWorldLedger, parsedMessages, runCli, startWorld, type World } from "./world";

const OPS = SEED.profiles.operations;
const RESEARCH = SEED.profiles.research;
const PARTNER = SEED.profiles.partner;
const OPS_KEY = profileLabel(OPS);
const ALL_TIME = ["--since", "2000-01-01"];

function writeConfig(world: World, config: unknown): string {
    const file = path.join(world.dir, "reconcile.json");
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
}

function toOf(m: ParsedMail): string {
    const to = Array.isArray(m.to) ? m.to[0] : m.to;
    return (to?.value[0]?.address ?? "").toLowerCase();
}

function invoiceOf(m: ParsedMail): string {
    return m.attachments[0]?.filename?.replace(/\.pdf$/, "") ?? "";
}

/** Recipient -> the invoices they received, sorted. */
function received(messages: readonly ParsedMail[]): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const m of messages) (out[toOf(m)] ??= []).push(invoiceOf(m));
    for (const k of Object.keys(out)) out[k].sort();
    return out;
}

/** Recipient -> reasons stored in the ledger (the same for every invoice of the profile; checked). */
async function storedReasons(world: World, profile = OPS): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const row of (await ledgerRows(world)).filter((r) => r.billingProfileName === profile.billingProfileName)) {
        const seen = out[row.recipientKey];
        if (seen) expect(row.reasons, row.recipientKey).to.deep.equal(seen);
        out[row.recipientKey] = row.reasons;
    }
    return out;
}

describe("reconciler: routing per billing profile", function () {
    let world: World;
    beforeEach(async () => {
        world = await startWorld();
    });
    afterEach(() => world.close());

    it("azure-rule with extra recipients, excludes, Swedish, its own From and Reply-To; a later change applies to invoices planned after it", async () => {
        await world.optIn("operations", ["ap@contoso.com"]);
        const invoices = (await world.client("alice").listInvoices(OPS, { periodStartDate: "2000-01-01", periodEndDate: new Date().toISOString().slice(0, 10) })).map((i) => i.name).sort();
        const routing = {
            recipients: "azure-rule",
            extraRecipients: ["intake@ap.example.com", "ALICE@contoso.com"],
            exclude: ["carol@*", "*@contractor.example"],
            locale: "sv-SE",
            from: "Contoso AP <ap-bot@contoso.com>",
            replyTo: "ap-team@contoso.com",
        };
        const config = writeConfig(world, { profiles: [OPS_KEY], defaults: { locale: "en-US" }, routing: { [OPS_KEY]: routing } });
        const r = await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME], world.env("grace"));
        expect(r.code, r.stderr).to.equal(0);

        const messages = await parsedMessages(world.sink);
        const [alice, bob, carol] = mailOf("alice", "bob", "carol");
        expect(received(messages)).to.deep.equal({ [alice]: invoices, [bob]: invoices, "ap@contoso.com": invoices, "intake@ap.example.com": invoices });
        expect(Object.keys(received(messages))).to.not.include(carol);
        for (const m of messages) {
            expect(m.from?.value[0]).to.deep.include({ address: "ap-bot@contoso.com", name: "Contoso AP" });
            expect(m.replyTo?.value.map((v) => v.address)).to.deep.equal(["ap-team@contoso.com"]);
            expect(m.subject).to.match(/^Azure-faktura G\w+ för Contoso Operations Billing \(/);
            expect(m.headers.get("content-language")).to.equal("sv-SE");
            expect(m.text).to.match(/^Fakturanummer:\s+G\w+$/m);
            expect(m.headers.get("x-auto-response-suppress")).to.equal("All");
        }
        expect(await storedReasons(world)).to.deep.equal({
            [alice]: ["Billing profile owner", "extraRecipients"],
            [bob]: ["Billing profile contributor"],
            "ap@contoso.com": ["invoiceRecipients"],
            "intake@ap.example.com": ["extraRecipients"],
        });
        expect(r.stdout).to.include(`excluded by the routing: ${carol} (role Billing profile reader) on ${OPS_KEY}: matches exclude 'carol@*'`);
        expect(r.stdout).to.include(`warning: ${OPS_KEY}: exclude '*@contractor.example' matched no recipient of the profile`);

        const table = await runCli(["ledger", "--ledger", world.ledger, "--recipient", alice, "--invoice", invoices[0]], {});
        expect(table.stdout).to.match(new RegExp(`sent\\s+${OPS.billingProfileName}\\s+${invoices[0]}\\s+${alice}\\s+role Billing profile owner; extra recipient from the config\\s+1\\s+250 `));
        const json = JSON.parse((await runCli(["ledger", "--ledger", world.ledger, "--json", "--recipient", "intake@ap.example.com"], {})).stdout) as Array<{ reasons: string[] }>;
        expect(json.map((x) => x.reasons)).to.deep.equal(invoices.map(() => ["extraRecipients"]));

        // The AP intake leaves the routing and the rest is back to English: the stored plans keep their recipients
        // (nothing is sent again), the next invoice goes to the recipients of the routing as it is then.
        writeConfig(world, { profiles: [OPS_KEY], routing: { [OPS_KEY]: { exclude: ["carol@*"] } } });
        const before = world.sink.accepted;
        const again = await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME], world.env("grace"));
        expect(again.code, again.stderr).to.equal(0);
        expect(world.sink.accepted).to.equal(before);
        const fresh = await world.issueInvoice("operations");
        const third = await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME], world.env("grace"));
        expect(third.code, third.stderr).to.equal(0);
        const added = (await parsedMessages(world.sink)).slice(before);
        expect(received(added)).to.deep.equal({ [alice]: [fresh], [bob]: [fresh], "ap@contoso.com": [fresh] });
        for (const m of added) {
            expect(m.subject).to.match(/^Azure invoice /);
            expect(m.from?.value[0].address).to.equal("billing@contoso.com");
            expect(m.replyTo).to.equal(undefined);
        }
    });

    it("additional-only (from defaults) mails only the additional recipients and reads no roles or Graph users; --from wins over defaults.from", async () => {
        await world.optIn("operations", ["ap@contoso.com", "controller@contoso.com"]);
        const config = writeConfig(world, { profiles: [OPS_KEY], defaults: { recipients: "additional-only", from: "Defaults <defaults@contoso.com>" } });
        await world.clearRequests();
        const r = await runCli(["reconcile", "--config", config, "--ledger", world.ledger, "--from", "Flag <flag@contoso.com>", ...ALL_TIME], world.env("grace"));
        expect(r.code, r.stderr).to.equal(0);
        const messages = await parsedMessages(world.sink);
        expect(Object.keys(received(messages)).sort()).to.deep.equal(["ap@contoso.com", "controller@contoso.com"]);
        expect(messages).to.have.length(6);
        for (const m of messages) expect(m.from?.value[0].address).to.equal("flag@contoso.com");
        const ops = (await world.requests()).map((x) => x.operation);
        for (const op of ["listBillingRoleAssignments", "listBillingRoleDefinitions", "getGraphUser"]) expect(ops, op).to.not.include(op);
        expect(await storedReasons(world)).to.deep.equal({ "ap@contoso.com": ["invoiceRecipients"], "controller@contoso.com": ["invoiceRecipients"] });
        // No role holder is "not mailed": the routing does not take role holders at all.
        expect(r.stdout).to.not.include("not mailed");

        // Without --from, defaults.from wins over INVOICE_MAIL_FROM.
        const fresh = await world.issueInvoice("operations");
        const before = world.sink.accepted;
        expect((await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME], world.env("grace"))).code).to.equal(0);
        const added = (await parsedMessages(world.sink)).slice(before);
        expect(added.map(invoiceOf)).to.deep.equal([fresh, fresh]);
        for (const m of added) expect(m.from?.value[0].address).to.equal("defaults@contoso.com");
    });

    it("none with an extra recipient sends only to it; other profiles keep Azure's rule; a routing entry out of scope is a warning", async () => {
        await world.optIn("operations", ["ap@contoso.com"]);
        await world.optIn("research");
        const config = writeConfig(world, {
            profiles: [OPS_KEY, profileLabel(RESEARCH)],
            routing: { [OPS_KEY]: { recipients: "none", extraRecipients: ["intake@ap.example.com"] }, [profileLabel(PARTNER)]: { locale: "sv-SE" } },
        });
        const r = await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME], world.env("grace"));
        expect(r.code, r.stderr).to.equal(0);
        const messages = await parsedMessages(world.sink);
        const byProfile = (p: typeof OPS) => received(messages.filter((m) => m.headers.get("x-azure-billing-profile") === p.billingProfileName));
        expect(Object.keys(byProfile(OPS))).to.deep.equal(["intake@ap.example.com"]);
        expect(Object.keys(byProfile(RESEARCH)).sort()).to.deep.equal(mailOf("dave", "erin", "frank").sort());
        expect(await storedReasons(world)).to.deep.equal({ "intake@ap.example.com": ["extraRecipients"] });
        expect(r.stdout).to.include(`warning: the routing entry for ${profileLabel(PARTNER)} matches no billing profile in scope, so it was not used`);
    });

    it("none alone sends nothing and stores the plans, so switching back to azure-rule sends only invoices planned after", async () => {
        await world.optIn("operations", ["ap@contoso.com"]);
        const config = writeConfig(world, { profiles: [OPS_KEY], routing: { [OPS_KEY]: { recipients: "none" } } });
        const r = await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME, "--json"], world.env("grace"));
        expect(r.code, r.stderr).to.equal(0);
        expect(world.sink.accepted).to.equal(0);
        const summary = JSON.parse(r.stdout) as { totals: { planned: number }; profiles: Array<{ newInvoices: number }> };
        expect(summary.totals.planned).to.equal(0);
        expect(summary.profiles[0].newInvoices).to.equal(3);
        const ledger = openWorldLedger(world);
        try {
            expect((await ledger.plannedInvoiceNames(OPS)).size).to.equal(3);
        } finally {
            await ledger.close();
        }

        writeConfig(world, { profiles: [OPS_KEY] });
        expect((await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME], world.env("grace"))).code).to.equal(0);
        expect(world.sink.accepted, "plans made under 'none' keep their (no) recipients").to.equal(0);
        const fresh = await world.issueInvoice("operations");
        expect((await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME], world.env("grace"))).code).to.equal(0);
        const messages = await parsedMessages(world.sink);
        expect(received(messages)).to.deep.equal(Object.fromEntries([...mailOf("alice", "bob", "carol"), "ap@contoso.com"].map((a) => [a, [fresh]])));
    });

    it("the dry run shows why each recipient is planned and whom the routing excludes", async () => {
        await world.optIn("operations", ["ap@contoso.com"]);
        const config = writeConfig(world, { profiles: [OPS_KEY], routing: { [OPS_KEY]: { extraRecipients: ["intake@ap.example.com"], exclude: ["bob@contoso.com"] } } });
        const text = await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME, "--dry-run"], world.env("grace"));
        expect(text.code, text.stderr).to.equal(0);
        const [alice, bob] = mailOf("alice", "bob");
        expect(text.stdout).to.match(new RegExp(`${OPS_KEY.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+G\\w+\\s+intake@ap\\.example\\.com\\s+extra recipient from the config`));
        expect(text.stdout).to.match(new RegExp(`G\\w+\\s+ap@contoso\\.com\\s+additional recipient`));
        expect(text.stdout).to.match(new RegExp(`G\\w+\\s+${alice}\\s+role Billing profile owner`));
        expect(text.stdout).to.include(`excluded by the routing: ${bob} (role Billing profile contributor) on ${OPS_KEY}: matches exclude 'bob@contoso.com'`);
        const json = JSON.parse((await runCli(["reconcile", "--config", config, "--ledger", world.ledger, ...ALL_TIME, "--dry-run", "--json"], world.env("grace"))).stdout) as Array<{
            recipient: string;
            reasons: string[];
        }>;
        expect(new Set(json.map((d) => `${d.recipient}=${d.reasons.join("+")}`))).to.deep.equal(
            new Set([`${alice}=Billing profile owner`, `${mailOf("carol")[0]}=Billing profile reader`, "ap@contoso.com=invoiceRecipients", "intake@ap.example.com=extraRecipients"]),
        );
        expect(world.sink.accepted).to.equal(0);
        expect(fs.existsSync(world.ledger)).to.equal(false);
    });

    it("refuses bad routing with exit status 2 naming the key, before any request, message or ledger", async () => {
        await world.optIn("operations", ["ap@contoso.com"]);
        await world.clearRequests();
        const cases: Array<[string, unknown, RegExp, Record<string, string>?]> = [
            ["unknown locale", { defaults: { locale: "fr-FR" } }, /defaults\.locale: there is no message catalogue for 'fr-FR' \(languages: en, sv\)/],
            ["not a language tag", { routing: { [OPS_KEY]: { locale: "Swedish!" } } }, /routing\..+\.locale: 'Swedish!' is not a language tag/],
            ["unknown recipients value", { routing: { [OPS_KEY]: { recipients: "everyone" } } }, /routing\..+\.recipients: must be one of azure-rule, additional-only, none, not "everyone"/],
            ["malformed extra recipient", { routing: { [OPS_KEY]: { extraRecipients: ["intake at ap.example.com"] } } }, /routing\..+\.extraRecipients\.0: contains a line break, space, comma, semicolon, quote or angle bracket/],
            ["malformed Reply-To", { defaults: { replyTo: "AP team <ap-team>" } }, /defaults\.replyTo: 'AP team <ap-team>' is not an address/],
            ["malformed From", { routing: { [OPS_KEY]: { from: "billing@contoso.com\nBcc: x@example.com" } } }, /routing\..+\.from: contains a line break/],
            ["empty exclude", { defaults: { exclude: [" "] } }, /defaults\.exclude\.0: is empty/],
            ["unknown key in an entry", { routing: { [OPS_KEY]: { recipent: "none" } } }, /routing\..+: unknown key 'recipent': use recipients, extraRecipients, exclude, locale, from, replyTo/],
            ["unknown key in defaults", { defaults: { lang: "sv-SE" } }, /defaults: unknown key 'lang'/],
            ["unknown top-level key", { route: {} }, /route/],
            ["a key that names no profile", { routing: { "no-slash": {} } }, /routing\.no-slash: 'no-slash' is not <billingAccountName>\/<billingProfileName>/],
            ["a profile named twice", { routing: { [OPS_KEY]: {}, [OPS_KEY.toLowerCase()]: {} } }, /names the same billing profile as/],
            ["two senders", { from: "a@contoso.com", defaults: { from: "b@contoso.com" } }, /from: and defaults\.from both name the sender/],
            [
                "no sender for a profile",
                { profiles: [OPS_KEY, profileLabel(RESEARCH)], routing: { [OPS_KEY]: { from: "ops@contoso.com" } } },
                new RegExp(`INVOICE_MAIL_FROM: is not set.*\\(${profileLabel(RESEARCH).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} has no "from" of its own\\)`),
                { INVOICE_MAIL_FROM: "" },
            ],
        ];
        for (const [what, config, message, env] of cases) {
            const file = writeConfig(world, { profiles: [OPS_KEY], ...(config as object) });
            const r = await runCli(["reconcile", "--config", file, "--ledger", world.ledger, ...ALL_TIME], { ...world.env("grace"), ...env });
            expect(r.code, `${what}: ${r.stderr}`).to.equal(2);
            expect(r.stderr, what).to.match(message);
        }
        expect(await world.requests(), "no billing API request").to.deep.equal([]);
        expect(world.sink.accepted).to.equal(0);
        expect(fs.existsSync(world.ledger)).to.equal(false);
        // A sender named only by each profile in an explicit scope is enough.
        const own = writeConfig(world, { profiles: [OPS_KEY], routing: { [OPS_KEY]: { from: "ops@contoso.com" } } });
        const dry = await runCli(["reconcile", "--config", own, "--ledger", world.ledger, ...ALL_TIME, "--dry-run"], { ...world.env("grace"), INVOICE_MAIL_FROM: "" });
        expect(dry.code, dry.stderr).to.equal(0);
        const ok = await runCli(["reconcile", "--config", own, "--ledger", world.ledger, ...ALL_TIME], { ...world.env("grace"), INVOICE_MAIL_FROM: "" });
        expect(ok.code, ok.stderr).to.equal(0);
        for (const m of await parsedMessages(world.sink)) expect(m.from?.value[0].address).to.equal("ops@contoso.com");
        expect(world.sink.accepted).to.be.above(0);
    });
});
