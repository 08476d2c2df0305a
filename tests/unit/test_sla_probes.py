"""Monitoring exports → probe results → probe minutes (SPEC §7.1, §12 "SLA")."""

from __future__ import annotations

import datetime as dt
import gzip

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from meter_pipeline.io.monitoring import read_monitoring_day
from meter_pipeline.sla.probes import (
    MINUTE_SCHEMA,
    RAW_PROBE_SCHEMA,
    merge_probe_results,
    month_probe_minutes,
    probe_day,
    probe_minutes,
    probe_results,
)

UTC = dt.UTC
SERVICES = ("cloud_meter", "billing_meter")
DAY = dt.date(2026, 11, 2)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def raw(*rows: tuple[str, str, str, str]) -> pl.DataFrame:
    """(checked_at, service, region, status) rows, as the reader returns them."""
    return pl.DataFrame(
        [(s, r, at(c), st_) for c, s, r, st_ in rows], schema=RAW_PROBE_SCHEMA, orient="row"
    )


def minutes(*rows: tuple[str, str, int, int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [(s, at(m), p, d, st_) for s, m, p, d, st_ in rows], schema=MINUTE_SCHEMA, orient="row"
    )


def test_a_probe_delivered_twice_counts_once():
    rows = [("2026-11-02T10:00:05", "cloud_meter", "eu", "up")] * 2
    results, _ = probe_results(raw(*rows), SERVICES)
    assert results.height == 1
    assert_frame_equal(
        probe_minutes(results), minutes(("cloud_meter", "2026-11-02T10:00:00", 1, 0, "up"))
    )


def test_copies_that_disagree_count_as_down():
    rows = [
        ("2026-11-02T10:00:05", "cloud_meter", "eu", "up"),
        ("2026-11-02T10:00:05", "cloud_meter", "eu", "down"),
        ("2026-11-02T10:00:05", "cloud_meter", "eu", "up"),
    ]
    results, _ = probe_results(raw(*rows), SERVICES)
    assert results.get_column("down").to_list() == [True]


@pytest.mark.parametrize(
    "statuses, expected",
    [
        pytest.param(["down", "up"], (2, 1, "up"), id="exactly half down is up"),
        pytest.param(["down", "down", "up"], (3, 2, "down"), id="two of three down is down"),
        pytest.param(["down"], (1, 1, "down"), id="a lone down probe is down"),
        pytest.param(["up", "up", "up"], (3, 0, "up"), id="all up is up"),
    ],
)
def test_a_minute_is_down_when_more_than_half_its_probes_are(statuses, expected):
    rows = [
        ("2026-11-02T10:00:%02d" % (10 + i), "cloud_meter", f"r{i}", s)
        for i, s in enumerate(statuses)
    ]
    results, _ = probe_results(raw(*rows), SERVICES)
    assert_frame_equal(
        probe_minutes(results), minutes(("cloud_meter", "2026-11-02T10:00:00", *expected))
    )


def test_same_instant_in_two_regions_is_two_probes_and_minutes_are_utc_and_per_service():
    rows = [
        ("2026-11-02T10:00:59.999999", "cloud_meter", "eu", "down"),
        ("2026-11-02T10:00:59.999999", "cloud_meter", "us", "down"),
        ("2026-11-02T10:01:00", "cloud_meter", "eu", "up"),
        ("2026-11-02T10:00:30", "billing_meter", "eu", "up"),
    ]
    results, _ = probe_results(raw(*rows), SERVICES)
    assert_frame_equal(
        probe_minutes(results),
        minutes(
            ("billing_meter", "2026-11-02T10:00:00", 1, 0, "up"),
            ("cloud_meter", "2026-11-02T10:00:00", 2, 2, "down"),
            ("cloud_meter", "2026-11-02T10:01:00", 1, 0, "up"),
        ),
    )


def test_other_statuses_and_unknown_services_are_ignored_and_counted():
    rows = [
        ("2026-11-02T10:00:00", "cloud_meter", "eu", "degraded"),
        ("2026-11-02T10:00:01", "cloud_meter", "eu", "UP"),
        ("2026-11-02T10:00:02", "search", "eu", "down"),
        ("2026-11-02T10:00:03", "search", "eu", "maybe"),
        ("2026-11-02T10:00:04", "cloud_meter", "eu", "up"),
    ]
    results, ignored = probe_results(raw(*rows), SERVICES, unreadable=3)
    assert results.height == 1
    assert ignored.as_metadata() == {
        "ignored_unknown_service_rows": 2,
        "ignored_other_status_rows": 2,
        "ignored_unreadable_rows": 3,
        "unknown_services": "search",
    }


def test_a_month_counts_a_probe_exported_on_two_days_once_and_only_inside_the_month():
    day1 = probe_day(
        raw(
            ("2026-11-30T23:59:30", "cloud_meter", "eu", "down"),
            ("2026-10-31T23:59:59", "cloud_meter", "eu", "down"),
        ),
        SERVICES,
        dt.date(2026, 11, 30),
    )[0]
    day2 = probe_day(
        raw(
            ("2026-11-30T23:59:30", "cloud_meter", "eu", "up"),
            ("2026-11-30T23:59:40", "cloud_meter", "us", "up"),
            ("2026-12-01T00:00:00", "cloud_meter", "eu", "down"),
        ),
        SERVICES,
        dt.date(2026, 12, 1),
    )[0]
    month = month_probe_minutes(pl.concat([day1, day2]), "2026-11")
    # The eu probe disagrees across the two exports: one down probe of two, so the minute is up.
    assert_frame_equal(month, minutes(("cloud_meter", "2026-11-30T23:59:00", 2, 1, "up")))


def test_a_day_with_no_probes_gives_empty_tables_with_their_schema(tmp_path):
    day = read_monitoring_day(tmp_path, DAY)
    results, mins, ignored = probe_day(day.probes, SERVICES, DAY, day.unreadable_rows)
    assert (results.height, mins.height, ignored.unreadable) == (0, 0, 0)
    assert mins.columns == ["landing_date", *MINUTE_SCHEMA.names()]


def test_reader_dedups_across_two_exports_and_skips_other_names(tmp_path):
    folder = tmp_path / "landing" / "monitoring" / DAY.isoformat()
    (folder / "sub").mkdir(parents=True)
    text = (
        "checked_at,service,region,status,latency_ms\n"
        "2026-11-02T10:00:05Z,cloud_meter,eu,up,12\n"
        "2026-11-02T10:00:05+00:00,cloud_meter,eu,up,15\n"
        "2026-11-02T11:00:05.123456789Z,billing_meter,us,down,\n"
    )
    (folder / "a.csv").write_text(text)
    (folder / "b.csv.gz").write_bytes(gzip.compress(text.encode()))
    for skipped in ("notes.txt", "_partial.csv", ".hidden.csv", "c.CSV"):
        (folder / skipped).write_text(text)
    day = read_monitoring_day(tmp_path, DAY)
    assert day.probes.height == 6 and day.unreadable_rows == 0
    assert [f.path for f in day.files] == [
        f"landing/monitoring/{DAY}/a.csv",
        f"landing/monitoring/{DAY}/b.csv.gz",
    ]
    assert day.skipped_files == [
        f"landing/monitoring/{DAY}/{n}"
        for n in (".hidden.csv", "_partial.csv", "c.CSV", "notes.txt", "sub")
    ]
    results, mins, _ = probe_day(day.probes, SERVICES, DAY)
    assert results.height == 2
    assert mins.select("service", "probes", "down_probes", "status").rows() == [
        ("billing_meter", 1, 1, "down"),
        ("cloud_meter", 1, 0, "up"),
    ]


def test_reader_counts_unreadable_rows_and_files(tmp_path):
    folder = tmp_path / "landing" / "monitoring" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text(
        "status,region,service,checked_at\n"
        "up,eu,cloud_meter,2026-11-02T10:00:00Z\n"
        "up,eu,cloud_meter,2026-11-02 10:00:00Z\n"  # not RFC 3339
        "up,,cloud_meter,2026-11-02T10:00:01Z\n"  # no region
        "up,eu,cloud_meter\n"  # too few cells
        "\n"
    )
    (folder / "broken.csv.gz").write_bytes(b"not gzip")
    day = read_monitoring_day(tmp_path, DAY)
    assert day.probes.height == 1
    assert day.unreadable_rows == 4


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(SERVICES),
            st.sampled_from(["eu", "us"]),
            st.integers(0, 179),
            st.sampled_from(["up", "down"]),
        ),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_results_do_not_depend_on_order_or_repetition(rows, rnd):
    frame = pl.DataFrame(
        [(s, r, at("2026-11-02T10:00:00") + dt.timedelta(seconds=sec), x) for s, r, sec, x in rows],
        schema=RAW_PROBE_SCHEMA,
        orient="row",
    )
    shuffled = list(rows) * 2
    rnd.shuffle(shuffled)
    twice = pl.DataFrame(
        [
            (s, r, at("2026-11-02T10:00:00") + dt.timedelta(seconds=sec), x)
            for s, r, sec, x in shuffled
        ],
        schema=RAW_PROBE_SCHEMA,
        orient="row",
    )
    once, _ = probe_results(frame, SERVICES)
    assert_frame_equal(once, probe_results(twice, SERVICES)[0])
    assert_frame_equal(merge_probe_results(pl.concat([once, once])), once)
    assert_frame_equal(probe_minutes(once), probe_minutes(probe_results(twice, SERVICES)[0]))
