"""Adjustment lines for closed periods
(docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history). Pure.

A closed period P is never re-issued. When corrections of P's events land after P's last landing
day, the invoice of the period Q they are applied to carries ``adjustment`` lines: per
(earned period P, subscription, charge) and for P's minimum commitment,

    amount = P's line recomputed over the effective events of that line (every correction landed
             up to Q's last landing day, P's prices, tiers and free units), rounded once
             − (P's line + the earlier adjustments of it)

with no line when that is 0. Only customers with a corrected event are recomputed (a change of
pricing.yaml since P closed never shows as an adjustment by itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from meter_pipeline.money import MONEY

#: What one adjustment adjusts: a usage line (charge_id set) or the minimum (charge_id null).
KEYS = ["customer_id", "subscription_start", "charge_id", "adjusts"]
ADJUSTED_KINDS = {"usage": "usage", "minimum_commitment": "minimum_commitment"}


@dataclass(frozen=True)
class EarnedPeriod:
    """What an adjustment of closed period ``period`` needs: its lines recomputed with every
    correction landed so far, its stored lines, and the adjustments of it already issued."""

    period: str
    recomputed: pl.DataFrame
    stored: pl.DataFrame
    earlier: pl.DataFrame
    customers: frozenset[str]


def _adjustable(lines: pl.DataFrame, customers: frozenset[str]) -> pl.DataFrame:
    """usage and minimum_commitment lines of ``customers``, keyed by KEYS, with their amount."""
    return (
        lines.filter(
            pl.col("kind").is_in(list(ADJUSTED_KINDS))
            & pl.col("customer_id").is_in(sorted(customers))
        )
        .with_columns(pl.col("kind").alias("adjusts"))
        .select(*KEYS, "plan_id", "line_no", "meter", "currency", "amount")
    )


def adjustments_of(earned: EarnedPeriod) -> pl.DataFrame:
    """The adjustment rows of one earned period: KEYS, plan_id, meter, currency, earned_period,
    amount (≠ 0), _order (the adjusted line's position on P's invoice)."""
    new = _adjustable(earned.recomputed, earned.customers)
    old = _adjustable(earned.stored, earned.customers)
    before = earned.earlier.filter(pl.col("customer_id").is_in(sorted(earned.customers)))
    billed = (
        pl.concat(
            [
                old.select(*KEYS, "amount"),
                before.select(*KEYS, "amount"),
            ]
        )
        .group_by(KEYS)
        .agg(pl.col("amount").sum().cast(MONEY).alias("_billed"))
    )
    both = new.join(billed, on=KEYS, how="full", coalesce=True, nulls_equal=True)
    both = both.join(
        old.select(
            *KEYS,
            pl.col("line_no").alias("_old_no"),
            pl.col("plan_id").alias("_plan"),
            pl.col("currency").alias("_cur"),
            pl.col("meter").alias("_meter"),
        ),
        on=KEYS,
        how="left",
        nulls_equal=True,
    )
    zero = pl.lit(0).cast(MONEY)
    return (
        both.with_columns(
            (pl.col("amount").fill_null(zero) - pl.col("_billed").fill_null(zero))
            .cast(MONEY)
            .alias("amount"),
            pl.coalesce("plan_id", "_plan").alias("plan_id"),
            pl.coalesce("currency", "_cur").alias("currency"),
            pl.coalesce("meter", "_meter").alias("meter"),
            pl.coalesce("_old_no", "line_no").alias("_order"),
            pl.lit(earned.period).alias("earned_period"),
        )
        .filter(pl.col("amount") != 0)
        .select(*KEYS, "plan_id", "meter", "currency", "earned_period", "amount", "_order")
    )


def adjustment_lines(period: str, earned: list[EarnedPeriod], schema: pl.Schema) -> pl.DataFrame:
    """Adjustment lines for ``period``'s invoices (without line numbers), ordered by earned
    period, then the position of the adjusted line on its invoice."""
    parts = [adjustments_of(e) for e in earned]
    if not parts:
        return pl.DataFrame(schema=schema)
    rows = pl.concat(parts).sort("customer_id", "earned_period", "_order").drop("_order")
    rows = rows.with_columns(
        pl.lit(period).alias("billing_period"),
        (pl.lit(period) + "-" + pl.col("customer_id")).alias("invoice_id"),
        pl.lit("adjustment").alias("kind"),
        pl.lit(0, dtype=pl.Int64).alias("event_count"),
    )
    missing = [c for c in schema if c not in rows.columns]
    return (
        rows.with_columns(pl.lit(None, dtype=schema[c]).alias(c) for c in missing)
        .select(list(schema))
        .cast(dict(schema))
    )


def append_adjustments(lines: pl.DataFrame, adjustments: pl.DataFrame) -> pl.DataFrame:
    """Adjustment lines after each invoice's other lines (a customer without an invoice in the
    period gets one with only them); line numbers continue from the invoice's last."""
    if adjustments.height == 0:
        return lines
    last = lines.group_by("customer_id").agg(pl.col("line_no").max().alias("_last"))
    numbered = (
        adjustments.join(last, on="customer_id", how="left")
        .with_columns(
            (pl.col("_last").fill_null(0) + pl.int_range(1, pl.len() + 1).over("customer_id"))
            .cast(pl.Int64)
            .alias("line_no")
        )
        .drop("_last")
    )
    currencies = lines.select("customer_id", pl.col("currency").alias("_invoice_currency")).unique()
    clash = numbered.join(currencies, on="customer_id").filter(
        pl.col("currency") != pl.col("_invoice_currency")
    )
    if clash.height:
        raise ValueError(
            f"adjustments in another currency than the invoice: {clash['customer_id'].to_list()}"
        )
    return pl.concat([lines, numbered.select(lines.columns)]).sort("customer_id", "line_no")
