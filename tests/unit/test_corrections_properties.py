"""Properties of corrections (SPEC §15): the order corrections come in does not change the
effective events, and a void plus the same event re-sent under a new id bills what the original
did."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_pipeline.billing.effective import effective_events
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from tests.helpers.billing import METERS, charge, event, events_frame, plan, pricing, sub, tiers

NOV = "2026-11"
SCHEMA = {
    "landing_date": pl.Date,
    "source_file": pl.String,
    "line_number": pl.Int64,
    "event_id": pl.String,
    "event_landing_date": pl.Date,
    "action": pl.String,
    "value": pl.Decimal(38, 9),
    "dimensions": pl.List(pl.Struct({"key": pl.String, "value": pl.String})),
}


def _book():
    return pricing(
        plan(
            "p",
            charge(
                "tokens",
                "llm_tokens",
                "graduated",
                tiers=tiers(("10", "1", "0"), (None, "0.5", "0")),
            ),
            charge("calls", "api_calls", "per_unit", unit_price="0.25", free_units="2"),
        )
    )


EVENTS = [
    event(
        "acme", "llm_tokens", f"2026-11-{d:02d}", str(v), {"model": "m"}, landing=f"2026-11-{d:02d}"
    )
    for d, v in ((2, 4), (3, 7), (4, 9), (5, 1))
] + [event("acme", "api_calls", f"2026-11-{d:02d}", landing=f"2026-11-{d:02d}") for d in (2, 3, 6)]


@st.composite
def corrections(draw):
    rows = []
    for number in range(draw(st.integers(0, 8))):
        target = draw(st.sampled_from(EVENTS))
        action = draw(st.sampled_from(["void", "amend", "amend"]))
        value = None
        if action == "amend" and target["meter"] == "llm_tokens":
            value = Decimal(draw(st.integers(0, 30)))
        rows.append(
            {
                "landing_date": dt.date(2026, 11, 10) + dt.timedelta(days=draw(st.integers(0, 3))),
                "source_file": "landing/corrections/x.jsonl",
                "line_number": number + 1,
                "event_id": target["event_id"],
                "event_landing_date": target["landing_date"],
                "action": action,
                "value": value,
                "dimensions": None,
            }
        )
    return rows


@settings(deadline=None, max_examples=40)
@given(corrections(), st.randoms(use_true_random=False))
def test_the_order_corrections_are_read_in_does_not_change_the_effective_events(rows, rnd):
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    events = events_frame(EVENTS)
    one = effective_events(events, pl.DataFrame(rows, schema=SCHEMA)).collect()
    two = effective_events(events, pl.DataFrame(shuffled, schema=SCHEMA)).collect()
    assert one.equals(two)


def _total(frame: pl.DataFrame) -> Decimal:
    lines = build_invoice_lines(NOV, frame, _book(), [sub("acme", "p", "2026-01-01")], METERS)
    return sum(lines["amount"].to_list(), Decimal(0))


@settings(deadline=None, max_examples=30)
@given(st.sampled_from(EVENTS))
def test_a_void_then_the_same_event_resent_under_a_new_id_gives_the_original_total(target):
    original = events_frame(EVENTS)
    void = pl.DataFrame(
        [
            {
                "landing_date": dt.date(2026, 11, 10),
                "source_file": "landing/corrections/x.jsonl",
                "line_number": 1,
                "event_id": target["event_id"],
                "event_landing_date": target["landing_date"],
                "action": "void",
                "value": None,
                "dimensions": None,
            }
        ],
        schema=SCHEMA,
    )
    resent = {**target, "event_id": target["event_id"] + "-again", "line_number": 999}
    corrected = pl.concat([effective_events(original, void).collect(), events_frame([resent])])
    assert _total(corrected) == _total(original)
