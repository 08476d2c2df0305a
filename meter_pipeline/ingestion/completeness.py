"""Which landing days ingested completely: the rule a month close stands on.

A landing day is *complete* when its ``ingestion_audit`` partition exists and conserves its rows
(``rows_read = rows_quarantined + rows_duplicate + rows_accepted``), or when it has no audit and
either nothing landed for it or it lies outside the days the caller is responsible for (a
backfill from the 1st does not ingest the day before, whose events the month does not read:
docs/rules.md#6-billing-periods-and-late-events).
:func:`~meter_pipeline.ingestion.day.ingest_day` removes a day's audit before it writes anything and
writes it last, so a day whose ingestion failed or was killed half-way has no audit: it is
incomplete until it is re-run. A month closes only when every landing day it reads is complete.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from meter_pipeline.calendar import period_bounds, period_landing_days
from meter_pipeline.ingestion.audit import conservation_holds
from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import event_folder
from meter_pipeline.storage import storage_for

AUDIT = "ingestion_audit"
#: Written first by ingest_day: present without an audit, the day's ingestion did not finish.
STARTED = "raw_events"


def day_incomplete(root: Path, key: str, responsible: bool = True) -> str | None:
    """Why landing day ``key`` is not complete, or None when it is."""
    if not warehouse.partition_exists(root, AUDIT, key):
        if not responsible:
            if warehouse.partition_exists(root, STARTED, key):
                return "was ingested only in part (raw_events but no ingestion_audit)"
            return None
        if storage_for(root).list_folder(event_folder(key)):  # anything in the day's folder
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
        if (why := day_incomplete(root, key, responsible is None or key in responsible)) is not None
    }


def period_blockers(
    root: Path, periods: list[str], grace_days: int, future_tolerance_us: int
) -> dict[str, tuple[str, str]]:
    """``{period: (day, why)}`` for the months among ``periods`` that read an incomplete landing
    day (the first such day of each). A month is responsible for its own days and its grace
    days (files landed there must have been ingested); the days before its first that
    ``future_tolerance`` reaches back to belong to the month before and block only when their
    ingestion started and did not finish, or their audit does not conserve."""
    blocked = {}
    for period in periods:
        days = period_landing_days(period, grace_days, future_tolerance_us)
        first = period_bounds(period)[0].isoformat()
        bad = incomplete_days(root, days, {day for day in days if day >= first})
        if bad:
            blocked[period] = next(iter(bad.items()))
    return blocked


def blocked_message(period: str, day: str, why: str) -> str:
    """What an operator reads when month ``period`` is not closed because of ``day``."""
    return (
        f"month {period} not closed: landing day {day} {why}. Fix the day, re-run it "
        f"(meter-pipeline backfill --start {day} --end {day}), then close the month "
        "(a backfill whose end is on or after its last landing day)"
    )
