"""The vectorised JSONL fast path gives exactly what the per-line path gives, on any input.

Every test runs twice: with the compiled pass first (as ingestion runs), and without it, so that
the shape regex and pyarrow's reader — the second tier, which reads what the compiled pass
leaves — are tested on every input too. Both tiers read however few lines they are given here."""

import datetime as dt
import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import meter_pipeline.ingestion.fast_path as fast_path_module
import meter_pipeline.ingestion.parse as parse
from meter_pipeline.config.meters import parse_meters
from meter_pipeline.ingestion.fast_path import fast_events
from meter_pipeline.ingestion.validate import context_for
from meter_pipeline.io.landing import jsonl_lines
from meter_pipeline.io.records import LandingFile
from tests.helpers.ingestion import parse_day

METERS = parse_meters(
    {
        "meters": [
            {"name": "api_calls", "aggregation": "count"},
            {"name": "tokens", "aggregation": "sum", "required_dimensions": ["model"]},
            {"name": "delta", "aggregation": "sum", "allow_negative": True},
            {"name": "users", "aggregation": "unique_count", "unique_dimension": "user_id"},
        ]
    }
)
DAY = dt.date(2026, 9, 10)


@pytest.fixture(autouse=True, params=["compiled", "pyarrow"])
def tier(request, monkeypatch):
    """Which tier reads the lines first: the compiled pass, or (without it) the second tier."""
    monkeypatch.setattr(fast_path_module, "BULK_MIN_LINES", 0)
    if request.param == "pyarrow":
        monkeypatch.setattr(fast_path_module, "scan_lines", lambda lines: ([], lines))
    return request.param


CTX = context_for(METERS, DAY)

texts = st.sampled_from(
    [
        "a",
        "é",
        "x y",
        "",
        "{",
        "}",
        ":",
        ",",
        "\\n",
        '\\"',
        "a" * 257,
        "ü" * 256,
        "c1",
        "2026",
        "tokens",
    ]
)
stamps = st.sampled_from(
    [
        '"2026-09-10T12:00:00Z"',
        '"2026-09-10T12:00:00.123456789+02:00"',
        '"2026-08-06T00:00:00Z"',
        '"2026-08-05T23:59:59.999999Z"',
        '"2026-09-11T00:59:59.999999Z"',
        '"2026-09-11T01:00:00Z"',
        '"2026-02-30T00:00:00Z"',
        '"2026-09-10t12:00:00z"',
        '"2026-09-10T12:00:60Z"',
        '"2026-09-10T12:00:00+24:00"',
        "1789041600000",
        "1789041600000.0",
        "-1",
        "1e12",
        "true",
        "null",
        '""',
        '"1789041600000"',
    ]
)
values = st.sampled_from(
    [
        "1",
        "0.1",
        '"0.10"',
        "-0",
        "-0.0000000001",
        "1.0000000005",
        "99999999999999999999.999999999",
        "100000000000000000000",
        "1e3",
        '"abc"',
        '" 1"',
        "true",
        "null",
        '""',
        "{}",
        '"NaN"',
        "01",
        '"+2.5"',  # forms pyarrow's decimal reader accepts and the rules do not
        '".5"',
        '"2."',
        '"00.5"',
        '"1E3"',
        '"-0.0"',
    ]
)
dims = st.dictionaries(
    st.sampled_from(["model", "user_id", "region", "", "k" * 257]),
    st.sampled_from(['"m"', '""', '"x"', "1.50", "true", "null", '"é"']),
    max_size=3,
)
keys = st.sampled_from(
    [
        ("event_id", "uniqueId"),
        ("customer_id", "customerId"),
        ("meter", "meterApiName"),
        ("timestamp", "meterTimeInMillis"),
        ("value", "meterValue"),
    ]
)


@st.composite
def lines(draw):
    parts = {
        "event_id": '"%s"' % draw(st.sampled_from(["e1", "e2", "e3", "", "é" * 257])),
        "customer_id": '"%s"' % draw(texts),
        "meter": '"%s"' % draw(st.sampled_from(["api_calls", "tokens", "delta", "users", "x"])),
        "timestamp": draw(stamps),
        "value": draw(values),
    }
    items = []
    for canonical, alias in [
        ("event_id", "uniqueId"),
        ("customer_id", "customerId"),
        ("meter", "meterApiName"),
        ("timestamp", "meterTimeInMillis"),
        ("value", "meterValue"),
    ]:
        how = draw(st.sampled_from(["native", "native", "alias", "absent", "both"]))
        name = {"native": canonical, "alias": alias}.get(how, canonical)
        if how != "absent":
            items.append(f'"{name}":{parts[canonical]}')
        if how == "both":
            items.append(f'"{alias}":{parts[canonical]}')
    if draw(st.booleans()):
        d = draw(dims)
        items.append('"dimensions":{' + ",".join(f'"{k}":{v}' for k, v in d.items()) + "}")
    if draw(st.booleans()):
        items.append(draw(st.sampled_from(['"extra":1', '"event_id":"dup"', '"dimensions":"x"'])))
    draw(st.randoms()).shuffle(items)
    sep = draw(st.sampled_from([",", ", ", " , "]))
    return "{" + sep.join(items) + "}"


