"""Excused downtime (SPEC §7.2) and monthly uptime (SPEC §7.3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from meter_pipeline.calendar import minutes_in_month, monitoring_days
from meter_pipeline.config.sla import ExcusedDowntime, Maintenance, SlaConfig, SlaPolicy
from meter_pipeline.sla.excused import excused_intervals, excused_minutes, not_excusing
from meter_pipeline.sla.probes import MINUTE_SCHEMA
from meter_pipeline.sla.uptime import (
    UPTIME_SCHEMA,
    compute_uptime,
    low_coverage,
    shown_pct,
    uptime_exact,
)

UTC = dt.UTC
POLICY = SlaPolicy(services=("cloud_meter", "billing_meter"))
NOV = "2026-11"
START = dt.datetime(2026, 11, 1, tzinfo=UTC)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def down_minutes(
    service: str, first: dt.datetime, count: int, *, status: str = "down"
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (service, first + dt.timedelta(minutes=i), 1, int(status == "down"), status)
            for i in range(count)
        ],
        schema=MINUTE_SCHEMA,
        orient="row",
    )


def maintenance(service: str, start: str, end: str, announced: str, row: int = 1) -> Maintenance:
    return Maintenance(row, service, at(start), at(end), at(announced))


def incident(service: str, start: str, end: str, cause: str, row: int = 1) -> ExcusedDowntime:
    return ExcusedDowntime(row, service, at(start), at(end), cause)


def uptime_row(frame: pl.DataFrame, service: str) -> dict:
    return frame.filter(pl.col("service") == service).row(0, named=True)


@pytest.mark.parametrize(
    "announced, excused",
    [
        pytest.param("2026-11-08T03:00:00", 0, id="announced 47 h before: not excused"),
        pytest.param("2026-11-08T01:59:59.999999", 60, id="announced 48 h + 1 µs before: excused"),
        pytest.param("2026-11-08T02:00:00", 60, id="announced exactly 48 h before: excused"),
        pytest.param("2026-11-08T01:00:00", 60, id="announced 49 h before: excused"),
    ],
)
def test_maintenance_is_excused_only_with_48_hours_notice(announced, excused):
    config = SlaConfig(
        POLICY,
        maintenance=(
            maintenance("cloud_meter", "2026-11-10T02:00:00", "2026-11-10T03:00:00", announced),
        ),
    )
    down = down_minutes("cloud_meter", at("2026-11-10T02:00:00"), 60)
    assert excused_minutes(down, excused_intervals(config)).height == excused
    assert not_excusing(config)["maintenance_announced_late"] == (excused == 0)


def test_an_incident_overlapping_maintenance_is_excused_once():
    config = SlaConfig(
        POLICY,
        maintenance=(
            maintenance("*", "2026-11-10T02:00:00", "2026-11-10T03:00:00", "2026-11-01T00:00:00"),
        ),
        excused_downtime=(
            incident("cloud_meter", "2026-11-10T02:30:00", "2026-11-10T03:30:00", "third_party"),
        ),
    )
    down = down_minutes("cloud_meter", at("2026-11-10T02:00:00"), 120)  # 02:00–04:00
    month = compute_uptime(NOV, down, POLICY, excused_intervals(config))
    row = uptime_row(month, "cloud_meter")
    assert (row["down_minutes"], row["excused_minutes"]) == (120, 90)  # 02:00–03:30, once


@pytest.mark.parametrize(
    "start, end, excused",
    [
        pytest.param(
            "2026-11-10T01:00:00",
            "2026-11-10T02:00:00",
            0,
            id="ends exactly where the minute starts: half-open, no overlap",
        ),
        pytest.param(
            "2026-11-10T02:00:59.999999",
            "2026-11-10T02:30:00",
            30,
            id="a microsecond of overlap excuses the whole minute",
        ),
        pytest.param(
            "2026-11-10T02:01:00",
            "2026-11-10T02:01:00.000001",
            1,
            id="a one-microsecond incident excuses its minute",
        ),
        pytest.param(
            "2026-11-10T03:00:00", "2026-11-10T04:00:00", 0, id="starts where the down minutes end"
        ),
    ],
)
def test_a_down_minute_is_excused_when_it_overlaps_by_a_positive_length(start, end, excused):
    config = SlaConfig(
        POLICY, excused_downtime=(incident("cloud_meter", start, end, "force_majeure"),)
    )
    down = down_minutes("cloud_meter", at("2026-11-10T02:00:00"), 60)
    assert excused_minutes(down, excused_intervals(config)).height == excused


def test_only_listed_causes_excuse_and_star_applies_to_every_service():
    config = SlaConfig(
        POLICY,
        excused_downtime=(
            incident("*", "2026-11-10T02:00:00", "2026-11-10T02:10:00", "customer_network", 1),
            incident("*", "2026-11-10T02:00:00", "2026-11-10T03:00:00", "our_bug", 2),
        ),
    )
    down = pl.concat(
        [
            down_minutes("cloud_meter", at("2026-11-10T02:00:00"), 30),
            down_minutes("billing_meter", at("2026-11-10T02:05:00"), 30),
        ]
    )
    month = compute_uptime(NOV, down, POLICY, excused_intervals(config))
    assert month.select("service", "down_minutes", "excused_minutes").rows() == [
        ("billing_meter", 30, 5),
        ("cloud_meter", 30, 10),
    ]
    assert not_excusing(config)["incidents_cause_not_excused"] == 1


@pytest.mark.parametrize(
    "unexcused, shown, met",
    [
        pytest.param(2204, Decimal("94.8981"), False, id="2,204 down minutes of 43,200: 94.8981…"),
        pytest.param(2203, Decimal("94.9004"), False, id="2,203 down minutes: 94.9004…"),
        pytest.param(43, Decimal("99.9004"), True, id="43 down minutes: 99.9004…, met"),
        pytest.param(44, Decimal("99.8981"), False, id="44 down minutes: 99.8981…, missed"),
        pytest.param(0, Decimal("100.0000"), True, id="no downtime"),
    ],
)
def test_uptime_of_a_30_day_month(unexcused, shown, met):
    down = down_minutes("cloud_meter", START, unexcused)
    row = uptime_row(
        compute_uptime(NOV, down, POLICY, excused_intervals(SlaConfig(POLICY))), "cloud_meter"
    )
    assert row["minutes"] == 43_200
    assert (row["uptime_pct"], row["met"]) == (shown, met)
    assert uptime_exact(43_200, unexcused, 0) == Fraction(100 * (43_200 - unexcused), 43_200)


@pytest.mark.parametrize(
    "unexcused, met",
    [
        pytest.param(108, True, id="108 of 43,200 minutes down is exactly 99.75: met"),
        pytest.param(109, False, id="109 minutes down is under 99.75: missed"),
    ],
)
def test_exactly_on_target_is_met(unexcused, met):
    policy = SlaPolicy(services=("cloud_meter",), target_uptime_pct=Decimal("99.75"))
    down = down_minutes("cloud_meter", START, unexcused)
    row = compute_uptime(NOV, down, policy, excused_intervals(SlaConfig(policy))).row(0, named=True)
    assert (row["target_pct"], row["met"]) == (Decimal("99.75"), met)


def test_a_day_with_no_probes_is_no_data_counted_as_up():
    # Probes every minute of November except 2026-11-05: 29 days of data, one day of none.
    with_data = pl.concat(
        [
            down_minutes("cloud_meter", START, 4 * 1440, status="up"),
            down_minutes("cloud_meter", at("2026-11-06T00:00:00"), 25 * 1440, status="up"),
        ]
    )
    month = compute_uptime(NOV, with_data, POLICY, excused_intervals(SlaConfig(POLICY)))
    assert_frame_equal(
        month,
        pl.DataFrame(
            [
                (
                    NOV,
                    "billing_meter",
                    43_200,
                    0,
                    0,
                    43_200,
                    Decimal("100"),
                    Decimal("99.9"),
                    True,
                    Decimal("0"),
                ),
                (
                    NOV,
                    "cloud_meter",
                    43_200,
                    0,
                    0,
                    1_440,
                    Decimal("100"),
                    Decimal("99.9"),
                    True,
                    Decimal("96.6666"),
                ),  # 29/30 = 96.6666…, rounded down
            ],
            schema=UPTIME_SCHEMA,
            orient="row",
        ),
    )


def test_unknown_services_in_the_minutes_are_ignored():
    down = down_minutes("search", START, 10)
    month = compute_uptime(NOV, down, POLICY, excused_intervals(SlaConfig(POLICY)))
    assert month.get_column("service").to_list() == ["billing_meter", "cloud_meter"]
    assert month.get_column("down_minutes").to_list() == [0, 0]


@pytest.mark.parametrize(
    "period, minutes",
    [
        ("2026-02", 28 * 1440),
        ("2028-02", 29 * 1440),
        ("2026-11", 30 * 1440),
        ("2026-12", 31 * 1440),
    ],
)
def test_minutes_are_the_calendar_months(period, minutes):
    assert minutes_in_month(period) == minutes


def test_a_month_reads_exports_from_the_day_before_through_its_last_landing_day():
    days = monitoring_days("2026-11", 3)
    assert (days[0], days[-1], len(days)) == (dt.date(2026, 10, 31), dt.date(2026, 12, 3), 34)


def test_shown_percentages_are_rounded_down():
    assert shown_pct(Fraction(999999, 10000) + Fraction(9, 10**5)) == Decimal("99.9999")
    assert shown_pct(Fraction(2, 3)) == Decimal("0.6666")
    with pytest.raises(ValueError):
        shown_pct(Fraction(-1, 3))


@pytest.mark.parametrize(
    "no_data, flagged",
    [
        pytest.param(432, False, id="exactly 99 % coverage is not below 99"),
        pytest.param(433, True, id="one minute less is below"),
    ],
)
def test_low_coverage_uses_the_exact_share(no_data, flagged):
    with_data = down_minutes("cloud_meter", START, 43_200 - no_data, status="up")
    month = compute_uptime(NOV, with_data, POLICY, excused_intervals(SlaConfig(POLICY)))
    assert low_coverage(month, Decimal("99")).get_column("service").to_list() == (
        ["billing_meter", "cloud_meter"] if flagged else ["billing_meter"]
    )
