"""What a month's close manifest covers
(docs/audit.md#can-anyone-have-changed-it-the-close-manifest): the folders of the inputs a close
depends on and of the outputs it owns. Pure: names only; ``io/manifest.py`` hashes the files.

Inputs are every file in:

- ``reference/`` (every reference file: meters, pricing, customers, SLA, ...);
- ``landing/events/<day>/`` for the landing days the month reads (its first day less the
  future-tolerance days, through its last landing day) and the ``dedup_window_days`` days before
  them, since whether an event of the month is a duplicate depends on those days;
- ``landing/corrections/<day>/`` for the same landing days and the ``correction_window_days``
  days before them (whether a correction is accepted depends on the corrections before it);
- ``landing/monitoring/<day>/`` for the days its uptime reads (the day before its first day
  through its last landing day).

Outputs are the files of every monthly table's ``billing_period=<period>`` partition.
"""

from __future__ import annotations

import datetime as dt

from data_contracts import PARTITION_COLUMN
from meter_pipeline.calendar import day_keys, days_between, monitoring_days, period_landing_days
from meter_pipeline.config.reference import Reference


def monthly_tables() -> list[str]:
    return sorted(name for name, column in PARTITION_COLUMN.items() if column == "billing_period")


def event_days(period: str, reference: Reference) -> list[str]:
    """The month's landing days and the dedup window before the first of them."""
    days = period_landing_days(period, reference.grace_days, reference.meters.future_tolerance_us)
    first = dt.date.fromisoformat(days[0])
    window = reference.meters.dedup_window_days
    start = first - dt.timedelta(days=window)
    return day_keys(days_between(start, dt.date.fromisoformat(days[-1])))


def correction_days(period: str, reference: Reference) -> list[str]:
    """The month's landing days and the correction window before them (a correction's
    acceptance depends on the corrections of the window before it)."""
    days = period_landing_days(period, reference.grace_days, reference.meters.future_tolerance_us)
    start = dt.date.fromisoformat(days[0]) - dt.timedelta(
        days=reference.meters.correction_window_days
    )
    return day_keys(days_between(start, dt.date.fromisoformat(days[-1])))


def input_folders(period: str, reference: Reference) -> list[str]:
    folders = ["reference"]
    folders += [f"landing/events/{day}" for day in event_days(period, reference)]
    folders += [f"landing/corrections/{day}" for day in correction_days(period, reference)]
    folders += [
        f"landing/monitoring/{day}"
        for day in day_keys(monitoring_days(period, reference.grace_days))
    ]
    return folders


def output_folders(period: str) -> list[str]:
    return [f"warehouse/{table}/billing_period={period}" for table in monthly_tables()]
