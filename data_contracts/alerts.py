"""Contract of the ``usage_alerts`` table (docs/alerts-and-formats.md#usage-and-cost-alerts),
partitioned by ``landing_date``."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_contracts.base import PERIOD_PATTERN, QUANTITY, Contract


class UsageAlerts(Contract):
    """Alerts of reference/alerts.csv first crossed on a landing day: a customer's period-to-date
    usage of a meter, or invoice subtotal, reached its threshold with the data landed up to and
    including that day. An alert fires once per billing period, on the first landing day whose
    figure is at or above the threshold, whatever order the days are materialized in. Grain: one
    row per alert and billing period that fired on the landing day."""

    landing_date: pl.Date = pa.Field(
        description="The landing day the alert first crossed (the partition)."
    )
    alert_id: str = pa.Field(
        str_matches=r"^[0-9a-f]{64}$",
        description="The alert's identity (lowercase hex SHA-256 of billing_period, customer_id, "
        "threshold_kind, meter, threshold): the webhook's idempotency key.",
    )
    billing_period: str = pa.Field(
        str_matches=PERIOD_PATTERN, description="YYYY-MM: the period whose figure crossed."
    )
    customer_id: str = pa.Field(description="The customer of the alert.")
    meter: str = pa.Field(nullable=True, description="The meter of a usage alert; null for cost.")
    threshold_kind: str = pa.Field(
        isin=["usage", "cost"],
        description="usage: the meter's period-to-date quantity; cost: the period-to-date "
        "invoice subtotal (platform fees, usage; no minimum commitment).",
    )
    threshold: QUANTITY = pa.Field(gt=0, description="The threshold of reference/alerts.csv.")
    value: QUANTITY = pa.Field(
        description="The figure after all of the landing day's data (≥ threshold)."
    )
    currency: str = pa.Field(
        nullable=True, description="The invoice currency of a cost alert; null for usage."
    )


TABLES = {"usage_alerts": UsageAlerts}
