"""Monthly billing assets: period usage, unbilled usage, invoice lines and invoices (SPEC §5, §6)."""

import dagster as dg
import polars as pl

from data_contracts import CONTRACTS, conform, empty_frame
from meter_pipeline.assets.common import preview, table_spec
from meter_pipeline.io import warehouse
from meter_pipeline.partitions import monthly_partitions
from meter_pipeline.resources import DataRoot
from meter_pipeline.sla.credits import credits_over_fee, sla_credits
from meter_pipeline.sla.ledger import (
    credit_ledger,
    empty_ledger,
    ledger_problems,
    previous_period,
    subscription_ends,
)
from meter_pipeline.transforms import invoicing
from meter_pipeline.transforms.periods import period_landing_days

GROUP = "billing"
CLEAN_EVENTS = dg.AssetDep("clean_events")

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


def period_events(context: dg.AssetExecutionContext, data_root: DataRoot) -> pl.LazyFrame:
    """Clean events of the landing days a period reads (see period_landing_days)."""
    days = period_landing_days(context.partition_key, data_root.billing_rules().grace_days,
                               data_root.meters().future_tolerance_us)
    return warehouse.scan_partitions(data_root.path(), "clean_events", days)


@dg.multi_asset(
    outs={name: dg.AssetOut(**table_spec(name, GROUP))
          for name in ("period_usage", "unbilled_usage")},
    deps=[CLEAN_EVENTS], partitions_def=monthly_partitions, check_specs=[UNBILLED],
    name="usage_of_period",
    description="Aggregate the events each billing month bills (late ones included) per "
                "customer and meter, and report usage that no subscription bills.",
)
def usage_of_period(context: dg.AssetExecutionContext, data_root: DataRoot):
    period = context.partition_key
    meters, rules = data_root.meters(), data_root.billing_rules()
    billed, ignored = invoicing.split_period_events(period_events(context, data_root), period,
                                                    rules.grace_days)
    usage = conform(invoicing.build_period_usage(billed, meters, period), CONTRACTS["period_usage"])
    unbilled = conform(invoicing.build_unbilled_usage(billed, ignored, data_root.subscriptions(),
                                                      meters, period), CONTRACTS["unbilled_usage"])
    yield dg.Output(usage, output_name="period_usage",
                    metadata={"dagster/row_count": usage.height, "preview": preview(usage),
                              "late_events": int(usage["late_event_count"].sum())})
    by_reason = dict(unbilled.group_by("reason").agg(pl.col("event_count").sum()).iter_rows())
    yield dg.Output(unbilled, output_name="unbilled_usage",
                    metadata={"dagster/row_count": unbilled.height, "preview": preview(unbilled),
                              "events_by_reason": dg.MetadataValue.json(by_reason)})
    yield dg.AssetCheckResult(
        check_name="unbilled_usage_reported", asset_key="unbilled_usage",
        passed=unbilled.is_empty(), severity=dg.AssetCheckSeverity.WARN,
        metadata={"events_by_reason": dg.MetadataValue.json(by_reason)})


def invoice_metadata(invoices: pl.DataFrame) -> dict:
    totals = invoices.group_by("currency").agg(pl.col("total").sum(), pl.len()).sort("currency")
    return {
        "dagster/row_count": invoices.height,
        "totals_by_currency": dg.MetadataValue.json(
            {r["currency"]: {"invoices": r["len"], "total": str(r["total"])}
             for r in totals.iter_rows(named=True)}),
        "preview": preview(invoices, 10),
    }


def invoice_checks(lines: pl.DataFrame, invoices: pl.DataFrame) -> list[dg.AssetCheckResult]:
    mismatched = invoicing.invoices_not_matching_lines(lines, invoices)
    off = invoicing.amounts_off_minor_unit(lines)
    return [
        dg.AssetCheckResult(check_name="invoices_total_matches_lines", asset_key="invoices",
                            passed=mismatched.is_empty(),
                            metadata={"mismatched_invoices": mismatched.height}),
        dg.AssetCheckResult(check_name="invoice_amounts_exact_at_minor_unit",
                            asset_key="invoice_lines", passed=off.is_empty(),
                            metadata={"lines_off_minor_unit": off.height}),
    ]


CREDITS_WITHIN_FEE = dg.AssetCheckSpec(
    "sla_credits_within_fee", asset="sla_credits", blocking=True,
    description="No service credit exceeds its fee base (the platform fee invoiced for that "
                "service in that month).")
