"""Every asset check, wired in one place. The predicates live beside the rules they check
(ingestion/audit.py, billing/invoices.py, sla/credits.py, sla/ledger.py, sla/uptime.py); here they
become Dagster check specs and results over the partitions of a run."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping

import dagster as dg
import polars as pl

from meter_pipeline.billing.close import ClosedMonth
from meter_pipeline.billing.invoices import amounts_off_minor_unit, invoices_not_matching_lines
from meter_pipeline.billing.trace import trace_unbalanced
from meter_pipeline.config.sla import SlaClaim
from meter_pipeline.ingestion.audit import audit_counts, conservation_holds
from meter_pipeline.partitions import daily_partitions, monthly_partitions
from meter_pipeline.sla.claims import describe
from meter_pipeline.sla.credits import credits_over_fee
from meter_pipeline.sla.ledger import ledger_problems

#: Checks evaluated per partition (their specs carry the partitions) are a preview feature of
#: this Dagster release; the project relies on it knowingly (docs/decisions.md).
warnings.filterwarnings(
    "ignore", "Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)

ROWS_CONSERVED = dg.AssetCheckSpec(
    "rows_conserved",
    asset="ingestion_audit",
    partitions_def=daily_partitions,
    blocking=True,
    description="Every input row of the landing day ends in exactly one place: rows_read = "
    "rows_quarantined + rows_duplicate + rows_accepted. Blocks downstream assets.",
)
UNBILLED_REPORTED = dg.AssetCheckSpec(
    "unbilled_usage_reported",
    asset="unbilled_usage",
    partitions_def=monthly_partitions,
    description="Warns when usage is not billed: events of customers with no covering "
    "subscription (no_subscription) or late events ignored by late_events: ignore.",
)
TOTALS_MATCH_LINES = dg.AssetCheckSpec(
    "invoices_total_matches_lines",
    asset="invoices",
    partitions_def=monthly_partitions,
    blocking=True,
    description="Every invoice's subtotal, credits, total and line_count equal the sums of its "
    "lines, and every line belongs to an invoice.",
)
EXACT_AT_MINOR_UNIT = dg.AssetCheckSpec(
    "invoice_amounts_exact_at_minor_unit",
    asset="invoice_lines",
    partitions_def=monthly_partitions,
    blocking=True,
    description="Every line amount is exact at its currency's minor unit (cents for USD, whole "
    "yen for JPY): rounded once, never more digits.",
)
CREDITS_WITHIN_FEE = dg.AssetCheckSpec(
    "sla_credits_within_fee",
    asset="sla_credits",
    partitions_def=monthly_partitions,
    blocking=True,
    description="No service credit exceeds its fee base (the platform fee invoiced for that "
    "service in that month).",
)
LEDGER_BALANCES = dg.AssetCheckSpec(
    "sla_credit_ledger_balances",
    asset="sla_credit_ledger",
    partitions_def=monthly_partitions,
    blocking=True,
    description="Every credit's opening balance equals applied + carried + forfeited and "
    "follows from last month's carried balance: earned = applied + carried + "
    "forfeited over its life.",
)
COVERAGE_SUFFICIENT = dg.AssetCheckSpec(
    "uptime_coverage_sufficient",
    asset="uptime",
    partitions_def=monthly_partitions,
    description="Warns when a service's probe coverage in the month (minutes with probe "
    "results / minutes in the month) is below min_coverage_pct of sla.yaml; minutes "
    "without data count as up.",
)
CORRECTIONS_CONSERVED = dg.AssetCheckSpec(
    "corrections_conserved",
    asset="correction_audit",
    partitions_def=daily_partitions,
    blocking=True,
    description="Every correction row of the landing day ends in exactly one place: rows_read = "
    "rows_quarantined + rows_duplicate + rows_accepted "
    "(docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history).",
)
TRACE_BALANCES = dg.AssetCheckSpec(
    "period_trace_balances",
    asset="period_trace",
    partitions_def=monthly_partitions,
    blocking=True,
    description="Every event of the month is accounted for: events = events_billed + "
    "events_unbilled + events_not_priced "
    "(docs/audit.md#where-every-event-of-a-month-went-period_trace).",
)
CLAIMS_MATCHED = dg.AssetCheckSpec(
    "sla_claims_matched",
    asset="sla_credits",
    partitions_def=monthly_partitions,
    description="Warns when a row of sla_claims.csv for this month matches no credit (a service "
    "not in sla.yaml, a customer without an invoice, a month that bills nobody). Such a "
    "claim is ignored; billing goes on.",
)
DAYS_COMPLETE = dg.AssetCheckSpec(
    "invoices_landing_days_complete",
    asset="invoices",
    partitions_def=monthly_partitions,
    blocking=True,
    description="Every landing day the month reads ingested completely (its ingestion_audit "
    "exists and conserves its rows): a month never closes over a failed day. When one did not, "
    "nothing of the month is written; fix the day, re-run it, then close the month.",
)
AUDIT_COUNTS = ("rows_read", "rows_quarantined", "rows_duplicate", "rows_accepted")
CLOSE_CHECKS = [
    DAYS_COMPLETE,
    CLAIMS_MATCHED,
    TOTALS_MATCH_LINES,
    EXACT_AT_MINOR_UNIT,
    CREDITS_WITHIN_FEE,
    LEDGER_BALANCES,
    TRACE_BALANCES,
]


class PartitionChecks:
    """The check evaluations of a run, one per check and partition: a ranged run records each
    day's (month's) own result, so one bad day fails that day's check only. Yield ``results()``
    after the assets' MaterializeResults."""

    def __init__(self, context: dg.AssetExecutionContext) -> None:
        self.context = context
        self.evaluations: list[dg.AssetCheckEvaluation] = []

    def add(
        self, spec: dg.AssetCheckSpec, key: str, passed: bool, metadata: Mapping, warn=False
    ) -> None:
        self.evaluations.append(
            dg.AssetCheckEvaluation(
                asset_key=spec.asset_key,
                check_name=spec.name,
                passed=passed,
                metadata=dict(metadata),
                severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
                blocking=spec.blocking,
                partition=key,
            )
        )

    def results(self) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
        """An (empty) output per evaluated check, as Dagster expects of a declared check, then
        the per-partition evaluations (a failed blocking one fails the step, as a result would).
        """
        outputs = {
            spec.key: name
            for name, spec in self.context.assets_def.check_specs_by_output_name.items()
        }
        selected = self.context.selected_asset_check_keys
        for check_key in dict.fromkeys(e.asset_check_key for e in self.evaluations):
            if check_key in selected:
                yield dg.Output(None, output_name=outputs[check_key])
        yield from self.evaluations


