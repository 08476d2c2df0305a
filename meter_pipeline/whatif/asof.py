"""``meter-pipeline asof``: a month's tables as a close would have written them with only the
landing days up to an as-of date (docs/whatif.md).

The out folder becomes a data root of its own (the machinery of ``meter-pipeline verify``,
:func:`meter_pipeline.verify.recompute.scratch_root`):

- ``reference/`` copied; ``landing/<events|corrections|monitoring>/<day>/`` hard-linked (copied
  across file systems) for the days up to the cutoff = min(as-of, the month's last landing day);
- the landing days of the month from its first day to the cutoff, their corrections, and the
  monitoring days its uptime reads, run through the same Dagster assets; the days before the
  month (the future-tolerance day, the days a correction looks back to) are read from the stored
  daily tables exactly as the stored close read them (linked), and deduplication reads the event
  index of the days before, rebuilt from their landing files if need be;
- the credit ledger (and close manifest) of the month before, as stored, copied read-only: the
  credits of earlier periods as they were closed; likewise the invoice lines of every earlier
  month, which a correction's adjustment lines are measured against
  (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history);
- then the month is closed: period usage, uptime, invoice lines, invoices, credits, ledger,
  lineage, trace and the close manifest, into ``<out>/warehouse/``.

The data root is only read. Usage alerts are not evaluated (they would POST webhooks again).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from meter_pipeline.calendar import (
    day_keys,
    days_between,
    last_landing_day,
    monitoring_days,
    period_bounds,
    previous_period,
)
from meter_pipeline.config.reference import load_reference
from meter_pipeline.definitions import build_definitions
from meter_pipeline.io import warehouse
from meter_pipeline.io.manifest import manifest_rel
from meter_pipeline.resources import DataRoot
from meter_pipeline.storage import storage_for
from meter_pipeline.verify.recompute import scratch_root
from meter_pipeline.whatif.reprice import check_out

#: Daily tables of the days before the month, linked from the data root as the close read them.
LINKED_DAILY = ("clean_events", "event_corrections", "ingestion_audit", "_event_index")
#: The assets an as-of close runs, by step (the Definitions' own; no usage_alerts: no webhook).
DAILY = ("ingest_landing_day", "daily_usage", "ingest_corrections")
MONITORING = ("monitor_landing_day",)
MONTHLY = ("uptime", "invoice_period", "close_manifest")
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class AsofResult:
    out: Path
    period: str
    cutoff: dt.date
    ingested: list[str]
    failed: list[str]

    @property
    def ok(self) -> bool:
        return not self.failed


def cutoff_of(period: str, as_of: dt.date, grace_days: int) -> dt.date:
    """The last landing day the as-of close reads."""
    return min(as_of, last_landing_day(period, grace_days))


def _later_days(cutoff: dt.date):
    """Which landing sub-folders to leave out: day folders (YYYY-MM-DD) after ``cutoff``, under
    any landing kind."""
    key = cutoff.isoformat()

    def skip(name: str) -> bool:
        return len(name) == 10 and name[4] == "-" and name[7] == "-" and name > key

    return skip


def link_stored(root: Path, out: Path, period: str, cutoff: dt.date) -> None:
    """The daily tables of the days before ``period`` (≤ cutoff); the month before's ledger and
    manifest, and the invoice lines of every earlier month (what adjustments are measured
    against), copied read-only."""
    storage = storage_for(root)
    first = period_bounds(period)[0]
    for table in LINKED_DAILY:
        for folder in sorted(storage.folders_with(warehouse.table_rel(table), warehouse.PART_FILE)):
            day = folder.split("=", 1)[1]
            if day < first.isoformat() and day <= cutoff.isoformat():
                rel = f"{warehouse.table_rel(table)}/{folder}/{warehouse.PART_FILE}"
                storage.copy_file(rel, out / rel)
    before = previous_period(period)
    ledger = warehouse.partition_rel("sla_credit_ledger", before)
    if storage.exists(ledger):
        storage.copy_file(ledger, out / ledger, read_only=True)
    table = warehouse.table_rel("invoice_lines")
    for folder in sorted(storage.folders_with(table, warehouse.PART_FILE)):
        if folder.split("=", 1)[1] < period:
            rel = f"{table}/{folder}/{warehouse.PART_FILE}"
            storage.copy_file(rel, out / rel, read_only=True)
    if storage.exists(manifest_rel(before)):
        storage.copy_file(manifest_rel(before), out / manifest_rel(before), read_only=True)


def _range(first: dt.date, last: dt.date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def _assets(names: tuple[str, ...]) -> list[dg.AssetsDefinition]:
    """The assets of the Definitions whose op is named in ``names`` (those that exist)."""
    return [
        a
        for a in build_definitions().assets or ()
        if isinstance(a, dg.AssetsDefinition) and a.node_def.name in names
    ]


def _materialize(names, out: Path, instance, failed: list[str], label: str, **kw) -> None:
    result = dg.materialize(
        _assets(names),
        instance=instance,
        resources={"data_root": DataRoot(root=str(out))},
        raise_on_error=False,
        run_config=QUIET,
        **kw,
    )
    bad = [
        f"{e.check_name} {e.partition or ''}".strip()
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    if not result.success or bad:
        steps = [f.step_key for f in result.get_step_failure_events()]
        failed.append(f"{label}: FAILED ({', '.join(bad + steps) or 'a step failed'})")


def asof(root: Path, period: str, as_of: dt.date, out: Path) -> AsofResult:
    """Close ``period`` into ``out`` from the landing days up to ``as_of``; see the module doc."""
    out = Path(out)
    check_out(root, out)
    reference = load_reference(root)
    cutoff = cutoff_of(period, as_of, reference.grace_days)
    scratch_root(root, out, skip=_later_days(cutoff))
    link_stored(root, out, period, cutoff)
    first = period_bounds(period)[0]
    failed: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        if cutoff >= first:
            _materialize(DAILY, out, instance, failed, "daily", tags=_range(first, cutoff))
        probes = monitoring_days(period, reference.grace_days)[0]
        if cutoff >= probes:
            tags = _range(probes, cutoff)
            _materialize(MONITORING, out, instance, failed, "monitoring", tags=tags)
        if not failed:
            _materialize(MONTHLY, out, instance, failed, "close", partition_key=period)
    ingested = day_keys(days_between(first, cutoff)) if cutoff >= first else []
    return AsofResult(out, period, cutoff, ingested, failed)
