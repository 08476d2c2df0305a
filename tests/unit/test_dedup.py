"""SPEC §3.1 (too_old, future_timestamp), §3.2 (deduplication) and §5 (billing period, late).

Arrival order is (landing_date, source file path in byte order, line number). A valid event is a
duplicate of the earliest valid occurrence of its id in the same day or the 40 landing days
before; quarantined rows are never "seen". All files are real; days are ingested one by one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.ingestion import event_index
from meter_pipeline.ingestion.event_index import WindowCache, window_hits
from meter_pipeline.ingestion.parse import id_hash
from meter_pipeline.io import warehouse
from tests.helpers.ingestion import (
    DAY,
    OMIT,
    DataRoot,
    Raw,
    audit_row,
    clean_rows,
    counts,
    duplicate_rows,
    epoch_ms,
    event,
    frames,
    read_day,
    reasons,
    utc,
)

D = Decimal
DAY0 = dt.date(2026, 3, 2)


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


def at(d: dt.date, hour: int = 12) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00Z"


# --- within a day -----------------------------------------------------------------------------


def test_duplicates_within_a_file(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event("e1"), event("e2"), event("e1"), event("e1", value="2")])
    tables = root.ingest()
    a = root.rel("a.jsonl")
    assert [(r["event_id"], r["line_number"], r["value"]) for r in clean_rows(tables)] == [
        ("e1", 1, D("1")),
        ("e2", 2, D("1")),
    ]
    assert duplicate_rows(tables) == [("e1", a, 3, DAY, False), ("e1", a, 4, DAY, True)]
    assert counts(tables) == (4, 0, 2, 2)
    assert audit_row(tables)["rows_conflicting"] == 1


def test_byte_order_of_the_path_decides_arrival_across_files_of_a_day(tmp_path):
    root = DataRoot.create(tmp_path)
    # byte order: "B.jsonl" < "a.csv" < "a.jsonl" < "a.jsonl.gz" < "z.jsonl" < "é.jsonl"
    root.write_jsonl("a.jsonl", [event("e1", value="3"), event("e2", value="3")])
    root.write_jsonl("B.jsonl", [event("e1", value="1")])
    root.write_csv(
        "a.csv",
        ["event_id", "customer_id", "meter", "timestamp", "value"],
        [["e2", "c1", "tokens", "2026-09-01T12:00:00Z", "2"]],
    )
    root.write_jsonl("a.jsonl.gz", [event("e1", value="1"), event("e3", value="4")])
    root.write_jsonl("é.jsonl", [event("e3", value="6")])
    root.write_jsonl("z.jsonl", [event("e3", value="5")])
    tables = root.ingest()
    assert [(r["event_id"], r["source_file"], r["value"]) for r in clean_rows(tables)] == [
        ("e1", root.rel("B.jsonl"), D("1")),
        ("e2", root.rel("a.csv"), D("2")),
        ("e3", root.rel("a.jsonl.gz"), D("4")),
    ]
    assert duplicate_rows(tables) == [
        ("e1", root.rel("a.jsonl"), 1, DAY, True),
        ("e1", root.rel("a.jsonl.gz"), 1, DAY, False),
        ("e2", root.rel("a.jsonl"), 2, DAY, True),
        ("e3", root.rel("z.jsonl"), 1, DAY, True),
        ("e3", root.rel("é.jsonl"), 1, DAY, True),
    ]


# --- across days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "order",
    [
        pytest.param([0, 30], id="days ingested in order"),
        pytest.param([30, 0], id="later day ingested first"),
    ],
)
def test_duplicates_across_days_thirty_days_apart(tmp_path, order):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl", [event("e1", timestamp=at(day(0))), event("e2", timestamp=at(day(0)))], day(0)
    )
    root.write_jsonl(
        "a.jsonl",
        [
            event("e1", timestamp=at(day(0))),  # identical retry
            event("e1", timestamp=at(day(0)), value="9"),  # conflicting retry
            event("e3", timestamp=at(day(29))),
        ],
        day(30),
    )
    results = {n: root.ingest(day(n)) for n in order}
    later = results[30]
    src = root.rel("a.jsonl", day(30))
    assert duplicate_rows(later) == [("e1", src, 1, day(0), False), ("e1", src, 2, day(0), True)]
    assert [r["event_id"] for r in clean_rows(later)] == ["e3"]
    assert counts(later) == (3, 0, 2, 1)
    assert [r["event_id"] for r in clean_rows(results[0])] == ["e1", "e2"]


def test_the_window_is_the_forty_landing_days_before(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl", [event("w40", timestamp=at(day(0))), event("w41", timestamp=at(day(0)))], day(0)
    )
    # a valid copy 40 or 41 days later must carry a later event time (max_event_age_days 35)
    root.write_jsonl("a.jsonl", [event("w40", timestamp=at(day(39)))], day(40))
    root.write_jsonl("a.jsonl", [event("w41", timestamp=at(day(40)))], day(41))
    for n in (41, 0, 40):
        root.ingest(day(n))
    d40, d41 = root.ingest(day(40)), root.ingest(day(41))
    assert duplicate_rows(d40) == [("w40", root.rel("a.jsonl", day(40)), 1, day(0), True)]
    assert clean_rows(d40) == []
    assert duplicate_rows(d41) == []
    assert [r["event_id"] for r in clean_rows(d41)] == ["w41"]


@pytest.mark.parametrize(
    "order",
    [
        pytest.param([0, 30, 60], id="in order"),
        pytest.param([60, 30, 0], id="in reverse"),
        pytest.param([30, 60, 0], id="shuffled"),
    ],
)
def test_a_copy_out_of_the_first_window_is_a_duplicate_of_a_later_copy(tmp_path, order):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event("e1", timestamp=at(day(0)))], day(0))
    root.write_jsonl("a.jsonl", [event("e1", timestamp=at(day(29)))], day(30))
    root.write_jsonl(
        "a.jsonl",
        [event("e1", timestamp=at(day(29))), event("e1", timestamp=at(day(29)), value="2")],
        day(60),
    )
    results = {n: root.ingest(day(n)) for n in order}
    assert [r["event_id"] for r in clean_rows(results[0])] == ["e1"]
    # day 30: a re-send of day 0's event with another time: conflicting, day 0 stays billed
    assert duplicate_rows(results[30]) == [("e1", root.rel("a.jsonl", day(30)), 1, day(0), True)]
    # day 60: day 0 is out of the window, day 30's copy is "the first"; compared with it
    src = root.rel("a.jsonl", day(60))
    assert duplicate_rows(results[60]) == [
        ("e1", src, 1, day(30), False),
        ("e1", src, 2, day(30), True),
    ]
    assert clean_rows(results[60]) == []


def test_a_ranged_run_keeping_the_window_in_memory_gives_the_tables_of_day_by_day_runs(tmp_path):
    """One WindowCache over days 0…61 in order (a ranged run): the window's edges, a conflict,
    a copy after the first copy left the window and days with nothing landed give exactly the
    tables of separate day runs; the cache holds only the window's days."""
    alone, ranged = DataRoot.create(tmp_path / "alone"), DataRoot.create(tmp_path / "ranged")
    small = DataRoot.create(tmp_path / "small")  # a window past the cache's memory limit
    for root in (alone, ranged, small):
        first = [event(i, timestamp=at(day(0))) for i in ("w40", "w41", "e1")]
        root.write_jsonl("a.jsonl", first, day(0))
        root.write_jsonl(
            "a.jsonl",
            [event("e1", timestamp=at(day(0)), value="9"), event("e2", timestamp=at(day(29)))],
            day(30),
        )
        root.write_jsonl("a.jsonl", [event("w40", timestamp=at(day(39)))], day(40))
        root.write_jsonl("a.jsonl", [event("w41", timestamp=at(day(40)))], day(41))
        root.write_jsonl(
            "a.jsonl",
            [event("e1", timestamp=at(day(59))), event("e2", timestamp=at(day(60)))],
            day(61),
        )
    ranged.ingest(day(0))  # ingested by an earlier run: the ranged run reads its index
    small.ingest(day(0))
    window, tiny = WindowCache(), WindowCache(limit_bytes=16)
    for n in (0, 1, 30, 39, 40, 41, 61):  # in order, as a ranged run takes them
        if n == 0:
            assert_frame_equal(
                frames(read_day(ranged.path, day(0)))["clean_events"],
                frames(alone.ingest(day(0)))["clean_events"],
            )
            continue
        expected = frames(alone.ingest(day(n)))
        for root, cache in ((ranged, window), (small, tiny)):
            got = frames(root.ingest(day(n), cache))
            for name, frame in expected.items():
                assert_frame_equal(got[name], frame, check_exact=True)
        assert set(window.days) <= {day(n - k) for k in range(41)}
        assert not window.full and tiny.full and tiny.days == {}
    src = {n: ranged.rel("a.jsonl", day(n)) for n in (30, 40, 61)}
    assert duplicate_rows(read_day(ranged.path, day(30))) == [("e1", src[30], 1, day(0), True)]
    assert duplicate_rows(read_day(ranged.path, day(40))) == [("w40", src[40], 1, day(0), True)]
    assert duplicate_rows(read_day(ranged.path, day(41))) == []
    assert duplicate_rows(read_day(ranged.path, day(61))) == [
        ("e1", src[61], 1, day(30), True),  # day 0's copy has left the window: day 30's is first
        ("e2", src[61], 2, day(30), True),
    ]


