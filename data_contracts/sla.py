"""Contracts of the SLA tables (docs/rules.md#8-uptime-and-sla-credits,
docs/rules.md#9-tables-and-guarantees): daily probe tables (``landing_date``) and monthly uptime,
credits and credit ledger (``billing_period``)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from data_contracts.base import MONEY, PERCENT, PERIOD_PATTERN, TIMESTAMP, Contract

PERIOD = PERIOD_PATTERN
CREDIT_STATUSES = ("none", "granted", "pending", "unclaimed")
LEDGER_STATUSES = ("granted", "pending", "unclaimed")


def _landing_date() -> object:
    return pa.Field(description="UTC day the monitoring exports arrived (the partition).")


def _billing_period() -> object:
    return pa.Field(str_matches=PERIOD, description="YYYY-MM, the billing month (the partition).")


def _service() -> object:
    return pa.Field(description="A service of sla.yaml (the services platform fees name).")


def _pct(what: str, *, le: int = 100) -> object:
    return pa.Field(
        ge=0,
        le=le,
        description=f"{what}; decimal(9, 4) rounded down — computations use the exact value.",
    )


def _money(what: str) -> object:
    return pa.Field(ge=0, description=f"{what}, exact at the currency's minor unit.")


class ProbeResults(Contract):
    """Internal: one landing day's probe results, each probe once. Grain: one row per
    (service, region, checked_at) in that day's exports; down when any copy says down. A month
    merges the results of the days it reads, so a probe exported twice counts once."""

    landing_date: pl.Date = _landing_date()
    service: str = _service()
    region: str = pa.Field(description="Where the probe ran.")
    checked_at: TIMESTAMP = pa.Field(description="When the probe ran, UTC microseconds.")
    down: bool = pa.Field(description="True when any copy of the probe reported down.")


class ProbeMinutes(Contract):
    """Per service and UTC minute with probe results in that day's exports
    (docs/rules.md#8-uptime-and-sla-credits). Grain:
    landing_date × service × minute. A minute is down when more than half its probes are down."""

    landing_date: pl.Date = _landing_date()
    service: str = _service()
    minute: TIMESTAMP = pa.Field(description="Start of the UTC minute.")
    probes: pl.Int64 = pa.Field(ge=1, description="Distinct probes (service, region, instant).")
    down_probes: pl.Int64 = pa.Field(
        ge=0, description="Probes down (copies that disagree count as down)."
    )
    status: str = pa.Field(
        isin=["up", "down"], description="down when down_probes × 2 > probes, else up."
    )

    @pa.dataframe_check(description="down_probes ≤ probes")
    def down_within_probes(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("down_probes") <= pl.col("probes"))


class Uptime(Contract):
    """Monthly uptime per service (docs/rules.md#8-uptime-and-sla-credits). Grain: billing_period ×
    service of sla.yaml.
    Exact uptime = 100 × (minutes − (down_minutes − excused_minutes)) / minutes."""

    billing_period: str = _billing_period()
    service: str = _service()
    minutes: pl.Int64 = pa.Field(
        isin=[d * 1440 for d in (28, 29, 30, 31)], description="Minutes in the calendar month."
    )
    down_minutes: pl.Int64 = pa.Field(ge=0, description="All down minutes, excused or not.")
    excused_minutes: pl.Int64 = pa.Field(
        ge=0, description="Down minutes that overlap an excused interval (maintenance or incident)."
    )
    no_data_minutes: pl.Int64 = pa.Field(
        ge=0, description="Minutes without a probe result (counted as up)."
    )
    uptime_pct: PERCENT = _pct("Uptime percentage")
    target_pct: PERCENT = _pct("Target uptime of sla.yaml")
    met: bool = pa.Field(description="Exact uptime ≥ target.")
    coverage_pct: PERCENT = _pct("Share of minutes with probe results")

    @pa.dataframe_check(description="excused ≤ down ≤ minutes, no_data ≤ minutes")
    def minutes_consistent(cls, data) -> pl.LazyFrame:
        c = pl.col
        return data.lazyframe.select(
            (c("excused_minutes") <= c("down_minutes"))
            & (c("down_minutes") <= c("minutes"))
            & (c("no_data_minutes") <= c("minutes"))
        )


class SlaCredits(Contract):
    """Service credits (docs/rules.md#8-uptime-and-sla-credits). Grain: billing_period × customer_id
    × service × earned_period: one row per invoiced customer and service earned in the period, plus
    the pending credits of earlier periods resolved in it (granted or unclaimed)."""

    billing_period: str = _billing_period()
    customer_id: str = pa.Field(description="Invoiced customer.")
    service: str = _service()
    earned_period: str = pa.Field(
        str_matches=PERIOD,
        description="YYYY-MM whose uptime earned "
        "the credit (earlier than billing_period when resolved here).",
    )
    currency: str = pa.Field(description="ISO 4217 currency of the customer's invoices.")
    uptime_pct: PERCENT = _pct("The service's uptime in earned_period")
    credit_pct: PERCENT = _pct("Credit as a percentage of the fee")
    fee_amount: MONEY = _money("Platform fees invoiced for the service in earned_period")
    credit_amount: MONEY = _money("fee_amount × credit_pct / 100, rounded once")
    status: str = pa.Field(
        isin=list(CREDIT_STATUSES),
        description="none (nothing due), granted, pending (waiting for a claim) or unclaimed.",
    )

    @pa.dataframe_check(description="a credit never exceeds its fee base")
    def credit_within_fee(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("credit_amount") <= pl.col("fee_amount"))


class SlaCreditLedger(Contract):
    """Credits outstanding at the period's start or earned in it
    (docs/rules.md#8-uptime-and-sla-credits). Grain:
    billing_period × customer_id × service × earned_period. opening = applied + carried +
    forfeited; over a credit's life, amount = Σ applied + Σ forfeited + its last carried."""

    billing_period: str = _billing_period()
    customer_id: str = pa.Field(description="Customer owed the credit.")
    service: str = _service()
    earned_period: str = pa.Field(str_matches=PERIOD, description="YYYY-MM that earned it.")
    currency: str = pa.Field(description="Currency of the credit and the invoices.")
    status: str = pa.Field(
        isin=list(LEDGER_STATUSES),
        description="granted (can be applied), "
        "pending (waiting for its claim window) or unclaimed (forfeited).",
    )
    uptime_pct: PERCENT = _pct("Uptime that earned the credit")
    credit_pct: PERCENT = _pct("Credit percentage it was earned with")
    fee_amount: MONEY = _money("Fee base it was earned on")
    amount: MONEY = _money("Earned amount")
    opening: MONEY = _money("Balance at the period's start (amount in the earned period)")
    applied: MONEY = _money("Applied on this period's invoice as a negative sla_credit line")
    carried: MONEY = _money("Balance carried to the next period")
    forfeited: MONEY = _money("Forfeited in this period")

    @pa.dataframe_check(description="opening = applied + carried + forfeited")
    def row_balances(cls, data) -> pl.LazyFrame:
        c = pl.col
        return data.lazyframe.select(c("opening") == c("applied") + c("carried") + c("forfeited"))


TABLES = {
    "probe_results": ProbeResults,
    "probe_minutes": ProbeMinutes,
    "uptime": Uptime,
    "sla_credits": SlaCredits,
    "sla_credit_ledger": SlaCreditLedger,
}
PARTITION_COLUMN = {
    name: ("landing_date" if name.startswith("probe_") else "billing_period") for name in TABLES
}
