"""Ingestion: the landing files of one UTC day → raw, quarantined, clean and duplicate events
and the audit (SPEC §3)."""
