"""A writer killed with SIGKILL half-way leaves the previous partition intact and readable."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import polars as pl

from meter_pipeline.io.warehouse import partition_dir, write_partition

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
    write_partition(tmp_path, "t", "2026-09-01", pl.DataFrame({"x": ["new"]}),
                    column="landing_date")
    assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"]
    assert pl.read_parquet(folder / "part-0.parquet")["x"].to_list() == ["new"]
