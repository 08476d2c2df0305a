"""Aggregating a month a chunk (landing day) at a time gives exactly what one aggregation over
all its events gives, and both agree with a plain-Python reference of SPEC §4."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest.mock import patch

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_pipeline.billing import usage_fold as usage
from meter_pipeline.billing.close import close_month
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.period_usage import split_period_events
from meter_pipeline.billing.usage_fold import UsageFold, aggregate_usage
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.config.reference import Reference
from tests.helpers.billing import (
    METERS,
    build_period_usage,
    build_unbilled_usage,
    charge,
    events_frame,
    plan,
    pricing,
    sub,
    tiers,
)

UTC = dt.UTC
NOV = "2026-11"
KINDS = {name: m.aggregation for name, m in METERS.meters.items()}


@st.composite
def months(draw):
    """Events of November 2026 (some late, landing in early December, some of those ignored) on
    every kind of meter, with many ties on event time, in landing-day chunks."""
    n = draw(st.integers(0, 60))
    rows = []
    for i in range(n):
        meter = draw(st.sampled_from(sorted(METERS.meters)))
        minute = draw(st.integers(0, 3))  # few distinct times: ties are common
        day = draw(st.integers(1, 30))
        time = dt.datetime(2026, 11, day, 12, minute, tzinfo=UTC)
        landing = time.date() + dt.timedelta(days=draw(st.integers(0, 4)))
        value = None
        if KINDS[meter] not in ("count", "unique_count"):
            value = Decimal(draw(st.integers(-(10**6), 10**12))).scaleb(-draw(st.integers(0, 9)))
        dims = [{"key": "model", "value": draw(st.sampled_from("ab"))}]
        user = draw(st.sampled_from(["u1", "u2", "u3", None]))
        if user is not None:
            dims.append({"key": "user_id", "value": user})
        late = landing.month == 12
        ignored = late and draw(st.booleans())  # late_events: ignore leaves it unbilled
        rows.append(
            {
                "event_id": f"e{i}",
                "customer_id": draw(st.sampled_from(["acme", "beta", "ghost"])),
                "meter": meter,
                "event_time": time,
                "value": value,
                "dimensions": dims,
                "landing_date": landing,
                "billing_period": None if ignored else NOV,
                "late": late,
                "source_file": draw(st.sampled_from(["landing/a.jsonl", "landing/b.jsonl"])),
                "line_number": draw(st.integers(1, 5)) * 1000 + i,
            }
        )
    frame = events_frame(rows)
    days = sorted(frame["landing_date"].unique().to_list())
    cut = draw(st.lists(st.sampled_from(days), unique=True)) if days else []
    chunks, start = [], None
    for day in sorted(cut) + [None]:  # chunks of consecutive landing days
        mask = pl.lit(True)
        if start is not None:
            mask = mask & (pl.col("landing_date") >= start)
        if day is not None:
            mask = mask & (pl.col("landing_date") < day)
        chunks.append(frame.filter(mask))
        start = day
    return rows, frame, chunks


def reference(rows) -> list[tuple]:
    """SPEC §4 in plain Python: (customer_id, meter, event_count, quantity), sorted."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["customer_id"], row["meter"]), []).append(row)
    out = []
    for (customer, meter), events in sorted(groups.items()):
        kind = KINDS[meter]
        if kind == "count":
            quantity = Decimal(len(events))
        elif kind == "sum":
            quantity = sum((e["value"] for e in events), Decimal(0))
        elif kind == "max":
            quantity = max(e["value"] for e in events)
        elif kind == "latest":
            last = max(
                events,
                key=lambda e: (
                    e["event_time"],
                    e["landing_date"],
                    e["source_file"],
                    e["line_number"],
                ),
            )
            quantity = last["value"]
        else:
            quantity = Decimal(
                len({d["value"] for e in events for d in e["dimensions"] if d["key"] == "user_id"})
            )
        out.append((customer, meter, len(events), quantity))
    return out


@pytest.mark.slow  # ~8 s: 150 random months, each folded twice and whole
@settings(max_examples=150, deadline=None)
@given(months())
def test_chunked_usage_equals_whole_and_the_reference(month):
    rows, frame, chunks = month  # aggregation does not look at billing_period
    whole = aggregate_usage(frame, METERS.meters, ["customer_id", "meter"]).collect()
    for merge_rows in (usage.MERGE_ROWS, 0):  # partials merged at the end, or after each chunk
        with patch.object(usage, "MERGE_ROWS", merge_rows):
            fold = UsageFold(METERS.meters, ["customer_id", "meter"])
            for chunk in chunks:
                fold.add(chunk)
            assert fold.result().equals(whole)
    assert [(c, m, n, q) for c, m, n, q in whole.rows()] == reference(rows)
    assert build_period_usage(chunks, METERS, NOV).equals(build_period_usage(frame, METERS, NOV))


@pytest.mark.slow  # ~6 s: 60 random months through period usage and invoice lines
@settings(max_examples=60, deadline=None)
@given(months())
def test_period_tables_and_invoice_lines_do_not_depend_on_chunking(month):
    _, frame, chunks = month
    subs = [
        sub("acme", "p", "2026-01-01", "2026-11-15"),
        sub("acme", "q", "2026-11-16"),
        sub("beta", "p", "2026-11-10"),
    ]
    config = pricing(
        plan(
            "p",
            charge("calls", "api_calls", "per_unit", unit_price="0.5"),
            charge(
                "tok_a",
                "llm_tokens",
                "graduated",
                filter={"model": "a"},
                tiers=tiers(("100", "0.01", "0"), (None, "0.001", "0")),
            ),
            charge("seats", "seats", "per_unit", unit_price="3"),
            charge("users", "active_users", "per_unit", unit_price="7"),
            fees={"api": "10"},
        ),
        plan("q", charge("peak", "storage_gb", "per_unit", unit_price="0.25"), minimum="50"),
    )
    # The close folds period_usage and unbilled_usage from its one read of each landing day.
    ref = Reference(METERS, BillingRules(3, "next_open_period"), config, tuple(subs))
    closed = close_month(NOV, chunks, pl.DataFrame(), pl.DataFrame(), ref)
    billed, ignored = split_period_events(frame, NOV, 3)
    assert closed.period_usage.equals(build_period_usage(billed, METERS, NOV))
    assert closed.unbilled_usage.equals(build_unbilled_usage(billed, ignored, subs, METERS, NOV))
    lines = build_invoice_lines(NOV, chunks, config, subs, METERS)
    assert lines.equals(build_invoice_lines(NOV, frame, config, subs, METERS))


def test_a_fold_without_any_chunk_refuses_to_answer():
    with pytest.raises(ValueError, match="before any chunk"):
        UsageFold(METERS.meters, ["customer_id", "meter"]).result()


def test_a_period_without_any_landing_day_has_empty_tables():
    ref = Reference(METERS, BillingRules(3, "next_open_period"), pricing(plan("p")), ())
    closed = close_month(NOV, [], pl.DataFrame(), pl.DataFrame(), ref)
    usage, unbilled = closed.period_usage, closed.unbilled_usage
    assert usage.is_empty() and unbilled.is_empty()
    assert usage.columns[:3] == ["billing_period", "customer_id", "meter"]
    assert build_invoice_lines(NOV, [], pricing(plan("p")), [], METERS).is_empty()
