"""What an operator should hear about the landing days of a run: a day with no landing folder
(nothing landed: an empty day, not a silent row of zeros) and every unreadable file with its
reason (one row of ``quarantined_events`` with line_number 0)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import event_folder
from meter_pipeline.storage import storage_for


def day_notes(root: Path, days: list[str]) -> list[str]:
    """One warning line per missing landing folder and per unreadable file, in day order."""
    notes: list[str] = []
    have = set(warehouse.existing_keys(root, "quarantined_events"))
    unreadable = (
        warehouse.scan_partitions(root, "quarantined_events", [d for d in days if d in have])
        .filter(pl.col("line_number") == 0)
        .select("landing_date", "source_file", "reason", "detail")
        .collect()
    )
    by_day: dict[str, list[dict]] = {}
    for row in unreadable.sort("landing_date", "source_file").iter_rows(named=True):
        by_day.setdefault(str(row["landing_date"]), []).append(row)
    for day in days:
        if not storage_for(root).is_folder(event_folder(day)):
            notes.append(
                f"warning: landing day {day}: no folder landing/events/{day} (nothing landed; "
                "the day's tables are empty)"
            )
        for row in by_day.get(day, []):
            notes.append(
                f"warning: landing day {day}: unreadable file {row['source_file']}: "
                f"{row['reason']}: {row['detail']}"
            )
    return notes
