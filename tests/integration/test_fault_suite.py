"""The SIGKILL fault suite (issue 13): a backfill killed with SIGKILL at random points (seeded)
again and again leaves every visible partition readable, and a re-run then gives every table the
bytes of a run that was never killed. Slow, and bounded: ``TRIALS`` kills, each within the time
one clean backfill takes."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.helpers.month_root import cli_backfill, table_bytes, write_month_root

TRIALS = int(os.environ.get("METER_FAULT_TRIALS", "3"))
SEED = 13


def _visible_partitions_readable(root: Path) -> int:
    parts = [p for p in (root / "warehouse").rglob("part-0.parquet")]
    for part in parts:
        pq.read_table(part)  # a half-written file would raise here
    return len(parts)


@pytest.mark.slow
def test_sigkill_at_random_points_then_a_rerun_gives_the_bytes_of_a_clean_run(tmp_path):
    clean = write_month_root(tmp_path / "clean")
    began = time.monotonic()
    run = cli_backfill(clean)
    assert run.wait(timeout=600) == 0, run.communicate()[0]
    duration = time.monotonic() - began

    rng = random.Random(SEED)
    root = write_month_root(tmp_path / "root")
    killed = 0
    for _ in range(TRIALS):
        run = cli_backfill(root)
        deadline = time.monotonic() + rng.uniform(0.5, duration)
        while run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if run.poll() is None:
            os.kill(run.pid, signal.SIGKILL)
            killed += 1
        run.communicate()
        _visible_partitions_readable(root)
    assert killed >= TRIALS // 2, "most trials must really kill a running backfill"

    run = cli_backfill(root)
    out = run.communicate(timeout=600)[0]
    assert run.returncode == 0, out
    assert table_bytes(root) == table_bytes(clean)
    assert [p for p in (root / "warehouse").rglob(".*.tmp")] == []
