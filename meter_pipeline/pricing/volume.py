"""``volume`` (docs/rules.md#7-pricing): the whole quantity at the price of the tier it falls in."""

from __future__ import annotations

from decimal import Decimal, localcontext

from meter_pipeline.config.charges import Charge
from meter_pipeline.money import EXACT


def price_volume(charge: Charge, quantity: Decimal, event_count: int) -> Decimal:
    """Exact amount: the first tier with ``quantity ≤ up_to`` (null = no bound) prices all of it,
    plus that tier's flat_fee; quantity 0 takes the first tier (amount = its flat_fee)."""
    with localcontext(EXACT):
        for tier in charge.tiers:
            if tier.up_to is None or quantity <= tier.up_to:
                return quantity * tier.unit_price + tier.flat_fee
    raise ValueError(f"charge {charge.id!r}: no tier covers {quantity} (last up_to must be null)")
