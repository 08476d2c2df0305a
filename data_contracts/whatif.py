"""Contracts of the what-if tables of ``meter-pipeline reprice`` (docs/whatif.md): written to the
``--out`` root only, never to the data root's warehouse, so they are not in ``CONTRACTS`` (a close
manifest lists the monthly tables of ``CONTRACTS``). Money as in invoices: decimal(38, 4)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_contracts.base import MONEY, PERCENT, PERIOD_PATTERN, QUANTITY, Contract


def _period() -> object:
    return pa.Field(
        str_matches=PERIOD_PATTERN, description="YYYY-MM billing month (the partition)."
    )


def _customer() -> object:
    return pa.Field(description="Customer.")


def _currency() -> object:
    return pa.Field(str_matches=r"^[A-Z]{3}$", description="ISO 4217 code of the invoice.")


class RepriceLines(Contract):
    """A stored invoice line (platform fee, usage or minimum commitment) next to the same line
    priced under a candidate pricing.yaml, over the events the stored line's lineage lists. A line
    on one side only has 0 on the other and a null plan id there. Grain: billing_period ×
    customer_id × subscription_start × kind × charge_id × service."""

    billing_period: str = _period()
    customer_id: str = _customer()
    currency: str = _currency()
    subscription_start: pl.Date = pa.Field(description="start_date of the subscription.")
    kind: str = pa.Field(
        isin=["platform_fee", "usage", "minimum_commitment"],
        description="platform_fee, usage or minimum_commitment.",
    )
    charge_id: str = pa.Field(nullable=True, description="Charge of a usage line.")
    service: str = pa.Field(nullable=True, description="Service of a platform_fee line.")
    meter: str = pa.Field(nullable=True, description="Meter of a usage line.")
    current_plan_id: str = pa.Field(
        nullable=True, description="Plan of the stored line (null: no such stored line)."
    )
    candidate_plan_id: str = pa.Field(
        nullable=True, description="Candidate plan of the line (null: the candidate has none)."
    )
    current_quantity: QUANTITY = pa.Field(
        nullable=True, description="Usage lines: the stored billable quantity."
    )
    candidate_quantity: QUANTITY = pa.Field(
        nullable=True, description="Usage lines: the candidate's billable quantity."
    )
    current_amount: MONEY = pa.Field(description="The stored line amount (0 when none).")
    candidate_amount: MONEY = pa.Field(
        description="The candidate line amount, rounded once with the candidate's rounding."
    )
    difference: MONEY = pa.Field(description="candidate_amount − current_amount.")


class RepriceSummary(Contract):
    """Per customer invoiced in the month: the subtotal (platform fees, usage and minimum
    commitments; no credits, no adjustments) as stored and under the candidate pricing.yaml.
    Grain: billing_period × customer_id."""

    billing_period: str = _period()
    customer_id: str = _customer()
    currency: str = _currency()
    current_subtotal: MONEY = pa.Field(description="Stored subtotal without credits.")
    candidate_subtotal: MONEY = pa.Field(description="The same under the candidate.")
    difference: MONEY = pa.Field(description="candidate_subtotal − current_subtotal.")
    difference_pct: PERCENT = pa.Field(
        nullable=True,
        description="100 × difference / current_subtotal, rounded half-even to 4 decimals; null "
        "when current_subtotal is 0 (or beyond ±99,999.9999 %).",
    )


TABLES = {"reprice_lines": RepriceLines, "reprice_summary": RepriceSummary}
