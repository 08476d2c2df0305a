"""Invoice lines and invoices (SPEC §6.3, §6.4, §12 Billing), amounts worked out by hand.

November 2026 has 30 days, October 31.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import polars as pl
import pytest

from data_contracts import conform
from data_contracts.billing import InvoiceLines, Invoices
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.invoices import amounts_off_minor_unit, invoices_not_matching_lines
from tests.helpers.billing import (
    METERS,
    build_invoices,
    charge,
    event,
    events_frame,
    plan,
    pricing,
    sub,
    tiers,
)

NOV = "2026-11"
TOKENS = tiers(("10", "1", "0"), (None, "0.5", "0"))
BASIC = plan(
    "basic",
    charge("api", "api_calls", "per_unit", unit_price="0.01"),
    charge("tok", "llm_tokens", "graduated", tiers=TOKENS),
    fees={"cloud_meter": "100.00"},
)
PRO = plan(
    "pro",
    charge("api", "api_calls", "per_unit", unit_price="0.005"),
    charge("tok", "llm_tokens", "graduated", tiers=TOKENS),
    fees={"cloud_meter": "300.00"},
)
LINE = [
    "line_no",
    "kind",
    "plan_id",
    "subscription_start",
    "charge_id",
    "service",
    "quantity",
    "amount",
]


def lines_of(period, rows, config, subs, credits=None):
    lines, invoices = build_invoices(period, events_frame(rows), config, subs, METERS, credits)
    conform(lines, InvoiceLines)
    conform(invoices, Invoices)
    return lines, invoices


def test_a_plan_change_mid_month_restarts_tiers_and_prorates_each_plan():
    subs = [sub("acme", "basic", "2026-01-01", "2026-11-15"), sub("acme", "pro", "2026-11-16")]
    rows = [event("acme", "api_calls", "2026-11-15T23:59") for _ in range(3)]
    rows += [event("acme", "api_calls", "2026-11-16T00:00") for _ in range(4)]
    rows += [
        event("acme", "llm_tokens", "2026-11-10", "8", {"model": "large"}),
        event("acme", "llm_tokens", "2026-11-25", "8", {"model": "large"}),
    ]
    lines, invoices = lines_of(NOV, rows, pricing(BASIC, PRO), subs)
    s1, s2 = dt.date(2026, 1, 1), dt.date(2026, 11, 16)
    assert lines.select(LINE).rows() == [
        # basic, Nov 1–15 = 15 of 30 days: 100 × 15/30 = 50
        (1, "platform_fee", "basic", s1, None, "cloud_meter", None, D("50.00")),
        (2, "usage", "basic", s1, "api", None, D(3), D("0.03")),  # 3 × 0.01
        (3, "usage", "basic", s1, "tok", None, D(8), D("8.00")),  # 8 in tier 1 × 1
        # pro, Nov 16–30 = 15 days: 300 × 15/30 = 150
        (4, "platform_fee", "pro", s2, None, "cloud_meter", None, D("150.00")),
        (5, "usage", "pro", s2, "api", None, D(4), D("0.02")),  # 4 × 0.005
        (6, "usage", "pro", s2, "tok", None, D(8), D("8.00")),  # tiers restart: 8 × 1
    ]
    # 50 + 0.03 + 8 + 150 + 0.02 + 8 = 216.05 (16 tokens in one subscription would be 13)
    assert invoices.rows() == [
        (NOV, "2026-11-acme", "acme", "USD", D("216.05"), D(0), D("216.05"), 6, "invoice")
    ]


@pytest.mark.parametrize(
    "period, start, end, fee, expected",
    [
        pytest.param(
            NOV,
            "2026-11-10",
            None,
            "100.00",
            "70.00",
            id="a start on Nov 10 is 21 of 30 days: 100 × 21/30 = 70",
        ),
        pytest.param(
            NOV,
            "2026-11-10",
            None,
            "99.99",
            "69.99",
            id="99.99 × 21/30 = 69.993 rounds once to 69.99",
        ),
        pytest.param(
            NOV,
            "2026-10-01",
            "2026-11-05",
            "100.00",
            "16.67",
            id="an end on Nov 5 is 5 of 30 days: 16.666… rounds to 16.67",
        ),
        pytest.param(
            "2026-10",
            "2026-10-31",
            None,
            "100.00",
            "3.23",
            id="one day of a 31-day month: 3.2258… rounds to 3.23",
        ),
        pytest.param(
            NOV,
            "2026-11-30",
            "2026-11-30",
            "0.15",
            "0.01",
            id="0.15 × 1/30 = 0.005 exactly: a half cent rounds up",
        ),
    ],
)
def test_a_platform_fee_is_prorated_by_active_days(period, start, end, fee, expected):
    config = pricing(plan("p", fees={"cloud_meter": fee}))
    lines, _ = lines_of(period, [], config, [sub("acme", "p", start, end)])
    assert lines["amount"].to_list() == [D(expected)]


def test_half_even_keeps_the_half_cent_fee_on_the_even_cent():
    config = pricing(plan("p", fees={"cloud_meter": "0.15"}), rounding="half_even")
    lines, _ = lines_of(NOV, [], config, [sub("acme", "p", "2026-11-30")])
    assert lines["amount"].to_list() == [D("0.00")]  # 0.005 → 0.00 (0 is even)


MIN_PLAN = plan(
    "m",
    charge("api", "api_calls", "per_unit", unit_price="0.01"),
    fees={"cloud_meter": "300.00"},
    minimum="1000.00",
)


@pytest.mark.parametrize(
    "start, calls, expected",
    [
        pytest.param(
            "2026-01-01",
            1000,
            [D("300.00"), D("10.00"), D("690.00")],
            id="minimum: 1000 − (300 + 1000 × 0.01) = 690",
        ),
        pytest.param(
            "2026-11-16",
            1000,
            [D("150.00"), D("10.00"), D("340.00")],
            id="minimum prorated for 15 days: 500 − (150 + 10) = 340",
        ),
        pytest.param(
            "2026-01-01",
            80000,
            [D("300.00"), D("800.00")],
            id="minimum: usage above it adds no line (300 + 800 ≥ 1000)",
        ),
        pytest.param(
            "2026-01-01", 70000, [D("300.00"), D("700.00")], id="minimum: exactly met adds no line"
        ),
    ],
)
def test_a_minimum_commitment_tops_up_its_subscription(start, calls, expected):
    rows = [event("acme", "api_calls", "2026-11-20")] * 1
    rows = [dict(rows[0], event_id=f"m{i}", line_number=i) for i in range(calls)]
    lines, _ = lines_of(NOV, rows, pricing(MIN_PLAN), [sub("acme", "m", start)])
    assert lines["amount"].to_list() == expected
    assert lines["kind"].to_list()[2:] == ["minimum_commitment"] * (len(expected) - 2)


@pytest.mark.parametrize(
    "minimum, expected",
    [
        pytest.param(
            "100.00", [D("3.33")], id="minimum compared exactly: 100 × 1/30 = 3.333… → 3.33"
        ),
        pytest.param("0.01", [], id="no line when the prorated difference rounds to 0 (0.000333…)"),
    ],
)
def test_the_minimum_is_the_exact_prorated_amount(minimum, expected):
    config = pricing(plan("m", minimum=minimum))
    lines, _ = lines_of(NOV, [], config, [sub("acme", "m", "2026-11-30")])
    assert lines["amount"].to_list() == expected


def test_a_subscription_billing_only_late_events_gets_usage_lines_but_no_fee_or_minimum():
    old = plan(
        "old",
        charge("api", "api_calls", "per_unit", unit_price="0.50"),
        fees={"cloud_meter": "100"},
        minimum="500",
    )
    subs = [sub("acme", "old", "2026-01-01", "2026-10-31"), sub("acme", "basic", "2026-11-01")]
    # Oct 30 events that landed on Nov 5, after October's last landing day (Nov 3): billed in Nov.
    late = [
        event("acme", "api_calls", "2026-10-30", period=NOV, late=True, landing="2026-11-05")
        for _ in range(3)
    ]
    lines, invoices = lines_of(NOV, late, pricing(old, BASIC), subs)
    assert lines.select(LINE).rows() == [
        (1, "usage", "old", dt.date(2026, 1, 1), "api", None, D(3), D("1.50")),  # 3 × 0.50
        (2, "platform_fee", "basic", dt.date(2026, 11, 1), None, "cloud_meter", None, D("100.00")),
        (3, "usage", "basic", dt.date(2026, 11, 1), "api", None, D(0), D("0.00")),
        (4, "usage", "basic", dt.date(2026, 11, 1), "tok", None, D(0), D("0.00")),
    ]
    assert invoices["total"].to_list() == [D("101.50")]


def test_a_late_event_joins_the_quantity_and_tiers_of_the_subscription_covering_it():
    rows = [
        event(
            "acme",
            "llm_tokens",
            "2026-10-31",
            "6",
            {"model": "x"},
            period=NOV,
            late=True,
            landing="2026-11-04",
        ),
        event("acme", "llm_tokens", "2026-11-02", "6", {"model": "x"}),
    ]
    lines, _ = lines_of(NOV, rows, pricing(BASIC), [sub("acme", "basic", "2026-10-01")])
    # 6 + 6 = 12 tokens: 10 × 1 + 2 × 0.5 = 11; the October fee is not charged again.
    assert lines.filter(pl.col("charge_id") == "tok")["amount"].to_list() == [D("11.00")]
    assert lines.filter(pl.col("kind") == "platform_fee")["active_days"].to_list() == [30]


def test_a_charge_filter_counts_only_matching_dimensions():
    large = plan(
        "l",
        charge("big", "llm_tokens", "per_unit", unit_price="0.1", filter={"model": "large"}),
        charge("all", "llm_tokens", "per_unit", unit_price="0.01", free_units="5"),
    )
    rows = [
        event("acme", "llm_tokens", "2026-11-02", "10", {"model": "large", "region": "eu"}),
        event("acme", "llm_tokens", "2026-11-02", "20", {"model": "small"}),
        event("acme", "llm_tokens", "2026-11-02", "40", {}),
    ]
    lines, _ = lines_of(NOV, rows, pricing(large), [sub("acme", "l", "2026-01-01")])
    assert lines.select(
        "charge_id", "quantity", "free_quantity", "unit_price", "event_count", "amount"
    ).rows() == [
        ("big", D(10), D(0), D("0.1"), 1, D("1.00")),  # 10 × 0.1
        ("all", D(65), D(5), D("0.01"), 3, D("0.65")),  # (70 − 5 free) × 0.01
    ]


def test_every_subscribed_customer_is_invoiced_even_at_zero_and_others_are_not():
    config = pricing(
        plan("free", charge("api", "api_calls", "package", package_size="10", package_price="1"))
    )
    subs = [sub("idle", "free", "2026-01-01"), sub("gone", "free", "2026-01-01", "2026-10-31")]
    rows = [event("ghost", "api_calls", "2026-11-03")]
    lines, invoices = lines_of(NOV, rows, config, subs)
    assert lines.select("customer_id", "kind", "quantity", "unit_price", "amount").rows() == [
        ("idle", "usage", D(0), None, D("0.00"))
    ]
    assert invoices.select("invoice_id", "total", "line_count").rows() == [
        ("2026-11-idle", D(0), 1)
    ]


def test_a_jpy_plan_rounds_to_whole_yen():
    yen = plan(
        "tokyo",
        charge("api", "api_calls", "per_unit", unit_price="0.5"),
        currency="JPY",
        minor_units=0,
        fees={"cloud_meter": "10000"},
    )
    rows = [event("kk", "api_calls", "2026-11-12") for _ in range(5)]
    lines, invoices = lines_of(
        NOV, rows, pricing(yen, rounding="half_even"), [sub("kk", "tokyo", "2026-11-10")]
    )
    # 10000 × 21/30 = 7000; 5 × 0.5 = 2.5 → 2 (half_even)
    assert lines["amount"].to_list() == [D(7000), D(2)]
    assert invoices.select("currency", "total").rows() == [("JPY", D(7002))]
    assert amounts_off_minor_unit(lines).height == 0


CREDITS = pl.DataFrame(
    {
        "customer_id": ["acme", "acme", "acme"],
        "service": ["cloud_meter", "billing_meter", "cloud_meter"],
        "earned_period": ["2026-10", "2026-10", "2026-09"],
        "amount": [D("-10.00"), D("-5.00"), D("-1.25")],
    }
)


def test_sla_credit_lines_follow_oldest_period_first_then_service():
    config = pricing(plan("p", fees={"cloud_meter": "300.00"}))
    lines, invoices = lines_of(NOV, [], config, [sub("acme", "p", "2026-01-01")], CREDITS)
    assert lines.select("line_no", "kind", "service", "earned_period", "amount").rows() == [
        (1, "platform_fee", "cloud_meter", None, D("300.00")),
        (2, "sla_credit", "cloud_meter", "2026-09", D("-1.25")),
        (3, "sla_credit", "billing_meter", "2026-10", D("-5.00")),
        (4, "sla_credit", "cloud_meter", "2026-10", D("-10.00")),
    ]
    # subtotal 300, credits −16.25, total 283.75
    assert invoices.select("subtotal", "credits", "total", "line_count").rows() == [
        (D(300), D("-16.25"), D("283.75"), 4)
    ]


@pytest.mark.parametrize(
    "credits, message",
    [
        pytest.param(
            CREDITS.with_columns(pl.lit("bob").alias("customer_id")),
            "without an invoice",
            id="a credit for a customer with no invoice is refused",
        ),
        pytest.param(
            CREDITS.with_columns(-pl.col("amount")),
            "must be ≤ 0",
            id="a positive credit is refused",
        ),
        pytest.param(
            CREDITS.with_columns(pl.lit(D("-400.00")).alias("amount")),
            "negative total",
            id="credits beyond the subtotal are refused",
        ),
    ],
)
def test_bad_credits_are_refused(credits, message):
    config = pricing(plan("p", fees={"cloud_meter": "300.00"}))
    with pytest.raises(ValueError, match=message):
        build_invoices(
            NOV, events_frame([]), config, [sub("acme", "p", "2026-01-01")], METERS, credits
        )


def test_the_checks_find_tampered_totals_and_amounts_off_the_minor_unit():
    config = pricing(plan("p", fees={"cloud_meter": "300.00"}))
    lines, invoices = lines_of(
        NOV, [], config, [sub("acme", "p", "2026-01-01"), sub("bob", "p", "2026-01-01")]
    )
    assert invoices_not_matching_lines(lines, invoices).height == 0
    tampered = invoices.with_columns(
        pl.when(pl.col("customer_id") == "bob")
        .then(pl.lit(D("1.00")))
        .otherwise("total")
        .alias("total")
        .cast(invoices.schema["total"])
    )
    assert invoices_not_matching_lines(lines, tampered)["invoice_id"].to_list() == ["2026-11-bob"]
    fractional = lines.with_columns(pl.lit(D("0.001")).cast(lines.schema["amount"]).alias("amount"))
    assert amounts_off_minor_unit(fractional).rows() == [("2026-11-acme", 1), ("2026-11-bob", 1)]


def test_no_subscriptions_give_empty_frames_with_the_contract_schema():
    lines = build_invoice_lines(
        NOV, events_frame([event("x", "api_calls", "2026-11-01")]), pricing(BASIC), [], METERS
    )
    assert lines.height == 0 and lines.schema == conform(lines, InvoiceLines).schema


def test_credit_lines_from_the_ledger_may_state_their_currency_which_must_match():
    config = pricing(plan("p", fees={"cloud_meter": "300.00"}))
    usd = CREDITS.with_columns(pl.lit("USD").alias("currency"))
    lines, _ = lines_of(NOV, [], config, [sub("acme", "p", "2026-01-01")], usd)
    assert lines.filter(pl.col("kind") == "sla_credit")["currency"].to_list() == ["USD"] * 3
    with pytest.raises(ValueError, match="another currency"):
        lines_of(
            NOV,
            [],
            config,
            [sub("acme", "p", "2026-01-01")],
            usd.with_columns(pl.lit("EUR").alias("currency")),
        )
