import { expect } from "chai";
import { ConfigurationError, MailDeliveryError, isRetryable } from "../../../provider/errors";
import { ERROR_CODES } from "nodemailer/lib/errors";
import { SMTP_ERROR_CLASSES, classifySmtpError, parseFrom, resolveSmtpSettings, type SmtpSettingsInput } from "../../../provider/reconciler/mailer";
import { thrownBy } from "../../support/thrown";

const FROM = "Contoso Billing <billing@contoso.com>";

function settings(env: Record<string, string>, extra: Partial<SmtpSettingsInput> = {}) {
    return resolveSmtpSettings({
        env: { INVOICE_MAIL_FROM: FROM, ...env },
        readFile: (p) => {
            if (p === "/run/secrets/smtp") return "s3cret\n";
            throw new Error("ENOENT: no such file");
        },
        ...extra,
    });
}

const configError = (fn: () => unknown) => thrownBy(fn, ConfigurationError);

describe("reconciler mailer settings and SMTP error classes", () => {
    describe("resolveSmtpSettings", () => {
        it("takes plain SMTP on loopback as it is (STARTTLS only if offered)", () => {
            const s = settings({ SMTP_URL: "smtp://127.0.0.1:2525" });
            expect(s.transport).to.include({ host: "127.0.0.1", port: 2525, secure: false, pool: true, maxRequeues: 0 });
            expect(s.transport.requireTLS).to.equal(undefined);
            expect(s.tls).to.equal("starttls-if-offered");
            expect(s.loopback).to.equal(true);
            expect(s.from).to.equal(FROM);
        });

        it("requires TLS off loopback: smtp:// gets requireTLS, smtps:// is implicit TLS", () => {
            expect(settings({ SMTP_URL: "smtp://smtp.contoso.com:587" })).to.deep.include({ tls: "starttls-required" });
            expect(settings({ SMTP_URL: "smtp://smtp.contoso.com:587" }).transport.requireTLS).to.equal(true);
            expect(settings({ SMTP_URL: "smtps://smtp.contoso.com" })).to.deep.include({ tls: "implicit-tls" });
        });

        it("refuses plaintext or unverified TLS off loopback unless --allow-insecure-smtp", () => {
            const e1 = configError(() => settings({ SMTP_URL: "smtp://smtp.contoso.com:25?ignoreTLS=true" }));
            expect(e1.setting).to.equal("SMTP_URL");
            expect(e1.message).to.match(/--allow-insecure-smtp/);
            configError(() => settings({ SMTP_URL: "smtps://smtp.contoso.com?tls.rejectUnauthorized=false" }));
            expect(settings({ SMTP_URL: "smtp://smtp.contoso.com:25?ignoreTLS=true" }, { allowInsecure: true }).tls).to.equal("plaintext");
            expect(settings({ SMTP_URL: "smtp://smtp.contoso.com:25" }, { allowInsecure: true }).tls).to.equal("starttls-if-offered");
        });

        it("reads the password from the URL, SMTP_PASSWORD or SMTP_PASSWORD_FILE, one of them only, and never prints it", () => {
            expect(settings({ SMTP_URL: "smtps://bill%40contoso.com:p%40ss@smtp.contoso.com" }).transport.auth).to.deep.equal({ user: "bill@contoso.com", pass: "p@ss" });
            const s = settings({ SMTP_URL: "smtps://bill@smtp.contoso.com", SMTP_PASSWORD_FILE: "/run/secrets/smtp" });
            expect(s.transport.auth).to.deep.equal({ user: "bill", pass: "s3cret" });
            expect(s.display).to.equal("smtps://bill@smtp.contoso.com");
            expect(settings({ SMTP_URL: "smtps://bill:pw@smtp.contoso.com" }).display).to.not.include("pw");
            expect(configError(() => settings({ SMTP_URL: "smtps://bill:pw@smtp.contoso.com", SMTP_PASSWORD: "other" })).setting).to.equal("SMTP_PASSWORD");
            expect(configError(() => settings({ SMTP_URL: "smtps://bill@smtp.contoso.com", SMTP_PASSWORD_FILE: "/nope" })).setting).to.equal("SMTP_PASSWORD_FILE");
            expect(configError(() => settings({ SMTP_URL: "smtps://smtp.contoso.com", SMTP_PASSWORD: "pw" })).message).to.match(/names no user/);
        });

        it("names the setting when SMTP_URL or the sender is missing or malformed", () => {
            expect(configError(() => settings({})).setting).to.equal("SMTP_URL");
            expect(configError(() => settings({ SMTP_URL: "http://smtp.contoso.com" })).message).to.match(/only smtp/);
            expect(configError(() => settings({ SMTP_URL: "not a url" })).setting).to.equal("SMTP_URL");
            expect(configError(() => resolveSmtpSettings({ env: { SMTP_URL: "smtp://127.0.0.1:25" }, readFile: () => "" })).setting).to.equal("INVOICE_MAIL_FROM");
            expect(configError(() => settings({ SMTP_URL: "smtp://127.0.0.1:25" }, { from: "billing" })).setting).to.equal("--from");
        });

        it("lets --from win over INVOICE_MAIL_FROM", () => {
            expect(settings({ SMTP_URL: "smtp://127.0.0.1:25" }, { from: "ap@fabrikam.com" }).from).to.equal("ap@fabrikam.com");
        });
    });

    describe("parseFrom", () => {
        it("accepts an address or a display name with an address, and nothing with a line break", () => {
            expect(parseFrom("billing@contoso.com", "x")).to.equal("billing@contoso.com");
            expect(parseFrom(' "Contoso Billing" <billing@contoso.com> ', "x")).to.equal('"Contoso Billing" <billing@contoso.com>');
            expect(() => parseFrom("billing@contoso.com\r\nBcc: x@y.com", "x")).to.throw(ConfigurationError);
            expect(() => parseFrom("Contoso <not-an-address>", "x")).to.throw(ConfigurationError);
        });
    });

    describe("classifySmtpError", () => {
        it("makes 4xx replies and connection failures retryable", () => {
            for (const err of [
                { code: "EENVELOPE", responseCode: 451, command: "RCPT TO", response: "451 4.3.0 try later" },
                { code: "EMESSAGE", responseCode: 452, command: "DATA", response: "452 mailbox full for now" },
                { code: "EENVELOPE", responseCode: 503, command: "RCPT TO", response: "503 bad sequence" },
                { code: "ECONNECTION", message: "Connection closed unexpectedly" },
                { code: "ETIMEDOUT", message: "Greeting never received" },
                { code: "ESOCKET", message: "connect ECONNREFUSED 127.0.0.1:1" },
            ]) {
                const c = classifySmtpError(err, "ap@contoso.com");
                expect(c, JSON.stringify(err)).to.be.instanceOf(MailDeliveryError);
                expect(isRetryable(c), JSON.stringify(err)).to.equal(true);
            }
        });

        it("makes a 5xx reply to RCPT TO or DATA permanent for that recipient", () => {
            const c = classifySmtpError({ code: "EENVELOPE", responseCode: 550, command: "RCPT TO", response: "550 5.1.1 no such user" }, "gone@contoso.com");
            expect(c).to.be.instanceOf(MailDeliveryError);
            expect((c as MailDeliveryError).retryable).to.equal(false);
            expect((c as MailDeliveryError).responseCode).to.equal(550);
            expect(c.message).to.include("gone@contoso.com").and.include("550 5.1.1 no such user");
            expect(isRetryable(classifySmtpError({ code: "EMESSAGE", responseCode: 554, command: "DATA", response: "554 rejected" }))).to.equal(false);
        });

        it("turns failures that hit every message into configuration errors", () => {
            expect(classifySmtpError({ code: "EAUTH", responseCode: 535, command: "AUTH PLAIN", response: "535 bad credentials" })).to.be.instanceOf(ConfigurationError);
            expect(classifySmtpError({ code: "ETLS", message: "STARTTLS failed" })).to.be.instanceOf(ConfigurationError);
            const sender = classifySmtpError({ code: "EENVELOPE", responseCode: 550, command: "MAIL FROM", response: "550 sender refused" });
            expect(sender).to.be.instanceOf(ConfigurationError);
            expect((sender as ConfigurationError).setting).to.equal("INVOICE_MAIL_FROM");
        });

        it("classifies every code of nodemailer's own catalogue, and no code it does not have", () => {
            const catalogue = Object.keys(ERROR_CODES).sort();
            expect(catalogue.length, "nodemailer/lib/errors exports its codes").to.be.greaterThan(20);
            expect(Object.keys(SMTP_ERROR_CLASSES).sort(), "SMTP_ERROR_CLASSES against the installed nodemailer's ERROR_CODES").to.deep.equal(catalogue);
            for (const code of catalogue) {
                const c = classifySmtpError({ code, message: ERROR_CODES[code as keyof typeof ERROR_CODES] });
                const kind = SMTP_ERROR_CLASSES[code as keyof typeof SMTP_ERROR_CLASSES];
                expect(c, code).to.be.instanceOf(kind === "configuration" ? ConfigurationError : MailDeliveryError);
                expect(isRetryable(c), code).to.equal(kind === "connection" || kind === "transient");
            }
        });

        it("makes a message that asks for a file or a URL permanently refused: file and URL access are disabled", () => {
            for (const code of ["EFILEACCESS", "EURLACCESS"]) {
                const c = classifySmtpError({ code, message: "access rejected" }, "ap@contoso.com");
                expect(c, code).to.be.instanceOf(MailDeliveryError);
                expect((c as MailDeliveryError).retryable, code).to.equal(false);
            }
        });
    });
});
