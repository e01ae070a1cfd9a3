// The generated Go SDK under Pulumi's mocks: both resources register with
// their type tokens and camelCase inputs (run by tests/e2e/sdks.test.ts,
// which writes the go.mod that points at sdk/go).
package sdkcheck

import (
	"sync"
	"testing"

	aei "github.com/azure-email-invoicing/azure-email-invoicing/sdk/go/azureemailinvoicing"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type mocks struct {
	mu         sync.Mutex
	registered map[string]resource.PropertyMap
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.registered[args.TypeToken] = args.Inputs
	return args.Name + "-id", args.Inputs, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return args.Args, nil
}

func TestBothResourcesRegister(t *testing.T) {
	m := &mocks{registered: map[string]resource.PropertyMap{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := aei.NewEmailInvoiceSetting(ctx, "finance-emails", &aei.EmailInvoiceSettingArgs{
			BillingAccountName:   pulumi.String("ba"),
			BillingProfileName:   pulumi.String("bp"),
			Enabled:              pulumi.Bool(true),
			AdditionalRecipients: pulumi.StringArray{pulumi.String("ap@contoso.com")},
		})
		if err != nil {
			return err
		}
		_, err = aei.NewInvoiceManagerAssignment(ctx, "jane", &aei.InvoiceManagerAssignmentArgs{
			BillingAccountName: pulumi.String("ba"),
			BillingProfileName: pulumi.String("bp"),
			UserEmailAddress:   pulumi.String("jane@contoso.com"),
		})
		return err
	}, pulumi.WithMocks("project", "stack", m))
	if err != nil {
		t.Fatal(err)
	}
	setting := m.registered["azure-email-invoicing:index:EmailInvoiceSetting"]
	if setting == nil || !setting["enabled"].BoolValue() || setting["additionalRecipients"].ArrayValue()[0].StringValue() != "ap@contoso.com" {
		t.Fatalf("EmailInvoiceSetting registered as %v", setting)
	}
	jane := m.registered["azure-email-invoicing:index:InvoiceManagerAssignment"]
	if jane == nil || jane["userEmailAddress"].StringValue() != "jane@contoso.com" {
		t.Fatalf("InvoiceManagerAssignment registered as %v", jane)
	}
}
