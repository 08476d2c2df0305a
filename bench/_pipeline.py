"""Shared by bench/month.py and bench/scale.py: the month's landing days and the child that runs
the whole pipeline through the Dagster graph (``run_backfill``), as ``meter-pipeline backfill``
does."""

from __future__ import annotations

import datetime as dt
import json

from generate import GRACE_DAYS

MONTH = "2026-09"
FIRST_DAY = dt.date(2026, 9, 1)
#: The month's last landing day: its last day plus the grace days (SPEC §5).
LAST_DAY = dt.date(2026, 9, 30) + dt.timedelta(days=GRACE_DAYS)
DAYS = (LAST_DAY - FIRST_DAY).days + 1

#: argv: root, first landing day, last landing day. Starts from an empty warehouse (the event
#: index lives there too), runs ``run_backfill`` in this process (daily partitions, then the closed
#: month) and prints one JSON line: the time of the imports and of the backfill itself, and the
#: seconds of each Dagster step (by step key, summed over the runs; read after the clock stops).
PIPELINE = """
import time
t0 = time.perf_counter()
import datetime as dt, json, shutil, sys
from pathlib import Path
import dagster as dg
from meter_pipeline.runner import Backfill, check_config, run_backfill
root = Path(sys.argv[1])
start, end = dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
shutil.rmtree(root / "warehouse", ignore_errors=True)
t1 = time.perf_counter()
check_config(root)
log = []
with dg.DagsterInstance.ephemeral() as instance:
    result = run_backfill(Backfill(root, start, end), instance, echo=log.append)
    t2 = time.perf_counter()
    steps = {}
    for record in instance.get_run_records():
        for stat in instance.get_run_step_stats(record.dagster_run.run_id):
            if stat.start_time is not None and stat.end_time is not None:
                took = stat.end_time - stat.start_time
                steps[stat.step_key] = steps.get(stat.step_key, 0.0) + took
if not result.ok:
    print("\\n".join(log))
    sys.exit(1)
print(json.dumps({"import_s": t1 - t0, "backfill_s": t2 - t1, "runs": result.runs, "steps": steps}))
"""


def last_json(out: str) -> dict:
    """The last line of a child's stdout, as JSON."""
    return json.loads(out.strip().splitlines()[-1])


def steps_line(steps: dict[str, float]) -> str:
    """A child's Dagster step seconds, the longest first: ``ingest_landing_day 21.4 s, …``."""
    ordered = sorted(steps.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{key} {seconds:.1f} s" for key, seconds in ordered)
