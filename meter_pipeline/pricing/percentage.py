"""``percentage`` (docs/rules.md#7-pricing): a share of the value, plus a fee per event
(outcome-based pricing).

``rate`` is a fraction (0.25 = 25 %). ``event_count`` counts the events before free units, so
free units lower the share but not the per-event fees.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from meter_pipeline.config.charges import Charge
from meter_pipeline.money import EXACT


def price_percentage(charge: Charge, quantity: Decimal, event_count: int) -> Decimal:
    """Exact amount ``quantity × rate + event_count × fee_per_event``."""
    with localcontext(EXACT):
        return quantity * charge.rate + event_count * charge.fee_per_event