@pytest.mark.parametrize("prefetch_rows", [0, 10**9])
def test_a_ranged_run_reading_the_next_day_ahead_gives_the_tables_of_day_by_day_runs(
    tmp_path, monkeypatch, prefetch_rows
):
    """DayReads, as the ingestion asset uses it: the next day is read (its raw rows written)
    while one is finished; the tables are those of separate day runs, a day whose read fails
    fails alone, and with a 0-row allowance nothing is read ahead."""
    from meter_pipeline.ingestion import day as day_module
    from meter_pipeline.workers import worker_map

    monkeypatch.setattr(day_module, "PREFETCH_ROWS", prefetch_rows)
    alone, ranged = DataRoot.create(tmp_path / "alone"), DataRoot.create(tmp_path / "ranged")
    for root in (alone, ranged):
        root.write_jsonl("a.jsonl", [event("e1", timestamp=at(day(0)))], day(0))
        root.write_jsonl(
            "a.jsonl",
            [event("e1", timestamp=at(day(0)), value="9"), event("e2", timestamp=at(day(1)))],
            day(1),
        )
        root.write_jsonl("a.jsonl", [event("e3", timestamp=at(day(2)))], day(2))
        root.write_jsonl("a.jsonl", [event("e2", timestamp=at(day(3))), "{"], day(3))
    days = [day(n) for n in range(5)]
    real, asked = day_module.read_day, []

    def read_day_failing_on_day_2(root, when, meters, map_):
        asked.append(when)
        if when == day(2):
            raise OSError("disk gone")
        return real(root, when, meters, map_)

    monkeypatch.setattr(day_module, "read_day", read_day_failing_on_day_2)
    meters, window, ahead = ranged.meters(), WindowCache(), []
    with worker_map() as map_, day_module.DayReads(ranged.path, days, meters, map_) as reads:
        for when in days:
            if when == day(2):
                with pytest.raises(OSError, match="disk gone"):
                    reads.read(when)
                continue
            read = reads.read(when)
            ahead.append(reads.ahead[0] if reads.ahead else None)  # read while this finishes
            day_module.finish_day(ranged.path, read, meters, ranged.rules, map_, window)
    assert asked == days  # each day read once, in order
    # after a failed read nothing is known of the day's size: the next is read when asked
    assert ahead == ([day(1), day(2), day(4), None] if prefetch_rows else [None] * 4)
    monkeypatch.setattr(day_module, "read_day", real)
    alone.ingest(day(0))
    alone.ingest(day(1))
    for n in (0, 1, 3, 4):
        expected = frames(alone.ingest(day(n)))
        for name, frame in frames(read_day(ranged.path, day(n))).items():
            assert_frame_equal(frame, expected[name], check_exact=True)
    assert duplicate_rows(read_day(ranged.path, day(3))) == [
        ("e2", ranged.rel("a.jsonl", day(3)), 1, day(1), True)  # another time: a conflict
    ]
    assert not warehouse.partition_exists(ranged.path, "ingestion_audit", day(2).isoformat())