def parse_both(text_lines: list[str], monkeypatch) -> tuple:
    frame = jsonl_lines("\n".join(text_lines).encode())
    info = LandingFile("landing/events/2026-09-10/a.jsonl", 0, "")
    results = []
    for threshold in (0, 10**9):  # everything through the fast path first, then none
        monkeypatch.setattr(parse, "FAST_MIN_LINES", threshold)
        results.append(parse_day([(info, frame)], CTX, DAY))
    return frame, results


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(lines(), min_size=1, max_size=40))
def test_fast_and_per_line_paths_agree(monkeypatch, text_lines):
    _, (fast, slow) = parse_both(text_lines, monkeypatch)
    assert_frame_equal(fast.raw, slow.raw)
    assert_frame_equal(fast.quarantined, slow.quarantined)
    assert_frame_equal(fast.valid, slow.valid)
    assert fast.unknown_fields == slow.unknown_fields


def test_the_fast_path_takes_plain_lines_and_leaves_odd_ones(monkeypatch):
    plain = [
        json.dumps(
            {
                "event_id": f"e{i}",
                "customer_id": "c",
                "meter": "tokens",
                "timestamp": "2026-09-10T12:00:00Z",
                "value": "1.5",
                "dimensions": {"model": "m", "region": "eu"},
            }
        )
        for i in range(50)
    ]
    odd = [
        '{"event_id":"x\\u0041","customer_id":"c","meter":"api_calls",'
        '"timestamp":"2026-09-10T12:00:00Z"}',  # an escape
        '{"event_id":"y","customer_id":"c","meter":"api_calls",'
        '"timestamp":"2026-09-10T12:00:00Z","note":null}',
    ]  # an unknown field
    frame = jsonl_lines("\n".join(plain + odd).encode())
    taken = fast_events(frame, CTX)
    assert taken["line_number"].to_list() == list(range(1, 51))
    assert taken["dimensions"][0].to_list() == [
        {"key": "model", "value": "m"},
        {"key": "region", "value": "eu"},
    ]
    _, (fast, slow) = parse_both(plain + odd, monkeypatch)
    assert_frame_equal(fast.valid, slow.valid)
    assert fast.valid["event_id"].to_list()[-2:] == ["xA", "y"]
    assert fast.unknown_fields == {}  # a null field is not counted


@pytest.mark.parametrize(
    ("meter", "dimensions", "taken"),
    [
        ("tokens", {"model": "m"}, True),
        ("tokens", {"region": "eu"}, False),  # the required dimension is missing
        ("tokens", {"model": ""}, False),  # … or empty
        ("tokens", {"model": "m", "user_id": ""}, True),  # another empty one does not matter
        ("users", {"user_id": "u", "model": ""}, True),  # the unique dimension is required
        ("users", {"model": "m"}, False),
        ("api_calls", {}, True),
        ("api_calls", {"k": "é" * 256}, True),  # 256 characters (512 bytes): at the limit
        ("api_calls", {"k": "é" * 257}, False),  # 257 characters
        ("api_calls", {"é" * 257: "v"}, False),  # a key too long
        ("tokens", {"é" * 256: "v", "model": "x"}, True),
    ],
)
def test_dimension_rules_on_the_fast_path(meter, dimensions, taken, monkeypatch):
    """Required dimensions (present and not empty) and the length limit in characters, on
    plain lines of each tier; what is not taken goes per line, with the same outcome."""
    line = {
        "event_id": "e",
        "customer_id": "c",
        "meter": meter,
        "timestamp": "2026-09-10T12:00:00Z",
        "value": "1",
        "dimensions": dimensions,
    }
    lines = [json.dumps({**line, "event_id": f"e{n}"}, ensure_ascii=False) for n in range(3)]
    got = fast_events(jsonl_lines("\n".join(lines).encode()), CTX)
    assert got["line_number"].to_list() == ([1, 2, 3] if taken else [])
    if taken:
        assert got["dimensions"][0].to_list() == [
            {"key": k, "value": v} for k, v in sorted(dimensions.items())
        ]
    _, (fast, slow) = parse_both(lines, monkeypatch)
    assert_frame_equal(fast.valid, slow.valid)
    assert_frame_equal(fast.quarantined, slow.quarantined)


