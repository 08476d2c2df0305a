"""Billing: usage of a period, invoice lines, invoices and the month close
(docs/rules.md#6-billing-periods-and-late-events, docs/rules.md#7-pricing)."""