def test_a_copy_first_seen_again_after_the_window_is_clean(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event("e1", timestamp=at(day(0)))], day(0))
    root.write_jsonl("a.jsonl", [event("e1", timestamp=at(day(50)))], day(50))
    root.ingest(day(0))
    later = root.ingest(day(50))
    assert duplicate_rows(later) == []
    assert [r["event_id"] for r in clean_rows(later)] == ["e1"]


# --- conflicts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, second, conflict",
    [
        pytest.param(event(), event(), False, id="identical copies do not conflict"),
        pytest.param(
            event(value="1"), event(value="1.0"), False, id="value 1 and 1.0 are the same Decimal"
        ),
        pytest.param(
            event(value="1"),
            event(value=Raw("1e0")),
            False,
            id="value string 1 and number 1e0 are the same",
        ),
        pytest.param(
            event(value="1"),
            event(value="1.0000000001"),
            False,
            id="values equal after rounding to 9 digits do not conflict",
        ),
        pytest.param(
            event(value="1"),
            event(value="1.000000001"),
            True,
            id="a value differing in the 9th digit conflicts",
        ),
        pytest.param(event(value="1"), event(value="2"), True, id="a different value conflicts"),
        pytest.param(event(), event(customer_id="c2"), True, id="a different customer conflicts"),
        pytest.param(event(), event(meter="storage_gb"), True, id="a different meter conflicts"),
        pytest.param(
            event(timestamp="2026-09-01T12:00:00Z"),
            event(timestamp="2026-09-01T14:00:00+02:00"),
            False,
            id="the same instant in another offset does not conflict",
        ),
        pytest.param(
            event(timestamp="2026-09-01T12:00:00Z"),
            event(timestamp=Raw(str(epoch_ms(utc(2026, 9, 1, 12))))),
            False,
            id="the same instant as epoch milliseconds does not conflict",
        ),
        pytest.param(
            event(timestamp="2026-09-01T12:00:00Z"),
            event(timestamp="2026-09-01T12:00:00.0000009Z"),
            False,
            id="times equal after truncation to microseconds do not conflict",
        ),
        pytest.param(
            event(timestamp="2026-09-01T12:00:00Z"),
            event(timestamp="2026-09-01T12:00:00.000001Z"),
            True,
            id="a time one microsecond later conflicts",
        ),
        pytest.param(
            event(dimensions={"a": "1"}),
            event(dimensions={"a": Raw("1")}),
            False,
            id="dimension 1 as string and as number are the same string",
        ),
        pytest.param(
            event(dimensions={"a": "true"}),
            event(dimensions={"a": True}),
            False,
            id="dimension true as string and as boolean are the same string",
        ),
        pytest.param(
            event(dimensions={"b": "2", "a": "1"}),
            event(dimensions={"a": "1", "b": "2"}),
            False,
            id="dimension order does not matter",
        ),
        pytest.param(event(), event(dimensions={}), False, id="absent dimensions equal {}"),
        pytest.param(
            event(dimensions={"a": "1"}),
            event(dimensions={"a": "1", "b": "2"}),
            True,
            id="an extra dimension conflicts",
        ),
        pytest.param(
            event(dimensions={"a": "1"}),
            event(dimensions={"a": "2"}),
            True,
            id="a different dimension value conflicts",
        ),
        pytest.param(
            event(),
            event(dimensions={"a": ""}),
            True,
            id="an empty dimension value is kept, so it conflicts with none",
        ),
        pytest.param(
            event(meter="api_calls", value="1"),
            event(meter="api_calls", value="2"),
            False,
            id="count meter values are not compared",
        ),
        pytest.param(
            event(meter="api_calls", value=OMIT),
            event(meter="api_calls", value=True),
            False,
            id="count meter with and without a value do not conflict",
        ),
        pytest.param(
            event("e1"),
            {
                "uniqueId": "e1",
                "customerId": "c1",
                "meterApiName": "tokens",
                "meterTimeInMillis": epoch_ms(utc(2026, 9, 1, 12)),
                "meterValue": Raw("1"),
            },
            False,
            id="the same event under Amberflo names does not conflict",
        ),
    ],
)
def test_conflicting_duplicates_are_flagged_and_the_first_stays_clean(
    tmp_path, first, second, conflict
):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [first, second])
    tables = root.ingest()
    assert duplicate_rows(tables) == [("e1", root.rel("a.jsonl"), 2, DAY, conflict)]
    (clean,) = clean_rows(tables)
    assert clean["line_number"] == 1
    assert clean["customer_id"] == first["customer_id"]
    assert clean["meter"] == first["meter"]


