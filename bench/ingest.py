"""Ingestion benchmark: one landing day of N events, meter-pipeline vs DuckDB, same run.

    python bench/ingest.py [--events 1000000] [--runs 3] [--root /tmp/meter-bench-ingest]

meter-pipeline side: read → validate (every SPEC rule, exact decimals) → dedup against the
40-day window → write the day's tables (``ingest_day`` + Parquet writes; no Dagster start-up).
DuckDB side: read the same JSONL files with an explicit schema, keep the first row of each
event_id in arrival order, write clean events to Parquet. Sides alternate, pair by pair; each
pair prints its ratio. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

DUCKDB = """
import sys, duckdb
root = sys.argv[1]
con = duckdb.connect()
con.execute("SET preserve_insertion_order = true")
con.execute("SET enable_progress_bar = false")
con.execute(f'''
COPY (
  WITH raw AS (
    SELECT *, row_number() OVER () AS arrival
    FROM read_json('{root}/landing/events/@DAY@/*.jsonl', format='newline_delimited',
      filename=true, ignore_errors=true,
      columns={{'event_id':'VARCHAR','customer_id':'VARCHAR','meter':'VARCHAR',
               'timestamp':'VARCHAR','value':'VARCHAR','dimensions':'MAP(VARCHAR, VARCHAR)'}})
  ), valid AS (
    SELECT * FROM raw WHERE event_id IS NOT NULL AND customer_id IS NOT NULL
      AND meter IS NOT NULL AND timestamp IS NOT NULL
  )
  SELECT event_id, customer_id, meter, CAST(timestamp AS TIMESTAMPTZ) AS event_time,
         CAST(value AS DECIMAL(38, 9)) AS value, dimensions, filename
  FROM valid QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY arrival) = 1
) TO '{root}/duckdb_clean.parquet' (FORMAT parquet, COMPRESSION zstd)''')
print(con.execute(f"select count(*) from '{root}/duckdb_clean.parquet'").fetchone()[0])
""".replace("@DAY@", DAY)


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
    alternate(
        (OURS, str(args.root)),
        (DUCKDB, str(args.root)),
        args.runs,
        args.events,
        lambda out1, out2: (f"{out1.strip()} clean", f"{out2.strip()} clean"),
    )


if __name__ == "__main__":
    main()
