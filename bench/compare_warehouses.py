"""Compare two data roots' warehouses file by file: the same files, every Parquet partition equal
value for value (Polars ``assert_frame_equal``, exact; the internal event index's rows in any
order), every other file (manifests, stamps) byte for byte; prints how many Parquet files are
also byte-identical and, per table, how many are not. Used to show that a change to how tables
are computed or written changes no value::

    python bench/compare_warehouses.py ROOT_BEFORE ROOT_AFTER

(two roots with the same landing and reference files, each backfilled by one source tree; see
bench/README.md, "Exactness").
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

#: Internal tables whose row order is not part of what they hold: compared as sets of rows (the
#: event index is kept in id_hash order since its format 5, in arrival order before).
UNORDERED = frozenset({"_event_index"})


def compare(before: Path, after: Path) -> str:
    a, b = before / "warehouse", after / "warehouse"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    other = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    if files != other:
        raise AssertionError(f"different files: {sorted(set(files) ^ set(other))[:10]}")
    same_bytes, partitions, rows, differ = 0, 0, 0, Counter()
    for rel in files:
        x, y = (a / rel).read_bytes(), (b / rel).read_bytes()
        if x == y:
            same_bytes += 1
        else:
            differ[rel.parts[0]] += 1
        if rel.suffix == ".parquet":
            frame, theirs = pl.read_parquet(a / rel), pl.read_parquet(b / rel)
            if rel.parts[0] in UNORDERED:
                frame, theirs = frame.sort(pl.all()), theirs.sort(pl.all())
            assert_frame_equal(frame, theirs, check_exact=True)
            partitions, rows = partitions + 1, rows + frame.height
        elif x != y:
            raise AssertionError(f"{rel} differs")
    return (
        f"{len(files)} files: {partitions} Parquet partitions equal value for value "
        f"({rows:,} rows), every other file byte for byte; {same_bytes} files byte-identical; "
        f"Parquet files whose bytes differ, by table: {dict(differ) or 'none'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    print(compare(args.before, args.after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
