"""pricing.yaml and customers.csv: typed and exact; each error is one line naming file, key/row
and rule."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal as D

import pytest

from meter_pipeline.config.charges import Tier
from meter_pipeline.config.customers import load_customers, parse_customers
from meter_pipeline.config.errors import ConfigError
from meter_pipeline.config.pricing import (
    BillingRules,
    load_billing_rules,
    load_pricing,
    minor_units_of,
)
from tests.helpers.billing import METERS

SPEC_PRICING = """\
grace_days: 3
late_events: next_open_period
rounding: half_up
plans:
  - id: growth
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "300.00"}
      - {service: billing_meter, amount: "200.00"}
    minimum_commitment: "1000.00"
    charges:
      - id: api
        meter: api_calls
        model: per_unit
        unit_price: "0.002"
        free_units: "1000"
      - id: tokens_large
        meter: llm_tokens
        filter: {model: large}
        model: graduated
        tiers:
          - {up_to: "1000000", unit_price: "0.00001", flat_fee: "0"}
          - {up_to: null,      unit_price: "0.000008"}
      - {id: storage, meter: storage_gb, model: volume,
         tiers: [{up_to: "100", unit_price: "0.10"},
                 {up_to: null, unit_price: "0.08", flat_fee: "5"}]}
      - {id: exports, meter: api_calls, model: package, package_size: "1000",
         package_price: "5.00"}
      - {id: recovered, meter: recovered_amount, model: percentage, rate: "0.25",
         fee_per_event: "0"}
  - id: tokyo
    currency: JPY
    platform_fees: [{service: cloud_meter, amount: "30000"}]
    charges: [{id: api, meter: api_calls, model: per_unit, unit_price: "0.3"}]
"""


def write(tmp_path, name, text):
    (tmp_path / "reference").mkdir(exist_ok=True)
    (tmp_path / "reference" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def load(tmp_path, text):
    return load_pricing(write(tmp_path, "pricing.yaml", text), METERS)


def test_the_spec_example_loads_into_exact_decimals(tmp_path):
    config = load(tmp_path, SPEC_PRICING)
    growth, tokyo = config.plans["growth"], config.plans["tokyo"]
    assert (config.grace_days, config.late_events, config.rounding) == (
        3,
        "next_open_period",
        "half_up",
    )
    assert config.rules == BillingRules(3, "next_open_period")
    assert (growth.currency, growth.minor_units, tokyo.minor_units) == ("USD", 2, 0)
    assert [f.amount for f in growth.platform_fees] == [D("300.00"), D("200.00")]
    assert growth.minimum_commitment == D("1000.00")
    api, tokens, storage, exports, recovered = growth.charges
    assert (api.unit_price, api.free_units) == (D("0.002"), D("1000"))
    assert tokens.filter == (("model", "large"),)
    assert tokens.tiers == (Tier(D("1000000"), D("0.00001"), D(0)), Tier(None, D("0.000008"), D(0)))
    assert storage.tiers[1].flat_fee == D(5)
    assert (exports.package_size, exports.package_price) == (D(1000), D("5.00"))
    assert (recovered.rate, recovered.fee_per_event) == (D("0.25"), D(0))
    assert all(isinstance(t.unit_price, D) for c in growth.charges for t in c.tiers)


def test_billing_rules_still_load_on_their_own(tmp_path):
    assert load_billing_rules(write(tmp_path, "pricing.yaml", SPEC_PRICING)) == BillingRules(3)


@pytest.mark.parametrize("code, units", [("USD", 2), ("JPY", 0), ("KWD", 3), ("EUR", 2)])
def test_minor_units_come_from_iso_4217(code, units):
    assert minor_units_of(code) == units


def plan_with(charge_yaml: str, extra: str = "") -> str:
    return f"""\
plans:
  - id: p
    currency: USD
{extra}    charges:
      - {charge_yaml}
