/**
 * The output that is the resource id (provider/resources/stored.ts): what the
 * dynamic provider leaves out of the state, and how the handlers get it back.
 */
import { expect } from "chai";
import { OUTPUT_FROM_ID, withOutputFromId, withoutOutputFromId } from "../../../provider/resources/stored";
import { RESOURCES, RESOURCE_KINDS } from "../../../provider/resources/registry";

const ID = "/providers/Microsoft.Billing/billingAccounts/a/billingProfiles/b";

describe("stored outputs: the one that is the resource id", () => {
    it("names, for each kind, an output the resource declares", () => {
        expect(Object.keys(OUTPUT_FROM_ID).sort()).to.deep.equal([...RESOURCE_KINDS].sort());
        for (const kind of RESOURCE_KINDS) expect(Object.keys(RESOURCES[kind].Outputs.shape), kind).to.include(OUTPUT_FROM_ID[kind]);
    });

    it("is left out of what is stored, and nothing else is", () => {
        const outs = { billingProfileName: "b", billingProfileId: ID, enabled: true, additionalRecipients: [] };
        expect(withoutOutputFromId("EmailInvoiceSetting", outs)).to.deep.equal({ billingProfileName: "b", enabled: true, additionalRecipients: [] });
        expect(outs, "the handler's object is not changed").to.have.property("billingProfileId", ID);
        expect(withoutOutputFromId("InvoiceManagerAssignment", { billingRoleAssignmentId: ID, billingRoleAssignmentName: "n" })).to.deep.equal({ billingRoleAssignmentName: "n" });
    });

    it("is put back from the id when the state lacks it, kept when an earlier version stored it, and an import's empty outputs stay empty", () => {
        expect(withOutputFromId("EmailInvoiceSetting", ID, { enabled: true })).to.deep.equal({ enabled: true, billingProfileId: ID });
        const old = { enabled: true, billingProfileId: ID };
        expect(withOutputFromId("EmailInvoiceSetting", ID, old)).to.equal(old);
        expect(withOutputFromId("InvoiceManagerAssignment", ID, {})).to.deep.equal({});
    });
});
