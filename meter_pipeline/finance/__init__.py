"""Finance tools over the warehouse: one money formatter, SQL queries, invoice documents and
the usage report (``meter-pipeline query``, ``invoices``, ``report``)."""
