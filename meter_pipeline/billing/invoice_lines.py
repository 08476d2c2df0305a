"""``invoice_lines`` before SLA credits: platform fees, usage and minimum commitments
(docs/rules.md#7-pricing, docs/rules.md#fine-print-of-invoice-lines).

Events are aggregated in Polars (:mod:`meter_pipeline.billing.charge_usage`); each line is then
priced exactly in Python Decimal and rounded once with :func:`meter_pipeline.money.round_money`.

Rules and the choices made where the rules are silent:

- A subscription is on the period's invoice when it overlaps the month (active days > 0) or covers
  the event time of at least one event the period bills (a late event of an earlier month). With
  0 active days it contributes usage lines only: no platform fee, no minimum.
- Proration: ``amount × active_days / days_in_month``, exact, then rounded once per line.
- ``minimum_commitment``: ``exact prorated minimum − (sum of the subscription's rounded
  platform_fee and usage lines)``; a line only when that is > 0 and still > 0 once rounded.
- Line order (``line_no`` from 1 per invoice): subscriptions by start date; within one, its
  platform fees in pricing.yaml order, then one usage line per charge in pricing.yaml order, then
  its minimum_commitment line. SLA credit lines follow (see ``invoicing``).
- A customer is invoiced in a period when at least one of its subscriptions is on it; customers
  with events but no subscription get no invoice (their usage is in unbilled_usage). An invoice
  is the sum of its lines, so a plan with no platform fee, no charge and no minimum shortfall
  yields no line and no invoice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import groupby
from typing import Any

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.billing import InvoiceLines
from meter_pipeline.billing.charge_usage import (
    charge_events,
    charge_usage_fold,
    subscriptions_with_events,
)
from meter_pipeline.billing.period_usage import Chunks, assign_subscriptions, chunks
from meter_pipeline.billing.usage_fold import Partial
from meter_pipeline.calendar import period_bounds
from meter_pipeline.config.customers import Subscription
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.config.pricing import Plan, PricingConfig
from meter_pipeline.money import EXACT, round_money
from meter_pipeline.pricing import price_charge
from meter_pipeline.workers import Map

LINE_SCHEMA = polars_schema(InvoiceLines)
UsageKey = tuple[str, dt.date, str]
_ZERO = Decimal(0)


def invoice_id(period: str, customer_id: str) -> str:
    return f"{period}-{customer_id}"


def prorate(amount: Decimal, active_days: int, days_in_month: int) -> Decimal:
    """``amount × active_days / days_in_month``, exact to 200 significant digits (never rounded to
    money here: a repeating decimal cannot sit on a rounding boundary)."""
    return EXACT.divide(EXACT.multiply(amount, Decimal(active_days)), Decimal(days_in_month))


def price_subscription(
    sub: Subscription,
    plan: Plan,
    active_days: int,
    days_in_month: int,
    usage: dict[UsageKey, tuple[Decimal, int]],
    rounding: str,
) -> list[dict[str, Any]]:
    """The lines of one subscription in one period, amounts rounded, without line numbers."""

    def money(exact: Decimal) -> Decimal:
        return round_money(exact, plan.minor_units, rounding)

    base = {"plan_id": plan.id, "subscription_start": sub.start_date}
    lines: list[dict[str, Any]] = []
    if active_days > 0:
        for fee in plan.platform_fees:
            lines.append(
                {
                    **base,
                    "kind": "platform_fee",
                    "service": fee.service,
                    "active_days": active_days,
                    "amount": money(prorate(fee.amount, active_days, days_in_month)),
                }
            )
    for charge in plan.charges:
        aggregate, count = usage.get((sub.customer_id, sub.start_date, charge.id), (_ZERO, 0))
        quantity, free, exact = price_charge(charge, aggregate, count)
        lines.append(
            {
                **base,
                "kind": "usage",
                "charge_id": charge.id,
                "meter": charge.meter,
                "quantity": quantity,
                "free_quantity": free,
                "event_count": count,
                "unit_price": charge.unit_price if charge.model == "per_unit" else None,
                "amount": money(exact),
            }
        )
    if active_days > 0 and plan.minimum_commitment is not None:
        billed = sum((line["amount"] for line in lines), _ZERO)
        shortfall = EXACT.subtract(
            prorate(plan.minimum_commitment, active_days, days_in_month), billed
        )
        if shortfall > 0 and money(shortfall) > 0:
            lines.append(
                {
                    **base,
                    "kind": "minimum_commitment",
                    "active_days": active_days,
                    "amount": money(shortfall),
                }
            )
    return lines


def _usage_map(frame: pl.DataFrame) -> dict[UsageKey, tuple[Decimal, int]]:
    return {
        (r["customer_id"], r["subscription_start"], r["charge_id"]): (
            r["quantity"],
            r["event_count"],
        )
        for r in frame.iter_rows(named=True)
    }


def build_invoice_lines(
    period: str,
    events: Chunks,
    pricing: PricingConfig,
    subscriptions: Iterable[Subscription],
    meters: MetersConfig,
    map_: Map = map,
    observe: Callable[[pl.LazyFrame, pl.LazyFrame], Any] | None = None,
    collect: Callable[[Any], None] | None = None,
) -> pl.DataFrame:
    """Invoice lines of ``period`` (no SLA credits yet), columns of :class:`InvoiceLines`.

    Parameters
    ----------
    period
        ``YYYY-MM``.
    events
        Clean events the period bills (``billing_period == period``, late ones included), whole
        or in chunks (one frame per landing day: memory then holds one day at a time).
    pricing, subscriptions, meters
        The loaded reference data.
    map_
        How chunks are reduced: the built-in ``map``, or a thread pool's (chunks are independent
        and the result does not depend on the order they are merged in).
    observe, collect
        Optional: ``observe(assigned, charged)`` runs per chunk beside the fold (in ``map_``'s
        worker) on the chunk's events with their subscription and its (event, charge) rows;
        ``collect`` gets what it returned, chunk by chunk in order (the lineage and the trace).

    Returns
    -------
    pl.DataFrame
        Sorted by customer_id, line_no.
    """
    subscriptions = sorted(subscriptions, key=lambda s: (s.customer_id, s.start_date))
    first, last = period_bounds(period)
    fold, has_events = charge_usage_fold(meters), set()

    def reduce(chunk: pl.DataFrame | pl.LazyFrame) -> tuple[Partial, pl.DataFrame, Any]:
        assigned = assign_subscriptions(chunk, subscriptions).collect().lazy()
        charged = charge_events(assigned, pricing)
        seen = None
        if observe is not None:
            charged = charged.collect().lazy()
            seen = observe(assigned, charged)
        return (
            fold.partial(charged),
            subscriptions_with_events(assigned).collect(),
            seen,
        )

    for part, with_events, seen in map_(reduce, chunks(events)):
        fold.merge(part)
        has_events.update(with_events.iter_rows())
        if collect is not None:
            collect(seen)
    usage = _usage_map(fold.result())
    rows: list[dict[str, Any]] = []
    for customer_id, subs in groupby(subscriptions, key=lambda s: s.customer_id):
        lines: list[dict[str, Any]] = []
        currency = None
        for sub in subs:
            active = sub.active_days(first, last)
            if active == 0 and (customer_id, sub.start_date) not in has_events:
                continue
            plan = pricing.plans[sub.plan_id]
            currency = plan.currency
            lines += price_subscription(sub, plan, active, last.day, usage, pricing.rounding)
        for number, line in enumerate(lines, start=1):
            rows.append(
                {
                    **line,
                    "billing_period": period,
                    "customer_id": customer_id,
                    "invoice_id": invoice_id(period, customer_id),
                    "line_no": number,
                    "currency": currency,
                }
            )
    return pl.DataFrame(rows, schema=LINE_SCHEMA).sort("customer_id", "line_no")
