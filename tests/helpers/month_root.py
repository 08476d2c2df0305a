"""A small data root that closes one month: the three landing days of
:mod:`tests.helpers.graph_root` (September 2026) with pricing, customers and SLA, so a backfill
of 2026-09-01 … 2026-10-03 (3 grace days) ingests the days and closes 2026-09."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.graph_root import write_root

PRICING = """\
grace_days: 3
plans:
  - id: basic
    currency: USD
    platform_fees: [{service: api, amount: "10.00"}]
    charges:
      - {id: calls, meter: api_calls, model: per_unit, unit_price: "0.5"}
      - {id: tokens, meter: llm_tokens, model: per_unit, unit_price: "2"}
"""
CUSTOMERS = "customer_id,customer_name,plan_id,start_date,end_date\nc1,One,basic,2026-01-01,\n"
SLA = 'services: [api]\ntarget_uptime_pct: "99.9"\n'
START, END = dt.date(2026, 9, 1), dt.date(2026, 10, 3)
PERIOD = "2026-09"


def write_month_root(root: Path) -> Path:
    write_root(root)
    for path in (root / "landing").rglob("*.gz"):  # the same bytes in every root (no mtime)
        path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), mtime=0))
    for name, text in (("pricing.yaml", PRICING), ("customers.csv", CUSTOMERS), ("sla.yaml", SLA)):
        (root / "reference" / name).write_text(text)
    return root


def break_day(root: Path, day: str) -> Path:
    """Make ingesting ``day`` fail, the same way every time: a folder where its clean_events
    Parquet file goes (the move into place fails). Remove the returned path to fix it."""
    blocker = root / "warehouse" / "clean_events" / f"landing_date={day}" / "part-0.parquet"
    blocker.mkdir(parents=True)
    (blocker / "keep").write_text("")
    return blocker


def table_bytes(root: Path) -> dict[str, bytes]:
    """Every table's bytes (not the event index: a cache whose stamp holds the files' ctimes)."""
    warehouse = root / "warehouse"
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(warehouse.rglob("*.parquet"))
        if not path.relative_to(warehouse).parts[0].startswith("_")
    }


def cli_backfill(root: Path, start: dt.date = START, end: dt.date = END) -> subprocess.Popen:
    """``meter-pipeline backfill`` of ``root`` in its own process (output in ``stdout``)."""
    cli = str(Path(sys.executable).with_name("meter-pipeline"))
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.Popen(
        [cli, "backfill", "--root", str(root), "--start", str(start), "--end", str(end)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
