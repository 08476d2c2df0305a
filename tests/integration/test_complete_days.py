"""A month closes only over landing days that ingested completely (issue 13): a day that fails
does not stop the other days of its run, blocks every month that reads it, whichever way the
month is closed (the backfill, the monthly job as the UI and the schedule run it), and the
operator's path (fix the day, re-run it, close the month) closes it with the same bytes as a
run that never failed."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import pytest

from meter_pipeline.definitions import build_definitions
from meter_pipeline.io import warehouse
from meter_pipeline.runner import Backfill, run_backfill
from tests.helpers.month_root import (
    END,
    PERIOD,
    START,
    break_day,
    table_bytes,
    write_month_root,
)

MONTHLY = ("period_usage", "unbilled_usage", "invoice_lines", "invoices", "sla_credit_ledger")


def _run_job(root: Path, job: str, instance, first: str, last: str) -> dg.ExecuteInProcessResult:
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return (
        build_definitions(str(root))
        .resolve_job_def(job)
        .execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    )


def _written(root: Path, table: str, key: str) -> bool:
    return (warehouse.partition_dir(root, table, key) / warehouse.PART_FILE).exists()


def test_the_monthly_job_refuses_a_month_over_a_failed_day(tmp_path, instance):
    root = write_month_root(tmp_path / "root")
    blocker = break_day(root, "2026-09-02")
    days = _run_job(root, "daily_ingestion", instance, "2026-09-01", "2026-09-03")
    assert not days.success
    # the failed day did not stop the others of the range
    assert _written(root, "ingestion_audit", "2026-09-01")
    assert _written(root, "ingestion_audit", "2026-09-03")
    assert not _written(root, "ingestion_audit", "2026-09-02")
    failed = [
        (e.check_name, e.partition, e.metadata["error"].value)
        for e in days.get_asset_check_evaluations()
        if not e.passed
    ]
    assert len(failed) == 1 and failed[0][:2] == ("rows_conserved", "2026-09-02")
    assert "Is a directory" in failed[0][2]

    month = _run_job(root, "monthly_close", instance, PERIOD, PERIOD)
    assert not month.success
    for table in MONTHLY:
        assert not _written(root, table, PERIOD), f"{table} written over a failed day"
    (check,) = [
        e
        for e in month.get_asset_check_evaluations()
        if e.check_name == "invoices_landing_days_complete"
    ]
    assert not check.passed and check.partition == PERIOD
    assert check.metadata["incomplete_day"].value == "2026-09-02"
    failures = [e.step_failure_data.error for e in month.get_step_failure_events()]
    assert any("landing day 2026-09-02" in (f.message if f else "") for f in failures)

    # the operator's path: fix the day, re-run it, close the month
    shutil.rmtree(blocker)
    assert _run_job(root, "daily_ingestion", instance, "2026-09-02", "2026-09-02").success
    month = _run_job(root, "monthly_close", instance, PERIOD, PERIOD)
    assert month.success
    assert all(_written(root, table, PERIOD) for table in MONTHLY)
    (check,) = [
        e
        for e in month.get_asset_check_evaluations()
        if e.check_name == "invoices_landing_days_complete"
    ]
    assert check.passed


@pytest.mark.slow
def test_the_backfill_names_the_day_that_blocked_the_month_and_the_fix_closes_it(tmp_path):
    clean = write_month_root(tmp_path / "clean")
    root = write_month_root(tmp_path / "root")
    with dg.instance_for_test() as instance:
        assert run_backfill(Backfill(clean, START, END), instance, echo=lambda _: None).ok
        blocker = break_day(root, "2026-09-02")
        lines: list[str] = []
        result = run_backfill(Backfill(root, START, END), instance, echo=lines.append)
        out = "\n".join(lines)
        assert not result.ok and result.blocked == {PERIOD: "2026-09-02"}
        assert result.closed == []
        assert "rows_conserved 2026-09-02: IsADirectoryError" in out
        assert "monthly_close 2026-09: NOT CLOSED: landing day 2026-09-02" in out
        assert "--start 2026-09-02 --end 2026-09-02" in out
        assert not _written(root, "invoices", PERIOD)
        assert _written(root, "ingestion_audit", "2026-09-03"), "the next day still loaded"

        shutil.rmtree(blocker)
        day = dt.date(2026, 9, 2)
        assert run_backfill(Backfill(root, day, day), instance, echo=lambda _: None).ok
        result = run_backfill(Backfill(root, START, END), instance, echo=lambda _: None)
        assert result.ok and result.closed == [PERIOD]
    assert table_bytes(root) == table_bytes(clean)