"""


PRICING_ERRORS = [
    pytest.param(
        plan_with("{id: a, meter: api_calls, model: per_unit, unit_price: 0.002}"),
        "reference/pricing.yaml: plans[0].charges[0].unit_price: must be a decimal string "
        'such as "0.25", got a YAML float 0.002 (inexact; quote it)',
        id="a price written as a YAML float is rejected",
    ),
    pytest.param(
        plan_with("{id: a, meter: api_calls, model: per_unit, free_units: 1000}"),
        "reference/pricing.yaml: plans[0].charges[0].free_units: must be a decimal "
        'string such as "0.25", got a YAML integer 1000 (quote it)',
        id="a quantity written as a YAML integer is rejected",
    ),
    pytest.param(
        plan_with('{id: a, meter: api_calls, model: per_unit, unit_price: "abc"}'),
        "reference/pricing.yaml: plans[0].charges[0].unit_price: must be a decimal "
        "number, got 'abc'",
        id="a price string that is not a number is rejected",
    ),
    pytest.param(
        plan_with('{id: a, meter: api_calls, model: per_unit, unit_price: "-1"}'),
        "reference/pricing.yaml: plans[0].charges[0].unit_price: must be ≥ 0, got '-1'",
        id="a negative price is rejected",
    ),
    pytest.param(
        plan_with('{id: a, meter: api_calls, model: per_unit, unit_price: "0.0000000001"}'),
        "reference/pricing.yaml: plans[0].charges[0].unit_price: must have at most 9 "
        "decimal places, got '0.0000000001'",
        id="a unit price finer than 1e-9 is rejected",
    ),
    pytest.param(
        plan_with("{id: a, meter: bananas, model: per_unit}"),
        "reference/pricing.yaml: plans[0].charges[0].meter: unknown meter 'bananas' "
        "(not in reference/meters.yaml)",
        id="a charge on an unknown meter is rejected",
    ),
    pytest.param(
        plan_with("{id: a, meter: api_calls, model: tiered}"),
        "reference/pricing.yaml: plans[0].charges[0].model: must be one of per_unit, "
        "graduated, volume, package, percentage, got 'tiered'",
        id="an unknown model is rejected",
    ),
    pytest.param(
        plan_with("{id: a, meter: api_calls, model: graduated}"),
        "reference/pricing.yaml: plans[0].charges[0].tiers: is required by model graduated",
        id="graduated without tiers is rejected",
    ),
    pytest.param(
        plan_with('{id: a, meter: api_calls, model: package, package_size: "10"}'),
        "reference/pricing.yaml: plans[0].charges[0].package_price: is required by model package",
        id="package without a price is rejected",
    ),
    pytest.param(
        plan_with(
            '{id: a, meter: api_calls, model: package, package_size: "0", package_price: "1"}'
        ),
        "reference/pricing.yaml: plans[0].charges[0].package_size: must be > 0, got '0'",
        id="a zero package size is rejected",
    ),
    pytest.param(
        plan_with("{id: a, meter: api_calls, model: percentage}"),
        "reference/pricing.yaml: plans[0].charges[0].rate: is required by model percentage",
        id="percentage without a rate is rejected",
    ),
    pytest.param(
        plan_with('{id: a, meter: api_calls, model: per_unit, rate: "0.1"}'),
        "reference/pricing.yaml: plans[0].charges[0].rate: is not a known key (expected "
        "one of: description, filter, free_units, id, meter, model, name, unit_price)",
        id="a key the model does not use is rejected",
    ),
    pytest.param(
        plan_with(
            "{id: a, meter: api_calls, model: volume, tiers: "
            '[{up_to: "10"}, {up_to: "10"}, {up_to: null}]}'
        ),
        "reference/pricing.yaml: plans[0].charges[0].tiers[1].up_to: tiers must be "
        "strictly increasing: 10 is not above 10",
        id="tiers that do not increase are rejected",
    ),
    pytest.param(
        plan_with(
            '{id: a, meter: api_calls, model: graduated, tiers: [{up_to: "10"}, {up_to: "20"}]}'
        ),
        "reference/pricing.yaml: plans[0].charges[0].tiers[1].up_to: the last tier must "
        "have up_to: null",
        id="tiers that do not end with up_to null are rejected",
    ),
    pytest.param(
        plan_with(
            "{id: a, meter: api_calls, model: graduated, tiers: [{up_to: null}, {up_to: null}]}"
        ),
        "reference/pricing.yaml: plans[0].charges[0].tiers[0].up_to: only the last tier "
        "may have up_to: null",
        id="an unbounded tier before the last is rejected",
    ),
    pytest.param(
        plan_with('{id: a, meter: api_calls, model: graduated, tiers: [{unit_price: "1"}]}'),
        "reference/pricing.yaml: plans[0].charges[0].tiers[0].up_to: is required (null "
        "on the last tier)",
        id="a tier without up_to is rejected",
    ),
    pytest.param(
        plan_with("{id: a, meter: llm_tokens, model: per_unit, filter: {tier: 1}}"),
        "reference/pricing.yaml: plans[0].charges[0].filter: must be a mapping of "
        'dimension name to string value (quote numbers: {tier: "1"})',
        id="a filter value that is not a string is rejected",
    ),
    pytest.param(
        plan_with(
            "{id: a, meter: api_calls, model: per_unit}",
            extra="    platform_fees: [{service: s, amount: 300}]\n",
        ),
        "reference/pricing.yaml: plans[0].platform_fees[0].amount: must be a decimal "
        'string such as "0.25", got a YAML integer 300 (quote it)',
        id="a platform fee written as a YAML integer is rejected",
    ),
    pytest.param(
        plan_with(
            "{id: a, meter: api_calls, model: per_unit}", extra="    minimum_commitment: 99.5\n"
        ),
        "reference/pricing.yaml: plans[0].minimum_commitment: must be a decimal string "
        'such as "0.25", got a YAML float 99.5 (inexact; quote it)',
        id="a minimum written as a YAML float is rejected",
    ),
    pytest.param(
        "plans: [{id: p, currency: ZZZ}]\n",
        "reference/pricing.yaml: plans[0].currency: unknown ISO 4217 currency 'ZZZ'",
        id="an unknown currency is rejected",
    ),
    pytest.param(
        "plans: [{id: p, currency: usd}]\n",
        "reference/pricing.yaml: plans[0].currency: must be an upper-case ISO 4217 code "
        "such as USD, got 'usd'",
        id="a lower-case currency is rejected",
    ),
    pytest.param(
        "plans: [{id: p, currency: XAU}]\n",
        "reference/pricing.yaml: plans[0].currency: currency 'XAU' has no usable minor "
        "unit (0 to 4 decimals) for invoicing",
        id="gold has no minor unit to bill in",
    ),
    pytest.param(
        "plans: [{id: p, currency: USD}, {id: p, currency: EUR}]\n",
        "reference/pricing.yaml: plans[1].id: plan id 'p' is defined twice",
        id="a plan id used twice is rejected",
    ),
    pytest.param(
        plan_with(
            "{id: a, meter: api_calls, model: per_unit}\n      - "
            "{id: a, meter: api_calls, model: per_unit}"
        ),
        "reference/pricing.yaml: plans[0].charges[1].id: charge id 'a' is used twice in plan 'p'",
        id="a charge id used twice in a plan is rejected",
    ),
    pytest.param(
        "rounding: half_down\n",
        "reference/pricing.yaml: rounding: must be one of half_up, half_even, got 'half_down'",
        id="an unknown rounding mode is rejected",
    ),
    pytest.param(
        "late_events: drop\n",
        "reference/pricing.yaml: late_events: must be one of next_open_period, ignore, got 'drop'",
        id="an unknown late-event policy is rejected",
    ),
    pytest.param(
        "plans: []\ntaxes: 1\n",
        "reference/pricing.yaml: taxes: is not a known key (expected one of: grace_days, "
        "late_events, plans, rounding)",
        id="an unknown top-level key is rejected",
    ),
]


@pytest.mark.parametrize("text, message", PRICING_ERRORS)
def test_a_pricing_error_is_one_line_naming_file_key_and_rule(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_pricing_yaml_is_required_for_billing(tmp_path):
    with pytest.raises(ConfigError, match=r"^reference/pricing.yaml: \(file\): is required"):
        load_pricing(tmp_path, METERS)


CUSTOMERS_OK = """\
customer_id,customer_name,plan_id,start_date,end_date
acme,Acme Corp,growth,2026-01-01,2026-11-15
acme,Acme Corp,growth,2026-11-16,