LEDGER_BALANCES = dg.AssetCheckSpec(
    "sla_credit_ledger_balances", asset="sla_credit_ledger", blocking=True,
    description="Every credit's opening balance equals applied + carried + forfeited, and "
                "follows from last month's carried balance: earned = applied + carried + "
                "forfeited over its life.")
PREVIOUS_LEDGER = dg.AssetDep("sla_credit_ledger", partition_mapping=dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True))
#: In the order they are yielded: the ledger first, since every output depends on the previous
#: month's ledger (Dagster wants a multi-asset's outputs in topological order).
INVOICE_TABLES = ("sla_credit_ledger", "sla_credits", "invoice_lines", "invoices")


@dg.multi_asset(
    outs={name: dg.AssetOut(**table_spec(name, GROUP)) for name in INVOICE_TABLES},
    deps=[CLEAN_EVENTS, dg.AssetDep("uptime"), PREVIOUS_LEDGER],
    partitions_def=monthly_partitions,
    check_specs=[TOTALS, MINOR_UNIT, CREDITS_WITHIN_FEE, LEDGER_BALANCES],
    name="invoice_period",
    description="Price each subscription's usage and platform fees into invoice lines with the "
                "minimum-commitment true-up; compute the month's SLA credits; apply earlier "
                "credits as negative lines (never below zero, the rest carried or forfeited); "
                "total one invoice per customer and month. Months run in order: each reads "
                "the ledger of the month before.",
)
def invoice_period(context: dg.AssetExecutionContext, data_root: DataRoot):
    period = context.partition_key
    pricing, meters = data_root.pricing(), data_root.meters()
    subscriptions = data_root.subscriptions()
    billed, _ = invoicing.split_period_events(period_events(context, data_root), period,
                                              pricing.grace_days)
    lines = invoicing.build_invoice_lines(period, billed, pricing, subscriptions, meters)
    credits, ledger, credit_lines, previous = sla_side(data_root, period, lines)
    lines = invoicing.append_credit_lines(lines, credit_lines)
    frames = {"invoice_lines": lines, "invoices": invoicing.summarize_invoices(lines),
              "sla_credits": credits, "sla_credit_ledger": ledger}
    tables = {name: conform(frames[name], CONTRACTS[name]) for name in INVOICE_TABLES}
    for name, frame in tables.items():
        meta = (invoice_metadata(frame) if name == "invoices" else
                {"dagster/row_count": frame.height, "preview": preview(frame, 10)})
        if name == "sla_credits":
            meta["granted_total"] = dg.MetadataValue.json(_sum_by_currency(
                frame.filter(pl.col("status") == "granted"), "credit_amount"))
        if name == "sla_credit_ledger":
            meta["applied_total"] = dg.MetadataValue.json(_sum_by_currency(frame, "applied"))
        yield dg.Output(frame, output_name=name, metadata=meta)
    yield from invoice_checks(tables["invoice_lines"], tables["invoices"])
    over = credits_over_fee(tables["sla_credits"])
    yield dg.AssetCheckResult(check_name="sla_credits_within_fee", asset_key="sla_credits",
                              passed=over.is_empty(), metadata={"over_fee": over.height})
    problems = ledger_problems(tables["sla_credit_ledger"], previous)
    yield dg.AssetCheckResult(check_name="sla_credit_ledger_balances",
                              asset_key="sla_credit_ledger", passed=not problems,
                              metadata={"problems": "; ".join(problems[:10]) or "none"})


def sla_side(data_root: DataRoot, period: str, lines: pl.DataFrame):
    """This month's credits, its ledger and the credit lines for its invoices."""
    root = data_root.path()
    previous = warehouse.scan_partitions(root, "sla_credit_ledger",
                                         [previous_period(period)]).collect()
    config = data_root.sla()
    if config is None:
        return (empty_frame(CONTRACTS["sla_credits"]), empty_ledger(), None, previous)
    pricing = data_root.pricing()
    uptime = warehouse.scan_partitions(root, "uptime", [period]).collect()
    minor = {plan.currency: plan.minor_units for plan in pricing.plans.values()}
    credits = sla_credits(period, uptime, lines, previous, config, pricing.grace_days, minor,
                          pricing.rounding)
    ledger, credit_lines = credit_ledger(period, previous, credits, lines,
                                         subscription_ends(data_root.subscriptions()))
    return credits, ledger, credit_lines, previous


def _sum_by_currency(frame: pl.DataFrame, column: str) -> dict[str, str]:
    sums = frame.group_by("currency").agg(pl.col(column).sum()).sort("currency")
    return {currency: str(total) for currency, total in sums.iter_rows()}
