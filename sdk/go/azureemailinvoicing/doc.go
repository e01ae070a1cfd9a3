// Azure's email-invoicing settings as code: the invoice email opt-in and additional recipients of a billing profile, and the Invoice manager role.
package azureemailinvoicing
