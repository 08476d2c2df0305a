"""What if: a period's stored usage priced under a candidate price book (docs/whatif.md).

The candidate prices the events each stored usage line's lineage lists (``invoice_line_events``),
as effective events, with the same code as the month close (:func:`build_invoice_lines`): its
filters, tiers, free units, platform fees and minimum commitments. Nothing here re-ingests or
re-prices with a second pricer.

- Lines are matched by customer, subscription (its start date), kind, charge id and service; a
  line on one side only is compared with 0. ``current_plan_id`` / ``candidate_plan_id`` say which
  side has it (null: the line does not exist there).
- Subtotals are those of docs/rules.md#7-pricing without credits and adjustments: the sum of
  the platform_fee, usage and minimum_commitment lines.
- ``difference = candidate − current``; ``difference_pct = 100 × difference / current`` rounded
  half-even to 4 decimals, null when current is 0 (and when it would not fit decimal(9, 4), that
  is |pct| ≥ 100,000 %: the amounts are there to read).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl

from meter_pipeline.billing.invoice_lines import build_invoice_lines
from meter_pipeline.billing.period_usage import Chunks
from meter_pipeline.config.customers import Subscription
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.config.pricing import PricingConfig
from meter_pipeline.money import EXACT, MONEY, PERCENT, QUANTITY
from meter_pipeline.workers import Map

#: The line kinds of a subtotal here: §6.4's subtotal without adjustments, before credits.
SUBTOTAL_KINDS = ("platform_fee", "usage", "minimum_commitment")
LINE_KEY = ["customer_id", "subscription_start", "kind", "charge_id", "service"]
PCT_EXP, PCT_LIMIT = Decimal("0.0001"), Decimal("100000")


class RepriceError(ValueError):
    """The candidate cannot be applied (a plan map that does not fit); one line, with the fix."""


def parse_plan_map(items: Iterable[str]) -> dict[str, str]:
    """``["OLD=NEW", ...]`` → ``{OLD: NEW}``."""
    out: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise RepriceError(f"--plan-map {item!r}: write it as OLD=NEW (two plan ids)")
        if old in out and out[old] != new:
            raise RepriceError(f"--plan-map: plan {old!r} is mapped twice")
        out[old] = new
    return out


def map_subscriptions(
    subscriptions: Iterable[Subscription],
    plan_map: Mapping[str, str],
    current: PricingConfig,
    candidate: PricingConfig,
) -> tuple[Subscription, ...]:
    """The subscriptions with their plans mapped to candidate plans (unmapped plans keep their id,
    which the candidate must then define). A plan mapped to a plan of another currency, a map
    naming an unknown plan, or a subscription whose plan the candidate lacks is a RepriceError."""
    for old, new in plan_map.items():
        if old not in current.plans:
            raise RepriceError(f"--plan-map {old}={new}: {old!r} is not a plan of pricing.yaml")
        if new not in candidate.plans:
            raise RepriceError(f"--plan-map {old}={new}: {new!r} is not a plan of the candidate")
        was, becomes = current.plans[old].currency, candidate.plans[new].currency
        if was != becomes:
            raise RepriceError(
                f"--plan-map {old}={new}: plan {old!r} bills in {was} but {new!r} in {becomes}; "
                "map it to a plan of the same currency"
            )
    out = []
    for sub in subscriptions:
        plan = plan_map.get(sub.plan_id, sub.plan_id)
        if plan not in candidate.plans:
            raise RepriceError(
                f"plan {sub.plan_id!r} (customer {sub.customer_id!r}) is not in the candidate "
                f"pricing.yaml: add it there or map it with --plan-map {sub.plan_id}=NEW"
            )
        if plan == sub.plan_id and candidate.plans[plan].currency != current.plans[plan].currency:
            raise RepriceError(
                f"plan {plan!r} changes currency in the candidate "
                f"({current.plans[plan].currency} → {candidate.plans[plan].currency}); "
                "repricing compares amounts of one currency"
            )
        out.append(replace(sub, plan_id=plan))
    return tuple(out)


def _side(lines: pl.DataFrame, side: str) -> pl.LazyFrame:
    return (
        lines.lazy()
        .filter(pl.col("kind").is_in(SUBTOTAL_KINDS))
        .select(
            *LINE_KEY,
            "currency",
            "meter",
            pl.col("plan_id").alias(f"{side}_plan_id"),
            pl.col("quantity").alias(f"{side}_quantity"),
            pl.col("amount").alias(f"{side}_amount"),
        )
    )


def compare_lines(period: str, current: pl.DataFrame, candidate: pl.DataFrame) -> pl.DataFrame:
    """``reprice_lines`` of ``period``: stored lines against candidate lines (both
    invoice_lines-shaped), one row per line key, sorted."""
    joined = _side(current, "current").join(
        _side(candidate, "candidate"), on=LINE_KEY, how="full", coalesce=True, nulls_equal=True
    )
    zero = pl.lit(0, MONEY)
    return (
        joined.with_columns(
            pl.coalesce("currency", "currency_right").alias("currency"),
            pl.coalesce("meter", "meter_right").alias("meter"),
            pl.coalesce("current_amount", zero).alias("current_amount"),
            pl.coalesce("candidate_amount", zero).alias("candidate_amount"),
        )
        .with_columns(
            (pl.col("candidate_amount") - pl.col("current_amount")).cast(MONEY).alias("difference"),
            pl.lit(period).alias("billing_period"),
        )
        .select(
            "billing_period",
            "customer_id",
            "currency",
            "subscription_start",
            "kind",
            "charge_id",
            "service",
            "meter",
            "current_plan_id",
            "candidate_plan_id",
            pl.col("current_quantity").cast(QUANTITY),
            pl.col("candidate_quantity").cast(QUANTITY),
            "current_amount",
            "candidate_amount",
            "difference",
        )
        .sort("customer_id", "subscription_start", "kind", "charge_id", "service", nulls_last=True)
        .collect()
    )


def difference_pct(current: Decimal, difference: Decimal) -> Decimal | None:
    """``100 × difference / current``, half-even to 4 decimals; None when current is 0 or the
    result does not fit decimal(9, 4)."""
    if current == 0:
        return None
    pct = EXACT.divide(EXACT.multiply(difference, Decimal(100)), current)
    pct = pct.quantize(PCT_EXP, rounding=ROUND_HALF_EVEN, context=EXACT)
    return None if abs(pct) >= PCT_LIMIT else EXACT.add(pct, Decimal(0))


def summarize(period: str, lines: pl.DataFrame, invoiced: pl.DataFrame) -> pl.DataFrame:
    """``reprice_summary``: per customer of ``lines`` or ``invoiced`` (customer_id, currency of the
    stored invoices), the current and candidate subtotals and their difference."""
    sums = lines.group_by("customer_id", "currency").agg(
        pl.col("current_amount").sum().cast(MONEY).alias("current_subtotal"),
        pl.col("candidate_amount").sum().cast(MONEY).alias("candidate_subtotal"),
    )
    keys = pl.concat(
        [
            invoiced.select("customer_id", "currency"),
            sums.select(keys_of := ["customer_id", "currency"]),
        ]
    )
    frame = keys.unique().join(sums, on=keys_of, how="left").fill_null(pl.lit(0, MONEY))
    rows = []
    for r in frame.sort("customer_id", "currency").iter_rows(named=True):
        current, candidate = Decimal(r["current_subtotal"]), Decimal(r["candidate_subtotal"])
        difference = EXACT.subtract(candidate, current)
        rows.append(
            {
                "billing_period": period,
                "customer_id": r["customer_id"],
                "currency": r["currency"],
                "current_subtotal": current,
                "candidate_subtotal": candidate,
                "difference": difference,
                "difference_pct": difference_pct(current, difference),
            }
        )
    schema = {
        "billing_period": pl.String,
        "customer_id": pl.String,
        "currency": pl.String,
        "current_subtotal": MONEY,
        "candidate_subtotal": MONEY,
        "difference": MONEY,
        "difference_pct": PERCENT,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def reprice_period(
    period: str,
    events: Chunks,
    stored_lines: pl.DataFrame,
    invoiced: pl.DataFrame,
    candidate: PricingConfig,
    subscriptions: Iterable[Subscription],
    meters: MetersConfig,
    map_: Map = map,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(reprice_lines, reprice_summary)`` of ``period``.

    ``events``: the effective clean events the stored usage lines' lineage lists (one frame per
    landing day); ``stored_lines`` / ``invoiced``: the stored invoice_lines and invoices of the
    period; ``subscriptions``: already mapped to candidate plans (:func:`map_subscriptions`)."""
    lines = build_invoice_lines(period, events, candidate, subscriptions, meters, map_)
    compared = compare_lines(period, stored_lines, lines)
    return compared, summarize(period, compared, invoiced)
