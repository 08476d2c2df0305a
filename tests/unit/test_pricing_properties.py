"""Properties of the charge models (hypothesis): monotone in quantity, single tiers agree."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from meter_pipeline.config.charges import Charge, Tier
from meter_pipeline.pricing import price_graduated, price_per_unit, price_volume
from tests.helpers.billing import tiers

NANO = Decimal("1e-9")
quantities = st.integers(min_value=0, max_value=10**15).map(lambda n: n * NANO)
prices = st.integers(min_value=0, max_value=10**6).map(lambda n: n * Decimal("1e-4"))


@st.composite
def tier_lists(draw, *, volume_continuous: bool = False) -> tuple[Tier, ...]:
    """1–4 tiers, strictly increasing bounds, the last unbounded, non-negative prices and fees.

    With ``volume_continuous`` each tier's flat fee is at least what keeps volume pricing from
    dropping at the previous bound: bound × (previous price − price) + previous fee.
    """
    bounds = sorted(draw(st.sets(quantities.filter(lambda q: q > 0), max_size=3)))
    result: list[Tier] = []
    for up_to in [*bounds, None]:
        price, fee = draw(prices), draw(prices)
        if volume_continuous and result:
            before = result[-1]
            fee += max(before.up_to * (before.unit_price - price) + before.flat_fee, Decimal(0))
        result.append(Tier(up_to, price, fee))
    return tuple(result)


@given(tier_lists(), quantities, quantities)
def test_graduated_never_decreases_as_quantity_grows(spec, a, b):
    low, high = sorted((a, b))
    graduated = Charge("g", "m", "graduated", tiers=spec)
    assert price_graduated(graduated, low, 0) <= price_graduated(graduated, high, 0)


@given(tier_lists(volume_continuous=True), quantities, quantities)
def test_volume_never_decreases_as_quantity_grows(spec, a, b):
    # Volume pricing reprices every unit at the tier reached, so a cheaper next tier can make
    # the amount drop at a bound unless its flat fee makes up the difference (as SPEC's storage
    # example does: 100 × (0.10 − 0.08) = 2 ≤ 5). The property holds for such price books.
    low, high = sorted((a, b))
    volume = Charge("v", "m", "volume", tiers=spec)
    assert price_volume(volume, low, 0) <= price_volume(volume, high, 0)


def test_volume_can_drop_at_a_bound_when_the_next_tier_is_cheaper_without_a_fee():
    # The documented volume cliff: 100 units at 0.10 = 10; 101 units all at 0.08 = 8.08.
    volume = Charge("v", "m", "volume", tiers=tiers(("100", "0.10", "0"), (None, "0.08", "0")))
    assert price_volume(volume, Decimal(100), 0) == Decimal(10)
    assert price_volume(volume, Decimal(101), 0) == Decimal("8.08")


@given(prices, quantities)
def test_a_single_tier_makes_graduated_volume_and_per_unit_agree(price, q):
    single = (Tier(None, price, Decimal(0)),)
    graduated = price_graduated(Charge("g", "m", "graduated", tiers=single), q, 0)
    volume = price_volume(Charge("v", "m", "volume", tiers=single), q, 0)
    per_unit = price_per_unit(Charge("p", "m", "per_unit", unit_price=price), q, 0)
    assert graduated == volume == per_unit == q * price


@given(prices, prices, quantities)
def test_a_single_tier_with_a_flat_fee_prices_alike_graduated_and_volume(price, fee, q):
    single = (Tier(None, price, fee),)
    assert (
        price_graduated(Charge("g", "m", "graduated", tiers=single), q, 0)
        == price_volume(Charge("v", "m", "volume", tiers=single), q, 0)
        == q * price + fee
    )
