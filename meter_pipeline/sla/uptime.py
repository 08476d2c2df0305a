"""Monthly uptime per service (docs/rules.md#8-uptime-and-sla-credits). Pure.

``uptime_pct = 100 × (minutes − unexcused_down_minutes) / minutes``, computed as an exact
:class:`fractions.Fraction` (``unexcused = down_minutes − excused_minutes``). The table shows it
as decimal(9, 4) rounded down, next to the integer counts it comes from, so anyone can recompute
the exact value — and :mod:`meter_pipeline.sla.credits` does exactly that (:func:`uptime_exact`):
targets and credits use the exact value, never the shown one.

- ``minutes`` is the calendar month's (28–31 days × 1440).
- ``no_data_minutes``: minutes of the month with no probe result of that service; they count as
  up and lower ``coverage_pct = 100 × (minutes − no_data_minutes) / minutes`` (rounded down).
- ``met``: exact uptime ≥ target (meeting the target exactly is met).
- A month reads the probe results of the landing days from the day before its first day through
  its last landing day (:func:`meter_pipeline.calendar.monitoring_days`); see
  :func:`~meter_pipeline.sla.probes.month_probe_minutes`.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.sla import Uptime
from meter_pipeline.calendar import minutes_in_month
from meter_pipeline.config.sla import SlaPolicy
from meter_pipeline.sla.excused import excused_minutes

UPTIME_SCHEMA = polars_schema(Uptime)
_SHOWN = 10_000  # 4 fractional digits


def uptime_exact(minutes: int, down_minutes: int, excused_minutes: int) -> Fraction:
    """The exact uptime percentage from the uptime table's integer columns."""
    if minutes <= 0 or not 0 <= excused_minutes <= down_minutes <= minutes:
        raise ValueError(
            f"inconsistent minute counts: minutes={minutes}, "
            f"down={down_minutes}, excused={excused_minutes}"
        )
    return Fraction(100 * (minutes - (down_minutes - excused_minutes)), minutes)


def shown_pct(value: Fraction | Decimal) -> Decimal:
    """A non-negative percentage as shown in the tables: 4 fractional digits, rounded down."""
    value = Fraction(value)
    if value < 0:
        raise ValueError(f"percentage {value} is negative")
    return Decimal(math.floor(value * _SHOWN)) / _SHOWN


def low_coverage(uptime: pl.DataFrame, min_coverage_pct: Decimal) -> pl.DataFrame:
    """Warning-check helper: services whose exact coverage is below ``min_coverage_pct``."""
    below = [
        Fraction(100 * (m - n), m) < Fraction(min_coverage_pct)
        for m, n in uptime.select("minutes", "no_data_minutes").iter_rows()
    ]
    return uptime.filter(pl.Series(below, dtype=pl.Boolean))


def compute_uptime(
    period: str, month_minutes: pl.DataFrame, policy: SlaPolicy, intervals: pl.DataFrame
) -> pl.DataFrame:
    """One row per service of sla.yaml (``UPTIME_SCHEMA``), sorted by service.

    ``month_minutes``: the month's probe minutes (service, minute, probes, down_probes, status),
    from :func:`~meter_pipeline.sla.probes.month_probe_minutes`. ``intervals``: from
    :func:`~meter_pipeline.sla.excused.excused_intervals`.
    """
    minutes = minutes_in_month(period)
    month_minutes = month_minutes.filter(pl.col("service").is_in(list(policy.services)))
    down = month_minutes.filter(pl.col("status") == "down")
    excused = excused_minutes(down, intervals)
    counts = {
        "with_data": month_minutes.group_by("service").agg(pl.len()),
        "down": down.group_by("service").agg(pl.len()),
        "excused": excused.group_by("service").agg(pl.len()),
    }
    by_service = {name: dict(frame.iter_rows()) for name, frame in counts.items()}
    rows = []
    for service in sorted(policy.services):
        with_data = by_service["with_data"].get(service, 0)
        n_down = by_service["down"].get(service, 0)
        n_excused = by_service["excused"].get(service, 0)
        exact = uptime_exact(minutes, n_down, n_excused)
        rows.append(
            (
                period,
                service,
                minutes,
                n_down,
                n_excused,
                minutes - with_data,
                shown_pct(exact),
                shown_pct(policy.target_uptime_pct),
                exact >= Fraction(policy.target_uptime_pct),
                shown_pct(Fraction(100 * with_data, minutes)),
            )
        )
    return pl.DataFrame(rows, schema=UPTIME_SCHEMA, orient="row")
