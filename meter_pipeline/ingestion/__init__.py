"""Ingestion: the landing files of one UTC day → raw, quarantined, clean and duplicate events
and the audit (docs/rules.md#1-landing-days-and-the-data-root)."""
