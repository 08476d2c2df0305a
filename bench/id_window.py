"""What one event id of the deduplication window costs: on disk, in memory, and when looked up.

    python bench/id_window.py [--ids 5000000] [--runs 3]

Builds a day's event index (``event_id``, 64-bit ``id_hash``, ``payload_hash``, as
``ingestion.parse.day_index`` does) from ``--ids`` event ids shaped like the generator's
(``evt-<day>-<n>``), writes it as the warehouse writes the index, and prints per id:

- the Parquet bytes of the index on disk (what a day's window scan reads);
- the in-memory bytes of the index frame (``estimated_size``), and of its ``id_hash`` column
  alone (what the first pass of the window lookup keeps of each id it matches);
- the RSS a child gains holding ``--ids`` 64-bit id hashes as a deduplicated key frame and
  semi-joining a lookup against it (what a window kept resident for lookups costs; the
  allocator keeps what the build freed, so it is an upper bound): the unit of the sharding
  estimate in docs/deploy.md.

Not part of the test run; seconds at the default size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import run_child  # noqa: E402

CHILD = """
import sys
import numpy as np
import polars as pl
n = int(sys.argv[1])
def rss():
    return int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]) * 1024
base = rss()
hashes = pl.Series("id_hash", np.random.default_rng(7).integers(0, 2**63, n, dtype=np.uint64))
keys = pl.DataFrame({"id_hash": hashes.unique()})  # the window's keys, as a join builds on them
lookup = pl.DataFrame({"id_hash": hashes.head(1000)}).join(keys, on="id_hash", how="semi")
del hashes
print((rss() - base) / n, keys.height, lookup.height)
"""


def measure(ids: int, folder: Path) -> dict[str, float]:
    import polars as pl

    from meter_pipeline.ingestion.parse import day_index

    valid = pl.DataFrame(
        {
            "event_id": [f"evt-2026-09-01-{i}" for i in range(ids)],
            "payload_hash": pl.int_range(ids, eager=True).cast(pl.UInt64) * 2654435761,
        }
    )
    index = day_index(valid.with_columns(pl.col("payload_hash").cast(pl.UInt64)))
    path = folder / "part-0.parquet"
    index.write_parquet(path)
    return {
        "parquet": path.stat().st_size / ids,
        "frame": index.estimated_size() / ids,
        "hash column": index.get_column("id_hash").estimated_size() / ids,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sizes = measure(args.ids, Path(folder))
    resident = []
    for _ in range(args.runs):
        _, _, out = run_child(CHILD, str(args.ids))
        resident.append(float(out.split()[0]))
    print(f"{args.ids:,} ids of a day's event index, bytes per id:")
    for name, value in sizes.items():
        print(f"  {name:<28} {value:6.1f}")
    print(
        f"  {'resident hash set (RSS)':<28} {statistics.median(resident):6.1f}"
        f"   (median of {args.runs}: {', '.join(f'{r:.1f}' for r in resident)})"
    )


if __name__ == "__main__":
    main()
