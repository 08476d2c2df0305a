"""``reference/pricing.yaml``: billing-period rules, rounding and the price book
(docs/rules.md#6-billing-periods-and-late-events, docs/rules.md#7-pricing).

Ingestion needs only :class:`BillingRules` (grace period and late-event policy), loaded leniently
by :func:`load_billing_rules`. Billing loads the whole file with :func:`load_pricing` into frozen
dataclasses whose every number is a :class:`~decimal.Decimal` parsed from its decimal string
(see :mod:`meter_pipeline.config.charges`).

Choices the rules leave open (also in docs/decisions.md):

- The currency is an upper-case ISO 4217 code; its minor units come from the ``iso4217`` package.
  Codes without minor units (XAU, XXX …) or with more than 4 (money columns are Decimal(38, 4))
  are rejected.
- ``platform_fees`` and ``charges`` may be empty; a plan's services and charge ids are unique.
- ``minimum_commitment`` omitted means no minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from iso4217 import Currency

from meter_pipeline.config.charges import Charge, Tier, parse_charge, require_decimal
from meter_pipeline.config.errors import (
    ConfigError,
    read_yaml,
    reject_unknown_keys,
    require_int,
    require_str,
)
from meter_pipeline.config.meters import MetersConfig

FILE = "reference/pricing.yaml"
LATE_POLICIES = ("next_open_period", "ignore")
ROUNDING = ("half_up", "half_even")
MAX_MINOR_UNITS = 4

__all__ = [
    "BillingRules",
    "Charge",
    "Plan",
    "PlatformFee",
    "PricingConfig",
    "Tier",
    "load_billing_rules",
    "load_pricing",
    "minor_units_of",
    "parse_pricing",
]


@dataclass(frozen=True)
class BillingRules:
    grace_days: int = 3
    late_events: str = "next_open_period"


@dataclass(frozen=True)
class PlatformFee:
    """A monthly fee for one service, prorated by active days."""

    service: str
    amount: Decimal


@dataclass(frozen=True)
class Plan:
    id: str
    currency: str
    minor_units: int
    platform_fees: tuple[PlatformFee, ...] = ()
    minimum_commitment: Decimal | None = None
    charges: tuple[Charge, ...] = ()


@dataclass(frozen=True)
class PricingConfig:
    grace_days: int = 3
    late_events: str = "next_open_period"
    rounding: str = "half_up"
    plans: dict[str, Plan] = field(default_factory=dict)

    @property
    def rules(self) -> BillingRules:
        return BillingRules(self.grace_days, self.late_events)


def parse_billing_rules(data: dict) -> BillingRules:
    grace = require_int(data.get("grace_days", 3), FILE, "grace_days")
    late = data.get("late_events", "next_open_period")
    if late not in LATE_POLICIES:
        raise ConfigError(
            FILE, "late_events", f"must be one of {', '.join(LATE_POLICIES)}, got {late!r}"
        )
    return BillingRules(grace, late)


def load_billing_rules(root: str | Path) -> BillingRules:
    """Grace days and late-event policy; defaults when pricing.yaml is absent."""
    return parse_billing_rules(read_yaml(root, FILE, required=False))


def minor_units_of(currency: Any, file: str = FILE, key: str = "currency") -> int:
    """The ISO 4217 minor units of ``currency`` (USD 2, JPY 0, KWD 3); ConfigError otherwise."""
    if (
        not isinstance(currency, str)
        or not currency.isascii()
        or not currency.isupper()
        or len(currency) != 3
    ):
        raise ConfigError(
            file, key, f"must be an upper-case ISO 4217 code such as USD, got {currency!r}"
        )
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        raise ConfigError(file, key, f"unknown ISO 4217 currency {currency!r}") from None
    if exponent is None or exponent > MAX_MINOR_UNITS:
        raise ConfigError(
            file,
            key,
            f"currency {currency!r} has no usable minor unit "
            f"(0 to {MAX_MINOR_UNITS} decimals) for invoicing",
        )
    return exponent


_TOP = {"grace_days", "late_events", "rounding", "plans"}
_PLAN = {"id", "name", "description", "currency", "platform_fees", "minimum_commitment", "charges"}
_FEE = {"service", "amount"}


def _list(raw: Any, key: str) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(FILE, key, "must be a list")
    return raw


def _parse_fees(raw: Any, where: str) -> tuple[PlatformFee, ...]:
    fees: list[PlatformFee] = []
    for j, item in enumerate(_list(raw, f"{where}.platform_fees")):
        at = f"{where}.platform_fees[{j}]"
        if not isinstance(item, dict):
            raise ConfigError(FILE, at, "must be a mapping with service and amount")
        reject_unknown_keys(item, _FEE, FILE, f"{at}.")
        service = require_str(item.get("service"), FILE, f"{at}.service")
        if any(fee.service == service for fee in fees):
            raise ConfigError(FILE, f"{at}.service", f"service {service!r} has two platform fees")
        fees.append(PlatformFee(service, require_decimal(item.get("amount"), FILE, f"{at}.amount")))
    return tuple(fees)


def _parse_plan(raw: Any, where: str, meters: MetersConfig) -> Plan:
    if not isinstance(raw, dict):
        raise ConfigError(FILE, where, "must be a mapping with id, currency and charges")
    reject_unknown_keys(raw, _PLAN, FILE, f"{where}.")
    plan_id = require_str(raw.get("id"), FILE, f"{where}.id")
    currency = raw.get("currency")
    minor = minor_units_of(currency, FILE, f"{where}.currency")
    minimum = raw.get("minimum_commitment")
    if minimum is not None:
        minimum = require_decimal(minimum, FILE, f"{where}.minimum_commitment")
    charges: list[Charge] = []
    for j, item in enumerate(_list(raw.get("charges"), f"{where}.charges")):
        charge = parse_charge(item, FILE, f"{where}.charges[{j}]", meters.meters)
        if any(c.id == charge.id for c in charges):
            raise ConfigError(
                FILE,
                f"{where}.charges[{j}].id",
                f"charge id {charge.id!r} is used twice in plan {plan_id!r}",
            )
        charges.append(charge)
    return Plan(
        plan_id,
        currency,
        minor,
        _parse_fees(raw.get("platform_fees"), where),
        minimum,
        tuple(charges),
    )


def parse_pricing(data: dict, meters: MetersConfig) -> PricingConfig:
    """Validate a parsed pricing.yaml mapping (see :func:`load_pricing`)."""
    reject_unknown_keys(data, _TOP, FILE, "")
    rules = parse_billing_rules(data)
    rounding = data.get("rounding", "half_up")
    if rounding not in ROUNDING:
        raise ConfigError(
            FILE, "rounding", f"must be one of {', '.join(ROUNDING)}, got {rounding!r}"
        )
    plans: dict[str, Plan] = {}
    for i, raw in enumerate(_list(data.get("plans"), "plans")):
        plan = _parse_plan(raw, f"plans[{i}]", meters)
        if plan.id in plans:
            raise ConfigError(FILE, f"plans[{i}].id", f"plan id {plan.id!r} is defined twice")
        plans[plan.id] = plan
    return PricingConfig(rules.grace_days, rules.late_events, rounding, plans)


def load_pricing(root: str | Path, meters_config: MetersConfig) -> PricingConfig:
    """Load and validate ``<root>/reference/pricing.yaml`` (required for billing).

    Raises
    ------
    ConfigError
        One line ``reference/pricing.yaml: <key>: <rule>`` for the first problem found.
    """
    return parse_pricing(read_yaml(root, FILE, required=True), meters_config)
