"""The monthly schedule closes a period on the day after its last landing day."""

import datetime as dt

import pytest

from meter_pipeline.calendar import closed_periods, period_closing_after


@pytest.mark.parametrize(
    "today, grace, expected",
    [
        (dt.date(2026, 12, 4), 3, "2026-11"),  # Nov's last landing day is Dec 3
        (dt.date(2026, 12, 3), 3, None),
        (dt.date(2026, 12, 5), 3, None),
        (dt.date(2026, 3, 1), 0, "2026-02"),  # no grace: the day after the month's last day
        (dt.date(2024, 3, 2), 1, "2024-02"),  # Feb 2024 has 29 days: last landing day Mar 1
        (dt.date(2024, 3, 3), 1, None),
    ],
    ids=[
        "the day after November's last landing day (Dec 3) closes November",
        "the last landing day itself closes nothing",
        "two days after closes nothing",
        "grace 0 closes February on March 1st",
        "leap February with grace 1 closes on March 2nd",
        "leap February with grace 1 does not close again on March 3rd",
    ],
)
def test_period_closing_after(today, grace, expected):
    assert period_closing_after(today, grace) == expected


def test_backfill_closes_months_from_the_start_month_whose_last_landing_day_is_reached():
    # SPEC §9 example: August events landed 1–3 Sept stay unbilled by a backfill from 1 Sept.
    assert closed_periods(dt.date(2026, 9, 1), dt.date(2026, 10, 3), 3) == ["2026-09"]
    assert closed_periods(dt.date(2026, 9, 1), dt.date(2026, 10, 2), 3) == []
    assert closed_periods(dt.date(2026, 8, 15), dt.date(2026, 11, 3), 3) == [
        "2026-08",
        "2026-09",
        "2026-10",
    ]