def test_copies_in_different_formats_compare_by_value_not_text(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl", [event("e1", value="1.50", dimensions={"n": Raw("2")}), event("e2", value="7")]
    )
    root.write_csv(
        "b.csv",
        ["event_id", "customer_id", "meter", "timestamp", "value", "dimensions.n"],
        [["e1", "c1", "tokens", str(epoch_ms(utc(2026, 9, 1, 12))), "1.5", "2"]],
    )
    root.write_parquet(
        "c.parquet",
        pa.table(
            {
                "event_id": ["e1", "e2"],
                "customer_id": ["c1", "c1"],
                "meter": ["tokens", "tokens"],
                "timestamp": pa.array([utc(2026, 9, 1, 12)] * 2, pa.timestamp("ms", tz="UTC")),
                "value": pa.array([D("1.5"), D("7.01")], pa.decimal128(10, 2)),
                "dimensions": pa.array([[("n", "2")], []], pa.map_(pa.string(), pa.string())),
            }
        ),
    )
    tables = root.ingest()
    assert duplicate_rows(tables) == [
        ("e1", root.rel("b.csv"), 1, DAY, False),
        ("e1", root.rel("c.parquet"), 1, DAY, False),
        ("e2", root.rel("c.parquet"), 2, DAY, True),
    ]


