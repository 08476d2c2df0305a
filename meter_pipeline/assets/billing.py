"""Monthly billing assets (SPEC §5–§7): period usage and unbilled usage; invoice lines, invoices,
SLA credits and the credit ledger. Months run in order: each reads the ledger of the month
before, and a ranged run carries it from one month to the next."""

from collections import Counter

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, empty_frame
from meter_pipeline.assets.common import SINGLE_RUN, Written, table_asset_spec, write_table
from meter_pipeline.io import warehouse
from meter_pipeline.partitions import monthly_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.sla.credits import credits_over_fee, sla_credits
from meter_pipeline.sla.ledger import (
    credit_ledger,
    empty_ledger,
    ledger_problems,
    subscription_ends,
)
from meter_pipeline.billing import invoice_lines, period_usage
from meter_pipeline.billing import invoices as invoicing
from meter_pipeline.calendar import period_landing_days, previous_period

GROUP = "billing"

UNBILLED = dg.AssetCheckSpec(
    "unbilled_usage_reported", asset="unbilled_usage",
    description="Warns when usage is not billed: events of customers with no covering "
                "subscription (no_subscription) or late events ignored by late_events: ignore.")
TOTALS = dg.AssetCheckSpec(
    "invoices_total_matches_lines", asset="invoices", blocking=True,
    description="Every invoice's subtotal, credits, total and line_count equal the sums of its "
                "lines, and every line belongs to an invoice.")
MINOR_UNIT = dg.AssetCheckSpec(
    "invoice_amounts_exact_at_minor_unit", asset="invoice_lines", blocking=True,
    description="Every line amount is exact at its currency's minor unit (cents for USD, whole "
                "yen for JPY): rounded once, never more digits.")
CREDITS_WITHIN_FEE = dg.AssetCheckSpec(
    "sla_credits_within_fee", asset="sla_credits", blocking=True,
    description="No service credit exceeds its fee base (the platform fee invoiced for that "
                "service in that month).")
LEDGER_BALANCES = dg.AssetCheckSpec(
    "sla_credit_ledger_balances", asset="sla_credit_ledger", blocking=True,
    description="Every credit's opening balance equals applied + carried + forfeited and "
                "follows from last month's carried balance: earned = applied + carried + "
                "forfeited over its life.")
PREVIOUS_LEDGER = dg.AssetDep("sla_credit_ledger", partition_mapping=dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True))
#: In the order they are yielded: the ledger first, since every output depends on the previous
#: month's ledger (Dagster wants a multi-asset's outputs in topological order).
INVOICE_TABLES = ("sla_credit_ledger", "sla_credits", "invoice_lines", "invoices")


def period_days(data_root: DataRoot, period: str) -> list[pl.LazyFrame]:
    """Clean events of the landing days a period reads (see period_landing_days), one lazy
    frame per day: the month close holds one day's events at a time."""
    days = period_landing_days(period, data_root.billing_rules().grace_days,
                               data_root.meters().future_tolerance_us)
    return [warehouse.scan_partitions(data_root.path(), "clean_events", [day]).drop("event_id")
            for day in days]


@dg.multi_asset(
    specs=[table_asset_spec(name, GROUP, deps=("clean_events",))
           for name in ("period_usage", "unbilled_usage")],
    partitions_def=monthly_partitions, backfill_policy=SINGLE_RUN, check_specs=[UNBILLED],
    name="usage_of_period",
    description="Aggregate the events each billing month bills (late ones included) per "
                "customer and meter, and report usage that no subscription bills.",
)
def usage_of_period(context: dg.AssetExecutionContext, data_root: DataRoot):
    root, meters = data_root.path(), data_root.meters()
    grace, subscriptions = data_root.billing_rules().grace_days, data_root.subscriptions()
    usage, unbilled, late, by_reason = Written(), Written(), 0, Counter()
    for period in sorted(context.partition_keys):
        usage_table, unbilled_usage = period_usage.period_usage_tables(
            period_days(data_root, period), period, grace, subscriptions, meters)
        frame = usage.add(write_table(root, "period_usage", period, usage_table))
        late += int(frame["late_event_count"].sum())
        frame = unbilled.add(write_table(root, "unbilled_usage", period, unbilled_usage))
        by_reason.update(dict(frame.group_by("reason").agg(pl.col("event_count").sum())
                              .iter_rows()))
    by_reason = dict(sorted(by_reason.items()))
    yield dg.MaterializeResult(asset_key="period_usage",
                               metadata={**usage.metadata(), "late_events": late})
    yield dg.MaterializeResult(asset_key="unbilled_usage", metadata={
        **unbilled.metadata(), "events_by_reason": dg.MetadataValue.json(by_reason)})
    yield dg.AssetCheckResult(
        check_name="unbilled_usage_reported", asset_key="unbilled_usage", passed=not by_reason,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"events_by_reason": dg.MetadataValue.json(by_reason)})


