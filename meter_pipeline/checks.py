"""Every asset check, wired in one place. The predicates live beside the rules they check
(ingestion/audit.py, billing/invoices.py, sla/credits.py, sla/ledger.py, sla/uptime.py); here they
become Dagster check specs and results over the partitions of a run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import dagster as dg
import polars as pl

from meter_pipeline.billing.close import ClosedMonth
from meter_pipeline.billing.invoices import amounts_off_minor_unit, invoices_not_matching_lines
from meter_pipeline.billing.trace import trace_unbalanced
from meter_pipeline.sla.credits import credits_over_fee
from meter_pipeline.sla.ledger import ledger_problems

ROWS_CONSERVED = dg.AssetCheckSpec(
    "rows_conserved",
    asset="ingestion_audit",
    blocking=True,
    description="Every input row of the landing day ends in exactly one place: rows_read = "
    "rows_quarantined + rows_duplicate + rows_accepted. Blocks downstream assets.",
)
UNBILLED_REPORTED = dg.AssetCheckSpec(
    "unbilled_usage_reported",
    asset="unbilled_usage",
    description="Warns when usage is not billed: events of customers with no covering "
    "subscription (no_subscription) or late events ignored by late_events: ignore.",
)
TOTALS_MATCH_LINES = dg.AssetCheckSpec(
    "invoices_total_matches_lines",
    asset="invoices",
    blocking=True,
    description="Every invoice's subtotal, credits, total and line_count equal the sums of its "
    "lines, and every line belongs to an invoice.",
)
EXACT_AT_MINOR_UNIT = dg.AssetCheckSpec(
    "invoice_amounts_exact_at_minor_unit",
    asset="invoice_lines",
    blocking=True,
    description="Every line amount is exact at its currency's minor unit (cents for USD, whole "
    "yen for JPY): rounded once, never more digits.",
)
CREDITS_WITHIN_FEE = dg.AssetCheckSpec(
    "sla_credits_within_fee",
    asset="sla_credits",
    blocking=True,
    description="No service credit exceeds its fee base (the platform fee invoiced for that "
    "service in that month).",
)
LEDGER_BALANCES = dg.AssetCheckSpec(
    "sla_credit_ledger_balances",
    asset="sla_credit_ledger",
    blocking=True,
    description="Every credit's opening balance equals applied + carried + forfeited and "
    "follows from last month's carried balance: earned = applied + carried + "
    "forfeited over its life.",
)
COVERAGE_SUFFICIENT = dg.AssetCheckSpec(
    "uptime_coverage_sufficient",
    asset="uptime",
    description="Warns when a service's probe coverage in the month (minutes with probe "
    "results / minutes in the month) is below min_coverage_pct of sla.yaml; minutes "
    "without data count as up.",
)
TRACE_BALANCES = dg.AssetCheckSpec(
    "period_trace_balances",
    asset="period_trace",
    blocking=True,
    description="Every event of the month is accounted for: events = events_billed + "
    "events_unbilled + events_not_priced (SPEC §14).",
)
CLOSE_CHECKS = [
    TOTALS_MATCH_LINES,
    EXACT_AT_MINOR_UNIT,
    CREDITS_WITHIN_FEE,
    LEDGER_BALANCES,
    TRACE_BALANCES,
]


def rows_conserved(counts: Mapping[str, int], unbalanced: list[str]) -> dg.AssetCheckResult:
    """The conservation check over the days of a run (``unbalanced``: days where it fails)."""
    return dg.AssetCheckResult(
        check_name=ROWS_CONSERVED.name,
        asset_key=ROWS_CONSERVED.asset_key,
        passed=not unbalanced,
        metadata={
            **{
                k: counts[k]
                for k in ("rows_read", "rows_quarantined", "rows_duplicate", "rows_accepted")
            },
            "unbalanced_days": ", ".join(unbalanced) or "none",
        },
    )


def unbilled_usage_reported(by_reason: Mapping[str, int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=UNBILLED_REPORTED.name,
        asset_key=UNBILLED_REPORTED.asset_key,
        passed=not by_reason,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"events_by_reason": dg.MetadataValue.json(dict(by_reason))},
    )


def uptime_coverage_sufficient(low: list[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=COVERAGE_SUFFICIENT.name,
        asset_key=COVERAGE_SUFFICIENT.asset_key,
        passed=not low,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"low_coverage": ", ".join(low) or "none"},
    )


class CloseChecks:
    """The month close's blocking checks, tallied over the months of a run."""

    def __init__(self) -> None:
        self.mismatched = self.off_unit = self.over_fee = 0
        self.problems: list[str] = []
        self.untraced: list[str] = []

    def add(self, closed: ClosedMonth, previous_ledger: pl.DataFrame) -> None:
        self.untraced += trace_unbalanced(closed.period_trace)
        self.mismatched += invoices_not_matching_lines(closed.invoice_lines, closed.invoices).height
        self.off_unit += amounts_off_minor_unit(closed.invoice_lines).height
        self.over_fee += credits_over_fee(closed.sla_credits).height
        self.problems += ledger_problems(closed.sla_credit_ledger, previous_ledger)

    def results(self) -> Iterator[dg.AssetCheckResult]:
        yield dg.AssetCheckResult(
            check_name=TRACE_BALANCES.name,
            asset_key=TRACE_BALANCES.asset_key,
            passed=not self.untraced,
            metadata={"unbalanced_periods": ", ".join(self.untraced) or "none"},
        )
        yield dg.AssetCheckResult(
            check_name=LEDGER_BALANCES.name,
            asset_key=LEDGER_BALANCES.asset_key,
            passed=not self.problems,
            metadata={"problems": "; ".join(self.problems[:10]) or "none"},
        )
        yield dg.AssetCheckResult(
            check_name=CREDITS_WITHIN_FEE.name,
            asset_key=CREDITS_WITHIN_FEE.asset_key,
            passed=self.over_fee == 0,
            metadata={"over_fee": self.over_fee},
        )
        yield dg.AssetCheckResult(
            check_name=EXACT_AT_MINOR_UNIT.name,
            asset_key=EXACT_AT_MINOR_UNIT.asset_key,
            passed=self.off_unit == 0,
            metadata={"lines_off_minor_unit": self.off_unit},
        )
        yield dg.AssetCheckResult(
            check_name=TOTALS_MATCH_LINES.name,
            asset_key=TOTALS_MATCH_LINES.asset_key,
            passed=self.mismatched == 0,
            metadata={"mismatched": self.mismatched},
        )


# --- Alerts (SPEC §10) -----------------------------------------------------------------------

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
