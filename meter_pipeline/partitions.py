"""Partitions: UTC landing days and UTC billing months
(docs/rules.md#12-running-it-partitions-schedules-and-commands)."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

#: Daily and monthly partitions start on this first of month (the latest start the product
#: contract allows): the UI shows the months around the data, not years of empty partitions.
DEFAULT_START = "2025-01-01"
START_VARIABLE = "METER_PIPELINE_PARTITIONS_START"


def partitions_start(text: str | None) -> str:
    """The first day of the partitions: ``text`` (YYYY-MM-DD, a first of month) or the default.
    A value that is not a first of month is refused with a message saying what to set."""
    if not text:
        return DEFAULT_START
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or day.day != 1:
        raise ValueError(
            f"{START_VARIABLE}={text!r} must be the first day of a month, YYYY-MM-01 "
            f"(e.g. {DEFAULT_START}); unset it for the default {DEFAULT_START}"
        )
    return day.isoformat()


START_DATE = partitions_start(os.environ.get(START_VARIABLE))

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=START_DATE[:7], timezone="UTC", fmt="%Y-%m"
)
