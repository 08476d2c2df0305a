"""Billing periods and late flags of a landing day's events (SPEC §5)."""

import datetime as dt

import polars as pl
import pytest

from meter_pipeline.calendar import add_billing_period, period_landing_days


def events(*times: dt.datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {"event_time": list(times)}, schema={"event_time": pl.Datetime("us", "UTC")}
    )


UTC = dt.UTC


@pytest.mark.parametrize(
    "landing, expected",
    [
        (dt.date(2026, 3, 2), [("2026-03", False), ("2026-03", False)]),
        (dt.date(2026, 4, 4), [("2026-04", True), ("2026-04", True)]),
    ],
    ids=[
        "equal event times landing on time (a Polars broadcast trap once failed here)",
        "equal event times landing after the grace days are billed in the next open period",
    ],
)
def test_identical_event_times_get_one_row_each(landing, expected):
    t = dt.datetime(2026, 3, 1, tzinfo=UTC)
    out = add_billing_period(events(t, t), landing, 3, "next_open_period")
    assert list(zip(out["billing_period"], out["late"], strict=True)) == expected


def test_late_events_are_ignored_when_the_policy_says_so():
    out = add_billing_period(
        events(dt.datetime(2026, 2, 27, tzinfo=UTC)), dt.date(2026, 3, 4), 3, "ignore"
    )
    assert out.row(0) == (dt.datetime(2026, 2, 27, tzinfo=UTC), True, None)


def test_a_month_reads_the_day_before_its_first_day_within_the_future_tolerance():
    days = period_landing_days("2026-09", 3, 3_600_000_000)
    assert (days[0], days[-1], len(days)) == ("2026-08-31", "2026-10-03", 34)
    assert period_landing_days("2026-09", 3, 0)[0] == "2026-09-01"
