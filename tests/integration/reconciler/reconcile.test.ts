/**
 * `azure-email-invoicing reconcile` and `ledger` against the emulator (HTTP)
 * and a real SMTP server (smtp-server over TCP), messages parsed with
 * mailparser. Profiles are opted in with the owner's token through the
 * Azure-facing API.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { simpleParser } from "mailparser";
import * as fs from "node:fs";
import * as path from "node:path";
import { invoiceDocumentName } from "../../../provider/billing/profile";
import type { Invoice } from "../../../provider/billing/schemas";
import { formatDate, formatMoney, formatPeriod, messageIdFor } from "../../../provider/reconciler/message";
import { SEED, mailOf, openWorldLedger, parsedMessages, runCli, startWorld, type World } from "./world";

const OPS = SEED.profiles.operations;
const ALL_TIME = ["--since", "2000-01-01"];

function addressesOf(m: { to?: unknown }): string[] {
    const to = (Array.isArray(m.to) ? m.to : [m.to]) as Array<{ value: Array<{ address?: string }> } | undefined>;
    return to.flatMap((t) => t?.value.map((v) => (v.address ?? "").toLowerCase()) ?? []);
}

async function invoicesOf(world: World, since = "2000-01-01"): Promise<Invoice[]> {
    const today = new Date().toISOString().slice(0, 10);
    return world.client("alice").listInvoices(OPS, { periodStartDate: since, periodEndDate: today });
}

describe("reconciler: reconcile and ledger commands", function () {
    describe("an opted-in profile, run after run", () => {
        let world: World;
        let invoices: Invoice[];
        // Alice is owner, Bob contributor, Carol and the kiosk (no mailbox) readers of Operations;
        // the additional recipients repeat Alice in another case.
        const recipients = [...mailOf("alice", "bob", "carol"), "ap@contoso.com"].sort();

        before(async () => {
            world = await startWorld();
            await world.optIn("operations", ["ap@contoso.com", "ALICE@contoso.com"]);
            invoices = await invoicesOf(world);
            expect(invoices).to.have.length(3);
        });
        after(() => world.close());

        it("emails each invoice once to every role holder with a mailbox and every additional recipient, with its PDF", async () => {
            const r = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger], world.env("grace"));
            expect(r.code, r.stderr).to.equal(0);
            const messages = await parsedMessages(world.sink);
            expect(messages).to.have.length(invoices.length * recipients.length);

            const seen = new Set<string>();
            for (const m of messages) {
                const [to] = addressesOf(m);
                const invoiceName = m.attachments[0]?.filename?.replace(/\.pdf$/, "") ?? "";
                const key = `${invoiceName}|${to}`;
                expect(seen.has(key), `${key} twice`).to.equal(false);
                seen.add(key);
            }
            expect([...seen].sort()).to.deep.equal(invoices.flatMap((i) => recipients.map((a) => `${i.name}|${a}`)).sort());

            for (const invoice of invoices) {
                const { bytes } = await world.client("alice").downloadInvoicePdf({
                    billingAccountName: OPS.billingAccountName,
                    invoiceName: invoice.name,
                    documentName: invoiceDocumentName(invoice),
                });
                const p = invoice.properties;
                for (const m of messages.filter((x) => x.attachments[0]?.filename === `${invoice.name}.pdf`)) {
                    expect(m.attachments).to.have.length(1);
                    expect(m.attachments[0].contentType).to.equal("application/pdf");
                    expect(m.attachments[0].content.subarray(0, 5).toString()).to.equal("%PDF-");
                    expect(Buffer.compare(m.attachments[0].content, bytes), `${invoice.name} PDF bytes`).to.equal(0);
                    expect(m.subject).to.equal(`Azure invoice ${invoice.name} for ${OPS.displayName} (${formatPeriod("en-US", p.invoicePeriodStartDate, p.invoicePeriodEndDate)})`);
                    expect(m.from?.value[0].address).to.equal("billing@contoso.com");
                    expect(m.headers.get("x-auto-response-suppress")).to.equal("All");
                    const money = (a: typeof p.amountDue) => formatMoney("en-US", { value: a!.value!, currency: a!.currency ?? null });
                    const facts: Array<[string, string]> = [
                        ["Invoice number", invoice.name],
                        ["Billing profile", `${OPS.displayName} (${OPS.billingProfileName})`],
                        ["Billing account", OPS.billingAccountName],
                        ["Invoice date", formatDate("en-US", p.invoiceDate)],
                        ["Due date", formatDate("en-US", p.dueDate)],
                        ["Total amount", money(p.totalAmount)],
                        ["Tax", money(p.taxAmount)],
                        ["Amount due", money(p.amountDue)],
                        ["Status", p.status === "Paid" ? "Paid" : "Due"],
                    ];
                    for (const [label, value] of facts) {
                        expect(m.text, label).to.match(new RegExp(`^${label}:\\s+${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
                        expect(String(m.html), label).to.include(value.replace(/&/g, "&amp;"));
                    }
                    // The emulator is no Azure cloud: no portal link.
                    expect(String(m.html)).to.not.include("portal.azure");
                    const [to] = addressesOf(m);
                    expect(m.messageId).to.equal(messageIdFor(OPS, invoice.name, to));
                }
            }
        });

        it("reports the reader without a mailbox instead of guessing an address, and mails nobody else", async () => {
            const to = new Set(world.sink.messages.flatMap((m) => m.to.map((a) => a.toLowerCase())));
            for (const other of [
                ...mailOf("dave", "erin", "frank"), // Research, not opted in
                ...mailOf("jane", "victor", "wendy"), // no role
                ...mailOf("grace", "heidi", "ivan"), // billing account roles, not profile roles
                SEED.users.kiosk.userPrincipalName.toLowerCase(),
            ]) {
                expect(to.has(other), other).to.equal(false);
            }
            const ledger = openWorldLedger(world);
            try {
                const stored = (await ledger.invoice(OPS, invoices[0].name))!;
                expect(stored.unresolved.map((u) => u.principalId)).to.deep.equal([SEED.users.kiosk.id]);
                expect(stored.unresolved[0].reason).to.match(/no mailbox/);
            } finally {
                await ledger.close();
            }
        });

        it("a second run sends nothing, downloads nothing and reads no roles or Graph users", async () => {
            const before = world.sink.accepted;
            await world.clearRequests();
            const r = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger, "--json"], world.env("grace"));
            expect(r.code, r.stderr).to.equal(0);
            expect(world.sink.accepted).to.equal(before);
            const summary = JSON.parse(r.stdout);
            expect(summary.totals).to.include({ planned: 0, sent: 0, failed: 0, pending: 0 });
            const ops = (await world.requests()).map((x) => x.operation);
            // Every profile Grace can read: the account's invoices in one list, not one per profile.
            expect(ops).to.include("listInvoicesByBillingAccount");
            for (const op of ["listInvoices", "downloadInvoice", "listBillingRoleAssignments", "listBillingRoleDefinitions", "getGraphUser"]) expect(ops, op).to.not.include(op);
        });

        it("a role added later gets later invoices only; a new invoice goes to exactly the current recipients", async () => {
            // Alice (owner) makes Jane a reader and changes the additional recipients, as in the portal.
            const alice = world.client("alice");
            const reader = await alice.resolveRoleDefinition(OPS, "Billing profile reader");
            await alice.createRoleAssignment(OPS, { roleDefinitionId: reader.id, principalId: SEED.users.jane.id, principalTenantId: SEED.tenantId });
            await alice.updateInvoiceEmailSettings(OPS, { invoiceEmailOptIn: true, invoiceRecipients: ["controller@contoso.com"] });

            const before = world.sink.accepted;
            const r1 = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger], world.env("grace"));
            expect(r1.code, r1.stderr).to.equal(0);
            expect(world.sink.accepted, "old invoices are not sent to new recipients").to.equal(before);

            const fresh = await world.issueInvoice("operations");
            const r2 = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger], world.env("grace"));
            expect(r2.code, r2.stderr).to.equal(0);
            const added = world.sink.messages.slice(before);
            expect(added.map((m) => m.to.join(",").toLowerCase()).sort()).to.deep.equal([...mailOf("alice", "bob", "carol", "jane"), "controller@contoso.com"].sort());
            const parsed = await Promise.all(added.map((m) => simpleParser(m.raw)));
            for (const m of parsed) expect(m.attachments[0].filename).to.equal(`${fresh}.pdf`);
        });

        it("`ledger` shows what was sent to whom and when, as a table and as JSON", async () => {
            const table = await runCli(["ledger", "--ledger", world.ledger, "--recipient", "ap@contoso.com"], {});
            expect(table.code).to.equal(0);
            for (const invoice of invoices) expect(table.stdout).to.match(new RegExp(`\\d{4}-\\d{2}-\\d{2}T[\\d:]+Z\\s+sent\\s+${OPS.billingProfileName}\\s+${invoice.name}\\s+ap@contoso.com\\s+additional recipient\\s+1\\s+250 OK`));
            const json = await runCli(["ledger", "--ledger", world.ledger, "--json", "--state", "sent"], {});
            const rows = JSON.parse(json.stdout) as Array<{ state: string; recipient: string; sentAt: string; smtpResponse: string; messageId: string }>;
            expect(rows).to.have.length(world.sink.accepted);
            expect(new Set(rows.map((r) => r.messageId))).to.deep.equal(new Set(world.sink.messages.map((m) => m.messageId)));
            for (const row of rows) {
                expect(row.state).to.equal("sent");
                expect(row.smtpResponse).to.match(/^250 /);
                expect(Date.parse(row.sentAt)).to.be.a("number").and.not.NaN;
            }
            const missing = await runCli(["ledger", "--ledger", path.join(world.dir, "nope.sqlite")], {});
            expect(missing.code).to.equal(1);
            expect(missing.stderr).to.match(/no ledger at/);
        });
    });

    describe("scope, window and dry run", () => {
        let world: World;
        beforeEach(async () => {
            world = await startWorld();
        });
        afterEach(() => world.close());

        it("lists an account's invoices once for all its profiles in scope, each invoice to its own profile's recipients; named profiles list their own", async () => {
            await world.optIn("operations");
            await world.optIn("research");
            const RESEARCH = SEED.profiles.research;
            const today = new Date().toISOString().slice(0, 10);
            const researchInvoices = await world.client("dave").listInvoices(RESEARCH, { periodStartDate: "2000-01-01", periodEndDate: today });
            const opsInvoices = await invoicesOf(world);
            expect(researchInvoices.length).to.be.greaterThan(0);
            await world.clearRequests();
            const r = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger, "--json"], world.env("grace"));
            expect(r.code, r.stderr).to.equal(0);
            const ops = (await world.requests()).map((x) => x.operation);
            expect(ops.filter((o) => o === "listInvoicesByBillingAccount")).to.have.length(1);
            expect(ops).to.not.include("listInvoices");
            const messages = await parsedMessages(world.sink);
            const sentTo = (invoiceName: string) => [...new Set(messages.filter((m) => m.attachments[0]?.filename === `${invoiceName}.pdf`).flatMap(addressesOf))].sort();
            for (const i of opsInvoices) expect(sentTo(i.name), i.name).to.deep.equal(mailOf("alice", "bob", "carol").sort());
            for (const i of researchInvoices) expect(sentTo(i.name), i.name).to.deep.equal(mailOf("dave", "erin", "frank").sort());
            expect(messages).to.have.length(3 * opsInvoices.length + 3 * researchInvoices.length);

            // Named one by one, each profile lists its own.
            await world.clearRequests();
            const named = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger, "--profile", `${OPS.billingAccountName}/${OPS.billingProfileName}`, "--profile", `${RESEARCH.billingAccountName}/${RESEARCH.billingProfileName}`], world.env("grace"));
            expect(named.code, named.stderr).to.equal(0);
            const namedOps = (await world.requests()).map((x) => x.operation);
            expect(namedOps.filter((o) => o === "listInvoices")).to.have.length(2);
            expect(namedOps).to.not.include("listInvoicesByBillingAccount");
        });

        it("--dry-run --json prints the planned deliveries and sends and writes nothing", async () => {
            await world.optIn("operations");
            const invoices = await invoicesOf(world);
            const r = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger, "--dry-run", "--json"], world.env("grace"));
            expect(r.code, r.stderr).to.equal(0);
            const plan = JSON.parse(r.stdout) as Array<Record<string, string>>;
            const expected = invoices.flatMap((i) =>
                mailOf("alice", "bob", "carol").map((recipient) => ({ billingAccountName: OPS.billingAccountName, billingProfileName: OPS.billingProfileName, invoiceName: i.name, recipient })),
            );
            const key = (d: Record<string, string>) => `${d.invoiceName}|${d.recipient}`;
            expect(plan.map((d) => Object.keys(d).sort().join(","))).to.satisfy((ks: string[]) => ks.every((k) => k === "billingAccountName,billingProfileName,invoiceName,reasons,recipient"));
            expect(plan.map(key).sort()).to.deep.equal(expected.map(key).sort());
            expect(plan.every((d) => d.billingAccountName === OPS.billingAccountName && d.billingProfileName === OPS.billingProfileName)).to.equal(true);
            expect(world.sink.accepted).to.equal(0);
            expect(fs.existsSync(path.dirname(world.ledger)), "no ledger folder").to.equal(false);

            // With a ledger: only what is missing, and the ledger is left as it was.
            expect((await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger], world.env("grace"))).code).to.equal(0);
            const fresh = await world.issueInvoice("operations");
            const digest = () => createHash("sha256").update(fs.readFileSync(world.ledger)).digest("hex");
            const files = () => fs.readdirSync(path.dirname(world.ledger)).sort();
            const before = { digest: digest(), files: files(), accepted: world.sink.accepted };
            const again = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger, "--dry-run", "--json"], world.env("grace"));
            expect(again.code, again.stderr).to.equal(0);
            expect((JSON.parse(again.stdout) as Array<Record<string, string>>).map(key).sort()).to.deep.equal(mailOf("alice", "bob", "carol").map((a) => `${fresh}|${a}`).sort());
            expect({ digest: digest(), files: files(), accepted: world.sink.accepted }).to.deep.equal(before);
            const text = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger, "--dry-run"], world.env("grace"));
            expect(text.stdout).to.match(/dry run: 3 deliveries would be sent/);
            expect(text.stdout).to.include(`${fresh}  ${SEED.users.bob.mail}`);
            // The dry run says why: Bob is the profile's contributor.
            expect(text.stdout).to.match(new RegExp(`${fresh}\\s+${SEED.users.bob.mail}\\s+role Billing profile contributor`));
        });

        it("by default sends only invoices dated in the last 31 days", async () => {
            await world.optIn("operations");
            const all = await invoicesOf(world);
            const cutoff = new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString().slice(0, 10);
            const recent = all.filter((i) => i.properties.invoiceDate!.slice(0, 10) >= cutoff).map((i) => i.name);
            expect(recent.length).to.be.at.least(1);
            expect(recent.length).to.be.below(all.length);
            const r = await runCli(["reconcile", "--ledger", world.ledger], world.env("grace"));
            expect(r.code, r.stderr).to.equal(0);
            const sent = new Set((await parsedMessages(world.sink)).map((m) => m.attachments[0].filename));
            expect([...sent].sort()).to.deep.equal(recent.map((n) => `${n}.pdf`).sort());
        });

        it("resolves roles by name on an MPA profile, whose role definition ids differ, and honours --profile", async () => {
            await world.optIn("partner", ["partner-ap@contoso.com"]);
            await world.optIn("operations");
            const p = SEED.profiles.partner;
            const r = await runCli(["reconcile", ...ALL_TIME, "--ledger", world.ledger, "--profile", `${p.billingAccountName}/${p.billingProfileName}`], world.env("rupert"));
            expect(r.code, r.stderr).to.equal(0);
            const to = world.sink.messages.map((m) => m.to.join(",").toLowerCase());
            const expected = [...mailOf("rupert", "sybil", "trent"), "partner-ap@contoso.com"];
            expect(new Set(to)).to.deep.equal(new Set(expected));
            expect(to).to.have.length(3 * expected.length);
        });

        it("takes its scope from --config (validated), and shows live progress on a terminal", async () => {
            await world.optIn("operations");
            await world.optIn("research");
            const config = path.join(world.dir, "reconcile.json");
            fs.writeFileSync(config, JSON.stringify({ profiles: [`${OPS.billingAccountName}/${OPS.billingProfileName}`], since: "2000-01-01", ledger: "cfg-ledger.sqlite" }));
            const r = await runCli(["reconcile", "--config", config], world.env("grace"), { tty: true });
            expect(r.code, r.stderr).to.equal(0);
            expect(fs.existsSync(path.join(world.dir, "cfg-ledger.sqlite")), "ledger path relative to the config file").to.equal(true);
            expect(new Set(world.sink.messages.map((m) => m.to[0].toLowerCase()))).to.deep.equal(new Set(mailOf("alice", "bob", "carol")));
            expect(r.stderr).to.include("\r\x1b[K");
            expect(r.stderr).to.match(/profiles 1\/1 · invoices 3\/3 · deliveries 9\/9 \(sent 9, failed 0\)/);
            expect(r.stdout).to.match(/K7QM-4T2X-BG7-PGB\s+Contoso Operations Billing\s+yes\s+3\s+3\s+3\s+9\s+9\s+0\s+0\s+1/);

            fs.writeFileSync(config, JSON.stringify({ profiles: ["not-a-profile"], sinse: "2000-01-01" }));
            const bad = await runCli(["reconcile", "--config", config], world.env("grace"));
            expect(bad.code).to.equal(2);
            expect(bad.stderr).to.match(/--config: .*profiles\.0: 'not-a-profile' is not <billingAccountName>\/<billingProfileName>/);
            expect(bad.stderr).to.match(/sinse/);
        });
    });
});
