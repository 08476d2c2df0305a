"""Usage and cost alerts (docs/alerts-and-formats.md#usage-and-cost-alerts): which alerts of
reference/alerts.csv first cross their threshold on a landing day.

Landing day D evaluates every period P with P's first day ≤ D ≤ P's last landing day, over the
clean events with ``billing_period`` P that landed on days ≤ D, as corrected by the corrections
landed on days ≤ D (effective events, :mod:`meter_pipeline.billing.effective`):

- **usage** = the meter's aggregation over the customer's events, as ``period_usage.quantity``
  (every subscription, no charge filter, before free units), for any customer;
- **cost** = the subtotal P's invoice would have if P closed with the data landed so far: its
  platform fees for the whole month, its usage lines, priced by the month close's own code
  (:func:`~meter_pipeline.billing.invoice_lines.build_invoice_lines`), and its adjustment lines
  (corrections of closed periods landed on days ≤ D, :mod:`meter_pipeline.billing.adjustments`),
  without the minimum commitment; only for customers invoiced in P (an adjustment alone makes
  an invoice).

An alert fires on D when D's figure is ≥ its threshold and the figure of every earlier day of P
(from P's first day) was below it: computed from the data, never from what earlier runs wrote,
so the answer does not depend on the order days are materialized in.

"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import polars as pl

from data_contracts import CONTRACTS, polars_schema
from meter_pipeline.billing.effective import effective_events
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.usage_fold import Frame, UsageFold
from meter_pipeline.calendar import last_landing_day, period_bounds, period_of, previous_period
from meter_pipeline.config.alerts import Alert
from meter_pipeline.config.reference import Reference
from meter_pipeline.money import to_quantity

SCHEMA = polars_schema(CONTRACTS["usage_alerts"])
#: Invoice line kinds that make up the cost figure.
COST_KINDS = ("platform_fee", "usage", "adjustment")
COST_COLUMNS = ["customer_id", "currency", "kind", "amount"]
#: Adjustment lines of a period as known on a landing day (see :func:`crossed_on`).
Adjustments = Callable[[dt.date], pl.DataFrame]
#: A figure: (value, currency); currency is None for usage.
Figure = tuple[Decimal, str | None]


def evaluated_periods(day: dt.date, grace_days: int) -> list[str]:
    """The periods P that landing day ``day`` evaluates: P's first day ≤ day ≤ its last
    landing day, oldest first."""
    periods, period = [], period_of(day)
    while last_landing_day(period, grace_days) >= day:
        periods.append(period)
        period = previous_period(period)
    return periods[::-1]


def alert_id(period: str, alert: Alert) -> str:
    """The identity of an alert in a period (lowercase hex SHA-256): the webhook's idempotency
    key, the same on every re-run."""
    key = [
        period,
        alert.customer_id,
        alert.threshold_kind,
        alert.meter,
        str(to_quantity(alert.threshold)),
    ]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()


def alert_customers(alerts: Iterable[Alert]) -> list[str]:
    return sorted({alert.customer_id for alert in alerts})


def period_figures(
    period: str,
    events: Sequence[Frame],
    alerts: Sequence[Alert],
    reference: Reference,
    adjustments: pl.DataFrame | None = None,
) -> dict[Alert, Figure]:
    """Each alert's period-to-date figure over ``events`` (effective events of ``period``, in any
    number of chunks) and ``adjustments`` (adjustment lines of ``period``'s invoices); a cost
    alert of a customer not invoiced in ``period`` has none."""
    figures: dict[Alert, Figure] = {}
    usage_alerts = [a for a in alerts if a.threshold_kind == "usage"]
    if usage_alerts:
        fold = UsageFold(reference.meters.meters, ["customer_id", "meter"])
        for chunk in events or [pl.DataFrame(schema=polars_schema(CONTRACTS["clean_events"]))]:
            fold.add(chunk)
        usage = {(c, m): q for c, m, _, q in fold.result().iter_rows()}
        for alert in usage_alerts:
            figures[alert] = (usage.get((alert.customer_id, alert.meter), Decimal(0)), None)
    cost_alerts = [a for a in alerts if a.threshold_kind == "cost"]
    if cost_alerts and reference.pricing is not None:
        customers = set(alert_customers(cost_alerts))
        subscriptions = [s for s in reference.subscriptions if s.customer_id in customers]
        lines = build_invoice_lines(
            period, list(events), reference.pricing, subscriptions, reference.meters
        ).select(COST_COLUMNS)
        if adjustments is not None:
            adjusted = adjustments.filter(pl.col("customer_id").is_in(sorted(customers)))
            lines = pl.concat([lines, adjusted.select(COST_COLUMNS).cast(lines.schema)])
        invoiced = {r["customer_id"]: r["currency"] for r in lines.iter_rows(named=True)}
        subtotal = dict(
            lines.filter(pl.col("kind").is_in(COST_KINDS))
            .group_by("customer_id")
            .agg(pl.col("amount").sum())
            .iter_rows()
        )
        for alert in cost_alerts:
            if alert.customer_id in invoiced:
                amount = subtotal.get(alert.customer_id, Decimal(0))
                figures[alert] = (Decimal(amount), invoiced[alert.customer_id])
    return figures


def crossed_on(
    period: str,
    day: dt.date,
    days: Sequence[tuple[dt.date, Frame]],
    alerts: Sequence[Alert],
    reference: Reference,
    corrections: pl.DataFrame | None = None,
    adjustments: Adjustments | None = None,
) -> pl.DataFrame:
    """The ``usage_alerts`` rows of ``period`` that first cross on landing day ``day``.

    ``days``: (landing day, that day's clean events with billing_period ``period``) for every
    landing day ≤ ``day`` the period reads; ``corrections``: rows of event_corrections landed on
    those days (applied as of each evaluated day); ``adjustments``: the adjustment lines of
    ``period`` as known on a given day (cost alerts). Earlier evaluation days are only computed
    for alerts at or above their threshold on ``day``, newest first, until each is settled.
    """
    first, _ = period_bounds(period)

    def figures_at(when: dt.date, which: Sequence[Alert]) -> dict[Alert, Figure]:
        known = None if corrections is None else corrections.filter(pl.col("landing_date") <= when)
        frames = [
            (frame if known is None else effective_events(frame, known)).lazy()
            for landed, frame in days
            if landed <= when
        ]
        # one frame: the figures fold it in one pass instead of one per landing day
        events = [pl.concat(frames).collect()] if frames else []
        costs = any(a.threshold_kind == "cost" for a in which)
        extra = adjustments(when) if adjustments is not None and costs else None
        return period_figures(period, events, which, reference, extra)

    now = figures_at(day, alerts)
    candidates = [a for a, (value, _) in now.items() if value >= a.threshold]
    earlier = day - dt.timedelta(days=1)
    while candidates and earlier >= first:
        before = figures_at(earlier, candidates)
        candidates = [a for a in candidates if a not in before or before[a][0] < a.threshold]
        earlier -= dt.timedelta(days=1)
    rows = [
        {
            "landing_date": day,
            "alert_id": alert_id(period, alert),
            "billing_period": period,
            "customer_id": alert.customer_id,
            "meter": alert.meter,
            "threshold_kind": alert.threshold_kind,
            "threshold": to_quantity(alert.threshold),
            "value": to_quantity(now[alert][0]),
            "currency": now[alert][1],
        }
        for alert in sorted(candidates)
    ]
    return pl.DataFrame(rows, schema=SCHEMA)
