"""Run the Dagster graph over a range of partitions: the engine behind ``meter-pipeline backfill``.

The monitoring partition of the day before start runs first (so the first month sees its first
day's early probe exports), then the daily partitions of [start, end] as one ranged run (each
asset loops over the days in date order), then every monthly partition whose last landing day
is ≤ end and whose month is ≥ the start's month, as one ranged run in month order
(docs/rules.md#12-running-it-partitions-schedules-and-commands).

A month closes only over landing days that ingested completely
(:mod:`meter_pipeline.ingestion.completeness`): when a day the month reads is incomplete (its
daily step failed, or it was never ingested though files landed), that month and every later
one (each month reads the previous month's credit ledger) are not closed, and the run says which
day blocked which month. Fix the day, re-run it, then close the month.

With ``METER_PIPELINE_PARTITIONS_PER_RUN=N`` (:mod:`meter_pipeline.deployment`) the days are
split into runs of at most N days and the months into runs of at most N months; the month runs
go one after the other, in month order (each month reads the previous month's credit ledger),
after every day run. With ``METER_PIPELINE_EXECUTOR=celery`` each run is executed by Dagster's
Celery executor (its steps on the workers) and the day runs are executed at the same time.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sys
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from meter_pipeline.calendar import closed_periods, day_keys, days_between
from meter_pipeline.config.reference import Reference, load_reference
from meter_pipeline.day_notes import day_notes
from meter_pipeline.deployment import MAX_PARALLEL_RUNS, celery_config, chunks, partitions_per_run
from meter_pipeline.finance.money_format import format_money, plural
from meter_pipeline.ingestion.completeness import period_blockers
from meter_pipeline.io import warehouse
from meter_pipeline.operator_errors import explain

#: A step failed by a failed blocking check: the check is named already, with its error.
CHECK_FAILED = "DagsterAssetCheckFailedError"
#: Keep Dagster's per-event console log out of the CLI's output (it is in the instance); a
#: failed step is said in one or two lines by :func:`_run` (``--debug``: Dagster's own log).
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
DEBUG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class Backfill:
    root: Path
    start: dt.date
    end: dt.date

    def days(self) -> list[str]:
        return day_keys(days_between(self.start, self.end))


@dataclass
class BackfillResult:
    failed: list[str] = field(default_factory=list)
    runs: int = 0
    #: Months not closed, with the landing day that blocked each.
    blocked: dict[str, str] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    #: Dagster's own console log (with stack traces) instead of one line per failed step.
    debug: bool = False
    #: Dagster's console log level for the runs (``--log-level``); None: quiet (or --debug's).
    log_level: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def check_config(root: Path) -> Reference:
    """Load every reference file; a ConfigError stops the run before anything materializes."""
    return load_reference(root)


@dataclass(frozen=True)
class RunSummary:
    """What a finished run says to the operator: plain values, so a run executed in another
    process reports the same lines."""

    success: bool
    #: ``check partition`` of every failed blocking check.
    failed_checks: tuple[str, ...] = ()
    #: ``(check, partition, error)`` of failed checks that carry an error.
    check_errors: tuple[tuple[str, str, str], ...] = ()
    #: ``(step, message)`` of failed steps (not those failed by a blocking check).
    step_errors: tuple[tuple[str, str], ...] = ()


def summarize(run) -> RunSummary:
    """The :class:`RunSummary` of an execution result (in process or through an executor)."""
    evaluations = run.get_asset_check_evaluations()
    failed_checks = tuple(  # one evaluation per check and partition: name the partitions
        f"{evaluation.check_name} {evaluation.partition or ''}".strip()
        for evaluation in evaluations
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    )
    check_errors = []
    for evaluation in evaluations:
        detail = evaluation.metadata.get("error")  # e.g. the error of a failed landing day
        if not evaluation.passed and detail is not None:
            text = getattr(detail, "value", detail)
            check_errors.append((evaluation.check_name, str(evaluation.partition), str(text)))
    step_errors = []
    for event in run.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause  # the user code's own error, not Dagster's wrapper
        if error is not None and CHECK_FAILED not in (error.cls_name or ""):
            step_errors.append((event.step_key, error.message.strip()))
    return RunSummary(run.success, failed_checks, tuple(check_errors), tuple(step_errors))


def _run_config(result: BackfillResult, root: Path | None) -> dict:
    config = DEBUG if result.debug else QUIET
    if result.log_level:
        config = {"loggers": {"console": {"config": {"log_level": result.log_level}}}}
    if root is not None:  # the run config names the root: a worker elsewhere reads the same one
        config = {**config, "resources": {"data_root": {"config": {"root": str(root)}}}}
    return config


def _tags(first: str, last: str, extra_tags: Mapping[str, str] | None) -> dict[str, str]:
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    tags.update(extra_tags or {})
    return tags


def _run(
    job: dg.JobDefinition,
    first: str,
    last: str,
    instance: dg.DagsterInstance,
    result: BackfillResult,
    echo: Callable[[str], None],
    extra_tags: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> None:
    """One run of ``job`` over the partition range [first, last] (assets loop over it): in this
    process, or, given the data ``root``, through the executor the definitions choose (its
    workers rebuild the job from ``meter_pipeline.definitions``)."""
    tags = _tags(first, last, extra_tags)
    config = _run_config(result, root)
    if root is None:
        run = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=config, tags=tags
        )
    else:
        run = dg.execute_job(
            _reconstructable(job.name), instance, run_config=config, tags=tags, raise_on_error=False
        )
    _report(job.name, first, last, summarize(run), result, echo)


def _run_elsewhere(job_name: str, instance_ref, config: dict, tags: dict[str, str]) -> RunSummary:
    """One run through the executor, from a process of its own (Dagster sets up its logging
    per run, which one process cannot do for two runs at once)."""
    with dg.DagsterInstance.from_ref(instance_ref) as instance:
        run = dg.execute_job(
            _reconstructable(job_name), instance, run_config=config, tags=tags, raise_on_error=False
        )
        return summarize(run)


def _run_at_once(
    job: dg.JobDefinition,
    parts: list[list[str]],
    instance: dg.DagsterInstance,
    result: BackfillResult,
    echo: Callable[[str], None],
    extra_tags: Mapping[str, str] | None,
    root: Path,
) -> None:
    """The runs of ``parts`` at the same time, each orchestrated by a process of its own."""
    config = _run_config(result, root)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(len(parts), MAX_PARALLEL_RUNS), mp_context=spawn) as pool:
        futures = [
            (
                part,
                pool.submit(
                    _run_elsewhere,
                    job.name,
                    instance.get_ref(),
                    config,
                    _tags(part[0], part[-1], extra_tags),
                ),
            )  # fmt: skip
            for part in parts
        ]
        for part, future in futures:
            _report(job.name, part[0], part[-1], future.result(), result, echo)


def _report(
    job_name: str,
    first: str,
    last: str,
    run: RunSummary,
    result: BackfillResult,
    echo: Callable[[str], None],
) -> None:
    result.runs += 1
    label = first if first == last else f"{first}…{last}"
    if not run.success or run.failed_checks:
        result.failed.append(label)
        why = ", ".join(run.failed_checks) or "a step failed"
        echo(f"{job_name} {label}: FAILED ({why})")
        for check, partition, text in run.check_errors:
            echo(f"  {check} {partition}: {text}")
        for step, message in run.step_errors:
            echo(f"  {step}: {explain(message)}")


def run_backfill(
    backfill: Backfill,
    instance: dg.DagsterInstance,
    echo: Callable[[str], None] = print,
    reference: Reference | None = None,
    tags: Mapping[str, str] | None = None,
    debug: bool = False,
    log_level: str | None = None,
) -> BackfillResult:
    """Daily partitions of [start, end] in one ranged run (plus the monitoring day before
    start), then the closed months in one ranged run; prints what each day and month gave.
    ``reference``: the root's reference as already loaded (else it is loaded here); each run
    loads its own once, so a file edited meanwhile can never mix two configurations in a run.
    ``tags``: added to every run (the CLI names its command and arguments)."""
    # Imported here: the definitions read the deployment variables when they load, and the CLI
    # says what is wrong with them in one line before that (meter_pipeline/deployment.py).
    from meter_pipeline.definitions import build_definitions

    defs = build_definitions(str(backfill.root))
    result = BackfillResult(debug=debug, log_level=log_level)
    per_run = partitions_per_run()
    # The Celery executor runs steps in its workers: the job is reconstructed there.
    remote = backfill.root if celery_config() is not None else None
    day_before = (backfill.start - dt.timedelta(days=1)).isoformat()
    _run(
        defs.resolve_job_def("daily_monitoring"),
        day_before,
        day_before,
        instance,
        result,
        echo,
        tags,
        remote,
    )
    days = backfill.days()
    daily = defs.resolve_job_def("daily_ingestion")
    day_runs = chunks(days, per_run)
    if remote is not None and len(day_runs) > 1:  # days are independent: run them at once
        _run_at_once(daily, day_runs, instance, result, echo, tags, remote)
    else:
        for part in day_runs:
            _run(daily, part[0], part[-1], instance, result, echo, tags, remote)
    audit = warehouse.scan_partitions(backfill.root, "ingestion_audit", days).collect()
    echo(f"{'landing_date':<12} {'read':>8} {'accepted':>9} {'duplicate':>9} {'quarantined':>11}")
    for row in audit.sort("landing_date").iter_rows(named=True):
        echo(
            f"{row['landing_date']!s:<12} {row['rows_read']:>8} {row['rows_accepted']:>9} "
            f"{row['rows_duplicate']:>9} {row['rows_quarantined']:>11}"
        )
    for note in day_notes(backfill.root, days):
        print(note, file=sys.stderr)
    reference = reference or load_reference(backfill.root)
    if reference.pricing is None:
        echo("no reference/pricing.yaml: monthly billing skipped")
        return result
    periods = closed_periods(backfill.start, backfill.end, reference.grace_days)
    periods = _closable(backfill.root, periods, reference, result, echo)
    if not periods:
        return result
    failures = len(result.failed)
    monthly = defs.resolve_job_def("monthly_close")
    for part in chunks(periods, per_run):  # in month order: the credit ledger chains them
        _run(monthly, part[0], part[-1], instance, result, echo, tags, remote)
        if len(result.failed) > failures:
            return result  # the close failed: no month of it is reported as closed
    result.closed = periods
    invoices = warehouse.scan_partitions(backfill.root, "invoices", periods).collect()
    for period in periods:
        month = invoices.filter(pl.col("billing_period") == period)
        totals = month.group_by("currency").agg(pl.col("total").sum()).sort("currency")
        money = ", ".join(format_money(t, c) for c, t in totals.iter_rows()) or "no invoices"
        echo(f"{period:<12} {plural(month.height, 'invoice')}: {money}")
    return result


def _reconstructable(job_name: str):
    """The job as a worker process rebuilds it: from ``meter_pipeline.definitions:defs``."""
    # dagster-celery registers its task again for every run it submits; Celery warns each time.
    warnings.filterwarnings("ignore", message="Task name 'execute_plan' is already registered")
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    repo = ReconstructableRepository.for_module("meter_pipeline.definitions", "defs")
    return repo.get_reconstructable_job(job_name)


def _closable(
    root: Path,
    periods: list[str],
    reference: Reference,
    result: BackfillResult,
    echo: Callable[[str], None],
) -> list[str]:
    """The leading months whose landing days are all complete; the first blocked month and every
    later one are recorded in ``result.blocked`` (and ``result.failed``) and printed."""
    tolerance = reference.meters.future_tolerance_us
    blockers = period_blockers(root, periods, reference.grace_days, tolerance)  # as the assets
    for i, period in enumerate(periods):
        if period not in blockers:
            continue
        day, why = blockers[period]
        for later in periods[i:]:
            result.blocked[later] = day
            result.failed.append(later)
        echo(
            f"monthly_close {period}: NOT CLOSED: landing day {day} {why}. Fix the day, re-run "
            f"it (meter-pipeline backfill --start {day} --end {day}), then close the month "
            "(a backfill whose end is on or after its last landing day)."
        )
        if len(periods) > i + 1:
            echo(f"monthly_close {', '.join(periods[i + 1 :])}: NOT CLOSED (after {period})")
        return periods[:i]
    return periods
