"""The demo's CloudEvents landing day and its usage/cost alerts, checked against the demo's own
files and tables by a second, simple computation."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from meter_pipeline.demo_data import CLOUDEVENTS_DAY
from tests.helpers import copy_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root(demo_folder, tmp_path_factory):
    return copy_demo(demo_folder, tmp_path_factory.mktemp("alerts") / "demo")


def table(root, name: str) -> pl.DataFrame:
    return pl.read_parquet(root / "warehouse" / name / "*" / "*.parquet", hive_partitioning=True)


def test_the_cloudevents_day_loads_every_line_of_its_file(root):
    folder = root / "landing" / "events" / CLOUDEVENTS_DAY.isoformat()
    lines = [json.loads(x) for x in (folder / "openmeter-cloudevents.jsonl").read_text().split()]
    assert all(line["specversion"] == "1.0" for line in lines)
    clean = table(root, "clean_events").filter(pl.col("source").is_not_null())
    # every CloudEvents line of the day is a valid event: first copies are clean, others dups
    dups = table(root, "duplicate_events").filter(
        pl.col("source_file").str.ends_with("openmeter-cloudevents.jsonl")
    )
    assert clean.height + dups.height == len(lines)
    assert set(clean["source"]) == {"//collector.demo.example/openmeter"}
    by_id = {line["id"]: line for line in lines}
    for event in clean.iter_rows(named=True):
        line = by_id[event["event_id"]]
        assert (event["customer_id"], event["meter"]) == (line["subject"], line["type"])
        value = line["data"].get("value")
        assert event["value"] == (None if value is None else Decimal(str(value)))


def test_usage_alerts_fire_on_the_day_the_running_total_first_reaches_the_threshold(root):
    """cust_015's agent conversations: distinct conversation ids of September's clean events,
    counted cumulatively by landing day, first reach 50 on the day the alert names."""
    events = table(root, "clean_events").filter(
        (pl.col("customer_id") == "cust_015")
        & (pl.col("meter") == "agent_conversations")
        & (pl.col("billing_period") == "2026-09")
    )
    seen: set[str] = set()
    crossed = None
    for day in sorted(events["landing_date"].unique()):
        for dims in events.filter(pl.col("landing_date") == day)["dimensions"]:
            seen.update(d["value"] for d in dims if d["key"] == "conversation_id")
        if len(seen) >= 50:
            crossed = (day, len(seen))
            break
    alerts = table(root, "usage_alerts").filter(
        (pl.col("customer_id") == "cust_015") & (pl.col("billing_period") == "2026-09")
    )
    assert alerts.height == 1
    row = alerts.row(0, named=True)
    assert (row["landing_date"], int(row["value"])) == crossed
    assert crossed[0] <= dt.date(2026, 10, 3)
