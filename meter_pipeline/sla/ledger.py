"""The SLA credit ledger and the ``sla_credit`` invoice lines
(docs/rules.md#8-uptime-and-sla-credits, docs/rules.md#fine-print-of-credits). Pure.

Partition P holds one row per credit outstanding at P's start or earned in P, keyed by
(customer_id, service, earned_period). ``amount`` is the earned amount; ``opening`` the balance
at P's start (the earned amount in its earned period); ``opening = applied + carried +
forfeited`` on every row, and over a credit's life ``amount = Σ applied + Σ forfeited + the last
carried``.

In period P, for each customer:

1. Credits earned in P are never applied in P (they go on the *next* invoice).
2. Granted credits earned before P — including pending ones that P resolves as granted — are
   applied on P's invoice, oldest earned period first, then by service name, each as far as the
   invoice subtotal (before credits, never below 0) still allows; so the invoice total stays ≥ 0.
   Nothing is applied when the customer has no subscription overlapping P or a later period
   (it has left; a claim-required credit of a customer who has left is forfeited,
   docs/rules.md#sla-claims).
3. What is left: an ``unclaimed`` credit is forfeited; a ``pending`` one is carried (it waits for
   its resolving period even if the customer has left); a granted one is carried while a
   subscription of the customer overlaps a period after P, and forfeited otherwise.

``status`` on a ledger row is the credit's state in P: granted, pending or unclaimed. The ledger
also carries currency, uptime_pct, credit_pct and fee_amount, so the period that resolves a
pending credit can list it in ``sla_credits`` without reading older partitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

import polars as pl

from data_contracts.base import MONEY, polars_schema
from data_contracts.sla import SlaCreditLedger
from meter_pipeline.calendar import period_bounds, previous_period

KEY = ("customer_id", "service", "earned_period")
LEDGER_SCHEMA = polars_schema(SlaCreditLedger)
CREDIT_LINE_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "service": pl.String(),
        "earned_period": pl.String(),
        "currency": pl.String(),
        "amount": MONEY,
    }
)
_DETAILS = ("currency", "uptime_pct", "credit_pct", "fee_amount")


def empty_ledger() -> pl.DataFrame:
    """The previous ledger of the first period ever materialized."""
    return pl.DataFrame(schema=LEDGER_SCHEMA)


def subscription_ends(subscriptions: Iterable) -> dict[str, dt.date | None]:
    """Customer → last day of its latest subscription (None = open-ended), from objects with
    ``customer_id`` and ``end_date`` (e.g. ``config.customers.Subscription``)."""
    ends: dict[str, dt.date | None] = {}
    for sub in subscriptions:
        known = ends.get(sub.customer_id, dt.date.min)
        ends[sub.customer_id] = (
            None if known is None or sub.end_date is None else max(known, sub.end_date)
        )
    return ends


def invoice_subtotals(invoice_lines: pl.DataFrame) -> dict[str, Decimal]:
    """Customer → sum of its non-credit invoice lines (the subtotal before credits)."""
    lines = invoice_lines.filter(pl.col("kind") != "sla_credit")
    return dict(lines.group_by("customer_id").agg(pl.col("amount").sum()).iter_rows())


def _opening_rows(period: str, previous: pl.DataFrame, credits: pl.DataFrame) -> list[dict]:
    prev_key = previous_period(period)
    stray = previous.filter(pl.col("billing_period") != prev_key)
    if stray.height:
        raise ValueError(
            f"the previous ledger of {period} must be {prev_key}'s, got rows of "
            f"{sorted(set(stray.get_column('billing_period')))}"
        )
    rows = {
        tuple(r[k] for k in KEY): {**r, "opening": r["carried"]}
        for r in previous.filter(pl.col("carried") > 0).iter_rows(named=True)
    }
    for c in credits.filter(pl.col("earned_period") < period).iter_rows(named=True):
        row = rows.get(tuple(c[k] for k in KEY))
        if row is None or row["status"] != "pending":
            raise ValueError(
                f"{period}: sla_credits resolves {c['customer_id']}/{c['service']}/"
                f"{c['earned_period']}, which is not pending in the previous ledger"
            )
        row["status"] = c["status"]
    for c in credits.filter(
        (pl.col("earned_period") == period)
        & pl.col("status").is_in(["granted", "pending"])
        & (pl.col("credit_amount") > 0)
    ).iter_rows(named=True):
        rows[tuple(c[k] for k in KEY)] = {
            **{k: c[k] for k in (*KEY, *_DETAILS, "status")},
            "amount": c["credit_amount"],
            "opening": c["credit_amount"],
        }
    return sorted(rows.values(), key=lambda r: (r["customer_id"], r["earned_period"], r["service"]))


def credit_ledger(
    period: str,
    previous_ledger: pl.DataFrame,
    credits: pl.DataFrame,
    invoice_lines: pl.DataFrame,
    subscription_ends: Mapping[str, dt.date | None],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ledger partition of ``period`` and the ``sla_credit`` lines of its invoices.

    ``previous_ledger``: the ledger partition of the month before (``LEDGER_SCHEMA``; use
    :func:`empty_ledger` for the first month). ``credits``: ``period``'s sla_credits.
    ``invoice_lines``: ``period``'s invoice lines before credits (customer_id, kind, amount).
    ``subscription_ends``: customer → last day of its latest subscription (None = open-ended);
    a customer missing from it has no subscription.

    Returns ``(ledger, lines)``: ledger rows (``LEDGER_SCHEMA``) sorted by customer_id,
    earned_period, service; and one negative line per credit applied (``CREDIT_LINE_SCHEMA``:
    customer_id, service, earned_period, currency, amount < 0) in the order they go on the
    invoice — customer, oldest earned period, service name.
    """
    first, last = period_bounds(period)
    capacity = {c: max(s, Decimal(0)) for c, s in invoice_subtotals(invoice_lines).items()}
    ledger, lines = [], []
    for row in _opening_rows(period, previous_ledger, credits):
        customer, balance = row["customer_id"], row["opening"]
        subscribed = customer in subscription_ends
        end = subscription_ends.get(customer)
        stays_now = subscribed and (end is None or end >= first)
        stays_after = subscribed and (end is None or end > last)
        applied = Decimal(0)
        if row["status"] == "granted" and row["earned_period"] < period and stays_now:
            applied = min(balance, capacity.get(customer, Decimal(0)))
            capacity[customer] = capacity.get(customer, Decimal(0)) - applied
        left = balance - applied
        keep = row["status"] == "pending" or (row["status"] == "granted" and stays_after)
        ledger.append(
            {
                **row,
                "billing_period": period,
                "applied": applied,
                "carried": left if keep else Decimal(0),
                "forfeited": Decimal(0) if keep else left,
            }
        )
        if applied > 0:
            lines.append(
                (customer, row["service"], row["earned_period"], row["currency"], -applied)
            )
    return (
        pl.DataFrame(ledger, schema=LEDGER_SCHEMA),
        pl.DataFrame(lines, schema=CREDIT_LINE_SCHEMA, orient="row"),
    )