# --- quarantined rows are never seen -----------------------------------------------------------


def test_quarantined_rows_never_count_as_seen_in_a_day(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [
            event("e1", value="oops"),  # invalid_value
            event("e1", meter="nope"),  # unknown_meter
            '{"event_id":"e1",',  # malformed
            event("e1", value="2"),  # the first valid e1
            event("e1", value="-1"),  # negative_value: quarantined, not a duplicate
            event("e1", value="2"),  # duplicate of line 4
        ],
    )
    tables = root.ingest()
    a = root.rel("a.jsonl")
    assert [(r["event_id"], r["line_number"], r["value"]) for r in clean_rows(tables)] == [
        ("e1", 4, D("2"))
    ]
    assert duplicate_rows(tables) == [("e1", a, 6, DAY, False)]
    assert reasons(tables) == [
        (a, 1, "invalid_value"),
        (a, 2, "unknown_meter"),
        (a, 3, "malformed"),
        (a, 5, "negative_value"),
    ]
    assert counts(tables) == (6, 4, 1, 1)


@pytest.mark.parametrize(
    "order", [pytest.param([0, 1], id="in order"), pytest.param([1, 0], id="in reverse")]
)
def test_quarantined_rows_of_earlier_days_never_count_as_seen(tmp_path, order):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [
            event("e1", timestamp=at(day(0)), meter="nope"),
            event("e2", timestamp=at(day(0)), value="NaN"),
            event("e3", timestamp=at(day(-40))),
        ],
        day(0),
    )  # too_old
    root.write_jsonl(
        "a.jsonl",
        [
            event("e1", timestamp=at(day(0))),
            event("e2", timestamp=at(day(0))),
            event("e3", timestamp=at(day(1))),
        ],
        day(1),
    )
    results = {n: root.ingest(day(n)) for n in order}
    assert counts(results[0]) == (3, 3, 0, 0)
    assert [r["event_id"] for r in clean_rows(results[1])] == ["e1", "e2", "e3"]
    assert duplicate_rows(results[1]) == []


# --- too_old and future_timestamp at their edges ------------------------------------------------

OLDEST = utc(2026, 7, 28)  # 2026-09-01 − 35 days, 00:00 UTC
FUTURE = utc(2026, 9, 2, 1)  # 2026-09-01 + 1 day + 1h


