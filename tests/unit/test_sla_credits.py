"""Service credits: linear rule, ladder, fee base, rounding, claims (SPEC §7.4, §12 "SLA")."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meter_pipeline.config.sla import LadderStep, SlaClaim, SlaConfig, SlaPolicy
from meter_pipeline.sla.credits import (
    CREDIT_SCHEMA,
    claim_window,
    credit_amount,
    credit_pct,
    credits_over_fee,
    earned_credits,
    is_claimed,
    resolving_period,
    sla_credits,
)
from meter_pipeline.sla.ledger import LEDGER_SCHEMA, empty_ledger
from meter_pipeline.sla.uptime import UPTIME_SCHEMA, uptime_exact

UTC = dt.UTC
SERVICES = ("billing_meter", "cloud_meter")
LINEAR = SlaPolicy(services=SERVICES)
LADDER = SlaPolicy(
    services=SERVICES,
    credit_schedule=(
        LadderStep(Decimal("95.0"), Decimal("100")),
        LadderStep(Decimal("99.0"), Decimal("30")),
        LadderStep(Decimal("99.9"), Decimal("10")),
    ),
)
USD = {"USD": 2, "JPY": 0}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def uptime(period: str, **down: int) -> pl.DataFrame:
    """Uptime rows of a 30-day month with ``service=unexcused down minutes``."""
    return pl.DataFrame(
        [
            (period, s, 43_200, down.get(s, 0), 0, 0, Decimal(0), Decimal(0), True, Decimal(0))
            for s in SERVICES
        ],
        schema=UPTIME_SCHEMA,
        orient="row",
    )


def lines(*rows: tuple[str, str, str | None, str, str]) -> pl.DataFrame:
    """(customer_id, kind, service, amount, currency) invoice lines."""
    return pl.DataFrame(
        [(c, k, s, Decimal(a), cur) for c, k, s, a, cur in rows],
        schema={
            "customer_id": pl.String,
            "kind": pl.String,
            "service": pl.String,
            "amount": pl.Decimal(38, 4),
            "currency": pl.String,
        },
        orient="row",
    )


@pytest.mark.parametrize(
    "target, actual, expected",
    [
        pytest.param("99.9", "94.9", 5, id="the SLA's worked example: 99.9 vs exactly 94.9 → 5"),
        pytest.param("99.99", "49.99", 50, id="99.99 vs 49.99 → 50 (floats: 49.99999… → 49)"),
        pytest.param("99.9", "94.90001", 4, id="a hair above 94.9 → 4"),
    ],
)
def test_the_shortfall_is_exact(target, actual, expected):
    """shortfall = target − uptime exactly; floor(shortfall) × 1 point = credit_pct."""
    policy = SlaPolicy(services=SERVICES, target_uptime_pct=Decimal(target))
    assert credit_pct(Fraction(Decimal(actual)), policy) == expected


def test_floats_would_get_a_shortfall_wrong():
    """Why the arithmetic is exact: binary floats floor 99.99 − 49.99 to 49, not 50."""
    assert math.floor(99.99 - 49.99) == 49


@pytest.mark.parametrize(
    "unexcused, floor, ceil, exact",
    [
        pytest.param(
            2204,
            5,
            6,
            Fraction(2701, 540),
            id="2,204 minutes: 94.8981…% → shortfall 5.0018… (= 2204/432 − 0.1)",
        ),
        pytest.param(
            2203,
            4,
            5,
            Fraction(99_9, 10) - Fraction(100 * (43_200 - 2203), 43_200),
            id="2,203 minutes: 94.9004…% → shortfall 4.9995…",
        ),
        pytest.param(43, 0, 0, 0, id="43 minutes: 99.9004…%, target met"),
        pytest.param(
            44,
            0,
            1,
            Fraction(99_9, 10) - Fraction(100 * (43_200 - 44), 43_200),
            id="44 minutes: 99.8981…%, shortfall 0.0018…",
        ),
    ],
)
def test_linear_rule_with_each_shortfall_rounding(unexcused, floor, ceil, exact):
    up = uptime_exact(43_200, unexcused, 0)
    assert credit_pct(up, LINEAR) == floor
    assert credit_pct(up, SlaPolicy(services=SERVICES, shortfall_rounding="ceil")) == ceil
    assert credit_pct(up, SlaPolicy(services=SERVICES, shortfall_rounding="exact")) == exact


def test_linear_rule_scales_per_point_and_is_capped():
    policy = SlaPolicy(
        services=SERVICES, credit_per_point_pct=Decimal("2.5"), max_credit_pct=Decimal("25")
    )
    assert credit_pct(Fraction(949, 10), policy) == Fraction(25, 2)  # 5 points × 2.5
    assert credit_pct(Fraction(50), policy) == 25  # 49 points × 2.5 = 122.5, capped


@pytest.mark.parametrize(
    "unexcused, expected",
    [
        pytest.param(0, 0, id="100 %: no credit"),
        pytest.param(43, 0, id="99.9004…%: not under 99.9"),
        pytest.param(44, 10, id="99.8981…%: under 99.9 → 10"),
        pytest.param(432, 10, id="exactly 99.0 is not under 99.0 → 10"),
        pytest.param(433, 30, id="99.0 minus a minute → 30"),
        pytest.param(2160, 30, id="exactly 95.0 → 30"),
        pytest.param(2161, 100, id="under 95.0 → 100"),
    ],
)
def test_ladder_takes_the_lowest_bound_the_uptime_is_strictly_under(unexcused, expected):
    assert credit_pct(uptime_exact(43_200, unexcused, 0), LADDER) == expected


@pytest.mark.parametrize(
    "fee, pct, minor, mode, expected",
    [
        pytest.param("300.00", 5, 2, "half_up", "15.00", id="5 % of 300.00"),
        pytest.param("0.10", 5, 2, "half_up", "0.01", id="0.005 rounds half up to 0.01"),
        pytest.param("0.10", 5, 2, "half_even", "0.00", id="0.005 rounds half even to 0.00"),
        pytest.param("333", Fraction(1, 3), 0, "half_up", "1", id="JPY: 1.11 → 1"),
        pytest.param(
            "100.00", Fraction(2, 3), 2, "half_up", "0.67", id="repeating: 0.6666… → 0.67"
        ),
    ],
)
def test_credit_amount_is_rounded_once(fee, pct, minor, mode, expected):
    assert credit_amount(Decimal(fee), Fraction(pct), minor, mode) == Decimal(expected)


def test_earned_credits_one_row_per_invoiced_customer_and_service():
    invoice = lines(
        ("acme", "platform_fee", "cloud_meter", "300.00", "USD"),
        ("acme", "platform_fee", "cloud_meter", "150.00", "USD"),  # second subscription
        ("acme", "platform_fee", "billing_meter", "200.00", "USD"),
        ("acme", "usage", None, "999.00", "USD"),
        ("beta", "usage", None, "10.00", "USD"),  # invoiced, no fee
        ("tiny", "platform_fee", "cloud_meter", "0.10", "USD"),
        ("tiny", "platform_fee", "billing_meter", "0.10", "USD"),
        ("acme", "sla_credit", "cloud_meter", "-5.00", "USD"),
    )  # ignored
    got = earned_credits(
        "2026-11",
        uptime("2026-11", cloud_meter=2204, billing_meter=44),
        invoice,
        LINEAR,
        USD,
        "half_even",
    )
    assert got.schema == CREDIT_SCHEMA
    assert got.select(
        "customer_id",
        "service",
        "uptime_pct",
        "credit_pct",
        "fee_amount",
        "credit_amount",
        "status",
    ).rows() == [
        (
            "acme",
            "billing_meter",
            Decimal("99.8981"),
            Decimal("0"),
            Decimal("200"),
            Decimal("0"),
            "none",
        ),
        (
            "acme",
            "cloud_meter",
            Decimal("94.8981"),
            Decimal("5"),
            Decimal("450"),
            Decimal("22.50"),
            "granted",
        ),
        (
            "beta",
            "billing_meter",
            Decimal("99.8981"),
            Decimal("0"),
            Decimal("0"),
            Decimal("0"),
            "none",
        ),
        (
            "beta",
            "cloud_meter",
            Decimal("94.8981"),
            Decimal("5"),
            Decimal("0"),
            Decimal("0"),
            "none",
        ),  # zero fee keeps credit_pct, amount 0
        (
            "tiny",
            "billing_meter",
            Decimal("99.8981"),
            Decimal("0"),
            Decimal("0.10"),
            Decimal("0"),
            "none",
        ),
        (
            "tiny",
            "cloud_meter",
            Decimal("94.8981"),
            Decimal("5"),
            Decimal("0.10"),
            Decimal("0"),
            "none",
        ),  # 0.005 rounds half-even to 0: none
    ]
    assert credits_over_fee(got).height == 0


def test_mixed_currencies_on_one_invoice_are_refused():
    invoice = lines(
        ("acme", "platform_fee", "cloud_meter", "1", "USD"), ("acme", "usage", None, "1", "JPY")
    )
    with pytest.raises(ValueError, match="mix currencies"):
        earned_credits("2026-11", uptime("2026-11"), invoice, LINEAR, USD, "half_up")


@pytest.mark.parametrize(
    "submitted, counts",
    [
        pytest.param("2026-10-31T23:59:59.999999", False, id="before the period starts"),
        pytest.param("2026-11-01T00:00:00", True, id="at the period's start"),
        pytest.param("2026-12-30T23:59:59.999999", True, id="day 30 after the period"),
        pytest.param("2026-12-31T00:00:00", False, id="day 31 after the period"),
    ],
)
def test_a_claim_counts_inside_its_window(submitted, counts):
    claims = [SlaClaim(1, "acme", "cloud_meter", "2026-11", at(submitted))]
    assert claim_window("2026-11", 30) == (at("2026-11-01T00:00:00"), at("2026-12-31T00:00:00"))
    assert is_claimed(claims, "acme", "cloud_meter", "2026-11", 30) is counts
    assert not is_claimed(claims, "acme", "billing_meter", "2026-11", 30)


@pytest.mark.parametrize(
    "earned, window, grace, expected",
    [
        pytest.param("2026-11", 30, 3, "2026-12", id="closes Dec 31; Dec's last landing day Jan 3"),
        pytest.param("2026-11", 33, 3, "2026-12", id="closes Jan 3 00:00: Dec's day begins then"),
        pytest.param("2026-11", 34, 3, "2027-01", id="closes Jan 4: after Dec's, so January"),
        pytest.param("2026-11", 0, 3, "2026-12", id="never before the next period"),
        pytest.param(
            "2026-12", 89, 0, "2027-03", id="closes Mar 31 00:00, when March's day begins"
        ),
        pytest.param(
            "2026-12", 90, 0, "2027-04", id="closes Apr 1: after March's last landing day"
        ),
    ],
)
def test_resolving_period(earned, window, grace, expected):
    assert resolving_period(earned, window, grace) == expected


def test_claim_required_credits_are_pending_then_resolved_with_their_earned_period():
    claims = (
        SlaClaim(1, "acme", "cloud_meter", "2026-11", at("2026-12-30T12:00:00")),
        SlaClaim(2, "beta", "cloud_meter", "2026-11", at("2026-12-31T00:00:00")),
    )
    config = SlaConfig(SlaPolicy(services=SERVICES, require_claim=True), claims=claims)
    nov_lines = lines(
        ("acme", "platform_fee", "cloud_meter", "300.00", "USD"),
        ("beta", "platform_fee", "cloud_meter", "100.00", "USD"),
    )
    nov = sla_credits(
        "2026-11",
        uptime("2026-11", cloud_meter=2204),
        nov_lines,
        empty_ledger(),
        config,
        3,
        USD,
        "half_up",
    )
    pending = nov.filter(pl.col("status") == "pending")
    assert pending.select("customer_id", "credit_amount").rows() == [
        ("acme", Decimal("15.00")),
        ("beta", Decimal("5.00")),
    ]
    # November's ledger carries the pending credits (what ledger.credit_ledger writes for them).
    ledger = pending.select(
        "billing_period",
        "customer_id",
        "service",
        "earned_period",
        "currency",
        "status",
        "uptime_pct",
        "credit_pct",
        "fee_amount",
        amount="credit_amount",
        opening="credit_amount",
        applied=pl.lit(Decimal(0)),
        carried="credit_amount",
        forfeited=pl.lit(Decimal(0)),
    ).cast(dict(LEDGER_SCHEMA))
    dec = sla_credits("2026-12", uptime("2026-12"), nov_lines, ledger, config, 3, USD, "half_up")
    resolved = dec.filter(pl.col("earned_period") == "2026-11")
    assert resolved.select(
        "customer_id",
        "service",
        "uptime_pct",
        "credit_pct",
        "fee_amount",
        "credit_amount",
        "status",
    ).rows() == [
        (
            "acme",
            "cloud_meter",
            Decimal("94.8981"),
            Decimal("5"),
            Decimal("300"),
            Decimal("15.00"),
            "granted",
        ),
        (
            "beta",
            "cloud_meter",
            Decimal("94.8981"),
            Decimal("5"),
            Decimal("100"),
            Decimal("5.00"),
            "unclaimed",
        ),
    ]
    assert dec.filter(pl.col("earned_period") == "2026-12").height == 4


def test_a_pending_credit_is_not_resolved_before_its_window_closes():
    config = SlaConfig(SlaPolicy(services=SERVICES, require_claim=True, claim_window_days=40))
    ledger = pl.DataFrame(
        [
            (
                "2026-11",
                "acme",
                "cloud_meter",
                "2026-11",
                "USD",
                "pending",
                Decimal("94.8981"),
                Decimal(5),
                Decimal(300),
                Decimal(15),
                Decimal(15),
                Decimal(0),
                Decimal(15),
                Decimal(0),
            )
        ],
        schema=LEDGER_SCHEMA,
        orient="row",
    )
    dec = sla_credits("2026-12", uptime("2026-12"), lines(), ledger, config, 3, USD, "half_up")
    assert dec.height == 0  # resolved in January 2027 (window closes Jan 10)
    jan = sla_credits(
        "2027-01",
        uptime("2027-01"),
        lines(),
        ledger.with_columns(billing_period=pl.lit("2026-12")),
        config,
        3,
        USD,
        "half_up",
    )
    assert jan.get_column("status").to_list() == ["unclaimed"]


@settings(max_examples=300, deadline=None)
@given(
    fee_minor=st.integers(0, 10**9),
    minor=st.sampled_from([0, 2, 3]),
    unexcused=st.integers(0, 44_640),
    minutes=st.sampled_from([40_320, 41_760, 43_200, 44_640]),
    rounding=st.sampled_from(["floor", "ceil", "exact"]),
    per_point=st.decimals("0", "100", places=2),
    cap=st.decimals("0", "100", places=2),
    mode=st.sampled_from(["half_up", "half_even"]),
    ladder=st.booleans(),
)
def test_a_credit_never_exceeds_its_fee_base(
    fee_minor, minor, unexcused, minutes, rounding, per_point, cap, mode, ladder
):
    policy = (
        LADDER
        if ladder
        else SlaPolicy(
            services=SERVICES,
            shortfall_rounding=rounding,
            credit_per_point_pct=per_point,
            max_credit_pct=cap,
        )
    )
    fee = Decimal(fee_minor).scaleb(-minor)
    pct = credit_pct(uptime_exact(minutes, min(unexcused, minutes), 0), policy)
    amount = credit_amount(fee, pct, minor, mode)
    assert 0 <= pct <= 100
    assert Decimal(0) <= amount <= fee
