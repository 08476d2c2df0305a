"""Which landing days ingested completely: the rule a month close stands on.

A landing day is *complete* when its ``ingestion_audit`` partition exists and conserves its rows
(``rows_read = rows_quarantined + rows_duplicate + rows_accepted``), or when it has no audit and
either nothing landed for it or it lies outside the days the caller is responsible for (a
backfill from the 1st does not ingest the day before, whose events SPEC §5 leaves unread).
:func:`~meter_pipeline.ingestion.day.ingest_day` removes a day's audit before it writes anything and
writes it last, so a day whose ingestion failed or was killed half-way has no audit: it is
incomplete until it is re-run. A month closes only when every landing day it reads is complete.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from meter_pipeline.ingestion.audit import conservation_holds
from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import event_dir

AUDIT = "ingestion_audit"


def day_incomplete(root: Path, key: str, responsible: bool = True) -> str | None:
    """Why landing day ``key`` is not complete, or None when it is."""
    if not (warehouse.partition_dir(root, AUDIT, key) / warehouse.PART_FILE).exists():
        if not responsible:
            return None
        folder = event_dir(root, key)
        if folder.is_dir() and any(folder.iterdir()):
            return "has landing files but no ingestion_audit (its ingestion failed or never ran)"
        return None
    audit = warehouse.scan_partitions(root, AUDIT, [key]).collect()
    if audit.height != 1 or not conservation_holds(audit):
        return "its ingestion_audit does not conserve its rows"
    return None


def incomplete_days(
    root: Path, keys: list[str], responsible: Container[str] | None = None
) -> dict[str, str]:
    """``{day: why}`` for the landing days among ``keys`` that are not complete; ``responsible``:
    the days that must have an audit when files landed (default: all of ``keys``)."""
    return {
        key: why
        for key in keys
        if (why := day_incomplete(Path(root), key, responsible is None or key in responsible))
        is not None
    }