def test_huge_epoch_milliseconds_never_wrap_around(monkeypatch):
    # 16 digits of milliseconds × 1000 would overflow int64 microseconds; it must be rejected
    # exactly like the per-line path does (invalid_timestamp), never wrap into the window.
    lines = [
        '{"event_id":"e%d","customer_id":"c","meter":"api_calls","timestamp":%s}' % (i, t)
        for i, t in enumerate(["9223372036854775", "9999999999999999", "1789041600000"])
    ]
    _, (fast, slow) = parse_both(lines, monkeypatch)
    assert_frame_equal(fast.quarantined, slow.quarantined)
    assert fast.quarantined["reason"].to_list() == ["invalid_timestamp", "invalid_timestamp"]
    assert fast.valid["event_id"].to_list() == ["e2"]


@pytest.mark.slow  # ~5 s: each example parses a day of files whole and in slices
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.lists(lines(), min_size=0, max_size=12), min_size=1, max_size=5), st.integers(1, 30)
)
def test_files_batched_and_sliced_give_what_each_file_alone_gives(monkeypatch, files, chunk):
    """Several files share calls of the vectorised path (cut into slices of ``chunk`` lines);
    rows still come back per file, in order, exactly as each file parsed alone would be."""

    def plain(n: int, i: int) -> str:  # a line the vectorised path surely takes
        return json.dumps(
            {
                "event_id": f"p{n}-{i}",
                "customer_id": "c",
                "meter": "api_calls",
                "timestamp": "2026-09-10T12:00:00Z",
            }
        )

    day = [
        (
            LandingFile(f"landing/events/2026-09-10/{n:02d}.jsonl", 0, ""),
            jsonl_lines("\n".join([plain(n, 0), *text, plain(n, 1)]).encode()),
        )
        for n, text in enumerate(files)
    ]
    monkeypatch.setattr(parse, "FAST_MIN_LINES", 0)
    monkeypatch.setattr(parse, "FAST_CHUNK_LINES", chunk)
    batched = parse_day(day, CTX, DAY)
    alone = [parse_day([one], CTX, DAY) for one in day]
    for name in ("raw", "quarantined", "valid"):
        assert_frame_equal(getattr(batched, name), pl.concat([getattr(a, name) for a in alone]))
    monkeypatch.setattr(parse, "FAST_MIN_LINES", 10**9)  # and as the per-line path gives
    slow = parse_day(day, CTX, DAY)
    assert_frame_equal(batched.valid, slow.valid)
    assert_frame_equal(batched.quarantined, slow.quarantined)


def _plain(i: int, **fields: object) -> str:
    line = {
        "event_id": f"e{i}",
        "customer_id": "c",
        "meter": "tokens",
        "timestamp": "2026-09-10T12:00:00Z",
        "value": "1.5",
        "dimensions": {"model": "m"},
    }
    line.update(fields)
    return json.dumps({k: v for k, v in line.items() if v is not None})


@pytest.mark.parametrize("value", ["+2.5", ".5", "2.", "00.5", "1E3", "2.5e0", "1.1234567891"])
def test_lenient_decimal_forms_are_never_read_in_bulk(monkeypatch, value):
    """pyarrow's decimal reader would read these; the line's own text decides, so they go per
    line and get the per-line path's reason."""
    text = [_plain(i) for i in range(20)] + [_plain(20, value=value)]
    taken = fast_events(jsonl_lines("\n".join(text).encode()), CTX)
    assert taken["line_number"].to_list() == list(range(1, 21))
    _, (fast, slow) = parse_both(text, monkeypatch)
    assert_frame_equal(fast.quarantined, slow.quarantined)
    assert_frame_equal(fast.valid, slow.valid)


