"""Charge models (docs/rules.md#7-pricing): one pure function per model, and the registry that picks
one.

Each model maps ``(charge, quantity, event_count)`` to the EXACT amount, never rounded: ``quantity``
is the aggregate after free units (≥ 0) and ``event_count`` the matching events before free units.
Rounding happens once per invoice line, in :func:`meter_pipeline.money.round_money`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext

from meter_pipeline.config.charges import Charge
from meter_pipeline.money import EXACT
from meter_pipeline.pricing.graduated import price_graduated
from meter_pipeline.pricing.package import price_package
from meter_pipeline.pricing.per_unit import price_per_unit
from meter_pipeline.pricing.percentage import price_percentage
from meter_pipeline.pricing.volume import price_volume

PriceFunction = Callable[[Charge, Decimal, int], Decimal]

MODELS: dict[str, PriceFunction] = {
    "per_unit": price_per_unit,
    "graduated": price_graduated,
    "volume": price_volume,
    "package": price_package,
    "percentage": price_percentage,
}


def apply_free_units(aggregate: Decimal, free_units: Decimal) -> tuple[Decimal, Decimal]:
    """Split an aggregate into ``(quantity, free_quantity)``.

    ``free_quantity = min(max(aggregate, 0), free_units)`` and ``quantity = max(aggregate, 0) −
    free_quantity``: a negative aggregate (an ``allow_negative`` meter) bills as 0.
    """
    with localcontext(EXACT):
        billable = max(aggregate, Decimal(0))
        free = min(billable, free_units)
        return billable - free + Decimal(0), free + Decimal(0)


def price_charge(
    charge: Charge, aggregate_quantity: Decimal, event_count: int
) -> tuple[Decimal, Decimal, Decimal]:
    """Price one charge: ``(quantity, free_quantity, exact_amount)``, the amount not rounded."""
    quantity, free = apply_free_units(aggregate_quantity, charge.free_units)
    return quantity, free, MODELS[charge.model](charge, quantity, event_count)


__all__ = [
    "MODELS",
    "PriceFunction",
    "apply_free_units",
    "price_charge",
    "price_graduated",
    "price_package",
    "price_per_unit",
    "price_percentage",
    "price_volume",
]