@pytest.mark.parametrize(
    "timestamp, reason",
    [
        pytest.param(
            "2026-07-28T00:00:00Z",
            None,
            id="too_old edge: landing_date - 35 days at 00:00:00 exactly is accepted",
        ),
        pytest.param(
            "2026-07-27T23:59:59.999999Z",
            "too_old",
            id="too_old edge: one microsecond earlier is too_old",
        ),
        pytest.param(
            "2026-07-27T23:59:59.9999999Z",
            "too_old",
            id="too_old edge: sub-microsecond digits are truncated, not rounded up",
        ),
        pytest.param(
            "2026-07-28T02:00:00+02:00",
            None,
            id="too_old edge: the edge instant written with an offset is accepted",
        ),
        pytest.param(
            "2026-07-28T01:59:59.999999+02:00",
            "too_old",
            id="too_old edge: a local time after midnight UTC-wise before the edge",
        ),
        pytest.param(
            Raw(str(epoch_ms(OLDEST))),
            None,
            id="too_old edge: epoch milliseconds of the edge are accepted",
        ),
        pytest.param(
            Raw(str(epoch_ms(OLDEST) - 1)),
            "too_old",
            id="too_old edge: one millisecond earlier is too_old",
        ),
        pytest.param(
            "2026-09-02T01:00:00Z",
            "future_timestamp",
            id="future edge: landing_date + 1 day + 1h exactly is future",
        ),
        pytest.param(
            "2026-09-02T00:59:59.999999Z",
            None,
            id="future edge: one microsecond before is accepted",
        ),
        pytest.param(
            "2026-09-02T00:59:59.9999999Z",
            None,
            id="future edge: sub-microsecond digits are truncated so it is accepted",
        ),
        pytest.param(
            "2026-09-01T20:00:00-05:00",
            "future_timestamp",
            id="future edge: the edge instant written with an offset is future",
        ),
        pytest.param(
            Raw(str(epoch_ms(FUTURE))),
            "future_timestamp",
            id="future edge: epoch milliseconds of the edge are future",
        ),
        pytest.param(
            Raw(str(epoch_ms(FUTURE) - 1)),
            None,
            id="future edge: one millisecond before is accepted",
        ),
    ],
)
def test_too_old_and_future_at_their_exact_edges(tmp_path, timestamp, reason):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event(timestamp=timestamp)])
    tables = root.ingest()
    if reason is None:
        assert reasons(tables) == [] and len(clean_rows(tables)) == 1
    else:
        assert reasons(tables) == [(root.rel("a.jsonl"), 1, reason)]


SHORT_LIMITS = """\
max_event_age_days: 3
future_tolerance: 30m
dedup_window_days: 5
meters:
  - name: tokens
    aggregation: sum
"""


@pytest.mark.parametrize(
    "timestamp, reason",
    [
        pytest.param("2026-08-29T00:00:00Z", None, id="age 3: 2026-08-29T00:00Z is accepted"),
        pytest.param("2026-08-28T23:59:59.999999Z", "too_old", id="age 3: 1 µs earlier is too_old"),
        pytest.param("2026-09-02T00:29:59.999999Z", None, id="tolerance 30m: 1 µs before is fine"),
        pytest.param(
            "2026-09-02T00:30:00Z",
            "future_timestamp",
            id="tolerance 30m: 2026-09-02T00:30Z is future",
        ),
    ],
)
def test_edges_follow_meters_yaml_limits(tmp_path, timestamp, reason):
    root = DataRoot.create(tmp_path, SHORT_LIMITS)
    root.write_jsonl("a.jsonl", [event(timestamp=timestamp)])
    tables = root.ingest()
    expected = [] if reason is None else [(root.rel("a.jsonl"), 1, reason)]
    assert reasons(tables) == expected


