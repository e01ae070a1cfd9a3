"""The generated Python SDK under Pulumi's mocks: both resources register
with their type tokens and camelCase inputs, and their outputs resolve.
Prints one JSON line with what was registered (read by tests/e2e/sdks.test.ts)."""
import json

import pulumi


class Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.registered = []

    def new_resource(self, args):
        self.registered.append({"type": args.typ, "name": args.name, "inputs": args.inputs})
        outputs = dict(args.inputs)
        outputs.setdefault("providerVersion", "mock")
        return [args.name + "-id", outputs]

    def call(self, args):
        return {}


mocks = Mocks()
pulumi.runtime.set_mocks(mocks, preview=False)

import pulumi_azure_email_invoicing as aei  # noqa: E402  (after the mocks, as Pulumi's docs do)


@pulumi.runtime.test
def program():
    setting = aei.EmailInvoiceSetting(
        "finance-emails",
        billing_account_name="ba",
        billing_profile_name="bp",
        enabled=True,
        additional_recipients=["ap@contoso.com"],
    )
    jane = aei.InvoiceManagerAssignment(
        "jane", billing_account_name="ba", billing_profile_name="bp", user_email_address="jane@contoso.com"
    )
    return pulumi.Output.all(setting.enabled, setting.additional_recipients, jane.user_email_address).apply(
        lambda values: print(json.dumps({"registered": mocks.registered, "outputs": values}))
    )


program()
