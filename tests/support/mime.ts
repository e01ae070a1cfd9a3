/**
 * A message as nodemailer sends it: its options composed into MIME by
 * nodemailer's own composer, for tests that read it back with mailparser
 * without an SMTP round trip.
 */
import type { SendMailOptions } from "nodemailer";

export function composeMime(options: SendMailOptions): Promise<Buffer> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const MailComposer = require("nodemailer/lib/mail-composer") as new (o: SendMailOptions) => { compile(): { build(cb: (err: Error | null, b: Buffer) => void): void } };
    return new Promise((resolve, reject) => new MailComposer(options).compile().build((err, b) => (err ? reject(err) : resolve(b))));
}