# --- billing_period and late (SPEC §5) ---------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp, landing, grace, policy, period, late",
    [
        pytest.param(
            "2026-08-31T23:00:00Z",
            "2026-09-03",
            3,
            "next_open_period",
            "2026-08",
            False,
            id="an August event landing 3 Sept is on time with grace 3",
        ),
        pytest.param(
            "2026-08-31T23:00:00Z",
            "2026-09-04",
            3,
            "next_open_period",
            "2026-09",
            True,
            id="landing 4 Sept it is late and billed 2026-09",
        ),
        pytest.param(
            "2026-08-15T00:00:00Z",
            "2026-09-04",
            3,
            "ignore",
            None,
            True,
            id="late_events ignore: billing_period null and late true",
        ),
        pytest.param(
            "2026-08-15T00:00:00Z",
            "2026-09-03",
            3,
            "ignore",
            "2026-08",
            False,
            id="late_events ignore: an on-time event keeps its period",
        ),
        pytest.param(
            "2026-07-31T12:00:00Z",
            "2026-09-02",
            3,
            "next_open_period",
            "2026-08",
            True,
            id="a July event landing 2 Sept is late and billed in August",
        ),
        pytest.param(
            "2026-07-31T12:00:00Z",
            "2026-08-03",
            3,
            "next_open_period",
            "2026-07",
            False,
            id="a July event landing 3 Aug is on time",
        ),
        pytest.param(
            "2026-08-31T23:30:00-01:00",
            "2026-09-01",
            3,
            "next_open_period",
            "2026-09",
            False,
            id="the month is the UTC month of the event time",
        ),
        pytest.param(
            "2026-09-01T00:30:00+01:00",
            "2026-09-04",
            3,
            "next_open_period",
            "2026-09",
            True,
            id="an offset that puts the instant in August makes it late on 4 Sept",
        ),
        pytest.param(
            "2026-11-30T12:00:00Z",
            "2026-12-03",
            3,
            "next_open_period",
            "2026-11",
            False,
            id="November takes landing days up to 3 December",
        ),
        pytest.param(
            "2026-11-30T12:00:00Z",
            "2026-12-04",
            3,
            "next_open_period",
            "2026-12",
            True,
            id="November event landing 4 December is billed in December",
        ),
        pytest.param(
            "2026-12-31T12:00:00Z",
            "2027-01-03",
            3,
            "next_open_period",
            "2026-12",
            False,
            id="December takes landing days up to 3 January",
        ),
        pytest.param(
            "2026-12-31T12:00:00Z",
            "2027-01-04",
            3,
            "next_open_period",
            "2027-01",
            True,
            id="late across the year end",
        ),
        pytest.param(
            "2028-02-29T12:00:00Z",
            "2028-03-03",
            3,
            "next_open_period",
            "2028-02",
            False,
            id="leap February takes landing days up to 3 March",
        ),
        pytest.param(
            "2027-02-15T12:00:00Z",
            "2027-03-04",
            3,
            "next_open_period",
            "2027-03",
            True,
            id="February 2027 event landing 4 March is late",
        ),
        pytest.param(
            "2026-08-31T23:00:00Z",
            "2026-09-01",
            0,
            "next_open_period",
            "2026-09",
            True,
            id="grace 0: an August event landing 1 Sept is late",
        ),
        pytest.param(
            "2026-08-31T23:00:00Z",
            "2026-08-31",
            0,
            "next_open_period",
            "2026-08",
            False,
            id="grace 0: on time on the last day of the month",
        ),
        pytest.param(
            "2026-10-01T00:30:00Z",
            "2026-09-30",
            3,
            "next_open_period",
            "2026-10",
            False,
            id="an event just after midnight landing the day before is billed in its month",
        ),
        pytest.param(
            "2026-08-15T00:00:00Z",
            "2026-09-10",
            10,
            "next_open_period",
            "2026-08",
            False,
            id="grace 10: 10 September is still August's landing day",
        ),
    ],
)
def test_billing_period_and_late_flag(tmp_path, timestamp, landing, grace, policy, period, late):
    landing_date = dt.date.fromisoformat(landing)
    root = DataRoot.create(tmp_path, rules=BillingRules(grace_days=grace, late_events=policy))
    root.write_jsonl("a.jsonl", [event(timestamp=timestamp)], landing_date)
    tables = root.ingest(landing_date)
    (row,) = clean_rows(tables)
    assert (row["billing_period"], row["late"], row["landing_date"]) == (period, late, landing_date)


# --- the per-day id index ------------------------------------------------------------------------


