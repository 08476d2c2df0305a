"""Contracts of the monthly billing tables (docs/rules.md#6-billing-periods-and-late-events,
docs/rules.md#7-pricing, data_contracts/docs/README.md), partitioned by ``billing_period``.

Money columns are Decimal(38, 4) holding values exact at the currency's minor unit; quantities and
unit prices Decimal(38, 9).
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_contracts.base import MONEY, PERIOD_PATTERN, QUANTITY, Contract

LINE_KINDS = ("platform_fee", "usage", "minimum_commitment", "sla_credit", "adjustment")
ADJUSTS = ("usage", "minimum_commitment")
DOCUMENT_TYPES = ("invoice", "credit_note")
UNBILLED_REASONS = ("no_subscription", "late_ignored")
_PERIOD = PERIOD_PATTERN


def _billing_period() -> object:
    return pa.Field(str_matches=_PERIOD, description="YYYY-MM billing month (the partition).")


def _invoice_id() -> object:
    return pa.Field(
        description='"<billing_period>-<customer_id>": one invoice per customer and period.'
    )


class PeriodUsage(Contract):
    """What each customer used in the month, whatever their plan
    (docs/rules.md#usage-that-is-reported-period_usage-and-unbilled_usage): the meter's aggregation
    over all events the period bills, late ones included. Grain: billing_period × customer_id ×
    meter, for subscribed and unsubscribed customers alike."""

    billing_period: str = _billing_period()
    customer_id: str = pa.Field(description="Customer.")
    meter: str = pa.Field(description="Meter.")
    quantity: QUANTITY = pa.Field(
        description="The meter's aggregation (count, sum, max, latest, "
        "unique_count) over the events, exact."
    )
    event_count: pl.Int64 = pa.Field(ge=0, description="Events billed in the period.")
    late_event_count: pl.Int64 = pa.Field(
        ge=0, description="Of those, events that landed after their own month's last landing day."
    )


class UnbilledUsage(Contract):
    """Usage that no invoice bills
    (docs/rules.md#usage-that-is-reported-period_usage-and-unbilled_usage): events outside every
    subscription of their customer (no_subscription) and late events under late_events: ignore
    (late_ignored). Grain: billing_period × customer_id × meter × reason."""

    billing_period: str = _billing_period()
    customer_id: str = pa.Field(description="Customer.")
    meter: str = pa.Field(description="Meter.")
    reason: str = pa.Field(
        isin=list(UNBILLED_REASONS), description="no_subscription or late_ignored."
    )
    event_count: pl.Int64 = pa.Field(ge=0, description="Unbilled events.")
    quantity: QUANTITY = pa.Field(description="The meter's aggregation over those events.")


class InvoiceLines(Contract):
    """The lines of each invoice (docs/rules.md#7-pricing): prorated platform fees, one usage line
    per charge of each subscription (even at zero), a minimum-commitment true-up, and SLA credits
    (negative). Every amount is rounded once to the currency's minor unit. Grain: one row per
    invoice line; line_no orders the lines of an invoice from 1."""

    billing_period: str = _billing_period()
    invoice_id: str = _invoice_id()
    customer_id: str = pa.Field(description="Customer invoiced.")
    line_no: pl.Int64 = pa.Field(
        ge=1,
        description="Position on the invoice, from 1: per "
        "subscription (by start date) its platform fees, usage lines and "
        "minimum, in pricing.yaml order; then SLA credits.",
    )
    kind: str = pa.Field(
        isin=list(LINE_KINDS), description="platform_fee, usage, minimum_commitment or sla_credit."
    )
    plan_id: str = pa.Field(
        nullable=True, description="Plan of the subscription (null on sla_credit lines)."
    )
    subscription_start: pl.Date = pa.Field(
        nullable=True, description="start_date of the subscription; tells two plans' lines apart."
    )
    charge_id: str = pa.Field(nullable=True, description="Charge of a usage line.")
    service: str = pa.Field(
        nullable=True, description="Service of a platform_fee or sla_credit line."
    )
    meter: str = pa.Field(nullable=True, description="Meter of a usage line.")
    quantity: QUANTITY = pa.Field(
        nullable=True,
        ge=0,
        description="Usage lines: billable quantity q after free units; null on other lines.",
    )
    free_quantity: QUANTITY = pa.Field(
        nullable=True, ge=0, description="Usage lines: the part of the aggregate that was free."
    )
    unit_price: QUANTITY = pa.Field(nullable=True, description="Set on per_unit usage lines only.")
    event_count: pl.Int64 = pa.Field(
        nullable=True,
        ge=0,
        description="Usage lines: events matching the charge (before free units), the rows "
        "invoice_line_events lists for the line; 0 on other lines.",
    )
    events_sha256: str = pa.Field(
        nullable=True,
        str_matches=r"^[0-9a-f]{64}$",
        description="Usage lines: lowercase hex SHA-256 of the line's event ids sorted by their "
        "UTF-8 bytes, each followed by a newline (no events: the SHA-256 of the empty input); "
        "null on other lines.",
    )
    active_days: pl.Int64 = pa.Field(
        nullable=True,
        ge=0,
        description="platform_fee and "
        "minimum_commitment lines: subscription days in the month "
        "(the proration numerator; the month's days are the "
        "denominator).",
    )
    amount: MONEY = pa.Field(
        description="The line amount, rounded once; negative only on sla_credit lines."
    )
    currency: str = pa.Field(
        str_matches=r"^[A-Z]{3}$", description="ISO 4217 code of the customer's plans."
    )
    earned_period: str = pa.Field(
        nullable=True,
        str_matches=_PERIOD,
        description="sla_credit lines: the period in which the credit was earned; adjustment "
        "lines: the closed period whose line they adjust.",
    )
    adjusts: str = pa.Field(
        nullable=True,
        isin=list(ADJUSTS),
        description="adjustment lines: what they adjust, usage (charge_id set) or "
        "minimum_commitment; null on other lines.",
    )

    @pa.dataframe_check
    def credits_negative_others_not(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """sla_credit lines are ≤ 0; adjustment lines may have either sign; the others ≥ 0."""
        credit = pl.col("kind") == "sla_credit"
        adjustment = pl.col("kind") == "adjustment"
        return data.lazyframe.select(
            pl.when(credit)
            .then(pl.col("amount") <= 0)
            .when(adjustment)
            .then(pl.lit(True))
            .otherwise(pl.col("amount") >= 0)
        )

    @pa.dataframe_check
    def quantity_only_on_usage(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """quantity and free_quantity are set on usage lines and null on the others."""
        usage = pl.col("kind") == "usage"
        return data.lazyframe.select(
            (usage == pl.col("quantity").is_not_null())
            & (usage == pl.col("free_quantity").is_not_null())
        )


class Invoices(Contract):
    """One invoice per customer and period, even at zero (docs/rules.md#7-pricing): sums of its
    rounded lines. Grain: billing_period × customer_id."""

    billing_period: str = _billing_period()
    invoice_id: str = _invoice_id()
    customer_id: str = pa.Field(description="Customer invoiced.")
    currency: str = pa.Field(str_matches=r"^[A-Z]{3}$", description="ISO 4217 code.")
    subtotal: MONEY = pa.Field(
        description="Sum of the non-credit lines (adjustment lines included: negative only "
        "through them)."
    )
    credits: MONEY = pa.Field(le=0, description="Sum of the sla_credit lines (≤ 0).")
    total: MONEY = pa.Field(
        description="subtotal + credits; negative only through adjustment lines (a credit note)."
    )
    line_count: pl.Int64 = pa.Field(ge=0, description="Number of invoice lines.")
    document_type: str = pa.Field(
        isin=list(DOCUMENT_TYPES),
        description="credit_note when the total is negative (adjustments of closed periods "
        "exceed the rest), else invoice.",
    )

    @pa.dataframe_check
    def credit_note_when_negative(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """document_type is credit_note exactly when total < 0."""
        return data.lazyframe.select(
            (pl.col("document_type") == "credit_note") == (pl.col("total") < 0)
        )

    @pa.dataframe_check
    def total_is_subtotal_plus_credits(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """total = subtotal + credits, exactly."""
        return data.lazyframe.select(
            pl.col("total") == (pl.col("subtotal") + pl.col("credits")).cast(MONEY)
        )


TABLES = {
    "period_usage": PeriodUsage,
    "unbilled_usage": UnbilledUsage,
    "invoice_lines": InvoiceLines,
    "invoices": Invoices,
}
