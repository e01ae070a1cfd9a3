/**
 * What `azure-email-invoicing reconcile` prints while it works: progress on
 * stderr, one live line on a terminal and plain lines otherwise.
 */
import { profileLabel } from "../provider/reconciler/facts";
import type { RunEvent } from "../provider/reconciler/run";
import type { CommandIo } from "./io";
import { describeDelivery, describeSkipped, describeUnrecorded, describeUnresolved } from "./render";
import { terminalSafe } from "./text";

/** Renders progress: one live line on a terminal, plain lines otherwise. */
export class Progress {
    private readonly tty: boolean;
    private profiles = { total: 0, done: 0 };
    private invoices = { total: 0, done: 0 };
    private deliveries = { total: 0, sent: 0, failed: 0, retrying: 0, pending: 0 };
    private lastDraw = 0;

    constructor(private readonly io: CommandIo) {
        this.tty = io.stderr.isTTY === true;
    }

    /** One line of progress; made terminal-safe here, as it may hold names and messages from the server. */
    private line(text: string): void {
        if (this.tty) this.io.stderr.write("\r\x1b[K");
        this.io.stderr.write(terminalSafe(text) + "\n");
        if (this.tty) this.draw(true);
    }

    private draw(force = false): void {
        if (!this.tty) return;
        const now = Date.now();
        if (!force && now - this.lastDraw < 100) return;
        this.lastDraw = now;
        const d = this.deliveries;
        const done = d.sent + d.failed + d.pending;
        this.io.stderr.write(
            `\r\x1b[Kprofiles ${this.profiles.done}/${this.profiles.total} · invoices ${this.invoices.done}/${this.invoices.total} · deliveries ${done}/${d.total}` +
                ` (sent ${d.sent}, failed ${d.failed}${d.retrying ? `, retrying ${d.retrying}` : ""})`,
        );
    }

    onEvent = (e: RunEvent): void => {
        switch (e.type) {
            case "scope":
                this.profiles = { total: e.profiles, done: 0 };
                this.invoices = { total: 0, done: 0 };
                this.deliveries = { total: 0, sent: 0, failed: 0, retrying: 0, pending: 0 };
                if (!this.tty) this.line(`${e.profiles} billing profile(s) in scope`);
                break;
            case "profile": {
                this.profiles.done++;
                const p = e.profile;
                const label = profileLabel(p);
                if (p.errors.length > 0) this.line(`error: ${label}: ${p.errors.join("; ")}`);
                else if (p.optedIn === false) {
                    if (!this.tty) this.line(`${label}: not opted in to email invoices${p.cancelled ? `; cancelled ${p.cancelled} planned deliveries` : ""}`);
                } else if (!this.tty) {
                    this.line(`${label}: ${p.invoicesInWindow} invoice(s) in window, ${p.newInvoices} new, ${p.planned} deliveries planned`);
                }
                for (const u of p.unresolved) this.line(describeUnresolved(u, label));
                for (const k of p.skippedInvoices) this.line(describeSkipped(k, label));
                break;
            }
            case "deliveries":
                // One event per profile: the totals add up.
                this.invoices.total += e.invoices;
                this.deliveries.total += e.deliveries;
                if (!this.tty && e.deliveries > 0) this.line(`delivering ${e.deliveries} message(s) for ${e.invoices} invoice(s)`);
                break;
            case "delivery": {
                const d = e.delivery;
                if (e.outcome === "sent") {
                    this.deliveries.sent++;
                    if (d.attempts > 1) this.deliveries.retrying = Math.max(0, this.deliveries.retrying - 1);
                    if (!this.tty) this.line(`sent ${d.invoiceName} to ${d.recipient}: ${e.detail}`);
                } else if (e.outcome === "failed") {
                    this.deliveries.failed++;
                    this.line(`failed ${d.invoiceName} to ${d.recipient}: ${e.detail}`);
                } else if (e.outcome === "retry") {
                    if (d.attempts <= 1) this.deliveries.retrying++;
                    if (!this.tty) this.line(`will retry ${d.invoiceName} to ${d.recipient} (attempt ${d.attempts}): ${e.detail}`);
                } else if (e.outcome === "pending") {
                    this.deliveries.pending++;
                    this.deliveries.retrying = Math.max(0, this.deliveries.retrying - 1);
                    this.line(`pending ${d.invoiceName} to ${d.recipient}: ${e.detail}`);
                }
                break;
            }
            case "invoiceError":
                this.line(`error: ${e.message}`);
                break;
            case "invoiceDone":
                this.invoices.done++;
                break;
            case "error":
                this.line(`error: ${e.message}`);
                break;
            case "fenced":
                this.line(`${describeDelivery(e.delivery)}: ${e.detail}`);
                break;
            case "unrecorded":
                this.line(describeUnrecorded(e.delivery, e.smtpResponse, e.error));
                break;
            case "ledger":
                this.line(e.state === "down" ? `ledger unreachable: ${e.message}; claiming nothing new, finishing the messages in flight` : e.message);
                break;
        }
        this.draw();
    };

    /** Leaves the final counts on the terminal. */
    finish(): void {
        if (!this.tty) return;
        this.draw(true);
        this.io.stderr.write("\n");
    }
}
