"""The floor under a landing day's ingestion on this machine, against the pipeline and DuckDB.

    python bench/day_floor.py [--day-events 1000000] [--runs 3] [--root-base /tmp/meter-bench-scale]
    python bench/day_floor.py --month [--month-events 10000000] [--runs 3]

Three sides time the same landing day (scale.py's per-day root: ``--day-events`` events a day,
40 landing days ingested behind it), alternately, each in its own child process; the figure
compared is the time in process (the child's imports left out, as scale.py's target is):

- **meter-pipeline**: ``ingest_day`` as scale.py times it (every SPEC rule, exact decimals,
  reasons for every bad line, dedup against the 40-day index, the five tables and the index).
- **floor** (two sides, one per reader): only the work no implementation of the contract can
  skip, done with the fastest means at hand and nothing checked: the lines read by pyarrow's JSON
  reader, or by the pipeline's compiled line scan over the file's bytes (``scan_spans``; the few
  lines it leaves are dropped), either way with exact ``decimal128(38, 9)`` values; the raw lines
  sliced out of the file bytes without a copy and written on a thread of their own as soon as
  read; the ids' xxHash64; the window's 40 hash columns read and merged with the pipeline's
  compiled kernel (started before the parse, the kernels loaded before the clock starts); dedup
  by first occurrence and window hit (a hash hit counts as a duplicate, no exact comparison);
  clean_events and the index written on two threads. No rule is checked, nothing is
  quarantined, no payload digest, audit, billing period or manifest. It reads a copy of the day
  without the lines that are not well-formed events (no bulk reader here skips them; made once,
  outside the clock), so it also has fewer lines to read than the other two sides.
- **duckdb**: bench/ingest.py's statement (explicit schema, ``ignore_errors``, value as text
  cast to DECIMAL(38, 9), first row of each id in arrival order; rows whose timestamp or value
  does not cast left out) plus an anti-join against the event ids of the 40 index files, written
  to one Parquet file.

Prints each run's times, their medians, events per second, and the time a day of this size has at
the second round's target (0.6M events a second); then the CPU seconds of four pieces of the
contract the floor leaves out (the UTF-8 check, the rule checks, the per-line path's exact
reasons, the payload digest; the pipeline's own functions on the day's files), and the faster
floor plus those spread over the cores without loss.

``--month``: the same floor over month.py's root (its 33 landing days in one process, the window
held in memory), beside the whole pipeline through Dagster (month.py's child, with its step
times) and DuckDB's month (month.py's statements); prints what the month's target (1.5× DuckDB)
leaves, and what the pipeline would take with its ingestion at the floor and every other step as
it is. Each day's copy without its malformed lines is made once under ``<root>/floor-copy``.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import run_child  # noqa: E402
from _pipeline import (  # noqa: E402
    DAYS,
    FIRST_DAY,
    LAST_DAY,
    MONTH,
    PIPELINE,
    last_json,
    steps_line,
)
from generate import DEDUP_WINDOW_DAYS, ensure_generated  # noqa: E402
from ingest import DUCKDB, duckdb_day  # noqa: E402
from scale import DAY, prepare_window  # noqa: E402

#: The second round's targets: a 1M-event day with a full window, in process; the month against
#: DuckDB's.
TARGET_EVENTS_PER_S = 600_000
TARGET_MONTH_RATIO = 1.5
#: The floor's two readers of JSON lines (see FLOOR).
READERS = ("pyarrow", "scan")
#: The Dagster step that ingests a landing day (the daily partitions' step key).
INGESTION_STEP = "ingest_landing_day"

#: argv: root, first day, days, window days, the clean copies' folder, an output folder, the
#: reader ("pyarrow": pyarrow's JSON reader; "scan": the pipeline's compiled line scan over the
#: file's bytes, the lines it leaves dropped). Days before the first come from the root's event
#: index; the run's own days are held in memory (8 bytes an id, as a ranged run holds them).
FLOOR = """
import time
t0 = time.perf_counter()
import datetime as dt, json, shutil, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np, polars as pl, pyarrow as pa, pyarrow.json as pj, pyarrow.parquet as pq
from meter_pipeline.ingestion.event_index import window_hits
from meter_pipeline.ingestion.line_scan import scan_spans
from meter_pipeline.ingestion.parse import id_hash
root, first, days, n = (Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3]),
                        int(sys.argv[4]))
