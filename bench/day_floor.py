"""The floor under a landing day's ingestion on this machine, against the pipeline and DuckDB.

    python bench/day_floor.py [--day-events 1000000] [--runs 3] [--root-base /tmp/meter-bench-scale]

Three sides time the same landing day (scale.py's per-day root: ``--day-events`` events a day,
40 landing days ingested behind it), alternately, each in its own child process; the figure
compared is the time in process (the child's imports left out, as scale.py's target is):

- **meter-pipeline**: ``ingest_day`` as scale.py times it (every SPEC rule, exact decimals,
  reasons for every bad line, dedup against the 40-day index, the five tables and the index).
- **floor**: only the work no implementation of the contract can skip, done with the fastest
  means at hand and nothing checked: pyarrow's JSON reader (exact ``decimal128(38, 9)`` values),
  the raw lines sliced out of the file bytes without a copy, the ids' xxHash64, the window's 40
  hash columns read and merged with the pipeline's compiled kernel (started before the parse,
  the kernel loaded before the clock starts), dedup by first occurrence and window hit (a hash
  hit counts as a duplicate, no exact comparison), then raw_events, clean_events and the index
  written on two threads. No rule is checked, nothing is quarantined, no payload digest, audit,
  billing period or manifest. It reads a copy of the day without the lines that are not
  well-formed events (no bulk reader here skips them; made once, outside the clock), so it also
  has fewer lines to read than the other two sides.
- **duckdb**: bench/ingest.py's statement (explicit schema, ``ignore_errors``, value as text
  cast to DECIMAL(38, 9), first row of each id in arrival order; rows whose timestamp or value
  does not cast left out) plus an anti-join against the event ids of the 40 index files, written
  to one Parquet file.

Prints each run's three times, their medians, events per second, and the time a day of this size
has at the second round's target (0.6M events a second). Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import run_child  # noqa: E402
from _pipeline import last_json  # noqa: E402
from scale import DAY, prepare_window  # noqa: E402

#: The second round's target for a 1M-event day with a full window, in process.
TARGET_EVENTS_PER_S = 600_000

#: argv: root, day, window days, the day's clean copy, an output folder.
FLOOR = """
import time
t0 = time.perf_counter()
import datetime as dt, json, shutil, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np, polars as pl, pyarrow as pa, pyarrow.json as pj, pyarrow.parquet as pq
from meter_pipeline.ingestion.event_index import window_hits
from meter_pipeline.ingestion.parse import id_hash
root, day, n = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
copy, out = Path(sys.argv[4]), Path(sys.argv[5])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
files = sorted(copy.glob("*.jsonl"))
index = [root / "warehouse" / "_event_index" / f"landing_date={day - dt.timedelta(days=i)}"
         / "part-0.parquet" for i in range(1, n + 1)]
SCHEMA = pa.schema([("event_id", pa.string()), ("customer_id", pa.string()),
                    ("meter", pa.string()), ("timestamp", pa.string()),
                    ("value", pa.decimal128(38, 9)),
                    ("dimensions", pa.struct([("region", pa.string()), ("user_id", pa.string())]))])
OPTIONS = pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore")
window_hits(np.zeros(1, np.uint64), np.zeros(1, np.uint64))  # the kernel loaded off the clock

def parse(path):
    return pj.read_json(path, parse_options=OPTIONS,
                        read_options=pj.ReadOptions(block_size=1 << 24))

def raw_lines(path):
    data = path.read_bytes()
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    offsets = np.concatenate(([0], ends + 1)).astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    return pa.table({"source_file": pa.array([path.name] * len(ends), pa.large_string()),
                     "line_number": pa.array(np.arange(1, len(ends) + 1)),
                     "raw_record": lines})

def write_raw(table):
    pq.write_table(table, out / "raw_events.parquet", compression="zstd",
                   use_dictionary=["source_file", "line_number"],
                   write_statistics=["source_file", "line_number"])

t1 = time.perf_counter()
with ThreadPoolExecutor(2) as pool:
    stored = [pool.submit(lambda p=p: pq.read_table(p, columns=["id_hash"]).column(0).to_numpy())
              for p in index]
    events = pl.from_arrow(pa.concat_tables(pool.map(parse, files))).with_columns(id_hash())
    phases = {"parse": time.perf_counter() - t1}
    raw = pa.concat_tables(pool.map(raw_lines, files))
    phases["raw lines"] = time.perf_counter() - t1
    first = events.get_column("event_id").is_first_distinct()
    keys = events.get_column("id_hash").unique().sort().to_numpy()
    hits = [h for h in pool.map(lambda f: window_hits(f.result(), keys), stored) if len(h)]
    seen = events.get_column("id_hash").is_in(
        pl.Series(np.unique(np.concatenate(hits)) if hits else np.zeros(0, np.uint64)).implode())
    phases["window"] = time.perf_counter() - t1
    clean = events.filter(first & ~seen)
    day_index = events.filter(first).select("event_id", "id_hash").sort("id_hash")
    phases["dedup"] = time.perf_counter() - t1
    writes = [pool.submit(write_raw, raw),
              pool.submit(clean.drop("id_hash").write_parquet, out / "clean_events.parquet"),
              pool.submit(day_index.write_parquet, out / "index.parquet", compression="lz4")]
    for w in writes:
        w.result()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "in_process_s": t2 - t1, "rows": raw.num_rows,
                  "clean": clean.height, "phases": phases}))
