"""One landing day of corrections
(docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history): read
``landing/corrections/<day>/``, judge each row (:mod:`meter_pipeline.ingestion.corrections`) and
build the day's four tables.

Order independence: whether a correction of day D is accepted depends on what earlier days
accepted (its id already seen; its event already voided). Day D therefore replays the correction
landing days D − correction_window_days … D from their files, in order, instead of reading the
stored tables of those days: days can be materialized in any order and give the same result.
A correction landed more than ``correction_window_days`` before D cannot concern an event D can
still correct, so the replay starts there with nothing seen.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from data_contracts import CONTRACTS, polars_schema
from meter_pipeline.calendar import billing_period_for_landing, days_between, last_landing_day
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.ingestion.corrections import Accepted, DayState, Target, judge_day
from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import EVENT_FORMATS, list_landing, read_landing_file
from meter_pipeline.io.records import RawRow
from meter_pipeline.storage import storage_for
from meter_pipeline.storage.base import FOLDER

#: Correction files: the event formats without Parquet
#: (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history).
CORRECTION_FORMATS = {k: v for k, v in EVENT_FORMATS.items() if k != ".parquet"}
Rows = list[tuple[str, RawRow]]


CORRECTIONS = "landing/corrections"


def correction_folder(day: dt.date) -> str:
    """A day's correction folder, relative to the data root."""
    return f"{CORRECTIONS}/{day.isoformat()}"


def read_corrections(root: Path, day: dt.date) -> Rows:
    """Every row of the day's correction files, in arrival order (file path bytes, then row)."""
    rows: Rows = []
    for rel, storage, reader, gzipped in list_landing(
        root, correction_folder(day), CORRECTION_FORMATS
    ).files:
        _, file_rows = read_landing_file(rel, storage, reader, gzipped)
        rows += [(rel, row) for row in file_rows]
    return rows


def _event_ids(rows: Rows) -> set[str]:
    return {
        row.fields["event_id"]
        for _, row in rows
        if row.fields is not None and type(row.fields.get("event_id")) is str
    }


def candidate_events(root: Path, ids: set[str], first: dt.date, last: dt.date) -> pl.DataFrame:
    """The clean events with those ids landed in [first, last]: event_id, landing_date, meter,
    billing_period."""
    days = [d.isoformat() for d in days_between(first, last)]
    scan = warehouse.scan_partitions(root, "clean_events", days)
    if not ids:  # no correction names an event: nothing to read
        scan = scan.head(0)
    return (
        scan.filter(pl.col("event_id").is_in(sorted(ids)))
        .select("event_id", "landing_date", "meter", "billing_period")
        .collect()
    )


def targets_on(events: pl.DataFrame, day: dt.date, window: int) -> dict[str, Target]:
    """Per id, the most recent clean event landed in [day − window, day]."""
    recent = events.filter(pl.col("landing_date").is_between(day - dt.timedelta(days=window), day))
    latest = recent.sort("landing_date").group_by("event_id").last()
    return {
        r["event_id"]: Target(r["event_id"], r["landing_date"], r["meter"], r["billing_period"])
        for r in latest.iter_rows(named=True)
    }


def applied_period(event_period: str | None, day: dt.date, grace_days: int) -> str | None:
    """The event's own period while it is open on ``day``, else the earliest open one; None
    when no period bills the event (late_ignored)."""
    if event_period is None:
        return None
    if day <= last_landing_day(event_period, grace_days):
        return event_period
    return billing_period_for_landing(day, grace_days)


def correct_day(
    root: Path, day: dt.date, meters: MetersConfig, grace_days: int
) -> dict[str, pl.DataFrame]:
    """The four correction tables of landing day ``day``."""
    window = meters.correction_window_days
    replay = days_between(day - dt.timedelta(days=window), day)
    landed = {e.name for e in storage_for(root).list_folder(CORRECTIONS) or [] if e.kind == FOLDER}
    rows = {d: read_corrections(root, d) if d.isoformat() in landed else [] for d in replay}
    ids = set().union(*(_event_ids(r) for r in rows.values()))
    events = candidate_events(root, ids, replay[0] - dt.timedelta(days=window), day)
    state = DayState()
    for d in replay:
        expired = d - dt.timedelta(days=meters.dedup_window_days)
        state.seen_ids = {k: v for k, v in state.seen_ids.items() if v[0] >= expired}
        targets = targets_on(events, d, window) if rows[d] else {}  # a day without rows: none
        outcome = judge_day(rows[d], d, targets, state, meters)
    accepted, quarantined, duplicates = outcome
    return day_tables(day, accepted, quarantined, duplicates, grace_days, len(rows[day]))


def day_tables(
    day: dt.date,
    accepted: list[Accepted],
    quarantined: list[dict],
    duplicates: list[dict],
    grace_days: int,
    rows_read: int,
) -> dict[str, pl.DataFrame]:
    def frame(table: str, records: list[dict]) -> pl.DataFrame:
        schema = polars_schema(CONTRACTS[table])
        return pl.DataFrame([{**r, "landing_date": day} for r in records], schema=schema).select(
            list(schema)
        )

    corrections = [
        {
            **a.__dict__,
            "applied_period": applied_period(a.event_billing_period, day, grace_days),
        }
        for a in accepted
    ]
    audit = {
        "rows_read": rows_read,
        "rows_quarantined": len(quarantined),
        "rows_duplicate": len(duplicates),
        "rows_accepted": len(accepted),
    }
    return {
        "event_corrections": frame("event_corrections", corrections),
        "quarantined_corrections": frame("quarantined_corrections", quarantined),
        "duplicate_corrections": frame("duplicate_corrections", duplicates),
        "correction_audit": frame("correction_audit", [audit]),
    }


def correction_audit_balanced(audit: pl.DataFrame) -> list[str]:
    """Days where rows_read ≠ quarantined + duplicate + accepted (the blocking check)."""
    broken = audit.filter(
        pl.col("rows_read")
        != pl.col("rows_quarantined") + pl.col("rows_duplicate") + pl.col("rows_accepted")
    )
    return [str(d) for d in broken["landing_date"].to_list()]
