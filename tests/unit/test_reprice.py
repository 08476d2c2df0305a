"""Repricing rules worked by hand (SPEC §16, §17): the percentage, plan maps, and one small month
priced by the close's own code under a candidate price book."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from data_contracts import conform
from data_contracts.whatif import RepriceLines, RepriceSummary
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.reprice import (
    RepriceError,
    difference_pct,
    map_subscriptions,
    parse_plan_map,
    reprice_period,
)
from meter_pipeline.config.customers import Subscription
from meter_pipeline.config.meters import parse_meters
from meter_pipeline.config.pricing import parse_pricing
from meter_pipeline.money import MONEY, QUANTITY
from tests.helpers.billing import event, events_frame

METERS = parse_meters({"meters": [{"name": "api_calls", "aggregation": "count"}]})


def price_book(unit_price: str, currency: str = "USD", fee: str = "100.00", plan: str = "p"):
    return parse_pricing(
        {
            "plans": [
                {
                    "id": plan,
                    "currency": currency,
                    "platform_fees": [{"service": "cloud", "amount": fee}],
                    "charges": [
                        {
                            "id": "api",
                            "meter": "api_calls",
                            "model": "per_unit",
                            "unit_price": unit_price,
                            "free_units": "1",
                        }
                    ],
                }
            ]
        },
        METERS,
    )


SUBS = (Subscription("acme", "Acme", "p", dt.date(2026, 9, 16), None),)


@pytest.mark.parametrize(
    ("current", "difference", "expected"),
    [
        ("400.00", "10.00", Decimal("2.5000")),
        ("3.00", "-2.00", Decimal("-66.6667")),  # −66.66666… rounds half-even at 4 decimals
        ("8.00", "0.00001", Decimal("0.0001")),  # 0.000125 → 0.0001 (half-even, 2 is even)
        ("8.00", "0.00003", Decimal("0.0004")),  # 0.000375 → 0.0004
        ("0.00", "5.00", None),  # current 0: null
        ("0.01", "1000.00", None),  # 10,000,000 %: beyond decimal(9, 4)
    ],
)
def test_difference_pct_by_hand(current, difference, expected):
    assert difference_pct(Decimal(current), Decimal(difference)) == expected


def test_plan_map_rules():
    assert parse_plan_map(["a=b", "c=d"]) == {"a": "b", "c": "d"}
    with pytest.raises(RepriceError, match="OLD=NEW"):
        parse_plan_map(["a"])
    current, candidate = price_book("0.10"), price_book("0.10", currency="EUR", plan="q")
    with pytest.raises(RepriceError, match="bills in USD but 'q' in EUR"):
        map_subscriptions(SUBS, {"p": "q"}, current, candidate)
    with pytest.raises(RepriceError, match="not in the candidate"):
        map_subscriptions(SUBS, {}, current, candidate)
    same = price_book("0.20", plan="q")
    assert map_subscriptions(SUBS, {"p": "q"}, current, same)[0].plan_id == "q"


def events(n: int) -> pl.DataFrame:
    return events_frame([event("acme", "api_calls", f"2026-09-20T{i:02d}:00") for i in range(n)])


def test_a_month_repriced_by_hand():
    """acme from 16 September (15 of 30 days): fee 100.00 → 50.00; 5 calls, 1 free.
    Current 0.10 a call: 0.40, subtotal 50.40. Candidate 0.25 a call: 1.00, subtotal 51.00:
    difference 0.60, 1.1905 % (0.60 / 50.40 = 1.19047…%)."""
    current = price_book("0.10")
    stored = build_invoice_lines("2026-09", events(5), current, SUBS, METERS)
    invoiced = pl.DataFrame({"customer_id": ["acme"], "currency": ["USD"]})
    lines, summary = reprice_period(
        "2026-09", events(5), stored, invoiced, price_book("0.25"), SUBS, METERS
    )
    conform(lines, RepriceLines), conform(summary, RepriceSummary)
    usage = lines.filter(pl.col("kind") == "usage").row(0, named=True)
    assert usage["current_amount"] == Decimal("0.40")
    assert usage["candidate_amount"] == Decimal("1.00")
    assert usage["candidate_quantity"] == Decimal(4)
    assert lines["current_quantity"].dtype == QUANTITY and lines["difference"].dtype == MONEY
    row = summary.row(0, named=True)
    assert (row["current_subtotal"], row["candidate_subtotal"]) == (Decimal("50.40"), Decimal(51))
    assert (row["difference"], row["difference_pct"]) == (Decimal("0.60"), Decimal("1.1905"))


def test_the_current_book_against_itself_differs_nowhere():
    current = price_book("0.10")
    stored = build_invoice_lines("2026-09", events(7), current, SUBS, METERS)
    invoiced = pl.DataFrame({"customer_id": ["acme"], "currency": ["USD"]})
    lines, summary = reprice_period("2026-09", events(7), stored, invoiced, current, SUBS, METERS)
    assert lines.height == 2 and (lines["difference"] == 0).all()
    assert summary["difference"].to_list() == [Decimal(0)]
