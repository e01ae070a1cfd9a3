/** Bad input is refused by the contract before any URL exists (pure; the request-log check is in the integration tier). */
import { expect } from "chai";
import { buildRequest, operations } from "../../../provider/billing/contract";
import * as names from "../../../provider/billing/names";

const BA = "10000000-0000-0000-0000-000000000001:20000000-0000-0000-0000-000000000001_2019-05-31";

describe("input names", () => {
    it("accepts Microsoft's account name forms", () => {
        for (const ok of [BA, "12345678", "PCN.abc123", "10000000-0000-0000-0000-000000000001"]) {
            expect(names.billingAccountName.safeParse(ok).success, ok).to.equal(true);
        }
    });

    it("builds paths with ':' kept and every parameter encoded", () => {
        const r = buildRequest(operations.getBillingProfile, { billingAccountName: BA, billingProfileName: "AB12-CD34_X" });
        expect(r.pathAndQuery).to.equal(`/providers/Microsoft.Billing/billingAccounts/${BA}/billingProfiles/AB12-CD34_X?api-version=2024-04-01`);
        const g = buildRequest(operations.getGraphUser, { userId: "jane@contoso.com" }, { $select: "id,mail" });
        expect(g.pathAndQuery).to.equal("/v1.0/users/jane@contoso.com?%24select=id%2Cmail");
    });

    it("accepts real calendar dates only", () => {
        expect(names.isoDate.safeParse("2026-02-28").success).to.equal(true);
        expect(names.isoDate.safeParse("2026-02-30").success).to.equal(false);
        expect(names.isoDate.safeParse("2026-2-3").success).to.equal(false);
    });

    it("refuses addresses that could inject headers or name several people", () => {
        for (const bad of ["a@b.co\r\nBcc: x@y.z", "a@b.co,c@d.co", "a@b.co;c@d.co", "no-domain", "a@b", "<a@b.co>", "a b@c.co", "a@b.co\u0000"]) {
            expect(names.emailAddress.safeParse(bad).success, JSON.stringify(bad)).to.equal(false);
        }
        expect(names.emailAddress.safeParse("first.last+tag@sub.contoso.com").success).to.equal(true);
    });
});