kyoto,Kyoto KK,tokyo,2026-11-10,
"""


def test_customers_load_sorted_with_open_ends_and_blank_lines_skipped(tmp_path):
    config = load(tmp_path, SPEC_PRICING)
    subs = load_customers(write(tmp_path, "customers.csv", CUSTOMERS_OK), config)
    # each row keeps the line of the file it is on (header = line 1; line 4 is blank)
    assert [(s.customer_id, s.plan_id, s.start_date, s.end_date, s.line) for s in subs] == [
        ("acme", "growth", dt.date(2026, 1, 1), dt.date(2026, 11, 15), 2),
        ("acme", "growth", dt.date(2026, 11, 16), None, 3),
        ("kyoto", "tokyo", dt.date(2026, 11, 10), None, 5),
    ]
    # November has 30 days: the first runs 1–15 (15 days), the second 16–30 (15 days).
    first, last = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    assert [s.active_days(first, last) for s in subs] == [15, 15, 21]


HEADER = "customer_id,customer_name,plan_id,start_date,end_date\n"
CUSTOMER_ERRORS = [
    pytest.param(
        "a,A,growth,2026-01-01,\nb,B,gold,2026-01-01,\n",
        "reference/customers.csv: line 3: unknown plan 'gold' (not in reference/pricing.yaml)",
        id="an unknown plan names its row",
    ),
    pytest.param(
        "a,A,growth,2026-01-01,2026-03-31\na,A,growth,2026-03-31,\n",
        "reference/customers.csv: line 3: subscription of customer 'a' overlaps line 2",
        id="subscriptions sharing a day overlap",
    ),
    pytest.param(
        "a,A,growth,2026-05-01,\na,A,growth,2026-01-01,2026-06-01\n",
        "reference/customers.csv: line 3: subscription of customer 'a' overlaps line 2",
        id="an open subscription overlaps a later-listed earlier one",
    ),
    pytest.param(
        "a,A,growth,2026-01-01,2026-03-31\na,A,tokyo,2026-04-01,\n",
        "reference/customers.csv: line 3: customer 'a' mixes currencies: plan 'tokyo' is "
        "JPY but line 2 is USD",
        id="one customer in two currencies is rejected",
    ),
    pytest.param(
        "a,A,growth,2026-1-01,\n",
        "reference/customers.csv: line 2: start_date must be a date YYYY-MM-DD, got '2026-1-01'",
        id="a malformed start date names its row",
    ),
    pytest.param(
        "a,A,growth,2026-02-30,\n",
        "reference/customers.csv: line 2: start_date '2026-02-30' is not a calendar date",
        id="a date that does not exist is rejected",
    ),
    pytest.param(
        "a,A,growth,2026-03-01,2026-02-28\n",
        "reference/customers.csv: line 2: end_date 2026-02-28 is before start_date 2026-03-01",
        id="an end before the start is rejected",
    ),
    pytest.param(
        "a,A,growth,,\n",
        "reference/customers.csv: line 2: start_date must be a date YYYY-MM-DD, got ''",
        id="a missing start date is rejected",
    ),
    pytest.param(
        ",A,growth,2026-01-01,\n",
        "reference/customers.csv: line 2: customer_id is empty",
        id="an empty customer id is rejected",
    ),
    pytest.param(
        "a,A,growth,2026-01-01\n",
        "reference/customers.csv: line 2: has 4 cells, the header has 5",
        id="a short row is rejected",
    ),
]


@pytest.mark.parametrize("rows, message", CUSTOMER_ERRORS)
def test_a_customers_error_is_one_line_naming_file_row_and_rule(tmp_path, rows, message):
    config = load(tmp_path, SPEC_PRICING)
    with pytest.raises(ConfigError) as caught:
        load_customers(write(tmp_path, "customers.csv", HEADER + rows), config)
    assert str(caught.value) == message


def test_a_header_without_plan_id_is_rejected(tmp_path):
    config = load(tmp_path, SPEC_PRICING)
    with pytest.raises(ConfigError) as caught:
        parse_customers("customer_id,customer_name,start_date,end_date\n", config)
    assert (
        str(caught.value) == "reference/customers.csv: line 1: the header lacks column(s) plan_id"
    )
