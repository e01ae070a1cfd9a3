/**
 * What the reconciler says when the SMTP server cannot give it what its
 * settings require, against a real SMTP server (smtp-server over TCP).
 */
import { expect } from "chai";
import { startSmtpSink, type SmtpSink } from "../../../cli/smtp-sink";
import { ConfigurationError } from "../../../provider/errors";
import { Mailer, resolveSmtpSettings } from "../../../provider/reconciler/mailer";

describe("reconciler SMTP: TLS required but not offered", () => {
    let sink: SmtpSink;
    before(async () => {
        // The sink offers no STARTTLS, like a server reached in plaintext that has none.
        sink = await startSmtpSink({ keep: true });
    });
    after(async () => {
        await sink.close();
    });

    it("says that TLS is required and that the server does not offer it, and sends nothing", async () => {
        const settings = resolveSmtpSettings({ env: { SMTP_URL: sink.url, INVOICE_MAIL_FROM: "billing@contoso.com" }, readFile: () => "" });
        // What resolveSmtpSettings sets for a server off loopback (this one is on loopback, so set it here).
        settings.transport.requireTLS = true;
        const mailer = new Mailer(settings);
        try {
            const err = await mailer.send({
                envelope: { from: "billing@contoso.com", to: ["ap@contoso.com"] },
                messageId: "<x@contoso.com>",
                head: Buffer.from("From: billing@contoso.com\r\nTo: ap@contoso.com\r\nSubject: x\r\n\r\n"),
                body: [Buffer.from("x\r\n")],
            }).then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(err).to.be.instanceOf(ConfigurationError);
            const e = err as ConfigurationError;
            expect(e.setting).to.equal("SMTP_URL");
            expect(e.message).to.match(/TLS is required for an SMTP server that is not on loopback, and this server does not offer it: it answered STARTTLS with "5\d\d/);
            expect(e.message).to.include("smtps://").and.include("--allow-insecure-smtp");
        } finally {
            mailer.close();
        }
        expect(sink.accepted).to.equal(0);
    });
});
