"""SPEC §3 and §3.1: each row gets exactly one quarantine reason, the first that applies.

Every case writes one real JSONL line into a landing folder, ingests the day (2026-09-01, so
events from 2026-07-28T00:00Z up to before 2026-09-02T01:00Z are in time), and checks where the
row went. Expected values are worked out by hand from SPEC.md.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from tests.helpers.ingestion import (
    OMIT,
    DataRoot,
    Raw,
    audit_row,
    clean_rows,
    counts,
    epoch_ms,
    event,
    reasons,
    to_json,
    utc,
)

D = Decimal
LONG = "x" * 257
FITS = "x" * 256
NOON = utc(2026, 9, 1, 12)
VALID_TAIL = '"customer_id":"c1","meter":"tokens","timestamp":"2026-09-01T12:00:00Z","value":"1"'


def ok(**expected):
    """The row is accepted into clean_events with these column values."""
    return expected


def case(line, expected, id):  # noqa: A002 - pytest's name
    return pytest.param(line, expected, id=id)


MALFORMED = [
    case("not json at all", "malformed", "malformed: a line that is not JSON"),
    case('["an", "array"]', "malformed", "malformed: a JSON array is not an object"),
    case('"a string"', "malformed", "malformed: a JSON string is not an object"),
    case(to_json(event(value=Raw("NaN"))), "malformed", "malformed: bare NaN is not JSON"),
    case(
        to_json(event(value=Raw("Infinity"))), "malformed", "malformed: bare Infinity is not JSON"
    ),
    case(
        to_json(event(value=Raw("-Infinity"))), "malformed", "malformed: bare -Infinity is not JSON"
    ),
    case(
        '{"event_id":"e1","event_id":"e2",' + VALID_TAIL + "}",
        "malformed",
        "malformed: a repeated key (even a top-level one) is not RFC 8259 JSON",
    ),
    case(
        '{"event_id":"e1",' + VALID_TAIL + ',"dimensions":{"a":"1","a":"2"}}',
        "malformed",
        "malformed: a repeated key inside dimensions",
    ),
    case(
        b'{"event_id":"e\xff1",' + VALID_TAIL.encode() + b"}",
        "malformed",
        "malformed: invalid UTF-8 bytes in the line",
    ),
    case(
        b'{"event_id":"e\xed\xa0\x801",' + VALID_TAIL.encode() + b"}",
        "malformed",
        "malformed: a UTF-8 encoded surrogate is invalid UTF-8",
    ),
    case('{"event_id":"e1",' + VALID_TAIL + ",}", "malformed", "malformed: a trailing comma"),
    case(
        to_json(event()) + to_json(event("e2")), "malformed", "malformed: two objects on one line"
    ),
    case(to_json(event())[:-1], "malformed", "malformed: a truncated object"),
    case(
        '{"event_id":"e1","event\\u005fid":"e2",' + VALID_TAIL + "}",
        "malformed",
        "malformed: a key repeated through a unicode escape",
    ),
]

MISSING_FIELD = [
    case(event(event_id=OMIT), "missing_field", "missing_field: no event_id"),
    case(event(customer_id=OMIT), "missing_field", "missing_field: no customer_id"),
    case(event(meter=OMIT), "missing_field", "missing_field: no meter"),
    case(event(timestamp=OMIT), "missing_field", "missing_field: no timestamp"),
    case(event(event_id=None), "missing_field", "missing_field: event_id null counts as absent"),
    case(event(customer_id=""), "missing_field", "missing_field: customer_id empty string"),
    case(event(meter=None), "missing_field", "missing_field: meter null"),
    case(event(timestamp=""), "missing_field", "missing_field: timestamp empty string"),
    case(
        event(event_id=OMIT, uniqueId=None),
        "missing_field",
        "missing_field: a null alias is as absent as a null native name",
    ),
    case(event(value=OMIT), "missing_field", "missing_field: no value on a sum meter"),
    case(event(value=None), "missing_field", "missing_field: value null on a sum meter"),
    case(event(value=""), "missing_field", "missing_field: value empty on a sum meter"),
    case(
        event(value=OMIT, meterValue=None),
        "missing_field",
        "missing_field: meterValue null and no value",
    ),
    case(
        event(meter="storage_gb", value=OMIT),
        "missing_field",
        "missing_field: no value on a max meter",
    ),
    case(
        event(meter="seats", value=OMIT),
        "missing_field",
        "missing_field: no value on a latest meter",
    ),
]

INVALID_TYPE = [
    case(
        event(uniqueId="e1"),
        "invalid_type",
        "invalid_type: event_id under both names (even with the same value)",
    ),
    case(event(customerId="c2"), "invalid_type", "invalid_type: customer_id under both names"),
    case(event(meterApiName="tokens"), "invalid_type", "invalid_type: meter under both names"),
    case(
        event(meterTimeInMillis=epoch_ms(NOON)),
        "invalid_type",
        "invalid_type: timestamp under both names",
    ),
    case(
        event(meterValue="1"), "invalid_type", "invalid_type: value under both names on a sum meter"
    ),
    case(event(event_id=Raw("123")), "invalid_type", "invalid_type: event_id a number"),
    case(event(customer_id=True), "invalid_type", "invalid_type: customer_id a boolean"),
    case(event(meter={"name": "tokens"}), "invalid_type", "invalid_type: meter an object"),
    case(
        event(timestamp=Raw("1788264000000.0")),
        "invalid_type",
        "invalid_type: timestamp number with a fraction is a float",
    ),
    case(
        event(timestamp=Raw("1.788264e12")),
        "invalid_type",
        "invalid_type: timestamp number with an exponent is a float",
    ),
    case(
        event(timestamp=Raw("1788264000000e0")),
        "invalid_type",
        "invalid_type: timestamp integer digits with an exponent token is a float",
    ),
    case(event(timestamp=True), "invalid_type", "invalid_type: timestamp a boolean"),
    case(
        event(timestamp=["2026-09-01T12:00:00Z"]),
        "invalid_type",
        "invalid_type: timestamp an array",
    ),
    case(event(dimensions=["model", "m"]), "invalid_type", "invalid_type: dimensions an array"),
    case(event(dimensions="model=m"), "invalid_type", "invalid_type: dimensions a string"),
    case(event(dimensions={"model": None}), "invalid_type", "invalid_type: a dimension value null"),
    case(
        event(dimensions={"model": ["a"]}),
        "invalid_type",
        "invalid_type: a dimension value an array",
    ),
    case(
        event(dimensions={"model": {"a": "b"}}),
        "invalid_type",
        "invalid_type: a dimension value an object",
    ),
    case(event(value=True), "invalid_type", "invalid_type: value a boolean on a sum meter"),
    case(event(value={"n": 1}), "invalid_type", "invalid_type: value an object on a sum meter"),
    case(event(value=[1]), "invalid_type", "invalid_type: value an array on a max meter"),
    case(
        event(event_id=None, uniqueId="u1"),
        ok(event_id="u1"),
        "aliases: event_id null and uniqueId present is fine",
    ),
    case(event(uniqueId=""), ok(event_id="e1"), "aliases: uniqueId empty and event_id present"),
    case(
        event(value="2", meterValue=None),
        ok(value=D("2")),
        "aliases: meterValue null next to value is fine",
    ),
    case(
        event(timestamp="", meterTimeInMillis=epoch_ms(NOON)),
        ok(event_time=NOON),
        "aliases: timestamp empty next to meterTimeInMillis is fine",
    ),
    case(
        event(meter="nope", value=True),
        "unknown_meter",
        "value unchecked: an unknown meter with a boolean value is unknown_meter",
    ),
    case(
        event(meter="nope", value="1", meterValue="2"),
        "unknown_meter",
        "value unchecked: an unknown meter with value under both names is unknown_meter",
    ),
    case(
        event(meter="api_calls", value={"n": 1}),
        ok(value=None),
        "value unchecked: a count meter with an object value is accepted, value null",
    ),
    case(
        event(meter="api_calls", value="NaN"),
        ok(value=None),
        "value unchecked: a count meter with a NaN string is accepted, value null",
    ),
    case(
        event(meter="active_users", value=True, dimensions={"user_id": "u1"}),
        ok(value=None),
        "value unchecked: a unique_count meter with a boolean value is accepted",
    ),
    case(
        event(meter="api_calls", value="1", meterValue="2"),
        ok(value=None),
        "value unchecked: a count meter with value under both names is accepted",
    ),
]

DIMENSION_TEXT = [
    case(
        event(
            dimensions={
                "size": Raw("1.50"),
                "n": Raw("10"),
                "e": Raw("-1E+3"),
                "flag": True,
                "off": False,
            }
        ),
        ok(dimensions={"e": "-1E+3", "flag": "true", "n": "10", "off": "false", "size": "1.50"}),
        "dimensions: a number keeps its JSON text, a boolean becomes true/false",
    ),
    case(
        event(dimensions={"note": ""}),
        ok(dimensions={"note": ""}),
        "dimensions: an empty value that no rule requires is kept as empty",
    ),
    case(event(dimensions=None), ok(dimensions={}), "dimensions: null equals no dimensions"),
    case(event(dimensions={}), ok(dimensions={}), "dimensions: an empty object"),
    case(event(dimensions=""), ok(dimensions={}), "dimensions: empty string counts as absent"),
    case(
        event(dimensions={"région": "Zürich", "b": "2", "a": "1"}),
        ok(dimensions={"a": "1", "b": "2", "région": "Zürich"}),
        "dimensions: non-ASCII keys and values kept",
    ),
]

FIELD_TOO_LONG = [
    case(event(LONG), "field_too_long", "field_too_long: event_id of 257 characters"),
    case(event(FITS), ok(event_id=FITS), "field_too_long: event_id of 256 characters fits"),
    case(
        event("é" * 257), "field_too_long", "field_too_long: 257 two-byte code points are too long"
    ),
    case(
        event("é" * 256),
        ok(event_id="é" * 256),
        "field_too_long: 256 two-byte code points (512 bytes) fit",
    ),
    case(
        event("😀" * 256),
        ok(event_id="😀" * 256),
        "field_too_long: 256 four-byte code points (512 UTF-16 units) fit",
    ),
    case(event("😀" * 257), "field_too_long", "field_too_long: 257 emoji are too long"),
    case(event(customer_id=LONG), "field_too_long", "field_too_long: customer_id of 257"),
    case(
        event(meter=LONG),
        "field_too_long",
        "field_too_long: a 257-character meter is too long before it is unknown",
    ),
    case(event(dimensions={LONG: "v"}), "field_too_long", "field_too_long: a dimension key of 257"),
    case(
        event(dimensions={"ü" * 256: "v"}),
        ok(dimensions={"ü" * 256: "v"}),
        "field_too_long: a dimension key of 256 non-ASCII code points fits",
    ),
    case(
        event(dimensions={"k": "ü" * 257}),
        "field_too_long",
        "field_too_long: a dimension value of 257 code points",
    ),
    case(
        event(dimensions={"k": "ü" * 256}),
        ok(dimensions={"k": "ü" * 256}),
        "field_too_long: a dimension value of 256 code points fits",
    ),
]

UNKNOWN_METER = [
    case(event(meter="nope"), "unknown_meter", "unknown_meter: not in meters.yaml"),
    case(event(meter="Tokens"), "unknown_meter", "unknown_meter: meter names are case-sensitive"),
    case(
        event(meter="nope", value=OMIT),
        "unknown_meter",
        "unknown_meter: before the value is found missing",
    ),
]

TIMESTAMPS = [
    case(
        event(timestamp="2026-09-01T12:00:60Z"), "invalid_timestamp", "invalid_timestamp: second 60"
    ),
    case(
        event(timestamp="2026-09-01T12:00:00+24:00"),
        "invalid_timestamp",
        "invalid_timestamp: offset +24:00",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00-24:00"),
        "invalid_timestamp",
        "invalid_timestamp: offset -24:00",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00+01:60"),
        "invalid_timestamp",
        "invalid_timestamp: offset minutes 60",
    ),
    case(
        event(timestamp="0000-01-01T00:00:00Z"), "invalid_timestamp", "invalid_timestamp: year 0000"
    ),
    case(
        event(timestamp="2026-09-01t12:00:00Z"),
        "invalid_timestamp",
        "invalid_timestamp: lowercase t",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00z"),
        "invalid_timestamp",
        "invalid_timestamp: lowercase z",
    ),
    case(event(timestamp="2026-09-01T12:00:00"), "invalid_timestamp", "invalid_timestamp: no zone"),
    case(
        event(timestamp="2026-09-01 12:00:00Z"),
        "invalid_timestamp",
        "invalid_timestamp: a space instead of T",
    ),
    case(
        event(timestamp="2026-09-01T12:00Z"), "invalid_timestamp", "invalid_timestamp: no seconds"
    ),
    case(
        event(timestamp="2026-09-01T12:00:00+0100"),
        "invalid_timestamp",
        "invalid_timestamp: offset without a colon",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00.1234567890Z"),
        "invalid_timestamp",
        "invalid_timestamp: 10 fraction digits",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00.Z"),
        "invalid_timestamp",
        "invalid_timestamp: a dot without fraction digits",
    ),
    case(
        event(timestamp="2026-9-1T12:00:00Z"),
        "invalid_timestamp",
        "invalid_timestamp: single-digit month and day",
    ),
    case(
        event(timestamp="2026-02-30T12:00:00Z"),
        "invalid_timestamp",
        "invalid_timestamp: 30 February",
    ),
    case(
        event(timestamp="2026-13-01T12:00:00Z"), "invalid_timestamp", "invalid_timestamp: month 13"
    ),
    case(
        event(timestamp="2026-09-01T24:00:00Z"), "invalid_timestamp", "invalid_timestamp: hour 24"
    ),
    case(
        event(timestamp="1969-12-31T23:59:59.999999Z"),
        "invalid_timestamp",
        "invalid_timestamp: one microsecond before 1970",
    ),
    case(
        event(timestamp="1970-01-01T00:30:00+01:00"),
        "invalid_timestamp",
        "invalid_timestamp: written in 1970 but the instant is in 1969",
    ),
    case(
        event(timestamp="9999-12-31T23:30:00-01:00"),
        "invalid_timestamp",
        "invalid_timestamp: written in 9999 but the instant is in year 10000",
    ),
    case(
        event(timestamp="10000-01-01T00:00:00Z"),
        "invalid_timestamp",
        "invalid_timestamp: a five-digit year",
    ),
    case(
        event(timestamp="1788264000000"),
        "invalid_timestamp",
        "invalid_timestamp: epoch milliseconds as a JSON string are not RFC 3339",
    ),
    case(
        event(timestamp=Raw("-1")),
        "invalid_timestamp",
        "invalid_timestamp: negative epoch milliseconds",
    ),
    case(
        event(timestamp=Raw("1" + "0" * 30)),
        "invalid_timestamp",
        "invalid_timestamp: a 31-digit epoch millisecond integer",
    ),
    case(
        event(timestamp=Raw("253402300800000")),
        "invalid_timestamp",
        "invalid_timestamp: epoch milliseconds of 10000-01-01",
    ),
    case(
        event(timestamp=Raw("253402300799999")),
        "future_timestamp",
        "timestamp range: the last millisecond of 9999 is a timestamp (then in the future)",
    ),
    case(
        event(timestamp=Raw("0")),
        "too_old",
        "timestamp range: epoch 0 is a timestamp (then too old)",
    ),
    case(
        event(timestamp="1970-01-01T00:00:00Z"),
        "too_old",
        "timestamp range: 1970-01-01T00:00:00Z is a timestamp (then too old)",
    ),
    case(
        event(timestamp=Raw(str(epoch_ms(NOON)))),
        ok(event_time=NOON),
        "timestamp: JSON integer epoch milliseconds",
    ),
    case(
        event(timestamp="2026-09-01T23:00:00+23:59"),
        ok(event_time=utc(2026, 8, 31, 23, 1)),
        "timestamp: offset +23:59 is converted to UTC",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00-00:00"),
        ok(event_time=NOON),
        "timestamp: offset -00:00 is UTC",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00.5Z"),
        ok(event_time=utc(2026, 9, 1, 12, 0, 0, 500000)),
        "timestamp: one fraction digit",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00.123456789Z"),
        ok(event_time=utc(2026, 9, 1, 12, 0, 0, 123456)),
        "timestamp: nine fraction digits, beyond microseconds truncated",
    ),
    case(
        event(timestamp="2026-09-01T12:00:00.9999999Z"),
        ok(event_time=utc(2026, 9, 1, 12, 0, 0, 999999)),
        "timestamp: truncated, not rounded up to the next second",
    ),
]

INVALID_VALUE = [
    case(event(value="NaN"), "invalid_value", "invalid_value: the string NaN"),
    case(event(value="nan"), "invalid_value", "invalid_value: the string nan"),
    case(event(value="Infinity"), "invalid_value", "invalid_value: the string Infinity"),
    case(event(value="-Infinity"), "invalid_value", "invalid_value: the string -Infinity"),
    case(event(value="inf"), "invalid_value", "invalid_value: the string inf"),
    case(event(value="1e"), "invalid_value", "invalid_value: an exponent without digits"),
    case(event(value=" 1"), "invalid_value", "invalid_value: a leading space"),
    case(event(value="1 "), "invalid_value", "invalid_value: a trailing space"),
    case(event(value="+1"), "invalid_value", "invalid_value: a leading plus"),
    case(event(value="01"), "invalid_value", "invalid_value: a leading zero"),
    case(event(value=".5"), "invalid_value", "invalid_value: no integer digit"),
    case(event(value="1."), "invalid_value", "invalid_value: no fraction digit"),
    case(event(value="0x10"), "invalid_value", "invalid_value: hexadecimal"),
    case(event(value="1,5"), "invalid_value", "invalid_value: a decimal comma"),
    case(event(value="1_000"), "invalid_value", "invalid_value: digit separators"),
    case(event(value="١"), "invalid_value", "invalid_value: a non-ASCII digit"),
    case(event(value="1e20"), "invalid_value", "invalid_value: |value| = 1e20 as a string"),
    case(event(value=Raw("1e20")), "invalid_value", "invalid_value: |value| = 1e20 as a number"),
    case(event(value="100000000000000000000"), "invalid_value", "invalid_value: 10^20 written out"),
    case(
        event(value=Raw("-1e20")),
        "invalid_value",
        "invalid_value: -1e20 is out of range before it is negative",
    ),
    case(
        event(value=Raw("1e400")),
        "invalid_value",
        "invalid_value: 1e400 is out of range, not infinity",
    ),
    case(
        event(value="99999999999999999999.999999999"),
        ok(value=D("99999999999999999999.999999999")),
        "value range: 99999999999999999999.999999999 is in range and exact",
    ),
    case(
        event(meter="credit_adjustment", value="-99999999999999999999.999999999"),
        ok(value=D("-99999999999999999999.999999999")),
        "value range: the most negative value on an allow_negative meter",
    ),
]

NEGATIVE_VALUE = [
    case(event(value="-1"), "negative_value", "negative_value: -1 on a sum meter"),
    case(
        event(value="-0.0000000001"),
        "negative_value",
        "negative_value: checked on the exact value, before rounding to 0",
    ),
    case(event(value=Raw("-0.5e1")), "negative_value", "negative_value: a negative number token"),
    case(event(meter="storage_gb", value="-2"), "negative_value", "negative_value: on a max meter"),
    case(event(value="-0"), ok(value=D("0")), "negative_value: -0 is not negative"),
    case(
        event(meter="credit_adjustment", value="-1.25"),
        ok(value=D("-1.25")),
        "negative_value: allow_negative meter keeps -1.25",
    ),
]

MISSING_DIMENSION = [
    case(
        event(meter="llm_tokens"),
        "missing_dimension",
        "missing_dimension: required dimension absent (no dimensions)",
    ),
    case(
        event(meter="llm_tokens", dimensions={}),
        "missing_dimension",
        "missing_dimension: required dimension absent (empty object)",
    ),
    case(
        event(meter="llm_tokens", dimensions={"model": ""}),
        "missing_dimension",
        "missing_dimension: required dimension empty string",
    ),
    case(
        event(meter="llm_tokens", dimensions={"Model": "m"}),
        "missing_dimension",
        "missing_dimension: dimension names are case-sensitive",
    ),
    case(
        event(meter="llm_tokens", dimensions={"model": "gpt"}),
        ok(dimensions={"model": "gpt"}),
        "missing_dimension: required dimension present",
    ),
    case(
        event(meter="active_users", value=OMIT),
        "missing_dimension",
        "missing_dimension: a unique_count meter requires its unique_dimension",
    ),
    case(
        event(meter="active_users", value=OMIT, dimensions={"user_id": ""}),
        "missing_dimension",
        "missing_dimension: unique_dimension empty string",
    ),
    case(
        event(meter="active_users", value=OMIT, dimensions={"user_id": Raw("42")}),
        ok(dimensions={"user_id": "42"}, value=None),
        "missing_dimension: unique_dimension given as a number",
    ),
]

TOO_OLD_AND_FUTURE = [
    case(
        event(timestamp="2026-07-27T12:00:00Z"),
        "too_old",
        "too_old: 36 days before the landing date",
    ),
    case(
        event(timestamp="2026-09-02T06:00:00Z"),
        "future_timestamp",
        "future_timestamp: five hours past the landing day's end + 1h",
    ),
]

FIRST_REASON_WINS = [
    case(
        event(customer_id=OMIT, meter="nope", timestamp="bad"),
        "missing_field",
        "first wins: missing customer_id before unknown meter and bad timestamp",
    ),
    case(
        event(uniqueId="e2", meter=OMIT),
        "missing_field",
        "first wins: a missing meter before event_id under both names",
    ),
    case(
        event(event_id=LONG, dimensions={"k": None}),
        "invalid_type",
        "first wins: a null dimension before a too-long event_id",
    ),
    case(
        event(customer_id=LONG, value=False),
        "invalid_type",
        "first wins: a boolean value on a sum meter before a too-long customer_id",
    ),
    case(
        event(meter="nope", timestamp="yesterday"),
        "unknown_meter",
        "first wins: unknown meter before invalid timestamp",
    ),
    case(
        event(value=OMIT, timestamp="yesterday"),
        "missing_field",
        "first wins: missing value before invalid timestamp",
    ),
    case(
        event(timestamp="yesterday", value="NaN"),
        "invalid_timestamp",
        "first wins: invalid timestamp before invalid value",
    ),
    case(
        event(timestamp="2026-07-01T00:00:00Z", value="NaN"),
        "too_old",
        "first wins: too old before invalid value",
    ),
    case(
        event(timestamp="2026-09-03T00:00:00Z", value="-1"),
        "future_timestamp",
        "first wins: future before negative value",
    ),
    case(
        event(meter="llm_tokens", value="abc"),
        "invalid_value",
        "first wins: invalid value before missing dimension",
    ),
    case(
        event(meter="llm_tokens", value="-1"),
        "negative_value",
        "first wins: negative value before missing dimension",
    ),
]

ALL_CASES = (
    MALFORMED
    + MISSING_FIELD
    + INVALID_TYPE
    + DIMENSION_TEXT
    + FIELD_TOO_LONG
    + UNKNOWN_METER
    + TIMESTAMPS
    + INVALID_VALUE
    + NEGATIVE_VALUE
    + MISSING_DIMENSION
    + TOO_OLD_AND_FUTURE
    + FIRST_REASON_WINS
)


def _text(line) -> str:
    return line if isinstance(line, str) else to_json(line)


@pytest.mark.parametrize("line, expected", ALL_CASES)
def test_a_row_goes_where_spec_says(tmp_path, line, expected):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [line])
    tables = root.ingest()

    source = root.rel("a.jsonl")
    if isinstance(expected, str):
        assert reasons(tables) == [(source, 1, expected)]
        assert counts(tables) == (1, 1, 0, 0)
        quarantined = tables.quarantined_events.row(0, named=True)
        assert quarantined["detail"]
        if not isinstance(line, bytes):
            assert quarantined["raw_record"] == _text(line)
        assert audit_row(tables)[f"quarantined_{expected}"] == 1
    else:
        assert reasons(tables) == []
        assert counts(tables) == (1, 0, 0, 1)
        (row,) = clean_rows(tables)
        for column, value in expected.items():
            assert row[column] == value, column
    raw = tables.raw_events.row(0, named=True)
    assert (raw["source_file"], raw["line_number"]) == (source, 1)
    if not isinstance(line, bytes):
        assert raw["raw_record"] == _text(line)


def test_invalid_utf8_line_keeps_a_raw_record(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", [b'{"event_id":"e\xff1"}', event("e2")])
    tables = root.ingest()
    assert reasons(tables) == [(root.rel("a.jsonl"), 1, "malformed")]
    assert tables.raw_events.height == 2
    assert tables.raw_events["raw_record"][0].startswith('{"event_id":"e')
    assert [r["event_id"] for r in clean_rows(tables)] == ["e2"]


def test_an_accepted_row_carries_every_field(tmp_path):
    root = DataRoot.create(tmp_path)
    root.write_jsonl(
        "a.jsonl",
        [
            event(
                "e1",
                customer_id="acme",
                meter="llm_tokens",
                timestamp="2026-09-01T14:30:00.250+02:00",
                value=Raw("12.5"),
                dimensions={"model": "gpt", "n": 2},
            )
        ],
    )
    tables = root.ingest()
    (row,) = clean_rows(tables)
    assert row["event_id"] == "e1"
    assert row["customer_id"] == "acme"
    assert row["meter"] == "llm_tokens"
    assert row["event_time"] == utc(2026, 9, 1, 12, 30, 0, 250000)
    assert row["value"] == D("12.5")
    assert row["dimensions"] == {"model": "gpt", "n": "2"}
    assert row["landing_date"].isoformat() == "2026-09-01"
    assert row["billing_period"] == "2026-09"
    assert row["late"] is False
    assert row["source_file"] == root.rel("a.jsonl")
    assert row["line_number"] == 1


def test_audit_counts_each_reason_once_per_row(tmp_path):
    quarantining = [p for p in ALL_CASES if isinstance(p.values[1], str)]
    accepted = [p for p in ALL_CASES if not isinstance(p.values[1], str)]
    # Rewrite each case with a distinct event_id so that the accepted ones are not duplicates.
    lines = []
    for n, param in enumerate(quarantining + accepted):
        line = param.values[0]
        if (
            isinstance(line, dict)
            and type(line.get("event_id")) is str
            and len(line["event_id"]) < 200
        ):
            line = {**line, "event_id": f"{line['event_id']}-{n}"}
        elif (
            isinstance(line, dict)
            and "uniqueId" in line
            and line.get("event_id") is None
            and type(line["uniqueId"]) is str
        ):
            line = {**line, "uniqueId": f"{line['uniqueId']}-{n}"}
        lines.append(line)
    root = DataRoot.create(tmp_path)
    root.write_jsonl("a.jsonl", lines)
    tables = root.ingest()

    expected = Counter(p.values[1] for p in quarantining)
    row = audit_row(tables)
    for reason in (
        "malformed",
        "missing_field",
        "invalid_type",
        "field_too_long",
        "unknown_meter",
        "invalid_timestamp",
        "too_old",
        "future_timestamp",
        "invalid_value",
        "negative_value",
        "missing_dimension",
    ):
        assert row[f"quarantined_{reason}"] == expected[reason], reason
    assert row["rows_read"] == len(lines)
    assert row["rows_quarantined"] == len(quarantining)
    assert (row["rows_accepted"], row["rows_duplicate"]) == (len(accepted), 0)