def ledger_problems(ledger: pl.DataFrame, previous_ledger: pl.DataFrame) -> list[str]:
    """Blocking-check helper: every way ``ledger`` fails to balance (empty when it balances).

    Per row: opening = applied + carried + forfeited, none negative, opening = amount in the
    earned period. Across periods: each balance carried out of the previous period opens this
    one, and nothing opens here that was not carried or earned. By induction over the periods,
    earned = Σ applied + Σ forfeited + carried over each credit's life.
    """
    problems = []
    for r in ledger.iter_rows(named=True):
        key = "/".join(r[k] for k in KEY)
        parts = (r["applied"], r["carried"], r["forfeited"])
        if min(parts) < 0 or r["opening"] != sum(parts):
            problems.append(
                f"{key}: opening {r['opening']} ≠ applied {r['applied']} + carried "
                f"{r['carried']} + forfeited {r['forfeited']}"
            )
        if r["earned_period"] == r["billing_period"] and r["opening"] != r["amount"]:
            problems.append(f"{key}: opening {r['opening']} ≠ earned amount {r['amount']}")
    opened = {
        tuple(r[k] for k in KEY): r["opening"]
        for r in ledger.iter_rows(named=True)
        if r["earned_period"] != r["billing_period"]
    }
    carried = {
        tuple(r[k] for k in KEY): r["carried"]
        for r in previous_ledger.filter(pl.col("carried") > 0).iter_rows(named=True)
    }
    for credit in sorted(opened.keys() | carried.keys()):
        if opened.get(credit) != carried.get(credit):
            problems.append(
                f"{'/'.join(credit)}: carried in {carried.get(credit)}, opened with "
                f"{opened.get(credit)}"
            )
    return problems
