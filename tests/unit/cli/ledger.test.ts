import { expect } from "chai";
import { renderCsv } from "../../../cli/commands/ledger";
import type { DeliveryRow } from "../../../provider/reconciler/ledger/contract";

const ROW: DeliveryRow = {
    id: 1,
    billingAccountName: "12345678",
    billingProfileName: "BP-1",
    invoiceName: "G100000001",
    recipient: "ap@contoso.com",
    recipientKey: "ap@contoso.com",
    reasons: ["invoiceRecipients"],
    messageId: "<G100000001.abc@azure-email-invoicing.invalid>",
    state: "sent",
    attempts: 1,
    leaseOwner: null,
    leaseExpiresAt: null,
    plannedAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:01.000Z",
    sentAt: "2026-01-01T00:00:01.000Z",
    smtpResponse: "250 OK: queued as 7",
    lastError: null,
};

describe("ledger --csv", () => {
    it("is RFC 4180 with a header row, CRLF line ends and quoted fields", () => {
        const csv = renderCsv([ROW, { ...ROW, id: 2, state: "failed", sentAt: null, smtpResponse: null, lastError: 'refused: "550", for good\r\nreally' }]);
        expect(csv.split("\r\n")).to.deep.equal([
            "time,billing_account,billing_profile,invoice,recipient,state,message_id,attempts,smtp_reply_or_reason,why_chosen",
            "2026-01-01T00:00:01.000Z,12345678,BP-1,G100000001,ap@contoso.com,sent,<G100000001.abc@azure-email-invoicing.invalid>,1,250 OK: queued as 7,additional recipient",
            '2026-01-01T00:00:01.000Z,12345678,BP-1,G100000001,ap@contoso.com,failed,<G100000001.abc@azure-email-invoicing.invalid>,1,"refused: ""550"", for good',
            'really",additional recipient',
            "",
        ]);
    });

    it("says why each recipient was chosen, in the last column: each role, an additional recipient, an extra recipient from the config", () => {
        const line = renderCsv([{ ...ROW, reasons: ["Owner", "invoice manager", "invoiceRecipients", "extraRecipients"] }]).split("\r\n")[1];
        expect(line.split(",").at(-1)).to.equal("role Owner; role invoice manager; additional recipient; extra recipient from the config");
    });

    it("never hands a spreadsheet a formula: a cell beginning with =, +, - or @ is quoted by an apostrophe", () => {
        for (const reply of ['=HYPERLINK("http://evil.example")', "+1", "-2+3", "@SUM(A1)"]) {
            const line = renderCsv([{ ...ROW, smtpResponse: reply }]).split("\r\n")[1];
            const cells = line.replace(/,additional recipient$/, "");
            expect(cells.endsWith(`,'${reply}`) || cells.endsWith(`,"'${reply.replace(/"/g, '""')}"`), line).to.equal(true);
        }
    });
});
