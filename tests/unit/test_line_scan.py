"""The compiled first pass of the fast path (meter_pipeline/ingestion/line_scan.py): what it
reads, exactly, and what it leaves to the other paths. Its timestamps and values are checked
against the grammar's own functions (a second implementation), on hand-picked and random text."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_pipeline.grammar import MAX_MS_DIGITS, json_fraction, json_integer, parse_rfc3339_us
from meter_pipeline.ingestion import line_scan
from meter_pipeline.ingestion.line_scan import scan_lines, scan_spans
from meter_pipeline.io.landing import jsonl_lines
from meter_pipeline.money import QUANTITY, VALUE_LIMIT

#: The values the compiled pass reads: the fast path's narrowed decimal (fast_path._DECIMAL).
DECIMAL = re.compile(
    f"{json_integer(VALUE_LIMIT.adjusted())}(?:{json_fraction(QUANTITY.scale)})?", re.ASCII
)
MILLIS = re.compile(json_integer(MAX_MS_DIGITS, signed=False), re.ASCII)


def scan(texts: list[str]) -> tuple[pl.DataFrame, list[int]]:
    """(the rows read, the line numbers left) of these lines."""
    frames, rest = scan_lines(jsonl_lines("\n".join(texts).encode()))
    empty = pl.DataFrame(
        schema={
            "line_number": pl.Int64,
            "timestamp": pl.Datetime("us", "UTC"),
            "value": pl.Decimal(QUANTITY.precision, QUANTITY.scale),
        }
    )
    read = pl.concat([empty, *frames], how="diagonal")
    return read, rest["line_number"].to_list()


def line(stamp: str = '"2026-09-10T12:00:00Z"', value: str | None = None, extra: str = "") -> str:
    value_part = "" if value is None else f',"value":{value}'
    return (
        f'{{"event_id":"e","customer_id":"c","meter":"m","timestamp":{stamp}{value_part}{extra}}}'
    )


def us(text: str) -> int:
    return (dt.datetime.fromisoformat(text) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // (
        dt.timedelta(microseconds=1)
    )


def test_a_plain_line_is_read_whole_by_hand():
    read, left = scan(
        [
            '{"event_id":"e1","customer_id":"acme","meter":"tokens",'
            '"timestamp":"2026-09-10T12:34:56.789123456+02:00","value":"12345678901234567890.123456789",'
            '"dimensions":{"region":"eü","model":"gpt"}}',
            ' { "meter" : "api" ,\t"timestamp" : 1789041600000 , "customer_id":"c",'
            ' "event_id":"e2" } ',
        ]
    )
    assert left == []
    rows = read.sort("line_number").to_dicts()
    assert [r["event_id"] for r in rows] == ["e1", "e2"]
    assert rows[0]["value"] == Decimal("12345678901234567890.123456789")
    assert rows[1]["value"] is None
    # 12:34:56.789123 at +02:00 is 10:34:56.789123Z (the last three digits truncated)
    assert rows[0]["timestamp"] == dt.datetime(2026, 9, 10, 10, 34, 56, 789123, tzinfo=dt.UTC)
    assert rows[1]["timestamp"] == dt.datetime(2026, 9, 10, 12, 0, tzinfo=dt.UTC)
    assert rows[0]["dimensions"] == [
        {"key": "model", "value": "gpt"},
        {"key": "region", "value": "eü"},
    ]
    assert rows[1]["dimensions"] == []


@pytest.mark.parametrize(
    "text",
    [
        '{"uniqueId":"e","customer_id":"c","meter":"m","timestamp":"2026-09-10T12:00:00Z"}',
        line(extra=',"event_id":"again"'),  # a repeated name
        line(extra=',"dimensions":{"k":"a","k":"b"}'),  # a repeated dimension key
        line(extra=',"dimensions":{"k":1}'),  # a dimension that is not a string
        line(extra=',"extra":"x"'),  # an unknown field
        line(extra=',"dimensions":null'),
        line(value='"+2.5"'),
        line(value='".5"'),
        line(value='"2."'),
        line(value='"00.5"'),
        line(value='"1E3"'),
        line(value="1e3"),
        line(value="1.0000000001"),  # ten fraction digits
        line(value="100000000000000000000"),  # 21 integer digits
        line(value="null"),
        line(value='""'),
        line(value="01"),
        line(value="--1"),
        line(stamp='"2026-02-29T00:00:00Z"'),  # not a leap year
        line(stamp='"2026-09-10T12:00:60Z"'),
        line(stamp='"2026-09-10T24:00:00Z"'),
        line(stamp='"2026-09-10T12:00:00+24:00"'),
        line(stamp='"2026-09-10t12:00:00z"'),
        line(stamp='"2026-09-10T12:00:00.Z"'),
        line(stamp='"2026-09-10T12:00:00.1234567890Z"'),
        line(stamp='"1969-12-31T23:59:59Z"'),
        line(stamp='"10000-01-01T00:00:00Z"'),
        line(stamp="-1"),
        line(stamp="1789041600000.0"),
        line(stamp="1234567890123456"),  # 16 digits
        line(stamp="01"),
        '{"event_id":"e","customer_id":"c","meter":"m"}',  # no timestamp
        '{"event_id":1,"customer_id":"c","meter":"m","timestamp":"2026-09-10T12:00:00Z"}',
        '{"event_id":"e\\u0041","customer_id":"c","meter":"m","timestamp":"2026-09-10T12:00:00Z"}',
        line() + ",",
        line()[:-1],
        "{}",
        "[]",
        "x",
        line().replace(",", ",\r", 1),
    ],
)
def test_odd_lines_are_left_to_the_other_paths(text):
    read, left = scan([line(), text])
    assert read["line_number"].to_list() == [1] and left == [2]


def test_spans_of_one_buffer_are_read_as_the_lines_they_cut_out():
    """scan_spans reads lines cut out of one buffer by (start, end), the line breaks between
    them left out, exactly as scan_lines reads the same lines; a span that takes its line break
    with it is no line it reads."""
    texts = [line(), "x", line(value='"1.5"', extra=',"dimensions":{"b":"2","a":"1"}'), "{}"]
    data = "\n".join(texts).encode() + b"\n"
    buf = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    read, frame = scan_spans(buf, starts, ends)
    assert read.tolist() == [True, False, True, False]
    expected, left = scan(texts)
    assert left == [2, 4]
    assert frame is not None
    assert frame.equals(expected.drop("line_number").select(frame.columns))
    noon = dt.datetime(2026, 9, 10, 12, tzinfo=dt.UTC)  # by hand, from here on
    assert frame.select("event_id", "customer_id", "meter", "timestamp").rows() == [
        ("e", "c", "m", noon),
        ("e", "c", "m", noon),
    ]
    assert frame["value"].to_list() == [None, Decimal("1.5")]
    assert [[(d["key"], d["value"]) for d in dims] for dims in frame["dimensions"]] == [
        [],
        [("a", "1"), ("b", "2")],
    ]
    with_breaks, none = scan_spans(buf, starts, ends + 1)
    assert not with_breaks.any() and none is None


def test_dimensions_come_as_pairs_ordered_by_key_and_at_most_64_a_line():
    """A line's dimensions are the list of (key, value) pairs in the byte order of the keys (a
    prefix first, UTF-8 bytes compared); a line with more than 64 pairs is left."""
    keys = ["b", "a", "ab", "a b", "é", "z", "", "A"]
    pairs = ",".join(f'"{k}":"v{n}"' for n, k in enumerate(keys))
    many = ",".join(f'"k{n}":"v"' for n in range(65))
    read, left = scan(
        [line(extra=f',"dimensions":{{{pairs}}}'), line(extra=f',"dimensions":{{{many}}}')]
    )
    assert left == [2]
    ordered = sorted(((k, f"v{n}") for n, k in enumerate(keys)), key=lambda kv: kv[0].encode())
    assert ordered[:3] == [("", "v6"), ("A", "v7"), ("a", "v1")]  # by hand
    assert [(d["key"], d["value"]) for d in read["dimensions"][0]] == ordered
    read, left = scan([line(extra=f',"dimensions":{{{many[: many.rindex(",")]}}}')])
    assert left == [] and read["dimensions"].list.len().to_list() == [64]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.text("ab\u00e9z", max_size=3), st.text("xy", max_size=2), max_size=6),
        min_size=1,
        max_size=5,
    )
)
def test_dimension_pairs_are_each_lines_pairs_sorted(dims):
    texts = [
        line(extra=',"dimensions":{' + ",".join(f'"{k}":"{v}"' for k, v in d.items()) + "}")
        for d in dims
    ]
    read, left = scan(texts)
    assert left == []
    got = [[(p["key"], p["value"]) for p in row] for row in read.sort("line_number")["dimensions"]]
    assert got == [sorted(d.items(), key=lambda kv: kv[0].encode()) for d in dims]


digit = st.sampled_from("0123456789")


def place(low: int, high: int, *edges: int) -> st.SearchStrategy[str]:
    """Two digits: mostly in [low, high], one time in five at its edges or just past them."""
    edge = st.sampled_from(edges)
    return (
        st.integers(0, 4)
        .flatmap(lambda k: edge if k == 0 else st.integers(low, high))
        .map(lambda n: f"{n:02d}")
    )


@st.composite
def rfc3339_like(draw) -> str:
    """Texts at or near the RFC 3339 shape: every place mostly valid and often just out of
    range (month 00/13, day 29–32, hour 24, second 60, offsets to ±24:60), 0–11 fraction
    digits, a valid or broken zone or separator."""
    year = draw(st.sampled_from(["1969", "1970", "2024", "2026", "2100", "9999", "0000", "0001"]))
    date = f"{year}-{draw(place(1, 12, 0, 2, 13, 99))}-{draw(place(1, 28, 0, 29, 30, 31, 32))}"
    time = f"{draw(place(0, 23, 24, 99))}:{draw(place(0, 59, 60))}:{draw(place(0, 59, 60, 61))}"
    places = draw(st.sampled_from([0, 0, 1, 3, 6, 7, 9, 10, 11]))
    digits = "".join(draw(st.lists(digit, min_size=places, max_size=places)))
    fraction = f".{digits}" if places or draw(st.booleans()) else ""
    offset = f"{draw(place(0, 23, 24, 99))}:{draw(place(0, 59, 60))}"
    zone = draw(
        st.sampled_from(["Z"] * 4 + [f"+{offset}", f"-{offset}"] * 2 + ["z", "", "+0100", "Z "])
    )
    sep = draw(st.sampled_from(["T"] * 8 + ["t", " "]))
    return f"{date}{sep}{time}{fraction}{zone}"


@settings(max_examples=400, deadline=None)
@given(st.lists(rfc3339_like(), min_size=1, max_size=30))
def test_timestamps_are_read_as_the_grammar_reads_them(stamps):
    read, left = scan([line(stamp=f'"{s}"') for s in stamps])
    got = dict(zip(read["line_number"].to_list(), read["timestamp"].to_list(), strict=True))
    for n, stamp in enumerate(stamps, start=1):
        expected = parse_rfc3339_us(stamp)
        if expected is None:
            assert n in left, stamp
        else:
            assert us(got[n].isoformat()) == expected, stamp


number_text = st.one_of(
    st.from_regex(r"-?[0-9]{1,22}(\.[0-9]{0,11})?", fullmatch=True),
    st.from_regex(r"[-+.0-9eE]{1,8}", fullmatch=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(number_text, st.booleans()), min_size=1, max_size=30))
def test_values_are_read_exactly_when_the_grammar_admits_them(values):
    texts = [line(value=f'"{v}"' if quoted else v) for v, quoted in values]
    read, left = scan(texts)
    got = dict(zip(read["line_number"].to_list(), read["value"].to_list(), strict=True))
    for n, (text, _) in enumerate(values, start=1):
        if DECIMAL.fullmatch(text):
            assert got[n] == Decimal(text), text
        else:
            assert n in left, text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"-?[0-9]{1,17}(\.[0-9])?", fullmatch=True), min_size=1, max_size=20))
def test_epoch_milliseconds_are_read_when_plain(stamps):
    read, left = scan([line(stamp=s) for s in stamps])
    got = dict(zip(read["line_number"].to_list(), read["timestamp"].to_list(), strict=True))
    for n, text in enumerate(stamps, start=1):
        ms = int(text) if MILLIS.fullmatch(text) else None
        if ms is None or ms * 1000 >= 253_402_300_800_000_000:
            assert n in left, text
        else:
            assert us(got[n].isoformat()) == ms * 1000, text


def test_warming_the_kernels_reads_a_line():
    from meter_pipeline.ingestion.line_scan import warm

    warm()  # compiles (or loads from numba's cache) without error
    assert scan([line()])[1] == []


PREPARED = """
import datetime as dt, sys
from pathlib import Path
from meter_pipeline.config.meters import load_meters
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.ingestion import line_scan
from meter_pipeline.ingestion.day import ingest_day
ingest_day(Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), load_meters(sys.argv[1]),
           BillingRules())
print(line_scan._prepared is not None, "line_scan_kernels" in str(list(sys.modules)))
"""


@pytest.mark.parametrize(("lines", "loaded"), [(20, "False False"), (600, "True True")])
def test_a_day_with_a_large_jsonl_file_loads_the_kernels_ahead(tmp_path, lines, loaded):
    """The kernels' load starts when the listing shows a JSONL file of ≥ 64 KiB (it then runs
    beside the read of the first file); a day of small files never loads numba."""
    from tests.helpers.ingestion import DAY, DataRoot, event

    root = DataRoot.create(tmp_path)
    pad = "x" * 100
    rows = [event(f"e{i}", customer_id=f"c{i}{pad}") for i in range(lines)]
    size = root.write_jsonl("a.jsonl", rows).stat().st_size
    assert (size >= line_scan.PREPARE_BYTES) == (lines == 600)
    command = [sys.executable, "-c", PREPARED, str(tmp_path), DAY.isoformat()]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == loaded


def test_the_kernels_load_once_a_process():
    first = line_scan.prepare()
    assert line_scan.prepare() is first
    first.join()
    assert scan([line()])[1] == []