def test_an_ingested_days_index_is_reused_and_rebuilt_only_when_its_landing_folder_changes(
    tmp_path, monkeypatch
):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [event("e1", timestamp=at(day(0)))], day=day(0))
    root.ingest(day(0))
    assert event_index.TABLE in {p.name for p in (tmp_path / "warehouse").iterdir()}
    parsed = []
    real = event_index.parse_files

    def spy(*args):
        for info, result in real(*args):
            parsed.append(info.path)
            yield info, result

    monkeypatch.setattr(event_index, "parse_files", spy)
    root.write_jsonl("b.jsonl", [event("e1", timestamp=at(day(1)))], day=day(1))
    tables = root.ingest(day(1))
    assert parsed == []  # day 0's index was read as written, not rebuilt from its files
    assert counts(tables) == (1, 0, 1, 0)
    # A file landing late in day 0's folder makes its index stale: it is rebuilt, once.
    root.write_jsonl("c.jsonl", [event("e2", timestamp=at(day(0)))], day=day(0))
    root.write_jsonl("d.jsonl", [event("e2", timestamp=at(day(1)))], day=day(1))
    tables = root.ingest(day(1))
    assert parsed == [root.rel("a.jsonl", day(0)), root.rel("c.jsonl", day(0))]
    assert counts(tables) == (2, 0, 2, 0)
    root.ingest(day(1))
    assert len(parsed) == 2


def test_id_hash_collisions_in_the_window_never_make_a_duplicate(tmp_path, monkeypatch):
    """The window is searched by a 64-bit hash of event_id; with every id colliding, the exact
    id comparison still decides."""
    from meter_pipeline.ingestion import parse

    def colliding():
        return pl.lit(7, dtype=pl.UInt64).alias("id_hash")

    monkeypatch.setattr(parse, "id_hash", colliding)
    monkeypatch.setattr(event_index, "id_hash", colliding)
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [event("e1", timestamp=at(day(0))), event("e2", timestamp=at(day(0)))],
        day=day(0),
    )
    root.ingest(day(0))
    root.write_jsonl(
        "b.jsonl",
        [
            event("e3", timestamp=at(day(1))),
            event("e2", timestamp=at(day(0))),  # a retry of day 0's
            event("e4", timestamp=at(day(1))),
        ],
        day=day(1),
    )
    tables = root.ingest(day(1))
    b = root.rel("b.jsonl", day(1))
    assert [r["event_id"] for r in clean_rows(tables)] == ["e3", "e4"]
    assert duplicate_rows(tables) == [("e2", b, 2, day(0), False)]


def test_a_days_index_is_written_in_id_hash_order(tmp_path):
    """The window is searched by a merge: every index, as ingested or rebuilt, is in ascending
    id_hash order; rows with the same hash stay in arrival order."""
    root = DataRoot.create(tmp_path)
    ids = [f"e{n}" for n in range(200)]
    root.write_jsonl("a.jsonl", [event(i, timestamp=at(day(0))) for i in ids], day=day(0))
    root.ingest(day(0))
    path = warehouse.partition_dir(tmp_path, event_index.TABLE, day(0).isoformat(), "landing_date")
    index = pl.read_parquet(path / warehouse.PART_FILE)
    hashes = index.get_column("id_hash").to_list()
    assert hashes == sorted(hashes) and sorted(index.get_column("event_id")) == sorted(ids)
    expected = pl.Series(ids).to_frame("event_id").select(id_hash())
    assert sorted(hashes) == sorted(expected.get_column("id_hash").to_list())


@pytest.mark.parametrize(
    ("hashes", "keys", "expected"),
    [
        ([], [], []),
        ([1, 2, 3], [], []),
        ([], [1, 2], []),
        ([1, 3, 5, 7], [0, 3, 4, 7, 9], [3, 7]),
        ([2, 2, 2, 4], [2], [2, 2, 2]),  # a hash written twice (two ids colliding): both rows
        ([0, 2**64 - 1], [2**64 - 1], [2**64 - 1]),  # the ends of the range, unsigned
        ([5, 1, 3], [1, 3], [1, 3]),  # not ascending: looked up without the merge, still exact
    ],
)
def test_window_hits_by_hand(hashes, keys, expected):
    found = window_hits(np.array(hashes, dtype=np.uint64), np.array(keys, dtype=np.uint64))
    assert found.dtype == np.uint64 and sorted(found.tolist()) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 40), max_size=60),
    st.sets(st.integers(0, 40), max_size=30),
    st.booleans(),
)
def test_window_hits_agree_with_a_set_lookup(hashes, keys, ascending):
    """The merge gives exactly the entries a set lookup gives, ascending or not."""
    day = sorted(hashes) if ascending else hashes
    found = window_hits(np.array(day, dtype=np.uint64), np.array(sorted(keys), dtype=np.uint64))
    assert sorted(found.tolist()) == sorted(h for h in day if h in keys)
