"""Invoices of a billing period (docs/rules.md#7-pricing): lines, SLA credit lines, totals, and
their checks.

The entry points for the monthly assets:

- :func:`~meter_pipeline.billing.period_usage.split_period_events` — billed vs late-ignored.
- :func:`~meter_pipeline.billing.close.close_month` → the month's tables, one landing day
  at a time (what the monthly asset uses; period and unbilled usage are folded from the same
  read of each day as the invoice lines).
- :func:`build_invoice_lines` → lines without credits (what the SLA ledger needs to size them).
- :func:`append_credit_lines` → adds the ``sla_credit`` lines the SLA side computed.
- :func:`summarize_invoices` → ``invoices``.

Credit lines come last on an invoice, oldest ``earned_period`` first, then by service (the order
they are applied in, docs/rules.md#8-uptime-and-sla-credits). ``subtotal`` sums the non-credit
lines, ``credits`` the credit lines, ``total = subtotal + credits``; all are sums of rounded lines
and so exact at the minor unit.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from data_contracts.base import polars_schema
from data_contracts.billing import Invoices
from meter_pipeline.billing.invoice_lines import LINE_SCHEMA
from meter_pipeline.config.pricing import minor_units_of
from meter_pipeline.money import EXACT, MONEY
from meter_pipeline.sla.ledger import CREDIT_LINE_SCHEMA

INVOICE_SCHEMA = polars_schema(Invoices)
#: What an sla_credit line needs from the ledger's credit lines (currency is checked, not kept).
CREDIT_FIELDS = pl.Schema({k: v for k, v in CREDIT_LINE_SCHEMA.items() if k != "currency"})


def append_credit_lines(lines: pl.DataFrame, credits: pl.DataFrame | None) -> pl.DataFrame:
    """Add one ``sla_credit`` line per row of ``credits`` to its customer's invoice.

    ``credits`` has columns customer_id, service, earned_period, amount (already rounded, ≤ 0),
    and optionally currency (then it must be the invoice's).
    Every credited customer must already have an invoice in ``lines`` (credits are applied on
    an invoice the customer receives anyway). Raises ``ValueError`` otherwise.
    """
    if credits is None or credits.height == 0:
        return lines
    stated = credits.select("customer_id", "currency") if "currency" in credits.columns else None
    credits = credits.select(list(CREDIT_FIELDS)).cast(dict(CREDIT_FIELDS))
    if credits.filter(pl.col("amount") > 0).height:
        raise ValueError("sla_credit amounts must be ≤ 0")
    heads = lines.group_by("customer_id").agg(
        pl.col("billing_period").first(),
        pl.col("invoice_id").first(),
        pl.col("currency").first(),
        pl.col("line_no").max().alias("_last"),
    )
    joined = credits.join(heads, on="customer_id", how="left")
    orphans = joined.filter(pl.col("invoice_id").is_null())["customer_id"].unique().sort()
    if orphans.len():
        raise ValueError(f"sla credits for customers without an invoice: {orphans.to_list()}")
    if stated is not None:
        invoiced = stated.join(
            heads.select("customer_id", "currency"), on="customer_id", suffix="_invoice"
        )
        wrong = invoiced.filter(pl.col("currency") != pl.col("currency_invoice"))
        if wrong.height:
            raise ValueError(
                f"sla credits in another currency than the invoice: "
                f"{wrong['customer_id'].unique().sort().to_list()}"
            )
    credit_lines = joined.sort("customer_id", "earned_period", "service").with_columns(
        (pl.col("_last") + pl.int_range(1, pl.len() + 1).over("customer_id"))
        .cast(pl.Int64)
        .alias("line_no"),
        pl.lit("sla_credit").alias("kind"),
    )
    missing = [c for c in LINE_SCHEMA if c not in credit_lines.columns]
    credit_lines = credit_lines.with_columns(
        pl.lit(None, dtype=LINE_SCHEMA[c]).alias(c) for c in missing
    ).select(list(LINE_SCHEMA))
    return pl.concat([lines, credit_lines]).sort("customer_id", "line_no")


def summarize_invoices(lines: pl.DataFrame) -> pl.DataFrame:
    """``invoices``: one row per invoice of ``lines``, sorted by customer_id.

    Raises ``ValueError`` when a total would be negative (credits must never exceed the subtotal).
    """
    credit = pl.col("kind") == "sla_credit"
    adjustment = pl.col("kind") == "adjustment"
    zero = pl.lit(0).cast(MONEY)
    invoices = (
        lines.group_by("billing_period", "invoice_id", "customer_id", "currency")
        .agg(
            pl.col("amount").filter(~credit).sum().cast(MONEY).alias("subtotal"),
            pl.col("amount").filter(credit).sum().cast(MONEY).alias("credits"),
            pl.col("amount").filter(adjustment).sum().cast(MONEY).alias("_adjusted"),
            pl.len().cast(pl.Int64).alias("line_count"),
        )
        .with_columns(
            pl.col("subtotal").fill_null(zero),
            pl.col("credits").fill_null(zero),
            pl.col("_adjusted").fill_null(zero),
        )
        .with_columns((pl.col("subtotal") + pl.col("credits")).cast(MONEY).alias("total"))
        .with_columns(
            pl.when(pl.col("total") < 0)
            .then(pl.lit("credit_note"))
            .otherwise(pl.lit("invoice"))
            .alias("document_type")
        )
    )
    negative = invoices.filter(pl.col("total") - pl.col("_adjusted") < 0)
    if negative.height:
        raise ValueError(f"invoices with a negative total: {negative['invoice_id'].to_list()}")
    return invoices.select(list(INVOICE_SCHEMA)).sort("customer_id")


def invoices_not_matching_lines(lines: pl.DataFrame, invoices: pl.DataFrame) -> pl.DataFrame:
    """Invoices whose subtotal, credits, total or line_count differ from their lines, plus
    invoices without lines and lines without an invoice (for a blocking check; empty = pass)."""
    expected = summarize_invoices(lines) if lines.height else invoices.clear()
    key = ["billing_period", "invoice_id"]
    both = expected.join(invoices, on=key, how="full", suffix="_stored", coalesce=True)
    differs = pl.lit(False)
    for column in ("customer_id", "currency", "subtotal", "credits", "total", "line_count"):
        differs = differs | pl.col(column).ne_missing(pl.col(f"{column}_stored"))
    return both.filter(differs).select(key).sort(key)


def amounts_off_minor_unit(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines whose amount is not exact at its currency's minor unit (empty = pass)."""
    units = {
        code: Decimal(1).scaleb(-minor_units_of(code))
        for code in lines["currency"].unique().to_list()
    }
    bad = [
        (invoice, line_no)
        for invoice, line_no, code, amount in lines.select(
            "invoice_id", "line_no", "currency", "amount"
        ).iter_rows()
        if amount != amount.quantize(units[code], context=EXACT)
    ]
    return pl.DataFrame(bad, schema={"invoice_id": pl.String, "line_no": pl.Int64}, orient="row")
