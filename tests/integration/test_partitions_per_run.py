"""``METER_PIPELINE_PARTITIONS_PER_RUN`` and the CLI (SPEC §13): a ranged backfill split into
runs of at most N days, months closed in order after the days they need, gives the same
warehouse, byte for byte, as the whole range in one run; a bad value stops it before anything
runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from meter_pipeline.cli import main
from meter_pipeline.deployment import PARTITIONS_PER_RUN
from tests.helpers.month_root import END, PERIOD, START, table_bytes, write_month_root

ARGS = ["backfill", "--start", START.isoformat(), "--end", END.isoformat()]


def backfill(root: Path, monkeypatch: pytest.MonkeyPatch, per_run: str | None) -> list:
    """The CLI backfill of the month root; returns the runs it recorded (job, range)."""
    with monkeypatch.context() as mp, dg.instance_for_test() as instance:
        mp.delenv("DAGSTER_HOME", raising=False)
        if per_run is None:
            mp.delenv(PARTITIONS_PER_RUN, raising=False)
        else:
            mp.setenv(PARTITIONS_PER_RUN, per_run)
        mp.setattr("meter_pipeline.cli.open_instance", lambda root: instance)
        assert main([*ARGS[:1], "--root", str(root), *ARGS[1:]]) == 0
        records = instance.get_run_records()
        return sorted(
            (
                r.create_timestamp,
                r.dagster_run.job_name,
                r.dagster_run.tags["dagster/asset_partition_range_start"],
                r.dagster_run.tags["dagster/asset_partition_range_end"],
            )
            for r in records
        )


@pytest.mark.slow
def test_runs_of_two_days_give_the_same_warehouse_bytes_as_one_run(tmp_path, monkeypatch):
    whole = write_month_root(tmp_path / "whole")
    split = write_month_root(tmp_path / "split")
    one_run = backfill(whole, monkeypatch, None)
    runs = backfill(split, monkeypatch, "2")

    assert [(job, first, last) for _, job, first, last in one_run] == [
        ("daily_monitoring", "2026-08-31", "2026-08-31"),
        ("daily_ingestion", START.isoformat(), END.isoformat()),
        ("monthly_close", PERIOD, PERIOD),
    ]
    jobs = [job for _, job, _, _ in runs]
    daily = [(first, last) for _, job, first, last in runs if job == "daily_ingestion"]
    assert len(daily) == 17  # 33 landing days: 16 runs of two and the last day alone
    assert daily[0] == ("2026-09-01", "2026-09-02") and daily[-1] == ("2026-10-03", "2026-10-03")
    assert jobs[-1] == "monthly_close"  # the month after every day it reads
    assert jobs.index("monthly_close") > max(i for i, j in enumerate(jobs) if j != "monthly_close")

    expected, got = table_bytes(whole), table_bytes(split)
    assert got.keys() == expected.keys() and len(got) > 30
    assert got == expected


def test_a_bad_value_is_one_line_and_exit_2_before_anything_runs(tmp_path):
    """As a user runs it: a new process, where the definitions load with the bad value."""
    root = write_month_root(tmp_path / "root")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env[PARTITIONS_PER_RUN] = "0"
    cli = str(Path(sys.executable).with_name("meter-pipeline"))
    proc = subprocess.run(
        [cli, *ARGS[:1], "--root", str(root), *ARGS[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"configuration error: {PARTITIONS_PER_RUN}='0' is not a positive integer; fix: set it "
        "to the most partitions one run may hold (e.g. 7), or unset it for one run per range"
    ]
    assert not (root / "warehouse").exists()
