"""Builders for billing tests: clean-event frames, meters, plans and subscriptions in code.

Nothing here computes an expected value; tests work amounts out by hand in their comments.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.ingestion import CleanEvents
from meter_pipeline.config.charges import Charge, Tier
from meter_pipeline.config.customers import Subscription
from meter_pipeline.config.meters import Meter, MetersConfig
from meter_pipeline.config.pricing import Plan, PlatformFee, PricingConfig

UTC = dt.timezone.utc
D = Decimal
_ids = itertools.count(1)

METERS = MetersConfig({m.name: m for m in (
    Meter("api_calls", "count", "call"),
    Meter("llm_tokens", "sum", "token", ("model",)),
    Meter("storage_gb", "max"),
    Meter("seats", "latest"),
    Meter("active_users", "unique_count", unique_dimension="user_id"),
    Meter("recovered_amount", "sum", "USD"),
)})


def event(customer: str, meter: str, when: str, value: str | None = None,
          dims: dict[str, str] | None = None, *, period: str | None = "auto", late: bool = False,
          landing: str | None = None) -> dict[str, Any]:
    """One clean event; ``when`` is ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``. ``period="auto"``
    bills it in its event month (pass a period for a late event, None for an ignored one)."""
    time = dt.datetime.fromisoformat(when if "T" in when else f"{when}T12:00")
    time = time.replace(tzinfo=UTC)
    number = next(_ids)
    return {
        "event_id": f"e{number}", "customer_id": customer, "meter": meter, "event_time": time,
        "value": None if value is None else D(value),
        "dimensions": [{"key": k, "value": v} for k, v in sorted((dims or {}).items())],
        "landing_date": dt.date.fromisoformat(landing) if landing else time.date(),
        "billing_period": time.strftime("%Y-%m") if period == "auto" else period,
        "late": late, "source_file": "landing/events/x.jsonl", "line_number": number,
    }


def events_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=polars_schema(CleanEvents))


def tiers(*specs: tuple[str | None, str, str]) -> tuple[Tier, ...]:
    """``("5", "1", "0")`` = up_to, unit_price, flat_fee; up_to None = no bound."""
    return tuple(Tier(None if up is None else D(up), D(price), D(fee)) for up, price, fee in specs)


def charge(id: str, meter: str, model: str, **kw: Any) -> Charge:
    """A charge; string keyword values become Decimals, ``filter`` a dict."""
    values: dict[str, Any] = {}
    for key, value in kw.items():
        if key == "filter":
            value = tuple(sorted(value.items()))
        elif isinstance(value, str):
            value = D(value)
        values[key] = value
    return Charge(id, meter, model, **values)


def plan(id: str, *charges: Charge, currency: str = "USD", minor_units: int = 2,
         fees: dict[str, str] | None = None, minimum: str | None = None) -> Plan:
    return Plan(id, currency, minor_units,
                tuple(PlatformFee(s, D(a)) for s, a in (fees or {}).items()),
                None if minimum is None else D(minimum), tuple(charges))


def pricing(*plans: Plan, rounding: str = "half_up", late_events: str = "next_open_period",
            grace_days: int = 3) -> PricingConfig:
    return PricingConfig(grace_days, late_events, rounding, {p.id: p for p in plans})


def sub(customer: str, plan_id: str, start: str, end: str | None = None) -> Subscription:
    return Subscription(customer, customer.title(), plan_id, dt.date.fromisoformat(start),
                        None if end is None else dt.date.fromisoformat(end))
