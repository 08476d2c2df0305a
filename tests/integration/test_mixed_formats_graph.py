"""A landing day mixing native, Amberflo, CloudEvents and Stripe lines, through the Dagster graph:
each form maps onto the same clean-event columns, and the day's rows are conserved."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import dagster as dg
import polars as pl

from meter_pipeline.assets.ingestion import daily_usage, ingest_landing_day
from meter_pipeline.resources import DataRoot

METERS = """\
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
  - {name: api_calls, aggregation: count, dimension_properties: {zone: $.zone}}
  - {name: llm_tokens, aggregation: sum, required_dimensions: [model],
     value_property: $.usage.tokens, dimension_properties: {model: "$['model']"}}
"""
DAY = "2026-09-01"
LINES = [
    {
        "event_id": "n1",
        "customer_id": "acme",
        "meter": "api_calls",
        "timestamp": f"{DAY}T01:00:00Z",
    },
    {
        "uniqueId": "a1",
        "customerId": "acme",
        "meterApiName": "llm_tokens",
        "meterTimeInMillis": 1788238800000,
        "meterValue": "2.5",
        "dimensions": {"model": "small"},
    },
    {
        "specversion": "1.0",
        "id": "c1",
        "source": "//llm",
        "type": "llm_tokens",
        "subject": "acme",
        "time": f"{DAY}T03:00:00+02:00",
        "data": {"usage": {"tokens": 12.25}, "model": "large"},
    },
    {
        "specversion": "1.0",
        "id": "c2",
        "source": "//api",
        "type": "api_calls",
        "subject": "beta",
        "time": f"{DAY}T04:00:00Z",
        "data": {"zone": "eu"},
    },
    {
        "identifier": "s1",
        "event_name": "llm_tokens",
        "timestamp": 1788238800,
        "payload": {"stripe_customer_id": "beta", "value": "7", "model": "small"},
    },
    {
        "specversion": "0.3",
        "id": "c3",
        "type": "api_calls",
        "subject": "acme",
        "time": f"{DAY}T05:00:00Z",
    },
    {
        "identifier": "s2",
        "event_name": "llm_tokens",
        "timestamp": 1788238800.5,
        "payload": {"stripe_customer_id": "beta", "value": "1", "model": "small"},
    },
    {
        "specversion": "1.0",
        "id": "n1",
        "type": "api_calls",
        "subject": "acme",
        "time": f"{DAY}T01:00:00Z",
    },
]


def test_a_mixed_day_maps_every_form_and_conserves_its_rows(tmp_path):
    root = tmp_path / "root"
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "meters.yaml").write_text(METERS)
    folder = root / "landing" / "events" / DAY
    folder.mkdir(parents=True)
    (folder / "mixed.jsonl").write_text("\n".join(json.dumps(x) for x in LINES) + "\n")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [ingest_landing_day, daily_usage],
            partition_key=DAY,
            instance=instance,
            resources={"data_root": DataRoot(root=str(root))},
        )
    assert result.success

    def read(name):
        return pl.read_parquet(root / "warehouse" / name / f"landing_date={DAY}" / "*.parquet")

    clean = read("clean_events").sort("event_id")
    got = [
        (
            r["event_id"],
            r["customer_id"],
            r["meter"],
            r["event_time"],
            r["value"],
            {d["key"]: d["value"] for d in r["dimensions"]},
            r["source"],
        )
        for r in clean.iter_rows(named=True)
    ]
    utc = dt.UTC  # 1788238800 s after the epoch = 2026-09-01T05:00Z
    assert got == [
        (
            "a1",
            "acme",
            "llm_tokens",
            dt.datetime(2026, 9, 1, 5, tzinfo=utc),
            Decimal("2.5"),
            {"model": "small"},
            None,
        ),
        (
            "c1",
            "acme",
            "llm_tokens",
            dt.datetime(2026, 9, 1, 1, tzinfo=utc),
            Decimal("12.25"),
            {"model": "large"},
            "//llm",
        ),
        (
            "c2",
            "beta",
            "api_calls",
            dt.datetime(2026, 9, 1, 4, tzinfo=utc),
            None,
            {"zone": "eu"},
            "//api",
        ),
        ("n1", "acme", "api_calls", dt.datetime(2026, 9, 1, 1, tzinfo=utc), None, {}, None),
        (
            "s1",
            "beta",
            "llm_tokens",
            dt.datetime(2026, 9, 1, 5, tzinfo=utc),
            Decimal("7"),
            {"model": "small"},
            None,
        ),
    ]
    quarantined = read("quarantined_events").sort("line_number")
    assert list(zip(quarantined["line_number"], quarantined["reason"], strict=True)) == [
        (6, "malformed"),  # specversion must be "1.0"
        (7, "invalid_type"),  # a Stripe timestamp that is a float
    ]
    duplicates = read("duplicate_events")
    assert duplicates["event_id"].to_list() == ["n1"] and duplicates["conflict"].to_list() == [
        False
    ]
    audit = read("ingestion_audit").row(0, named=True)
    assert (
        audit["rows_read"],
        audit["rows_quarantined"],
        audit["rows_duplicate"],
        audit["rows_accepted"],
    ) == (8, 2, 1, 5)
