"""One landing day on one Celery worker: wall time and the worker's peak memory.

    python bench/worker_day.py ROOT --day 2026-09-01 [--runs 3]

ROOT is a data root with that landing day (``python bench/generate.py ROOT --events 1000000
--billing``); a day without events and none in its window measures a run's fixed cost.
Starts, on 127.0.0.1, Postgres (the instance of deploy/dagster.yaml), Redis and one Dagster
Celery worker with one pool process (tests/helpers/services.py, the scale-out test's services),
then runs ``meter-pipeline backfill --start DAY --end DAY`` with ``METER_PIPELINE_EXECUTOR=celery``
``--runs`` times (the warehouse deleted before each; a fresh worker each time) and prints per
run: the CLI's wall time, events/s and events per worker-hour, and the peak RSS (``VmHWM``) of
the worker's processes, where the steps ran. Every service is stopped at the end. Needs
initdb/pg_ctl (PostgreSQL 15) and redis-server; not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.helpers import services  # noqa: E402


def peak_rss_gib(pids: list[int]) -> float:
    """The largest VmHWM among ``pids`` (the worker's processes), GiB."""
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks.append(int(status.split("VmHWM:")[1].split()[0]) / 1024 / 1024)
    return max(peaks, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--day", default="2026-09-01")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="meter-worker-day-"))
    try:
        with services.postgres() as pg, services.redis() as redis:
            env = services.celery_deployment(pg, redis, folder)
            config = REPO / "deploy" / "celery.yaml"
            results = []
            for run in range(args.runs):
                shutil.rmtree(args.root / "warehouse", ignore_errors=True)
                # a fresh worker per run, so its peak is this run's
                with services.celery_workers(1, env, config, folder) as workers:
                    cli = [str(services.BIN / "meter-pipeline"), "backfill", "--root",
                           str(args.root), "--start", args.day, "--end", args.day]  # fmt: skip
                    start = time.perf_counter()
                    proc = subprocess.run(
                        cli, env={**os.environ, **env}, capture_output=True, text=True
                    )
                    wall = time.perf_counter() - start
                    if proc.returncode != 0:
                        raise SystemExit(proc.stdout[-2000:] + proc.stderr[-2000:])
                    peak = peak_rss_gib(workers.workers[0].pids())
                audit = next(line for line in proc.stdout.splitlines() if line[:10] == args.day)
                events = int(audit.split()[1])
                results.append((wall, peak, events))
                print(
                    f"run {run + 1}: {events:,} events, {wall:.1f} s, {events / wall:,.0f} ev/s,"
                    f" {events / wall * 3600 / 1e6:,.0f} M events per worker-hour,"
                    f" worker peak RSS {peak:.2f} GiB",
                    flush=True,
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    wall = statistics.median(r[0] for r in results)
    peak = statistics.median(r[1] for r in results)
    events = results[0][2]
    print(
        f"median of {len(results)}: {wall:.1f} s, {events / wall * 3600 / 1e6:,.0f} M events per"
        f" worker-hour, worker peak RSS {peak:.2f} GiB"
    )


if __name__ == "__main__":
    main()
