"""Charge models (SPEC §6.2) with amounts worked out by hand, and the once-per-line rounding."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from meter_pipeline.money import round_money
from meter_pipeline.pricing import (
    MODELS,
    price_charge,
    price_graduated,
    price_package,
    price_per_unit,
    price_percentage,
    price_volume,
)
from tests.helpers.billing import charge, tiers

# Three tiers used by the graduated and volume tables:
#   tier 1: (0, 5]   at 1.00 per unit, flat fee 1
#   tier 2: (5, 10]  at 0.50 per unit, flat fee 2
#   tier 3: (10, ∞)  at 0.10 per unit, flat fee 3
THREE_TIERS = tiers(("5", "1", "1"), ("10", "0.5", "2"), (None, "0.1", "3"))
GRADUATED = charge("g", "llm_tokens", "graduated", tiers=THREE_TIERS)
VOLUME = charge("v", "llm_tokens", "volume", tiers=THREE_TIERS)


@pytest.mark.parametrize(
    "q, expected",
    [
        pytest.param(
            "0", "1", id="graduated: zero usage still reaches tier 1 and pays its flat fee"
        ),
        pytest.param("3", "4", id="graduated: 3 units in tier 1 are 1 + 3×1"),
        pytest.param("2.5", "3.5", id="graduated: fractional 2.5 units are 1 + 2.5×1"),
        pytest.param("5", "6", id="graduated: exactly at tier 1's up_to stays in tier 1 (1 + 5×1)"),
        pytest.param(
            "5.000000001",
            "8.0000000005",
            id="graduated: one billionth above up_to reaches tier 2 and adds its flat fee "
            "(6 + 2 + 0.000000001×0.5)",
        ),
        pytest.param(
            "5.001",
            "8.0005",
            id="graduated: 5.001 crosses into tier 2 and adds its flat fee (6 + 2 + 0.0005)",
        ),
        pytest.param("10", "10.5", id="graduated: exactly at tier 2's up_to (6 + 2 + 5×0.5)"),
        pytest.param(
            "10.000000001",
            "13.5000000001",
            id="graduated: one billionth into tier 3 (10.5 + 3 + 0.000000001×0.1)",
        ),
        pytest.param("12.5", "13.75", id="graduated: 12.5 units are 10.5 + 3 + 2.5×0.1"),
    ],
)
def test_graduated(q, expected):
    assert price_graduated(GRADUATED, D(q), 0) == D(expected)


@pytest.mark.parametrize(
    "q, expected",
    [
        pytest.param("0", "1", id="volume: zero usage takes tier 1: amount = its flat fee 1"),
        pytest.param("2.5", "3.5", id="volume: fractional 2.5 units all at tier 1 (2.5×1 + 1)"),
        pytest.param(
            "5", "6", id="volume: exactly at tier 1's up_to prices all in tier 1 (5×1 + 1)"
        ),
        pytest.param(
            "5.000000001",
            "4.5000000005",
            id="volume: one billionth above up_to prices all units in tier 2 (5.000000001×0.5 + 2)",
        ),
        pytest.param("10", "7", id="volume: exactly at tier 2's up_to (10×0.5 + 2)"),
        pytest.param(
            "10.000000001",
            "4.0000000001",
            id="volume: one billionth into tier 3 (10.000000001×0.1 + 3)",
        ),
    ],
)
def test_volume(q, expected):
    assert price_volume(VOLUME, D(q), 0) == D(expected)


def test_volume_spec_storage_example_is_continuous_at_its_bound():
    # SPEC §6.1 storage: up to 100 GB at 0.10, above at 0.08 plus a flat fee of 5.
    storage = charge(
        "storage", "storage_gb", "volume", tiers=tiers(("100", "0.10", "0"), (None, "0.08", "5"))
    )
    assert price_volume(storage, D("100"), 0) == D("10")  # 100 × 0.10
    assert price_volume(storage, D("100.5"), 0) == D("13.04")  # 100.5 × 0.08 + 5


PER_UNIT = charge("api", "api_calls", "per_unit", unit_price="0.002")


@pytest.mark.parametrize(
    "q, expected",
    [
        pytest.param("0", "0", id="per_unit: zero usage costs nothing"),
        pytest.param("1500", "3", id="per_unit: 1500 calls at 0.002 are 3"),
        pytest.param("0.5", "0.001", id="per_unit: half a unit at 0.002 is 0.001"),
        pytest.param(
            "123456789.123456789",
            "246913.578246913578",
            id="per_unit: a long fractional quantity stays exact",
        ),
    ],
)
def test_per_unit(q, expected):
    assert price_per_unit(PER_UNIT, D(q), 0) == D(expected)


PACKAGE = charge("exports", "api_calls", "package", package_size="1000", package_price="5.00")


@pytest.mark.parametrize(
    "spec, q, expected",
    [
        pytest.param(PACKAGE, "0", "0", id="package: zero usage buys no package"),
        pytest.param(PACKAGE, "1", "5", id="package: one unit starts a package of 1000 (5.00)"),
        pytest.param(PACKAGE, "1000", "5", id="package: exactly one package size is one package"),
        pytest.param(
            PACKAGE,
            "1000.000000001",
            "10",
            id="package: one billionth above a package size starts a second package",
        ),
        pytest.param(PACKAGE, "2500", "15", id="package: 2500 units are ceil(2.5) = 3 packages"),
        pytest.param(
            charge("p", "storage_gb", "package", package_size="0.5", package_price="1"),
            "1.2",
            "3",
            id="package: fractional sizes, 1.2 / 0.5 = 2.4 → 3 packages",
        ),
    ],
)
def test_package(spec, q, expected):
    assert price_package(spec, D(q), 0) == D(expected)


PERCENTAGE = charge(
    "recovered", "recovered_amount", "percentage", rate="0.25", fee_per_event="0.10"
)


@pytest.mark.parametrize(
    "q, events, expected",
    [
        pytest.param("0", 0, "0", id="percentage: nothing recovered, no events, nothing owed"),
        pytest.param("100", 4, "25.4", id="percentage: 25% of 100 plus 4 events × 0.10"),
        pytest.param("0.01", 1, "0.1025", id="percentage: 25% of 0.01 is 0.0025, plus 0.10"),
    ],
)
def test_percentage(q, events, expected):
    assert price_percentage(PERCENTAGE, D(q), events) == D(expected)


@pytest.mark.parametrize(
    "spec, aggregate, events, expected",
    [
        pytest.param(
            charge("api", "api_calls", "per_unit", unit_price="0.002", free_units="1000"),
            "1500",
            1500,
            ("500", "1000", "1"),
            id="free units: 1000 of 1500 calls are free, 500 × 0.002 = 1",
        ),
        pytest.param(
            charge("api", "api_calls", "per_unit", unit_price="0.002", free_units="1000"),
            "400",
            400,
            ("0", "400", "0"),
            id="free units larger than usage: all 400 free, q = 0",
        ),
        pytest.param(
            charge("g", "llm_tokens", "graduated", tiers=THREE_TIERS, free_units="2"),
            "7",
            3,
            ("5", "2", "6"),
            id="free units come off before tiers: 7 − 2 = 5 lands exactly on up_to (1 + 5)",
        ),
        pytest.param(
            charge(
                "r",
                "recovered_amount",
                "percentage",
                rate="0.25",
                fee_per_event="0.1",
                free_units="100",
            ),
            "50",
            3,
            ("0", "50", "0.3"),
            id="free units do not waive per-event fees (event_count is before free units)",
        ),
        pytest.param(
            charge("s", "storage_gb", "per_unit", unit_price="1", free_units="10"),
            "-5",
            2,
            ("0", "0", "0"),
            id="a negative aggregate bills as 0 with no free quantity",
        ),
        pytest.param(
            charge("api", "api_calls", "per_unit", unit_price="0.002"),
            "1500",
            1500,
            ("1500", "0", "3"),
            id="no free units: free quantity is 0",
        ),
    ],
)
def test_price_charge_applies_free_units_first(spec, aggregate, events, expected):
    assert price_charge(spec, D(aggregate), events) == tuple(D(x) for x in expected)


def test_the_registry_names_every_model_once():
    assert MODELS == {
        "per_unit": price_per_unit,
        "graduated": price_graduated,
        "volume": price_volume,
        "package": price_package,
        "percentage": price_percentage,
    }


@pytest.mark.parametrize(
    "exact, minor, mode, expected",
    [
        pytest.param("0.005", 2, "half_up", "0.01", id="half a cent rounds up under half_up"),
        pytest.param("0.005", 2, "half_even", "0.00", id="half a cent rounds to the even 0.00"),
        pytest.param("0.015", 2, "half_even", "0.02", id="1.5 cents round to the even 0.02"),
        pytest.param("0.025", 2, "half_even", "0.02", id="2.5 cents round to the even 0.02"),
        pytest.param("0.025", 2, "half_up", "0.03", id="2.5 cents round up to 0.03 under half_up"),
        pytest.param("0.0049999", 2, "half_up", "0.00", id="just under half a cent rounds down"),
        pytest.param("0.5", 0, "half_up", "1", id="JPY: half a yen rounds up to 1 under half_up"),
        pytest.param("0.5", 0, "half_even", "0", id="JPY: half a yen rounds to the even 0"),
        pytest.param("2.5", 0, "half_even", "2", id="JPY: 2.5 yen round to the even 2"),
        pytest.param("0.0005", 3, "half_up", "0.001", id="KWD: half a fils rounds up"),
        pytest.param("-0.005", 2, "half_up", "-0.01", id="half_up is half away from zero"),
    ],
)
def test_rounding_once_per_line(exact, minor, mode, expected):
    assert round_money(D(exact), minor, mode) == D(expected)


def test_a_half_cent_usage_line_rounds_by_the_configured_mode():
    # 5 calls at 0.001 = 0.005 exactly: 0.01 under half_up, 0.00 under half_even.
    api = charge("api", "api_calls", "per_unit", unit_price="0.001")
    _, _, exact = price_charge(api, D(5), 5)
    assert exact == D("0.005")
    assert (round_money(exact, 2, "half_up"), round_money(exact, 2, "half_even")) == (
        D("0.01"),
        D("0.00"),
    )


def test_a_jpy_package_line_rounds_to_whole_yen():
    # 3 packages of 10 at 0.5 yen = 1.5 yen: 2 under half_up and under half_even (2 is even).
    yen = charge("p", "api_calls", "package", package_size="10", package_price="0.5")
    _, _, exact = price_charge(yen, D(21), 21)
    assert exact == D("1.5")
    assert round_money(exact, 0, "half_up") == round_money(exact, 0, "half_even") == D(2)
