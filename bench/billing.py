"""Billing benchmark: one month's period_usage and invoices from ~10M clean events, meter-pipeline
(the `monthly_close` job through Dagster) vs DuckDB doing the same aggregation, same run.

    python bench/billing.py [--events 10000000] [--runs 3] [--root /tmp/meter-bench-month]

Uses the month root of bench/month.py (generated and ingested once when its clean_events are
missing). meter-pipeline side: the monthly partition 2026-09 of period_usage, unbilled_usage,
uptime, invoice_lines, invoices, sla_credits and the ledger, in one in-process run. DuckDB side:
the same clean_events Parquet files, the events billed in 2026-09, aggregated per customer and
meter (count, sum, max, latest with its tie rule, distinct user_id) and written to Parquet.
Sides alternate, each in its own child process; the ratio is printed pair by pair. Not part of
the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import alternate, run_child  # noqa: E402
from _pipeline import DAYS, FIRST_DAY, LAST_DAY, MONTH, PIPELINE  # noqa: E402
from generate import ensure_generated  # noqa: E402

OURS = """
import json, sys, time
t0 = time.perf_counter()
import dagster as dg
from meter_pipeline.definitions import build_definitions
from meter_pipeline.runner import QUIET
root, month = sys.argv[1], sys.argv[2]
job = build_definitions(root).resolve_job_def("monthly_close")
t1 = time.perf_counter()
with dg.DagsterInstance.ephemeral() as instance:
    run = job.execute_in_process(partition_key=month, instance=instance, run_config=QUIET,
                                 raise_on_error=False)
t2 = time.perf_counter()
assert run.success
print(json.dumps({"import_s": t1 - t0, "run_s": t2 - t1}))
"""

DUCKDB = """
import json, sys, duckdb
root, month = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f'''
COPY (
  WITH billed AS (
    SELECT * FROM read_parquet('{root}/warehouse/clean_events/*/*.parquet',
                               hive_partitioning = true)
    WHERE billing_period = '{month}'
  ), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY customer_id, meter
                                 ORDER BY event_time DESC, landing_date DESC,
                                          source_file DESC, line_number DESC) AS rn,
           list_filter(dimensions, lambda d: d.key = 'user_id')[1].value AS user_id
    FROM billed
  )
  SELECT customer_id, meter, count(*) AS event_count, sum(value) AS sum_value,
         max(value) AS max_value, max(CASE WHEN rn = 1 THEN value END) AS latest_value,
         count(DISTINCT user_id) AS unique_users,
         sum(CASE WHEN late THEN 1 ELSE 0 END) AS late_event_count
  FROM ranked GROUP BY ALL
) TO '{root}/duckdb/period_usage.parquet' (FORMAT parquet)''')
rows = con.execute(f"select count(*) from '{root}/duckdb/period_usage.parquet'").fetchall()
print(json.dumps({"rows": rows[0][0]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path("/tmp/meter-bench-month"))
    args = parser.parse_args()
    ensure_generated(args.root, args.events, FIRST_DAY, DAYS)
    clean = args.root / "warehouse" / "clean_events"
    if len(list(clean.glob("*/*.parquet"))) < DAYS:
        print("ingesting the landing days once (daily partitions and the month) …", flush=True)
        run_child(PIPELINE, str(args.root), FIRST_DAY.isoformat(), LAST_DAY.isoformat())
    (args.root / "duckdb").mkdir(exist_ok=True)

    def notes(out1: str, out2: str) -> tuple[str, str]:
        o, d = json.loads(out1.strip().splitlines()[-1]), json.loads(out2.strip().splitlines()[-1])
        return f"run {o['run_s']:.2f} s", f"{d['rows']:,} usage rows"

    alternate(
        (OURS, str(args.root), MONTH),
        (DUCKDB, str(args.root), MONTH),
        args.runs,
        args.events,
        notes,
    )


if __name__ == "__main__":
    main()