"""

#: argv: root, day, window days, an output file.
DUCKDB = """
import time
t0 = time.perf_counter()
import datetime as dt, json, sys
from pathlib import Path
import duckdb
root, day, n = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3])
out = sys.argv[4]
index = [str(root / "warehouse" / "_event_index" / f"landing_date={day - dt.timedelta(days=i)}"
             / "part-0.parquet") for i in range(1, n + 1)]
con = duckdb.connect()
con.execute("SET preserve_insertion_order = true")
con.execute("SET enable_progress_bar = false")
t1 = time.perf_counter()
con.execute(f'''
COPY (
  WITH raw AS (
    SELECT *, row_number() OVER () AS arrival
    FROM read_json('{root}/landing/events/{day}/*.jsonl', format='newline_delimited',
      filename=true, ignore_errors=true,
      columns={{'event_id':'VARCHAR','customer_id':'VARCHAR','meter':'VARCHAR',
               'timestamp':'VARCHAR','value':'VARCHAR','dimensions':'MAP(VARCHAR, VARCHAR)'}})
  ), valid AS (
    SELECT * FROM raw WHERE event_id IS NOT NULL AND customer_id IS NOT NULL
      AND meter IS NOT NULL AND TRY_CAST(timestamp AS TIMESTAMPTZ) IS NOT NULL
      AND (value IS NULL OR TRY_CAST(value AS DECIMAL(38, 9)) IS NOT NULL)
  ), fresh AS (
    SELECT * FROM valid ANTI JOIN read_parquet({index!r}) w USING (event_id)
  )
  SELECT event_id, customer_id, meter, CAST(timestamp AS TIMESTAMPTZ) AS event_time,
         CAST(value AS DECIMAL(38, 9)) AS value, dimensions, filename
  FROM fresh QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY arrival) = 1
) TO '{out}' (FORMAT parquet, COMPRESSION zstd)''')
t2 = time.perf_counter()
clean = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
print(json.dumps({"import_s": t1 - t0, "in_process_s": t2 - t1, "clean": clean}))
"""


def _well_formed(line: str) -> bool:
    """A line the floor's reader takes: a JSON object of the native event's fields, text where
    text is due, a plain decimal value."""
    import re

    try:
        event = json.loads(line)
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
    if "value" not in event:
        return True
    value = event["value"]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    return re.fullmatch(r"-?\d+(\.\d{1,9})?", str(value)) is not None


def clean_copy(root: Path, day: dt.date) -> Path:
    """The day's landing files without the lines that are not well-formed events, made once
    beside the landing folder (not in it: the pipeline never sees it)."""
    copy = root / "floor-copy" / day.isoformat()
    done = copy / ".complete"
    if done.exists():
        return copy
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
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--day-events", type=int, default=1_000_000)
    parser.add_argument("--window-days", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root-base", type=Path, default=Path("/tmp/meter-bench-scale"))
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    root, day, ids = prepare_window(
        args.root_base, args.day_events, args.window_days, args.regenerate
    )
    copy = clean_copy(root, day)
    out = root / "floor-out"
    n = str(args.window_days)
    sides = {
        "meter-pipeline": (DAY, str(root), day.isoformat()),
        "floor": (FLOOR, str(root), day.isoformat(), n, str(copy), str(out)),
        "duckdb": (DUCKDB, str(root), day.isoformat(), n, str(out.with_suffix(".parquet"))),
    }
    print(
        f"landing day {day}, {args.window_days} days behind it ({ids:,} ids in the window's "
        f"index); times in process, each side in its own child process, alternating:",
        flush=True,
    )
    times: dict[str, list[float]] = {name: [] for name in sides}
    peaks: dict[str, list[float]] = {name: [] for name in sides}
    rows = 0
    for i in range(args.runs):
        line = []
        for name, side in sides.items():
            _, peak, stdout = run_child(*side)
            result = last_json(stdout)
            seconds = result.get("in_process_s", result.get("ingest_s"))
            times[name].append(seconds), peaks[name].append(peak)
            if name == "meter-pipeline":
                rows = result["rows_read"]
            phases = ", ".join(f"{k} by {v:.2f}" for k, v in result.get("phases", {}).items())
            line.append(f"{name} {seconds:.2f} s" + (f" ({phases})" if phases else ""))
        print(f"run {i + 1}: " + ", ".join(line), flush=True)
    target = rows / TARGET_EVENTS_PER_S
    for name in sides:
        med = statistics.median(times[name])
        print(
            f"{name:<15} median {med:5.2f} s (min {min(times[name]):.2f} – max "
            f"{max(times[name]):.2f})  {rows / med / 1e6:5.3f} M events/s  {med / target:4.2f}× "
            f"the target's {target:.2f} s  peak RSS {max(peaks[name]):.2f} GiB"
        )


if __name__ == "__main__":
    main()