@dg.multi_asset(
    specs=[table_asset_spec(name, GROUP, deps=("clean_events", "uptime", PREVIOUS_LEDGER))
           for name in INVOICE_TABLES],
    partitions_def=monthly_partitions, backfill_policy=SINGLE_RUN,
    check_specs=[TOTALS, MINOR_UNIT, CREDITS_WITHIN_FEE, LEDGER_BALANCES],
    name="invoice_period",
    description="Price each subscription's usage and platform fees into invoice lines with the "
                "minimum-commitment true-up; compute the month's SLA credits; apply earlier "
                "credits as negative lines (never below zero, the rest carried or forfeited); "
                "total one invoice per customer and month.",
)
def invoice_period(context: dg.AssetExecutionContext, data_root: DataRoot):
    root = data_root.path()
    periods = sorted(context.partition_keys)
    previous = warehouse.scan_partitions(root, "sla_credit_ledger",
                                         [previous_period(periods[0])]).collect()
    written = {name: Written() for name in INVOICE_TABLES}
    sums = {name: pl.DataFrame() for name in ("invoices", "sla_credits", "sla_credit_ledger")}
    mismatched = off_unit = over_fee = 0
    problems: list[str] = []
    for period in periods:
        tables = invoice_tables(data_root, period, previous)
        tables = {name: written[name].add(write_table(root, name, period, tables[name]))
                  for name in INVOICE_TABLES}
        mismatched += invoicing.invoices_not_matching_lines(tables["invoice_lines"],
                                                            tables["invoices"]).height
        off_unit += invoicing.amounts_off_minor_unit(tables["invoice_lines"]).height
        over_fee += credits_over_fee(tables["sla_credits"]).height
        problems += ledger_problems(tables["sla_credit_ledger"], previous)
        previous = tables["sla_credit_ledger"]
        sums["invoices"] = _add_by_currency(sums["invoices"], tables["invoices"], "total")
        sums["sla_credits"] = _add_by_currency(
            sums["sla_credits"], tables["sla_credits"].filter(pl.col("status") == "granted"),
            "credit_amount")
        sums["sla_credit_ledger"] = _add_by_currency(sums["sla_credit_ledger"],
                                                     tables["sla_credit_ledger"], "applied")
    labels = {"invoices": "totals_by_currency", "sla_credits": "granted_by_currency",
              "sla_credit_ledger": "applied_by_currency"}
    for name in INVOICE_TABLES:
        meta = written[name].metadata(rows=10)
        if name in labels:
            meta[labels[name]] = dg.MetadataValue.json(
                {c: str(t) for c, t in sums[name].sort("currency").iter_rows()})
        yield dg.MaterializeResult(asset_key=name, metadata=meta)
    yield dg.AssetCheckResult(check_name="sla_credit_ledger_balances",
                              asset_key="sla_credit_ledger", passed=not problems,
                              metadata={"problems": "; ".join(problems[:10]) or "none"})
    yield dg.AssetCheckResult(check_name="sla_credits_within_fee", asset_key="sla_credits",
                              passed=over_fee == 0, metadata={"over_fee": over_fee})
    yield dg.AssetCheckResult(check_name="invoice_amounts_exact_at_minor_unit",
                              asset_key="invoice_lines", passed=off_unit == 0,
                              metadata={"lines_off_minor_unit": off_unit})
    yield dg.AssetCheckResult(check_name="invoices_total_matches_lines", asset_key="invoices",
                              passed=mismatched == 0, metadata={"mismatched": mismatched})


def invoice_tables(data_root: DataRoot, period: str, previous: pl.DataFrame
                   ) -> dict[str, pl.DataFrame]:
    """One month: lines before credits → credits earned/resolved → ledger → credit lines →
    invoices."""
    pricing, meters, subscriptions = (data_root.pricing(), data_root.meters(),
                                      data_root.subscriptions())
    billed = [period_usage.split_period_events(day, period, pricing.grace_days)[0]
              for day in period_days(data_root, period)]
    lines = invoice_lines.build_invoice_lines(period, billed, pricing, subscriptions, meters)
    config = data_root.sla()
    if config is None:
        credits, ledger, credit_lines = empty_frame(CONTRACTS["sla_credits"]), empty_ledger(), None
    else:
        uptime = warehouse.scan_partitions(data_root.path(), "uptime", [period]).collect()
        minor = {plan.currency: plan.minor_units for plan in pricing.plans.values()}
        credits = sla_credits(period, uptime, lines, previous, config, pricing.grace_days, minor,
                              pricing.rounding)
        ledger, credit_lines = credit_ledger(period, previous, credits, lines,
                                             subscription_ends(subscriptions))
    lines = invoicing.append_credit_lines(lines, credit_lines)
    return {"invoice_lines": lines, "invoices": invoicing.summarize_invoices(lines),
            "sla_credits": credits, "sla_credit_ledger": ledger}


def _add_by_currency(totals: pl.DataFrame, frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Running sums of ``column`` per currency, as (currency, total)."""
    part = frame.group_by("currency").agg(pl.col(column).sum().alias("total"))
    if totals.is_empty():
        return part
    return pl.concat([totals, part]).group_by("currency").agg(pl.col("total").sum())
