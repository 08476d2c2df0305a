"""Adjustments of closed periods (SPEC §15, §17 "Corrections"), worked by hand."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from meter_pipeline.billing.adjustments import EarnedPeriod, adjustment_lines, append_adjustments
from meter_pipeline.billing.invoice_lines import LINE_SCHEMA, build_invoice_lines
from meter_pipeline.billing.invoices import summarize_invoices
from tests.helpers.billing import METERS, charge, event, events_frame, plan, pricing, sub

D = Decimal
SEP, OCT = "2026-09", "2026-10"
BOOK = pricing(
    plan(
        "p",
        charge("seats", "seats", "per_unit", unit_price="12.5"),
        charge("calls", "api_calls", "per_unit", unit_price="0.25"),
        fees={"cloud": "300"},
        minimum="400",
    )
)


def lines_of(period, rows, subs):
    return build_invoice_lines(period, events_frame(rows), BOOK, subs, METERS)


def adjust(stored, recomputed, earlier=None, customers=("acme",)):
    earlier = pl.DataFrame(schema=LINE_SCHEMA) if earlier is None else earlier
    earned = EarnedPeriod(SEP, recomputed, stored, earlier, frozenset(customers))
    return adjustment_lines(OCT, [earned], LINE_SCHEMA)


def test_an_amend_of_a_closed_month_adjusts_the_charge_and_the_minimum():
    subs = [sub("acme", "p", "2026-01-01")]
    # September as issued: seats latest 6 × 12.5 = 75; fee 300; minimum 400 − 375 = 25.
    stored = lines_of(SEP, [event("acme", "seats", "2026-09-15", "6")], subs)
    # Recomputed with the amend 6 → 8: 100; 300 + 100 = 400, no minimum line any more.
    recomputed = lines_of(SEP, [event("acme", "seats", "2026-09-15", "8")], subs)
    adjustments = adjust(stored, recomputed)
    assert adjustments.select("kind", "charge_id", "adjusts", "earned_period", "amount").rows() == [
        ("adjustment", "seats", "usage", SEP, D("25.0000")),
        ("adjustment", None, "minimum_commitment", SEP, D("-25.0000")),
    ]


def test_no_line_when_nothing_changes_and_other_customers_are_not_recomputed():
    subs = [sub("acme", "p", "2026-01-01"), sub("beta", "p", "2026-01-01")]
    stored = lines_of(SEP, [event("beta", "seats", "2026-09-15", "1")], subs)
    recomputed = lines_of(SEP, [event("beta", "seats", "2026-09-15", "9")], subs)
    assert adjust(stored, recomputed, customers=("acme",)).is_empty()


def test_earlier_adjustments_are_subtracted():
    subs = [sub("acme", "p", "2026-01-01")]
    stored = lines_of(SEP, [event("acme", "seats", "2026-09-15", "40")], subs)  # 500
    first = adjust(stored, lines_of(SEP, [event("acme", "seats", "2026-09-15", "36")], subs))
    assert first["amount"].to_list() == [D("-50.0000")]  # 450: above the minimum either way
    # a later correction: 38 seats = 475; already billed 500 − 50 → +25
    later = adjust(stored, lines_of(SEP, [event("acme", "seats", "2026-09-15", "38")], subs), first)
    assert later["amount"].to_list() == [D("25.0000")]


def test_an_invoice_made_only_of_negative_adjustments_is_a_credit_note():
    subs = [sub("acme", "p", "2026-01-01", "2026-09-30")]  # left at the end of September
    stored = lines_of(SEP, [event("acme", "seats", "2026-09-15", "40")], subs)  # 500
    recomputed = lines_of(SEP, [event("acme", "seats", "2026-09-15", "10")], subs)  # 125 → min
    adjustments = adjust(stored, recomputed)
    # usage 125 − 500 = −375; 300 + 125 = 425 ≥ 400: no minimum line before or after
    assert adjustments["amount"].to_list() == [D("-375.0000")]
    october = append_adjustments(pl.DataFrame(schema=LINE_SCHEMA), adjustments)
    assert october.select("invoice_id", "line_no").rows() == [("2026-10-acme", 1)]
    invoice = summarize_invoices(october).row(0, named=True)
    assert (invoice["total"], invoice["document_type"]) == (D("-375.0000"), "credit_note")


def test_adjustments_follow_the_invoice_lines_and_credits():
    subs = [sub("acme", "p", "2026-01-01")]
    october = lines_of(OCT, [], subs)  # fee 300, seats 0, calls 0, minimum 100
    stored = lines_of(SEP, [event("acme", "seats", "2026-09-15", "40")], subs)
    adjustments = adjust(stored, lines_of(SEP, [event("acme", "seats", "2026-09-15", "41")], subs))
    both = append_adjustments(october, adjustments)
    assert both.select("line_no", "kind", "amount").rows()[-2:] == [
        (4, "minimum_commitment", D("100.0000")),
        (5, "adjustment", D("12.5000")),
    ]
    invoice = summarize_invoices(both).row(0, named=True)
    assert (invoice["subtotal"], invoice["document_type"]) == (D("412.5000"), "invoice")