def rows_conserved(checks: PartitionChecks, day: str, audit: pl.DataFrame) -> None:
    """The conservation check of one landing day, from its audit rows."""
    counts = audit_counts(audit)
    names = ("rows_read", "rows_quarantined", "rows_duplicate", "rows_accepted")
    checks.add(ROWS_CONSERVED, day, conservation_holds(audit), {k: counts[k] for k in names})


def day_failed(checks: PartitionChecks, day: str, error: str) -> None:
    """A landing day whose ingestion raised: its rows are not accounted for (it has no audit), so
    its conservation check fails, naming the error; the other days of the run still load."""
    metadata = {"error": error, "fix": f"fix the day, then re-run it: --start {day} --end {day}"}
    checks.add(ROWS_CONSERVED, day, False, metadata)


def unbilled_usage_reported(
    checks: PartitionChecks, period: str, by_reason: Mapping[str, int]
) -> None:
    metadata = {"events_by_reason": dg.MetadataValue.json(dict(sorted(by_reason.items())))}
    checks.add(UNBILLED_REPORTED, period, not by_reason, metadata, warn=True)


def uptime_coverage_sufficient(checks: PartitionChecks, period: str, low: list[str]) -> None:
    metadata = {"low_coverage": ", ".join(low) or "none"}
    checks.add(COVERAGE_SUFFICIENT, period, not low, metadata, warn=True)


