"""Invoice-line lineage and the period trace (SPEC §14, §17 "Lineage and trace"), by hand."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_pipeline.billing.close import close_month
from meter_pipeline.billing.lineage import EMPTY_SHA256, digest
from meter_pipeline.billing.trace import trace_unbalanced
from meter_pipeline.config.pricing import BillingRules
from meter_pipeline.config.reference import Reference
from tests.helpers.billing import METERS, charge, event, events_frame, plan, pricing, sub

NOV = "2026-11"


def _reference(book, subs, late_events="next_open_period") -> Reference:
    return Reference(METERS, BillingRules(3, late_events), book, tuple(subs))


def _close(rows, book, subs, late_events="next_open_period", by_day=True):
    frame = events_frame(rows)
    days = (
        [frame.filter(pl.col("landing_date") == d) for d in frame["landing_date"].unique().sort()]
        if by_day
        else [frame]
    )
    ref = _reference(book, subs, late_events)
    return close_month(NOV, days, pl.DataFrame(), pl.DataFrame(), ref)


def _sha(*ids: str) -> str:
    return hashlib.sha256("".join(f"{i}\n" for i in ids).encode()).hexdigest()


def _book():
    return pricing(
        plan(
            "p",
            charge("calls", "api_calls", "per_unit", unit_price="0.5"),
            charge("calls_eu", "api_calls", "per_unit", unit_price="1", filter={"region": "eu"}),
            charge("seats", "seats", "per_unit", unit_price="10"),
            fees={"cloud": "100"},
        )
    )


def _rows():
    a1 = event("acme", "api_calls", "2026-11-02", dims={"region": "eu"})
    a2 = event("acme", "api_calls", "2026-11-03", dims={"region": "us"})
    s1 = event("acme", "seats", "2026-11-04", "3")
    s2 = event("acme", "seats", "2026-11-05", "5")
    tokens = event("acme", "llm_tokens", "2026-11-05", "7", {"model": "x"})  # no charge: not priced
    stray = event("nobody", "api_calls", "2026-11-06")  # no subscription: unbilled
    return [a1, a2, s1, s2, tokens, stray]


def test_each_usage_line_lists_its_events_and_an_event_feeding_two_lines_is_listed_twice():
    rows = _rows()
    closed = _close(rows, _book(), [sub("acme", "p", "2026-11-01")])
    lines = closed.invoice_lines.sort("line_no")
    # line 1 platform fee; 2 calls (a1, a2); 3 calls_eu (a1 only); 4 seats (s1, s2, latest too)
    assert lines["kind"].to_list() == ["platform_fee", "usage", "usage", "usage"]
    assert lines["event_count"].to_list() == [0, 2, 1, 2]
    a1, a2, s1, s2 = (r["event_id"] for r in rows[:4])
    assert lines["events_sha256"].to_list() == [
        None,
        _sha(*sorted([a1, a2])),
        _sha(a1),
        _sha(*sorted([s1, s2])),
    ]
    lineage = closed.lineage_frame()
    assert sorted(lineage.select("line_no", "event_id").rows()) == sorted(
        [(2, a1), (2, a2), (3, a1), (4, s1), (4, s2)]
    )
    seats = lineage.filter(pl.col("line_no") == 4).sort("event_id")["value"].cast(pl.String)
    assert sorted(seats.to_list()) == ["3.000000000", "5.000000000"]
    assert lineage.filter(pl.col("line_no") == 2)["value"].null_count() == 2  # count meter


def test_trace_counts_billed_unbilled_and_not_priced_and_balances():
    closed = _close(_rows(), _book(), [sub("acme", "p", "2026-11-01")])
    # 6 events: a1, a2, s1, s2 billed (a1 once though on two lines); tokens not priced;
    # the unsubscribed customer's event unbilled.
    assert closed.period_trace.row(0, named=True) == {
        "billing_period": NOV,
        "events": 6,
        "events_billed": 4,
        "events_unbilled": 1,
        "events_not_priced": 1,
    }
    assert trace_unbalanced(closed.period_trace) == []


def test_a_line_over_no_events_hashes_the_empty_input():
    closed = _close([], _book(), [sub("acme", "p", "2026-11-01")])
    usage = closed.invoice_lines.filter(pl.col("kind") == "usage")
    assert usage["events_sha256"].to_list() == [EMPTY_SHA256] * 3
    assert EMPTY_SHA256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert closed.lineage_frame().is_empty()
    assert closed.period_trace["events"].to_list() == [0]


def test_late_ignored_events_are_in_the_trace_as_unbilled():
    late = event("acme", "api_calls", "2026-10-20", period=None, late=True, landing="2026-11-10")
    closed = _close([late], _book(), [sub("acme", "p", "2026-10-01")], late_events="ignore")
    trace = closed.period_trace.row(0, named=True)
    assert (trace["events"], trace["events_unbilled"], trace["events_billed"]) == (1, 1, 0)


def test_trace_unbalanced_names_the_period():
    bad = pl.DataFrame(
        {
            "billing_period": [NOV],
            "events": [3],
            "events_billed": [1],
            "events_unbilled": [1],
            "events_not_priced": [0],
        }
    )
    assert trace_unbalanced(bad) == [NOV]


@pytest.mark.parametrize(
    "ids",
    [
        ["b", "a"],
        ["é", "z", "Z"],  # UTF-8 bytes: "Z" < "z" < "é"
        ["😀", "ÿ", "a b", "ab"],
    ],
)
def test_digest_sorts_ids_by_their_utf8_bytes(ids):
    expected = _sha(*sorted(ids, key=lambda i: i.encode("utf-8")))
    assert digest(ids) == expected


@settings(deadline=None, max_examples=30)
@given(
    st.lists(
        st.tuples(st.sampled_from(["acme", "beta"]), st.integers(1, 28), st.sampled_from("eu")),
        max_size=25,
    )
)
def test_lineage_and_digests_do_not_depend_on_how_days_are_chunked(specs):
    rows = [
        event(c, "api_calls", f"2026-11-{d:02d}", dims={"region": "eu" if r == "e" else "us"})
        for c, d, r in specs
    ]
    book, subs = _book(), [sub("acme", "p", "2026-11-01"), sub("beta", "p", "2026-11-10")]
    by_day, whole = _close(rows, book, subs), _close(rows, book, subs, by_day=False)
    assert by_day.invoice_lines.equals(whole.invoice_lines)
    order = ["invoice_id", "line_no", "event_id"]
    assert by_day.lineage_frame().sort(order).equals(whole.lineage_frame().sort(order))
    assert by_day.period_trace.equals(whole.period_trace)
    assert trace_unbalanced(by_day.period_trace) == []
    usage = by_day.invoice_lines.filter(pl.col("kind") == "usage")
    assert usage["event_count"].sum() == by_day.lineage_frame().height
