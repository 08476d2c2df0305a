"""Scale benchmark: the whole pipeline for a month at growing sizes, and one day with a full window.

    python bench/scale.py [--sizes 1000000,10000000,30000000,100000000] [--per-day-window]
                          [--root-base /tmp/meter-bench-scale] [--budget-minutes M]

For each size (ascending), a month of that many events (``generate.py --billing`` over the
landing days 2026-09-01 … 2026-10-03, as bench/month.py) is generated under
``<root-base>/month-<size>``, or reused when one with the same parameters is there, and the whole
pipeline runs once (``--runs`` for more) through the Dagster graph in a child process, from an
empty warehouse: 33 daily partitions, then the month 2026-09 closed. A table row is printed as
soon as a size is done: events, wall time, events/s, peak RSS (of the child). The warehouse is
deleted afterwards (``--keep-warehouse`` keeps it); the generated landing files stay for reuse
(``--clean`` deletes the whole root).

``--per-day-window``: one landing day of ``--day-events`` (1M) events with ``--window-days`` (40)
landing days of as many events behind it: the window's days are generated and ingested once
(``ingest_day`` and the day's tables, skipped for days already ingested), then the 41st day alone
is timed ``--day-runs`` times (3), each in a child process: ``ingest_day`` (read, validate,
dedup against the 40-day id index) and writing its five tables, no Dagster. Printed: the child's
wall time, the in-process time (without interpreter and import start-up) and peak RSS.

Large sizes take long (generation alone is ~5 µs an event; a 100M-event month is ~17 GB of
JSONL). Stop early with Ctrl-C: the rows printed so far stand, and the table is printed again.
``--budget-minutes`` starts no new size once that much time has gone. ``--sizes ''`` runs only
the per-day measurement. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import run_child  # noqa: E402
from _pipeline import DAYS, FIRST_DAY, LAST_DAY, PIPELINE, last_json  # noqa: E402
from generate import ensure_generated  # noqa: E402

#: The per-day measurement: the window starts here, the timed day is window-days later.
WINDOW_FIRST_DAY = dt.date(2026, 8, 1)

#: argv: root, first day, number of days. Ingests the days not yet ingested (their audit
#: partition missing or their event index stale), as the daily asset does, minus Dagster.
PREP = """
import datetime as dt, json, sys, time
from pathlib import Path
from meter_pipeline.config import load_meters
from meter_pipeline.config.pricing import load_billing_rules
from meter_pipeline.ingestion.day import ingest_day
from meter_pipeline.ingestion import event_index
from meter_pipeline.io import warehouse
from meter_pipeline.io.landing import event_folder, list_landing
root, first, n = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
meters, rules = load_meters(root), load_billing_rules(root)
done = skipped = 0
start = time.perf_counter()
for i in range(n):
    day = first + dt.timedelta(days=i)
    key = day.isoformat()
    meta = warehouse.read_metadata(root, event_index.TABLE, key, event_index.COLUMN)
    audit = warehouse.partition_dir(root, "ingestion_audit", key) / warehouse.PART_FILE
    listing = list_landing(root, event_folder(key), limits=meters.limits)
    stats = event_index.landing_stats(listing)
    fresh = meta is not None and meta.get(event_index.STAMP) == event_index.current_stamp(
        meters, listing, stats, meta
    )
    if fresh and audit.exists():  # the index's content stamp matches the files: done
        skipped += 1
        continue
    written = ingest_day(root, day, meters, rules)
    done += 1
    rows = written.audit["rows_read"][0]
    print(f"  ingested {key}: {rows:,} rows", file=sys.stderr, flush=True)
print(json.dumps({"ingested": done, "skipped": skipped, "seconds": time.perf_counter() - start}))
"""

#: argv: root, day. The timed day: ingest_day (history loaded from the window's index, the day's
#: tables written).
DAY = """
import time
t0 = time.perf_counter()
import datetime as dt, json, sys
from pathlib import Path
from meter_pipeline.config import load_meters
from meter_pipeline.config.pricing import load_billing_rules
from meter_pipeline.ingestion.day import ingest_day
root, day = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
t1 = time.perf_counter()
written = ingest_day(root, day, load_meters(root), load_billing_rules(root))
t2 = time.perf_counter()
audit = written.audit.row(0, named=True)
print(json.dumps({"import_s": t1 - t0, "ingest_s": t2 - t1,
                  "rows_read": audit["rows_read"], "duplicates": audit["rows_duplicate"]}))