def corrections_conserved(
    checks: PartitionChecks, day: str, unbalanced: list[str], audit: pl.DataFrame
) -> None:
    """The corrections' conservation check of one landing day."""
    counts = {name: int(audit[name].sum()) for name in AUDIT_COUNTS}
    checks.add(CORRECTIONS_CONSERVED, day, not unbalanced, counts)


def close_checks(
    checks: PartitionChecks, period: str, closed: ClosedMonth, previous_ledger: pl.DataFrame
) -> None:
    """The month close's blocking checks of one month."""
    untraced = trace_unbalanced(closed.period_trace)
    problems = ledger_problems(closed.sla_credit_ledger, previous_ledger)
    over_fee = credits_over_fee(closed.sla_credits).height
    off_unit = amounts_off_minor_unit(closed.invoice_lines).height
    mismatched = invoices_not_matching_lines(closed.invoice_lines, closed.invoices).height
    checks.add(TRACE_BALANCES, period, not untraced, {"unbalanced": ", ".join(untraced) or "none"})
    checks.add(
        LEDGER_BALANCES, period, not problems, {"problems": "; ".join(problems[:10]) or "none"}
    )
    checks.add(CREDITS_WITHIN_FEE, period, over_fee == 0, {"over_fee": over_fee})
    checks.add(EXACT_AT_MINOR_UNIT, period, off_unit == 0, {"lines_off_minor_unit": off_unit})
    checks.add(TOTALS_MATCH_LINES, period, mismatched == 0, {"mismatched": mismatched})


def landing_days_complete(
    checks: PartitionChecks, period: str, blocker: tuple[str, str] | None
) -> None:
    """The month's landing days are complete (``blocker``: the first day that is not, and why)."""
    day, why = blocker or ("none", "")
    checks.add(DAYS_COMPLETE, period, blocker is None, {"incomplete_day": day, "why": why})


def claims_matched(checks: PartitionChecks, period: str, unmatched: list[SlaClaim]) -> None:
    names = ", ".join(describe(c) for c in unmatched[:10]) or "none"
    metadata = {"unmatched_claims": len(unmatched), "claims": names}
    checks.add(CLAIMS_MATCHED, period, not unmatched, metadata, warn=True)


# --- Alerts (docs/alerts-and-formats.md#usage-and-cost-alerts) ------------------------------

ALERTS_REPORTED = dg.AssetCheckSpec(
    "usage_alerts_reported",
    asset="usage_alerts",
    description="Warns when a usage or cost alert of reference/alerts.csv first crossed its "
    "threshold on a landing day of the run (the alerts are listed in the metadata).",
)
ALERTS_DELIVERED = dg.AssetCheckSpec(
    "usage_alerts_delivered",
    asset="usage_alerts",
    description="Warns when an alert could not be POSTed to ALERT_WEBHOOK_URL after its retries "
    "(it is recorded in warehouse/_alert_deliveries/ and retried by the next run).",
)


def describe_alert(row: Mapping) -> str:
    """One alert in words: ``2026-09 acme usage api_calls ≥ 1000: 1200 (landed 2026-09-14)``."""
    what = row["meter"] if row["threshold_kind"] == "usage" else row["currency"]
    return (
        f"{row['billing_period']} {row['customer_id']} {row['threshold_kind']} {what} "
        f"≥ {row['threshold'].normalize():f}: {row['value'].normalize():f} "
        f"(landed {row['landing_date']})"
    )


def usage_alerts_reported(listed: list[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=ALERTS_REPORTED.name,
        asset_key=ALERTS_REPORTED.asset_key,
        passed=not listed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"alerts": len(listed), "first": "; ".join(listed[:10]) or "none"},
    )


def alerts_delivered(configured: bool, outcomes: list) -> dg.AssetCheckResult:
    failed = [o for o in outcomes if o.status == "failed"]
    return dg.AssetCheckResult(
        check_name=ALERTS_DELIVERED.name,
        asset_key=ALERTS_DELIVERED.asset_key,
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "webhook": "configured" if configured else "not configured",
            "sent": len(outcomes),
            "failed": len(failed),
            "errors": "; ".join(f"{o.alert_id[:12]}: {o.error}" for o in failed[:5]) or "none",
        },
    )