def test_epoch_milliseconds_aliases_and_offsets_are_read_in_bulk(monkeypatch):
    text = [
        _plain(0, timestamp=1789041600000),
        _plain(1, timestamp="2026-09-10T14:00:00.123456789+02:00"),
        '{"uniqueId":"e2","customerId":"c","meterApiName":"tokens",'
        '"meterTimeInMillis":1789041600001,"meterValue":2,"dimensions":{"model":"m"}}',
        '{"uniqueId":"e3","customerId":"c","meterApiName":"tokens",'
        '"meterTimeInMillis":"2026-09-10T12:00:00.1234567Z","meterValue":"2.000000001",'
        '"dimensions":{"model":"m"}}',
    ]
    taken = fast_events(jsonl_lines("\n".join(text).encode()), CTX)
    assert taken["line_number"].to_list() == [1, 2, 3, 4]
    assert taken["event_time"].dt.epoch("us").to_list() == [
        1789041600000000,
        1789041600123456,
        1789041600001000,
        1789041600123456,
    ]
    assert [str(v) for v in taken["value"]] == [
        "1.500000000",
        "1.500000000",
        "2.000000000",
        "2.000000001",
    ]
    _, (fast, slow) = parse_both(text, monkeypatch)
    assert_frame_equal(fast.valid, slow.valid)


def test_lines_pyarrow_refuses_go_per_line_and_the_rest_stays_in_bulk(monkeypatch, tier):
    """A repeated key, a dimension named like the timestamp that misleads the split by
    timestamp type, a carriage return inside a line: each is refused by pyarrow (or by the
    shape) and read per line; every other line is still read in bulk."""
    odd = {
        5: '{"event_id":"d1","event_id":"d2","customer_id":"c","meter":"api_calls",'
        '"timestamp":"2026-09-10T12:00:00Z"}',
        9: '{"event_id":"t","customer_id":"c","meter":"api_calls","timestamp":1789041600000,'
        '"dimensions":{"timestamp":"x"}}',
        14: '{"event_id":"r","customer_id":"c",\r"meter":"api_calls",'
        '"timestamp":"2026-09-10T12:00:00Z"}',
        17: '{"event_id":"k","customer_id":"c","meter":"tokens","timestamp":"2026-09-10T12:00:00Z",'
        '"value":1,"dimensions":{"model":"a","model":"b"}}',
    }
    text = [odd.get(i, _plain(i)) for i in range(1, 41)]
    taken = fast_events(jsonl_lines("\n".join(text).encode()), CTX)
    # The compiled pass is not misled by a dimension's name: it reads line 9 itself.
    left = set(odd) - ({9} if tier == "compiled" else set())
    assert taken["line_number"].to_list() == [n for n in range(1, 41) if n not in left]
    _, (fast, slow) = parse_both(text, monkeypatch)
    assert_frame_equal(fast.quarantined, slow.quarantined)
    assert_frame_equal(fast.valid, slow.valid)
    assert "t" in fast.valid["event_id"].to_list()  # valid, by one path or the other


def test_a_feed_that_keeps_failing_degrades_to_the_per_line_path(monkeypatch, tier):
    """Past MAX_REREADS refusals the rest of a call goes per line: no loop, same rows (the
    compiled pass reads every plain line before pyarrow sees the others)."""
    import meter_pipeline.ingestion.fast_path as fp

    dup = (
        '{"event_id":"d%d","event_id":"x","customer_id":"c","meter":"api_calls",'
        '"timestamp":"2026-09-10T12:00:00Z"}'
    )
    text = [dup % i if i % 3 == 0 else _plain(i) for i in range(300)]
    calls = []
    read = fp._read
    monkeypatch.setattr(fp, "_read", lambda *a: calls.append(1) or read(*a))
    taken = fast_events(jsonl_lines("\n".join(text).encode()), CTX)
    assert len(calls) <= 2 * (fp.MAX_REREADS + 1)
    assert (taken.height == 200) if tier == "compiled" else (0 < taken.height < 200)
    _, (fast, slow) = parse_both(text, monkeypatch)
    assert_frame_equal(fast.quarantined, slow.quarantined)
    assert_frame_equal(fast.valid, slow.valid)


def test_many_distinct_dimension_keys_are_read_in_smaller_parts(monkeypatch):
    import meter_pipeline.ingestion.fast_path as fp

    text = [_plain(i, dimensions={"model": "m", f"k{i:03d}": "v"}) for i in range(200)]
    taken = fast_events(jsonl_lines("\n".join(text).encode()), CTX)
    assert taken.height == 200
    assert taken["dimensions"][7].to_list() == [
        {"key": "k007", "value": "v"},
        {"key": "model", "value": "m"},
    ]
    assert fp.MAX_DIMENSION_KEYS < 200
    _, (fast, slow) = parse_both(text, monkeypatch)
    assert_frame_equal(fast.valid, slow.valid)
