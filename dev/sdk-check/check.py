"""
Drives a running emulator with Microsoft's own Python SDK for Azure Billing
(azure-mgmt-billing 8.0.0, api-version 2024-04-01) and checks that what the
SDK sends is honoured and what the emulator answers is what the SDK's models
and error handling read. Prints one line per check; exits 1 if any failed.

Usage: python check.py <emulator url>
The emulator must hold the seed of a fresh start (its tokens are the seed's).
"""
import datetime
import sys

from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.billing import BillingManagementClient
from azure.mgmt.billing import models

URL = sys.argv[1].rstrip("/")
MCA = "8a9c2f4e-6b1d-4f3a-9c7e-2d5b8a1f4c6e:3e7b1d9a-5c2f-4a8e-b6d1-9f4c2a7e5b3d_2019-05-31"
OPS = "K7QM-4T2X-BG7-PGB"
failures = []
passed = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail != "" and not ok else ""))
    (passed if ok else failures).append(name)


class Token(SansIOHTTPPolicy):
    """The emulator's bearer token over plain http (the SDK's own policy insists on https)."""

    def __init__(self, token):
        self.token = token

    def on_request(self, request):
        request.http_request.headers["Authorization"] = f"Bearer {self.token}"


class NoCredential:
    def get_token(self, *scopes, **kwargs):
        raise RuntimeError("the emulator's token is set by the Token policy")


def client(who):
    return BillingManagementClient(NoCredential(), "00000000-0000-0000-0000-000000000000", base_url=URL, authentication_policy=Token(f"emu-{who}"))


def refused(call):
    try:
        call()
    except HttpResponseError as e:
        return e
    return None


grace, alice, carol = client("grace"), client("alice"), client("carol")
wide = dict(period_start_date=datetime.date(2000, 1, 1), period_end_date=datetime.date(2100, 1, 1))

# Lists and the options the SDK sends (include... flags on every account list).
accounts = list(grace.billing_accounts.list())
check("billing_accounts.list with the SDK's default flags", [a.name for a in accounts] == [MCA], [a.name for a in accounts])
check("account qualifications and provisioning state", accounts and accounts[0].properties.qualifications == ["Commercial"] and accounts[0].properties.provisioning_state == "Succeeded")
invoices = list(alice.invoices.list_by_billing_profile(MCA, OPS, **wide))
check("three invoices", len(invoices) == 3, len(invoices))
first = next(alice.invoices.list_by_billing_profile(MCA, OPS, top=1, **wide).by_page())
check("top=1 gives a page of one", len(list(first)) == 1)
pager = alice.invoices.list_by_billing_profile(MCA, OPS, top=1, **wide).by_page()
next(pager)
resumed = alice.invoices.list_by_billing_profile(MCA, OPS, **wide).by_page(continuation_token=pager.continuation_token)
check("continuation_token resumes at the second invoice", [i.name for i in next(resumed)] == [invoices[1].name])
due = list(alice.invoices.list_by_billing_profile(MCA, OPS, filter="status eq 'Due'", **wide))
check("filter status eq 'Due'", [i.properties.status for i in due] == ["Due"], [i.properties.status for i in due])
desc = list(alice.invoices.list_by_billing_profile(MCA, OPS, order_by="invoiceDate desc", **wide))
check("order_by invoiceDate desc", [i.name for i in desc] == [i.name for i in reversed(invoices)])
check("documents[].url", all(d.url and d.url.startswith(URL + "/_blob/") for i in invoices for d in i.properties.documents))
e = refused(lambda: list(alice.invoices.list_by_billing_profile(MCA, OPS, count=True, **wide)))
check("count is refused in the ARM envelope the SDK reads", e is not None and e.status_code == 400 and e.error is not None and e.error.code == "UnsupportedQueryParameter")
assignments_page = next(alice.billing_role_assignments.list_by_billing_profile(MCA, OPS, top=1).by_page())
check("role assignments top=1", len(list(assignments_page)) == 1)

# Shapes.
a = list(alice.billing_role_assignments.list_by_billing_profile(MCA, OPS))[0]
model_fields = list(type(a.properties)._attr_to_rest_field)
filled = [k for k in model_fields if getattr(a.properties, k, None) is not None]
check("role assignment fills the documented properties", all(getattr(a.properties, k) for k in ["principal_display_name", "principal_type", "billing_account_id", "billing_account_display_name", "billing_profile_id", "billing_profile_display_name", "modified_on", "modified_by_principal_id"]), filled)
check("role assignment has no EA-only email", a.properties.user_email_address is None)
print(f"     role assignment properties filled: {len(filled)} of {len(model_fields)}")
p = alice.billing_profiles.get(MCA, OPS)
check("profile currentPaymentTerm, soldTo, provisioningState, tags", p.properties.current_payment_term is not None and p.properties.sold_to is not None and p.properties.provisioning_state == "Succeeded" and p.properties.tags == p.tags)

# Neighbouring operations.
by_account = list(grace.invoices.list_by_billing_account(MCA, **wide))
check("invoices.list_by_billing_account", len(by_account) == 6, len(by_account))
check("role assignments at account scope", len(list(grace.billing_role_assignments.list_by_billing_account(MCA))) == 3)
check("role definitions at account scope", [d.properties.role_name for d in grace.billing_role_definition.list_by_billing_account(MCA)] == ["Billing account owner", "Billing account contributor", "Billing account reader"])
perms = [x for entry in carol.billing_permissions.list_by_billing_profile(MCA, OPS) for x in entry.actions]
check("billing_permissions of a reader", "Microsoft.Billing/billingAccounts/billingProfiles/read" in perms and "Microsoft.Billing/billingAccounts/billingProfiles/write" not in perms)
eligibility = alice.billing_profiles.validate_delete_eligibility(MCA, OPS)
check("validate_delete_eligibility", eligibility.eligibility_status == "NotAllowed" and [d.code for d in eligibility.eligibility_details] == ["OutstandingCharges", "PendingCharges"])
e = refused(lambda: alice.billing_profiles.begin_delete(MCA, OPS).result())
check("begin_delete refused with the reasons", e is not None and e.status_code == 409 and e.error is not None and e.error.code == "BillingProfileDeletionNotAllowed" and len(e.error.details) == 2)
e = refused(lambda: carol.billing_profiles.begin_create_or_update(MCA, OPS, p).result())
check("a reader's write: 403 AuthorizationFailed", e is not None and e.status_code == 403 and e.error is not None and e.error.code == "AuthorizationFailed")

# Body validation answers in the envelope the SDK reads.
p.properties.invoice_recipients = ["not-an-address"]
e = refused(lambda: alice.billing_profiles.begin_create_or_update(MCA, OPS, p).result())
check("body validation: e.error is read", e is not None and e.status_code == 400 and e.error is not None and e.error.code == "ValidationFailed", e and e.error)

print(f"sdk check: {len(passed)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
