"""The month close (SPEC §6.4, §7.4) as one pure function over frames and the reference.

A period's invoice tables come from its clean events (one frame per landing day it reads), its
uptime and the credit ledger of the month before, in this order: invoice lines before credits →
SLA credits earned (and pending ones resolved) → the credit ledger and the credit lines it applies
→ the lines with credits → one invoice per customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from data_contracts import CONTRACTS, empty_frame
from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.invoices import append_credit_lines, summarize_invoices
from meter_pipeline.billing.period_usage import Frame, split_period_events
from meter_pipeline.config.reference import Reference
from meter_pipeline.sla.credits import sla_credits
from meter_pipeline.sla.ledger import credit_ledger, empty_ledger, subscription_ends
from meter_pipeline.workers import Map


@dataclass(frozen=True)
class ClosedMonth:
    """The four tables a month close writes, in the order Dagster gets them."""

    sla_credit_ledger: pl.DataFrame
    sla_credits: pl.DataFrame
    invoice_lines: pl.DataFrame
    invoices: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        return {
            "sla_credit_ledger": self.sla_credit_ledger,
            "sla_credits": self.sla_credits,
            "invoice_lines": self.invoice_lines,
            "invoices": self.invoices,
        }


def close_month(
    period: str,
    days: Iterable[Frame],
    uptime: pl.DataFrame,
    previous_ledger: pl.DataFrame,
    reference: Reference,
    map_: Map = map,
) -> ClosedMonth:
    """Close ``period``.

    Parameters
    ----------
    period
        ``YYYY-MM``.
    days
        The clean events of every landing day the period reads (see
        :func:`meter_pipeline.calendar.period_landing_days`), one frame per day.
    uptime
        The period's ``uptime`` partition (ignored without an SLA).
    previous_ledger
        The ``sla_credit_ledger`` partition of the month before (empty for the first month).
    reference
        The loaded reference (pricing required).
    map_
        How days are reduced (the built-in ``map``, or a thread pool's).
    """
    pricing = reference.require_pricing()
    billed = [split_period_events(day, period, pricing.grace_days)[0] for day in days]
    lines = build_invoice_lines(
        period, billed, pricing, reference.subscriptions, reference.meters, map_
    )
    if reference.sla is None:
        credits, ledger, credit_lines = empty_frame(CONTRACTS["sla_credits"]), empty_ledger(), None
    else:
        minor = {plan.currency: plan.minor_units for plan in pricing.plans.values()}
        credits = sla_credits(
            period,
            uptime,
            lines,
            previous_ledger,
            reference.sla,
            pricing.grace_days,
            minor,
            pricing.rounding,
        )
        ledger, credit_lines = credit_ledger(
            period, previous_ledger, credits, lines, subscription_ends(reference.subscriptions)
        )
    lines = append_credit_lines(lines, credit_lines)
    return ClosedMonth(ledger, credits, lines, summarize_invoices(lines))
