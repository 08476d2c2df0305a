"""``per_unit`` (docs/rules.md#7-pricing): every unit at one price."""

from __future__ import annotations

from decimal import Decimal, localcontext

from meter_pipeline.config.charges import Charge
from meter_pipeline.money import EXACT


def price_per_unit(charge: Charge, quantity: Decimal, event_count: int) -> Decimal:
    """Exact amount ``quantity × unit_price`` (``quantity`` is after free units, ≥ 0)."""
    with localcontext(EXACT):
        return quantity * charge.unit_price