"""


def _sizes(text: str) -> list[int]:
    return sorted(int(s.replace("_", "")) for s in text.split(",") if s.strip())


def _gib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30


def _row(events: int, wall: float, rss: float, backfill: float, runs: int) -> str:
    return (
        f"{events:>13,} {wall:>10.1f} {events / wall:>12,.0f} {rss:>13.2f} "
        f"{backfill:>12.1f} {runs:>13}"
    )


HEADER = (
    f"{'events':>13} {'wall s':>10} {'events/s':>12} {'peak RSS GiB':>13} "
    f"{'backfill s':>12} {'Dagster runs':>13}"
)


def month_sizes(args: argparse.Namespace, deadline: float | None, rows: list[str]) -> None:
    for size in args.sizes:
        if deadline is not None and time.monotonic() > deadline:
            print(
                f"budget of {args.budget_minutes} min spent: not starting {size:,} or larger",
                flush=True,
            )
            return
        root = args.root_base / f"month-{size}"
        events = ensure_generated(root, size, FIRST_DAY, DAYS, regenerate=args.regenerate)
        print(
            f"  landing: {_gib(root / 'landing'):.1f} GiB; running the pipeline "
            f"({args.runs} run(s)) …",
            flush=True,
        )
        walls, rss, inner = [], [], []
        for _ in range(args.runs):
            wall, peak, out = run_child(
                PIPELINE, str(root), FIRST_DAY.isoformat(), LAST_DAY.isoformat()
            )
            walls.append(wall), rss.append(peak), inner.append(last_json(out))
        row = _row(
            events,
            statistics.median(walls),
            max(rss),
            statistics.median(r["backfill_s"] for r in inner),
            inner[-1]["runs"],
        )
        rows.append(row)
        print(HEADER, row, sep="\n", flush=True)
        if args.clean:
            shutil.rmtree(root)
        elif not args.keep_warehouse:
            shutil.rmtree(root / "warehouse", ignore_errors=True)


def prepare_window(
    root_base: Path, day_events: int, window_days: int, regenerate: bool = False
) -> tuple[Path, dt.date, int]:
    """The per-day root: ``window_days`` + 1 landing days of ``day_events`` events generated
    (or reused) and the first ``window_days`` of them ingested (skipped when done). Returns the
    root, the day to time (the last one) and the number of ids in its window's index."""
    root = root_base / f"window-{day_events}x{window_days + 1}"
    target = WINDOW_FIRST_DAY + dt.timedelta(days=window_days)
    ensure_generated(
        root,
        day_events * (window_days + 1),
        WINDOW_FIRST_DAY,
        window_days + 1,
        regenerate=regenerate,
    )
    print(
        f"ingesting the window {WINDOW_FIRST_DAY} … {target - dt.timedelta(days=1)} "
        "(days already ingested are skipped) …",
        flush=True,
    )
    _, _, out = run_child(PREP, str(root), WINDOW_FIRST_DAY.isoformat(), str(window_days))
    prep = last_json(out)
    print(
        f"  {prep['ingested']} days ingested, {prep['skipped']} already, {prep['seconds']:.0f} s",
        flush=True,
    )
    import pyarrow.parquet as pq

    from meter_pipeline.ingestion import event_index
    from meter_pipeline.io import warehouse

    ids = 0
    for i in range(window_days):
        key = (WINDOW_FIRST_DAY + dt.timedelta(days=i)).isoformat()
        path = (
            warehouse.partition_dir(root, event_index.TABLE, key, event_index.COLUMN)
            / warehouse.PART_FILE
        )
        ids += pq.read_metadata(path).num_rows if path.exists() else 0
    return root, target, ids


def per_day_window(args: argparse.Namespace) -> None:
    root, target, ids = prepare_window(
        args.root_base, args.day_events, args.window_days, args.regenerate
    )
    print(
        f"per-day ingestion of {target} with {args.window_days} landing days behind it "
        f"({ids:,} ids in the window's index):",
        flush=True,
    )
    walls, rss, inner = [], [], []
    for i in range(args.day_runs):
        wall, peak, out = run_child(DAY, str(root), target.isoformat())
        r = last_json(out)
        walls.append(wall), rss.append(peak), inner.append(r["ingest_s"])
        print(
            f"run {i + 1}: child {wall:.2f} s, in process {inner[-1]:.2f} s (ingest_day "
            f"with its writes; start-up "
            f"{r['import_s']:.2f} s), {r['rows_read']:,} rows, {r['duplicates']:,} "
            f"duplicates, peak RSS {peak:.2f} GiB",
            flush=True,
        )
    rows = r["rows_read"]
    med, med_in = statistics.median(walls), statistics.median(inner)
    print(
        f"day        median {med:7.2f} s child (min {min(walls):.2f} – max {max(walls):.2f}) "
        f"{rows / med / 1e6:6.3f} M events/s;  in process {med_in:.2f} s "
        f"(min {min(inner):.2f} – max {max(inner):.2f}) {rows / med_in / 1e6:6.3f} M events/s;"
        f"  peak RSS {max(rss):.2f} GiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[1_000_000, 10_000_000, 30_000_000, 100_000_000],
        help="comma-separated events per month (default 1M,10M,30M,100M)",
    )
    parser.add_argument("--runs", type=int, default=1, help="pipeline runs per size (median)")
    parser.add_argument("--root-base", type=Path, default=Path("/tmp/meter-bench-scale"))
    parser.add_argument(
        "--budget-minutes", type=float, help="start no new size after this many minutes"
    )
    parser.add_argument("--keep-warehouse", action="store_true")
    parser.add_argument(
        "--clean",
        action="store_true",
        help="delete each size's root (landing files too) after its run",
    )
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--per-day-window",
        action="store_true",
        help="also time one landing day with a full dedup window behind it",
    )
    parser.add_argument("--day-events", type=int, default=1_000_000)
    parser.add_argument("--window-days", type=int, default=40)
    parser.add_argument("--day-runs", type=int, default=3)
    args = parser.parse_args()
    start = time.monotonic()
    deadline = start + args.budget_minutes * 60 if args.budget_minutes else None
    rows: list[str] = []
    try:
        if args.sizes:
            print(
                f"whole pipeline, one month ({FIRST_DAY} … {LAST_DAY}, month closed), "
                f"sizes {', '.join(f'{s:,}' for s in args.sizes)}",
                flush=True,
            )
            month_sizes(args, deadline, rows)
        if args.per_day_window:
            per_day_window(args)
    except KeyboardInterrupt:
        print("\nstopped early", flush=True)
    if rows:
        print("\nwhole pipeline, one month:", HEADER, *rows, sep="\n")
    print(f"total {(time.monotonic() - start) / 60:.1f} min")


if __name__ == "__main__":
    main()
