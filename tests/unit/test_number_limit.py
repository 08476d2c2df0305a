"""``limits.max_number_chars`` (meters.yaml): a value or integer timestamp token longer than the
limit makes its row ``invalid_value`` / ``invalid_timestamp`` with a detail naming the limit, in
both validation paths (the vectorised fast path and the per-line validator), never a crash."""

import dataclasses
import datetime as dt
import json

import pytest

import meter_pipeline.ingestion.parse as parse
from meter_pipeline.config.meters import parse_meters
from meter_pipeline.ingestion.validate import context_for
from meter_pipeline.io.csvfile import read_csv
from meter_pipeline.io.landing import jsonl_lines
from meter_pipeline.io.records import LandingFile
from tests.helpers.ingestion import parse_day

DAY = dt.date(2026, 9, 10)
METERS = parse_meters(
    {
        "meters": [{"name": "tokens", "aggregation": "sum"}],
        "limits": {"max_number_chars": 13},
    }
)
CTX = context_for(METERS, DAY)
MS = 1_789_041_600_000  # 2026-09-10T12:00:00Z: 13 digits, at the limit

LINES = {
    "ok_at_limit": {"timestamp": MS, "value": "1234567890.12"},  # 13 characters each
    "long_value": {"timestamp": MS, "value": "1234567890.123"},  # 14: over
    "long_value_number": {"timestamp": MS, "value": 12345678901.25},  # 14 as a JSON number
    "long_stamp": {"timestamp": 10 * MS, "value": "1"},  # 14 digits (else future_timestamp)
    "huge_stamp": {"timestamp": "9" * 5000, "value": "1"},  # past int()'s 4,300 digits
    "huge_value": {"timestamp": MS, "value": "1" * 100_000},
}
EXPECTED = {
    "long_value": "invalid_value",
    "long_value_number": "invalid_value",
    "long_stamp": "invalid_timestamp",
    "huge_stamp": "invalid_timestamp",
    "huge_value": "invalid_value",
}


def _line(event_id: str, fields: dict) -> str:
    value = fields["value"]
    value_json = json.dumps(value) if isinstance(value, str) else repr(value)
    return (
        f'{{"event_id": "{event_id}", "customer_id": "c1", "meter": "tokens", '
        f'"timestamp": {fields["timestamp"]}, "value": {value_json}}}'
    )


@pytest.mark.parametrize("threshold", [0, 10**9], ids=["fast path", "per-line path"])
def test_a_number_token_over_the_limit_is_its_documented_reason(monkeypatch, threshold):
    monkeypatch.setattr(parse, "FAST_MIN_LINES", threshold)
    # many plain lines so the fast path really runs over a batch
    lines = [_line(f"p{i}", {"timestamp": MS, "value": "1.5"}) for i in range(600)]
    lines += [_line(name, fields) for name, fields in LINES.items()]
    info = LandingFile("landing/events/2026-09-10/a.jsonl", 0, "")
    day = parse_day([(info, jsonl_lines("\n".join(lines).encode()))], CTX, DAY)
    names = {600 + n: name for n, name in enumerate(LINES, start=1)}
    rows = day.quarantined.select("line_number", "reason", "detail").iter_rows()
    reasons = {names[line]: reason for line, reason, _ in rows}
    assert reasons == EXPECTED
    details = {
        names[line]: d
        for line, _, d in day.quarantined.select("line_number", "reason", "detail").iter_rows()
    }
    assert all("max_number_chars = 13" in details[name] for name in EXPECTED)
    assert len(details["huge_value"]) < 300, "the detail never carries the whole token"
    assert set(day.valid["event_id"]) == {f"p{i}" for i in range(600)} | {"ok_at_limit"}


def test_the_default_limit_is_100_and_a_csv_cell_is_checked_too():
    ctx = context_for(parse_meters({"meters": [{"name": "tokens", "aggregation": "sum"}]}), DAY)
    assert ctx.max_number_chars == 100
    ctx = dataclasses.replace(ctx, max_number_chars=13)
    text = (
        "event_id,customer_id,meter,timestamp,value\n"
        f"e1,c1,tokens,{10 * MS},1\ne2,c1,tokens,{MS},1234567890.123\ne3,c1,tokens,{MS},2\n"
    )
    info = LandingFile("landing/events/2026-09-10/a.csv", 0, "")
    day = parse_day([(info, list(read_csv(text.encode())))], ctx, DAY)
    assert dict(day.quarantined.select("line_number", "reason").iter_rows()) == {
        1: "invalid_timestamp",
        2: "invalid_value",
    }
    assert day.valid["event_id"].to_list() == ["e3"]
