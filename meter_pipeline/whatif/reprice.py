"""``meter-pipeline reprice``: the stored usage of a range of months under a candidate pricing.yaml.

Reads, per month, the stored ``invoice_lines``, ``invoices`` and ``invoice_line_events`` and the
clean events and corrections the close read (the effective events, by
:func:`meter_pipeline.assets.billing.period_days`, the close's own reader); prices them with
:func:`meter_pipeline.billing.reprice.reprice_period`; writes ``reprice_lines`` and
``reprice_summary`` (Hive-partitioned Parquet under ``<out>/warehouse/``) and
``<out>/reprice_report.html``. The data root is only read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts import conform
from data_contracts.whatif import TABLES
from meter_pipeline.assets.billing import period_days
from meter_pipeline.billing.reprice import RepriceError, map_subscriptions, reprice_period
from meter_pipeline.calendar import next_period, period_landing_days
from meter_pipeline.config.errors import ConfigError, read_yaml
from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.config.pricing import PricingConfig, parse_pricing
from meter_pipeline.config.reference import Reference, load_reference
from meter_pipeline.io import warehouse
from meter_pipeline.storage import is_remote
from meter_pipeline.workers import worker_map

COLUMN = "billing_period"
REPORT = "reprice_report.html"


@dataclass
class RepriceResult:
    out: Path
    periods: list[str] = field(default_factory=list)
    #: Months of the range with no stored close (nothing to reprice).
    skipped: list[str] = field(default_factory=list)
    summary: pl.DataFrame | None = None
    lines: pl.DataFrame | None = None


def periods_between(start: str, end: str) -> list[str]:
    if end < start:
        raise RepriceError(f"--end {end} is before --start {start}")
    out = [start]
    while out[-1] < end:
        out.append(next_period(out[-1]))
    return out


def load_candidate(path: Path, meters: MetersConfig) -> PricingConfig:
    """The candidate validated like reference/pricing.yaml; its errors name the candidate file."""
    path = Path(path)
    try:
        return parse_pricing(read_yaml(path.parent, path.name, required=True), meters)
    except ConfigError as exc:
        raise ConfigError(str(path), exc.where, exc.rule) from None


def check_out(root: Path, out: Path) -> None:
    """``out`` is a new or empty folder outside the data root (nothing of the root is written)."""
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RepriceError(f"--out {out} exists and is not empty: give a new folder")
    if is_remote(root):
        return
    root = Path(root).resolve()
    if out == root or root in out.parents or out in root.parents:
        raise RepriceError(f"--out {out} must be outside the data root {root} (and not contain it)")


def lineage_events(root: Path, reference: Reference, period: str) -> list[pl.LazyFrame]:
    """Per landing day the close read: its effective events that a stored usage line lists."""
    days = period_landing_days(period, reference.grace_days, reference.meters.future_tolerance_us)
    listed = warehouse.scan_partitions(root, "invoice_line_events", [period]).select(
        "event_id", "landing_date"
    )
    return [
        events.filter(pl.col("billing_period") == period).join(
            listed.filter(pl.col("landing_date") == dt.date.fromisoformat(day)),
            on=["event_id", "landing_date"],
            how="semi",
        )
        for day, events in zip(days, period_days(root, reference, period), strict=True)
    ]


def _stored(root: Path, table: str, period: str) -> pl.DataFrame | None:
    """A stored partition as written (no schema imposed: a month closed by an earlier version,
    with fewer columns, reprices too), or None when the month was not closed."""
    return warehouse.read_stored(root, table, period)


def reprice(
    root: Path,
    pricing_file: Path,
    start: str,
    end: str,
    out: Path,
    plan_map: dict[str, str] | None = None,
    report: bool = True,
) -> RepriceResult:
    """Reprice every closed month of [start, end]; raises ConfigError or RepriceError (one line)
    before anything is written."""
    periods = periods_between(start, end)
    check_out(root, out)
    reference = load_reference(root)
    candidate = load_candidate(pricing_file, reference.meters)
    subscriptions = map_subscriptions(
        reference.subscriptions, plan_map or {}, reference.require_pricing(), candidate
    )
    result = RepriceResult(Path(out))
    all_lines, all_summary = [], []
    with worker_map() as map_:
        for period in periods:
            lines, invoices = (
                _stored(root, "invoice_lines", period),
                _stored(root, "invoices", period),
            )
            if lines is None or invoices is None:
                result.skipped.append(period)
                continue
            events = lineage_events(root, reference, period)
            priced, summary = reprice_period(
                period, events, lines, invoices, candidate, subscriptions, reference.meters, map_
            )
            for table, frame in (("reprice_lines", priced), ("reprice_summary", summary)):
                warehouse.write_partition(
                    out, table, period, conform(frame, TABLES[table]), column=COLUMN
                )
            result.periods.append(period)
            all_lines.append(priced)
            all_summary.append(summary)
    if all_lines:
        result.lines, result.summary = pl.concat(all_lines), pl.concat(all_summary)
    if report and result.lines is not None and result.summary is not None:
        from meter_pipeline.whatif.report import render_report

        html = render_report(result.lines, result.summary, str(pricing_file))
        (Path(out) / REPORT).write_text(html, encoding="utf-8")
    return result
