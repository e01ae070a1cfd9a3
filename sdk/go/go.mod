module github.com/azure-email-invoicing/azure-email-invoicing/sdk/go

go 1.25

require github.com/pulumi/pulumi/sdk/v3 v3.30.0