copies, out, reader = Path(sys.argv[5]), Path(sys.argv[6]), sys.argv[7]
shutil.rmtree(out, ignore_errors=True)
SCHEMA = pa.schema([("event_id", pa.string()), ("customer_id", pa.string()),
                    ("meter", pa.string()), ("timestamp", pa.string()),
                    ("value", pa.decimal128(38, 9)),
                    ("dimensions", pa.struct([("region", pa.string()), ("user_id", pa.string())]))])
OPTIONS = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore")
# the kernels loaded off the clock
window_hits(np.zeros(1, np.uint64), np.zeros(1, np.uint64))
scan_spans(np.zeros(1, np.uint8), np.zeros(1, np.int64), np.ones(1, np.int64))

def parse(path):
    return pl.from_arrow(pj.read_json(path, parse_options=OPTIONS,
                                      read_options=pj.ReadOptions(block_size=1 << 24)))

def lines_of(path):
    # the file's lines sliced out of its bytes without a copy (raw_events' rows), and, with
    # the scan, the events read from the same bytes
    data = path.read_bytes()
    buf = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(buf == 10)
    offsets = np.concatenate(([0], ends + 1)).astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    raw = pa.table({"source_file": pa.array([path.name] * len(ends), pa.large_string()),
                    "line_number": pa.array(np.arange(1, len(ends) + 1)),
                    "raw_record": lines})
    return raw, scan_spans(buf, offsets[:-1], ends)[1] if reader == "scan" else None

def write_raw(table, folder):
    pq.write_table(table, folder / "raw_events.parquet", compression="zstd",
                   use_dictionary=["source_file", "line_number"],
                   write_statistics=["source_file", "line_number"])

def stored(past):
    if past < first:  # before the run: the root's index, ascending hashes
        path = root / "warehouse" / "_event_index" / f"landing_date={past}" / "part-0.parquet"
        if path.exists():
            return pool.submit(lambda: pq.read_table(path, columns=["id_hash"])[0].to_numpy())
        return None
    return held.get(past)

held, phases, rows, clean_rows = {}, {}, 0, 0
def lap(name, since):
    now = time.perf_counter()
    phases[name] = phases.get(name, 0.0) + now - since
    return now

t1 = time.perf_counter()
with ThreadPoolExecutor(2) as pool, ThreadPoolExecutor(1) as writer:
    for i in range(days):
        day = first + dt.timedelta(days=i)
        files = sorted((copies / day.isoformat()).glob("*.jsonl"))
        folder = out / day.isoformat()
        folder.mkdir(parents=True)
        mark = time.perf_counter()
        window = [f for f in (stored(day - dt.timedelta(days=k)) for k in range(1, n + 1)) if f]
        if reader == "scan":
            read = list(pool.map(lines_of, files))
            events = pl.concat([frame for _, frame in read]).with_columns(id_hash())
            raw = pa.concat_tables(table for table, _ in read)
            mark = lap("lines and scan", mark)
        else:
            events = pl.concat(pool.map(parse, files)).with_columns(id_hash())
            mark = lap("parse", mark)
            raw = pa.concat_tables(table for table, _ in pool.map(lines_of, files))
            mark = lap("raw lines", mark)
        raw_written = writer.submit(write_raw, raw, folder)  # needs nothing of what follows
        first_seen = events.get_column("event_id").is_first_distinct()
        keys = events.get_column("id_hash").unique().sort().to_numpy()
        hits = [h for h in pool.map(lambda f: window_hits(f.result(), keys), window) if len(h)]
        found = np.unique(np.concatenate(hits)) if hits else np.zeros(0, np.uint64)
        seen = events.get_column("id_hash").is_in(pl.Series(found).implode())
        mark = lap("window", mark)
        clean = events.filter(first_seen & ~seen)
        day_index = events.filter(first_seen).select("event_id", "id_hash").sort("id_hash")
        mark = lap("dedup", mark)
        writes = [raw_written,
                  pool.submit(clean.drop("id_hash").write_parquet, folder / "clean_events.parquet"),
                  pool.submit(day_index.write_parquet, folder / "index.parquet", compression="lz4")]
        for w in writes:
            w.result()
        mark = lap("writes", mark)
        done = pool.submit(lambda h=day_index.get_column("id_hash").to_numpy(): h)
        held[day] = done
        held.pop(day - dt.timedelta(days=n), None)
        rows, clean_rows = rows + raw.num_rows, clean_rows + clean.height
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "in_process_s": t2 - t1, "rows": rows,
                  "clean": clean_rows, "phases": phases}))
