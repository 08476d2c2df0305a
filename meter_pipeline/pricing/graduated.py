"""``graduated`` (docs/rules.md#7-pricing): each slice of the quantity at its own tier's price.

Tiers are taken in order; ``up_to`` is an inclusive upper bound and quantities are continuous, so
the units in (previous up_to, up_to] are priced at that tier's unit_price. A tier's flat_fee is
added once when the tier is reached: the first tier always (even at 0), a later tier when the
quantity is above the previous bound — 5.001 over a bound of 5 puts 0.001 units in the next tier
and adds its flat fee.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from meter_pipeline.config.charges import Charge
from meter_pipeline.money import EXACT


def price_graduated(charge: Charge, quantity: Decimal, event_count: int) -> Decimal:
    """Exact amount of ``quantity`` (after free units, ≥ 0) over the charge's tiers."""
    with localcontext(EXACT):
        amount = Decimal(0)
        lower = Decimal(0)
        for index, tier in enumerate(charge.tiers):
            if index > 0 and quantity <= lower:
                break
            upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
            amount += tier.flat_fee + max(upper - lower, Decimal(0)) * tier.unit_price
            if tier.up_to is None:
                break
            lower = tier.up_to
        return amount
