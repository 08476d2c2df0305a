"""``package`` (docs/rules.md#7-pricing): whole packages of ``package_size`` units, a started one
paid in full."""

from __future__ import annotations

from decimal import Decimal, localcontext

from meter_pipeline.config.charges import Charge
from meter_pipeline.money import EXACT


def count_packages(quantity: Decimal, package_size: Decimal) -> int:
    """``ceil(quantity / package_size)``, exactly (no division rounding)."""
    with localcontext(EXACT):
        whole, rest = divmod(quantity, package_size)
        return int(whole) + (1 if rest > 0 else 0)


def price_package(charge: Charge, quantity: Decimal, event_count: int) -> Decimal:
    """Exact amount ``ceil(quantity / package_size) × package_price``; 0 units cost 0."""
    assert charge.package_size is not None, "a package charge has a package_size"
    with localcontext(EXACT):
        return count_packages(quantity, charge.package_size) * charge.package_price