"""


#: argv: root, day, repetitions. The CPU seconds (all threads) of the pieces of the contract the
#: floor leaves out, each measured alone on the day's own landing files with the pipeline's
#: functions, the least of the repetitions: the UTF-8 check of the files, the rule checks on the
#: scanned columns, the per-line path (exact reasons) for the lines the vectorised path leaves,
#: the payload digest of the valid events.
COSTS = """
import datetime as dt, json, sys, time
from collections import Counter
from pathlib import Path
import polars as pl
from meter_pipeline.config import load_meters
from meter_pipeline.ingestion import fast_path
from meter_pipeline.ingestion.line_scan import scan_lines
from meter_pipeline.ingestion.parse import _parse_rows, _rows, payload_digest
from meter_pipeline.ingestion.validate import context_for
from meter_pipeline.io.jsonl import jsonl_lines
root, day, reps = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
ctx = context_for(load_meters(root), day)
files = sorted((root / "landing" / "events" / day.isoformat()).glob("*.jsonl"))
datas = [path.read_bytes() for path in files]
best, lines_left = {}, 0

def cpu(name, run):
    start = time.process_time()
    result = run()
    spent[name] = spent.get(name, 0.0) + time.process_time() - start
    return result

for _ in range(reps):
    spent, valids, lines_left = {}, [], 0
    for path, data in zip(files, datas):
        cpu("UTF-8 check", lambda: pl.Series([data], dtype=pl.Binary).cast(pl.String))
        lines = jsonl_lines(data)
        for start in range(0, lines.height, 131072):
            part = lines.slice(start, 131072)
            scanned, _ = scan_lines(part)
            events = cpu("rule checks", lambda: pl.concat(
                [fast_path._events(read, ctx) for read in scanned]))
            valids.append(events)
            rows = _rows(part.join(events.select("line_number"), on="line_number", how="anti"))
            lines_left += len(rows)
            cpu("per-line path", lambda: _parse_rows(str(path), rows, ctx, Counter()))
    valid = pl.concat(valids)
    cpu("payload digest", lambda: valid.select(payload_digest()))
    best = {k: min(v, best.get(k, v)) for k, v in spent.items()}
