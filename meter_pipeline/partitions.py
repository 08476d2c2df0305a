"""Partitions: UTC landing days and UTC billing months (SPEC §9)."""

from __future__ import annotations

import os

import dagster as dg

#: Daily and monthly partitions start here (SPEC §9: no later than 2025-01-01). Set
#: METER_PIPELINE_PARTITIONS_START (YYYY-MM-DD, a first of month) to move it.
START_DATE = os.environ.get("METER_PIPELINE_PARTITIONS_START", "2020-01-01")

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=START_DATE[:7], timezone="UTC", fmt="%Y-%m"
)
