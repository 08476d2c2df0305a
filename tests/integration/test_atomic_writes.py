"""A writer killed with SIGKILL (or failing) half-way leaves the previous partition intact and
readable; a partition written in pieces appears whole or not at all."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from meter_pipeline.io.warehouse import PartitionWriter, partition_dir, write_partition

WRITER = textwrap.dedent("""
    import sys, polars as pl
    from meter_pipeline.io.warehouse import write_partition
    root = sys.argv[1]
    n = 6_000_000
    big = pl.DataFrame({"x": pl.int_range(n, eager=True).cast(pl.String)})
    write_partition(root, "t", "2026-09-01", big, column="landing_date")
""")


def test_sigkill_during_a_partition_write_keeps_the_old_partition(tmp_path):
    old = pl.DataFrame({"x": ["old-1", "old-2"]})
    write_partition(tmp_path, "t", "2026-09-01", old, column="landing_date")
    folder = partition_dir(tmp_path, "t", "2026-09-01", "landing_date")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)])
    try:
        deadline = time.monotonic() + 120
        while not list(folder.glob(".part-0.parquet.*.tmp")):  # the write has begun
            assert proc.poll() is None, "writer finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    visible = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert visible == ["part-0.parquet"]
    rows = duckdb.sql(f"select x from read_parquet('{folder}/*.parquet') order by x").fetchall()
    assert rows == [("old-1",), ("old-2",)]
    # The next write replaces it and sweeps the killed writer's leftovers.
    write_partition(
        tmp_path, "t", "2026-09-01", pl.DataFrame({"x": ["new"]}), column="landing_date"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"]
    assert pl.read_parquet(folder / "part-0.parquet")["x"].to_list() == ["new"]


def test_a_partition_written_in_pieces_appears_only_when_complete(tmp_path):
    old = pl.DataFrame({"x": ["old"]})
    write_partition(tmp_path, "t", "2026-09-01", old, column="landing_date")
    folder = partition_dir(tmp_path, "t", "2026-09-01", "landing_date")
    with PartitionWriter(tmp_path, "t", "2026-09-01", column="landing_date") as out:
        out.write(pl.DataFrame({"x": ["a", "b"]}))
        # half-way, readers still see the old partition
        assert pl.read_parquet(folder / "part-0.parquet")["x"].to_list() == ["old"]
        out.write(pl.DataFrame({"x": ["c"]}))
    assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"]
    assert pq.ParquetFile(folder / "part-0.parquet").num_row_groups == 2
    rows = duckdb.sql(f"select x from read_parquet('{folder}/*.parquet')").fetchall()
    assert rows == [("a",), ("b",), ("c",)]


def test_an_error_half_way_through_a_piecewise_write_keeps_the_old_partition(tmp_path):
    write_partition(
        tmp_path, "t", "2026-09-01", pl.DataFrame({"x": ["old"]}), column="landing_date"
    )
    folder = partition_dir(tmp_path, "t", "2026-09-01", "landing_date")
    with pytest.raises(RuntimeError, match="reader failed"):
        with PartitionWriter(tmp_path, "t", "2026-09-01", column="landing_date") as out:
            out.write(pl.DataFrame({"x": ["a"]}))
            raise RuntimeError("reader failed")
    assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"]  # no leftover
    assert pl.read_parquet(folder / "part-0.parquet")["x"].to_list() == ["old"]


def test_a_piecewise_write_of_nothing_writes_the_empty_frame(tmp_path):
    empty = pl.DataFrame(schema={"x": pl.String, "landing_date": pl.Date})
    with PartitionWriter(tmp_path, "t", "2026-09-01", column="landing_date", empty=empty):
        pass
    path = partition_dir(tmp_path, "t", "2026-09-01", "landing_date") / "part-0.parquet"
    assert pq.read_schema(path).names == ["x"]  # the partition column lives in the folder name
    assert pq.read_metadata(path).num_rows == 0
