"""Billing: usage of a period, invoice lines, invoices and the month close (SPEC §5, §6)."""