print(json.dumps({"cpu_s": best, "per_line": lines_left}))
"""


#: A value the floor's readers take as written: a plain decimal of at most 9 fraction digits.
PLAIN_DECIMAL = re.compile(r"-?\d+(\.\d{1,9})?")


def _well_formed(line: str) -> bool:
    """A line the floor's reader takes: a JSON object of the native event's fields, text where
    text is due, a plain decimal value (numbers read as their text, never through a float)."""
    try:
        event = json.loads(line, parse_float=str, parse_int=str)
    except ValueError:
        return False
    if not isinstance(event, dict):
        return False
    names = ("event_id", "customer_id", "meter", "timestamp")
    if not all(isinstance(event.get(name), str) for name in names):
        return False
    dims = event.get("dimensions", {})
    if not isinstance(dims, dict) or not all(isinstance(v, str) for v in dims.values()):
        return False
    value = event.get("value", "0")
    return isinstance(value, str) and PLAIN_DECIMAL.fullmatch(value) is not None


def clean_copies(root: Path, days: list[dt.date]) -> Path:
    """The days' landing files without the lines that are not well-formed events, made once
    beside the landing folder (not in it: the pipeline never sees it); returns their folder."""
    base = root / "floor-copy"
    for day in days:
        copy = base / day.isoformat()
        done = copy / ".complete"
        if done.exists():
            continue
        shutil.rmtree(copy, ignore_errors=True)
        copy.mkdir(parents=True)
        kept = dropped = 0
        for path in sorted((root / "landing" / "events" / day.isoformat()).glob("*.jsonl")):
            with path.open(encoding="utf-8") as src, (copy / path.name).open("w") as dst:
                for line in src:
                    if _well_formed(line):
                        dst.write(line)
                        kept += 1
                    else:
                        dropped += 1
        done.write_text(json.dumps({"kept": kept, "dropped": dropped}))
        print(f"  the floor's copy of {day}: {kept:,} lines kept, {dropped:,} left out", flush=True)
    return base


def _run_sides(sides: dict[str, tuple[str, ...]], runs: int) -> dict[str, list[dict]]:
    """Each side ``runs`` times, alternately, each in its own child; prints a line a run."""
    results: dict[str, list[dict]] = {name: [] for name in sides}
    for i in range(runs):
        line = []
        for name, side in sides.items():
            wall, peak, stdout = run_child(*side)
            result = {**last_json(stdout), "wall_s": wall, "peak_gib": peak}
            results[name].append(result)
            seconds = result.get("in_process_s", result.get("ingest_s", result.get("backfill_s")))
            note = ", ".join(f"{k} {v:.2f}" for k, v in result.get("phases", {}).items())
            if "steps" in result:
                note = steps_line(result["steps"])
            line.append(
                f"{name} {wall:.2f} s child"
                + (f", {seconds:.2f} s in process" if seconds is not None else "")
                + (f" ({note})" if note else "")
            )
        print(f"run {i + 1}: " + "; ".join(line), flush=True)
    return results


def _median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def day(args: argparse.Namespace) -> None:
    root, target_day, ids = prepare_window(
        args.root_base, args.day_events, args.window_days, args.regenerate
    )
    copies = clean_copies(root, [target_day])
    out = root / "floor-out"
    landing = f"{root}/landing/events/{target_day}/*.jsonl"
    index = [
        str(root / "warehouse" / "_event_index" / f"landing_date={past}" / "part-0.parquet")
        for past in (target_day - dt.timedelta(days=i) for i in range(1, args.window_days + 1))
    ]
    n = str(args.window_days)
    print(
        f"landing day {target_day}, {args.window_days} days behind it ({ids:,} ids in the "
        "window's index); each side in its own child process, alternating:",
        flush=True,
    )
    results = _run_sides(
        {
            "meter-pipeline": (DAY, str(root), target_day.isoformat()),
            **{
                f"floor ({reader})": (
                    FLOOR,
                    str(root),
                    target_day.isoformat(),
                    "1",
                    n,
                    str(copies),
                    str(out),
                    reader,
                )
                for reader in READERS
            },
            "duckdb": (DUCKDB, duckdb_day(landing, f"{out}.parquet", index), f"{out}.parquet"),
        },
        args.runs,
    )
    rows = results["meter-pipeline"][-1]["rows_read"]
    target = rows / TARGET_EVENTS_PER_S
    for name, runs in results.items():
        key = "ingest_s" if name == "meter-pipeline" else "in_process_s"
        med = _median(runs, key)
        print(
            f"{name:<15} in process: median {med:5.2f} s (min {min(r[key] for r in runs):.2f} – "
            f"max {max(r[key] for r in runs):.2f}), {rows / med / 1e6:5.3f} M events/s, "
            f"{med / target:4.2f}× the target's {target:.2f} s; peak RSS "
            f"{max(r['peak_gib'] for r in runs):.2f} GiB"
        )
    _, _, stdout = run_child(COSTS, str(root), target_day.isoformat(), "3")
    costs = last_json(stdout)
    total, cores = sum(costs["cpu_s"].values()), len(os.sched_getaffinity(0))
    floor = min(_median(results[f"floor ({reader})"], "in_process_s") for reader in READERS)
    print(
        "what the floor leaves out, CPU seconds measured alone (least of 3): "
        + ", ".join(f"{k} {v:.2f}" for k, v in costs["cpu_s"].items())
        + f" ({costs['per_line']:,} lines per line); {total:.2f} CPU-s in all, "
        f"{total / cores:.2f} s spread over {cores} core(s) without loss\n"
        f"the faster floor's median plus that: {floor + total / cores:.2f} s, "
        f"{(floor + total / cores) / target:.2f}× the target's {target:.2f} s"
    )


def month(args: argparse.Namespace) -> None:
    from month import DUCKDB as MONTH_DUCKDB
    from month import duckdb_statements

    root = args.month_root
    events = ensure_generated(root, args.month_events, FIRST_DAY, DAYS)
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(DAYS)]
    copies = clean_copies(root, days)
    print(
        f"month {MONTH}: {events:,} event lines over landing days {FIRST_DAY} … {LAST_DAY} in "
        f"{root}; each side in its own child process, alternating:",
        flush=True,
    )
    results = _run_sides(
        {
            "meter-pipeline": (PIPELINE, str(root), FIRST_DAY.isoformat(), LAST_DAY.isoformat()),
            **{
                f"floor ({reader})": (
                    FLOOR,
                    str(root),
                    FIRST_DAY.isoformat(),
                    str(DAYS),
                    str(DEDUP_WINDOW_DAYS),
                    str(copies),
                    str(root / "floor-out"),
                    reader,
                )
                for reader in READERS
            },
            "duckdb": (MONTH_DUCKDB, str(root), json.dumps(duckdb_statements(root))),
        },
        args.runs,
    )
    duck = _median(results["duckdb"], "wall_s")
    ours = _median(results["meter-pipeline"], "wall_s")
    ingestion = statistics.median(
        r["steps"].get(INGESTION_STEP, 0.0) for r in results["meter-pipeline"]
    )
    rest = ours - ingestion
    print(
        f"DuckDB's month (child) median {duck:.2f} s; the target ({TARGET_MONTH_RATIO}×) "
        f"{TARGET_MONTH_RATIO * duck:.2f} s\n"
        f"meter-pipeline (child) median {ours:.2f} s, {ours / duck:.2f}× DuckDB; its "
        f"ingestion steps {ingestion:.2f} s, everything else {rest:.2f} s"
    )
    for reader in READERS:
        floor = _median(results[f"floor ({reader})"], "in_process_s")
        print(
            f"the floor ({reader}) of the month's ingestion alone (in process) median "
            f"{floor:.2f} s, {floor / duck:.2f}× DuckDB's whole month; with the pipeline's "
            f"other {rest:.2f} s: {(floor + rest) / duck:.2f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--day-events", type=int, default=1_000_000)
    parser.add_argument("--window-days", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root-base", type=Path, default=Path("/tmp/meter-bench-scale"))
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--month",
        action="store_true",
        help="the month instead: month.py's root, the floor of its ingestion against the "
        "pipeline and DuckDB's month",
    )
    parser.add_argument("--month-events", type=int, default=10_000_000)
    parser.add_argument("--month-root", type=Path, default=Path("/tmp/meter-bench-month"))
    args = parser.parse_args()
    (month if args.month else day)(args)


if __name__ == "__main__":
    main()
