/**
 * What the reconciler says when the SMTP server cannot give it what its
 * settings require, against a real SMTP server (smtp-server over TCP).
 */
import { expect } from "chai";
import { startSmtpSink, type SmtpSink } from "../../../cli/smtp-sink";
import { ConfigurationError } from "../../../provider/errors";
import { escapeChunk } from "../../../provider/reconciler/dataStream";
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

describe("reconciler SMTP: a message's bytes on the wire", () => {
    let sink: SmtpSink;
    before(async () => {
        sink = await startSmtpSink({ keep: true });
    });
    after(async () => {
        await sink.close();
    });

    it("arrives with every line end CRLF and every dot first on a line as written, a lone dot line included, in pieces split anywhere", async () => {
        const mailer = new Mailer(resolveSmtpSettings({ env: { SMTP_URL: sink.url, INVOICE_MAIL_FROM: "billing@contoso.com" }, readFile: () => "" }));
        const head = "From: billing@contoso.com\r\nTo: ap@contoso.com\r\nSubject: dots\r\nMessage-ID: <dots@contoso.com>\r\n\r\n";
        // A lone dot on a line would end the message early were it not doubled on the wire and undoubled by the server.
        const body = [".first\nbare LF\r\n", ".", "\r\n", "..two dots\rbare CR\r", "\n.after a split CRLF\r\n", "last line\n"];
        try {
            await mailer.send({ envelope: { from: "billing@contoso.com", to: ["ap@contoso.com"] }, messageId: "<dots@contoso.com>", head: Buffer.from(head), body: body.map((b) => Buffer.from(b)) });
        } finally {
            mailer.close();
        }
        expect(sink.messages).to.have.length(1);
        expect(sink.messages[0].raw.toString("latin1")).to.equal(
            head + ".first\r\nbare LF\r\n.\r\n..two dots\r\nbare CR\r\n.after a split CRLF\r\nlast line\r\n",
        );
        const DataStream = require("nodemailer/lib/smtp-connection/data-stream") as { prototype: { _transform: unknown } };
        expect(DataStream.prototype._transform, "the reconciler's escaping is what sent it").to.equal(escapeChunk);
    });
});
