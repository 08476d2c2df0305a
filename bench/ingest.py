"""Ingestion benchmark: one landing day of N events, meter-pipeline vs DuckDB, same run.

    python bench/ingest.py [--events 1000000] [--runs 3] [--root /tmp/meter-bench-ingest]

meter-pipeline side: read → validate (every SPEC rule, exact decimals) → dedup against the
40-day window → write the day's tables (``ingest_day`` + Parquet writes; no Dagster start-up).
DuckDB side: read the same JSONL files with an explicit schema, leave out rows without a
required name or whose timestamp or value does not cast, keep the first row of each event_id in
arrival order, write clean events to Parquet. Sides alternate, pair by pair; each
pair prints its ratio. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import alternate  # noqa: E402
from generate import generate  # noqa: E402

DAY = "2026-09-01"

OURS = f"""
import datetime as dt, sys, shutil
from pathlib import Path
from meter_pipeline.config import load_meters
from meter_pipeline.config.pricing import load_billing_rules
from meter_pipeline.ingestion.day import ingest_day
root = Path(sys.argv[1])
shutil.rmtree(root / "warehouse", ignore_errors=True)
day = dt.date.fromisoformat("{DAY}")
written = ingest_day(root, day, load_meters(root), load_billing_rules(root))
print(written.rows["clean_events"])
"""


def duckdb_day(landing: str, out: str, window: list[str] | None = None) -> str:
    """DuckDB's statement for a landing day (``landing``: its JSONL files' glob): read with an
    explicit schema, skip what does not parse, leave out rows without a required name or whose
    timestamp or value does not cast, keep the first row of each event_id in arrival order, write
    the clean events to ``out``. ``window``: Parquet files with an ``event_id`` column (the
    window's index) whose ids are left out too (an anti-join)."""
    anti = f"ANTI JOIN read_parquet({window!r}) w USING (event_id)" if window else ""
    return f"""
COPY (
  WITH raw AS (
    SELECT *, row_number() OVER () AS arrival
    FROM read_json('{landing}', format='newline_delimited', filename=true, ignore_errors=true,
      columns={{'event_id':'VARCHAR','customer_id':'VARCHAR','meter':'VARCHAR',
               'timestamp':'VARCHAR','value':'VARCHAR','dimensions':'MAP(VARCHAR, VARCHAR)'}})
  ), valid AS (
    SELECT * FROM raw WHERE event_id IS NOT NULL AND customer_id IS NOT NULL
      AND meter IS NOT NULL AND TRY_CAST(timestamp AS TIMESTAMPTZ) IS NOT NULL
      AND (value IS NULL OR TRY_CAST(value AS DECIMAL(38, 9)) IS NOT NULL)
  ), fresh AS (SELECT * FROM valid {anti})
  SELECT event_id, customer_id, meter, CAST(timestamp AS TIMESTAMPTZ) AS event_time,
         CAST(value AS DECIMAL(38, 9)) AS value, dimensions, filename
  FROM fresh QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY arrival) = 1
) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"""


#: argv: the statement, its output file. Prints one JSON line: the statement's time (the
#: imports and connection left out) and the clean rows written.
DUCKDB = """
import time
t0 = time.perf_counter()
import json, sys
import duckdb
con = duckdb.connect()
con.execute("SET preserve_insertion_order = true")
con.execute("SET enable_progress_bar = false")
t1 = time.perf_counter()
con.execute(sys.argv[1])
t2 = time.perf_counter()
clean = con.execute(f"SELECT count(*) FROM '{sys.argv[2]}'").fetchone()[0]
print(json.dumps({"import_s": t1 - t0, "in_process_s": t2 - t1, "clean": clean}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path("/tmp/meter-bench-ingest"))
    args = parser.parse_args()
    if args.root.exists():
        shutil.rmtree(args.root)
    generate(args.root, args.events, dt.date.fromisoformat(DAY), days=1)
    print(f"one landing day of {args.events:,} events in {args.root}")
    out = f"{args.root}/duckdb_clean.parquet"
    alternate(
        (OURS, str(args.root)),
        (DUCKDB, duckdb_day(f"{args.root}/landing/events/{DAY}/*.jsonl", out), out),
        args.runs,
        args.events,
        lambda out1, out2: (f"{out1.strip()} clean", f"{json.loads(out2)['clean']} clean"),
    )


if __name__ == "__main__":
    main()
