"""Two runs at once (issue 13): two processes writing one partition, or two backfills over one
root, end with correct tables and at most the clear "partition … is being written by another
run" failure; never a deleted temporary file or a half-written partition."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from meter_pipeline.io import warehouse
from meter_pipeline.storage import local as local_storage
from tests.helpers.month_root import cli_backfill, table_bytes, write_month_root

KEY = "2026-09-01"
WRITER = textwrap.dedent("""
    import sys, polars as pl
    from meter_pipeline.io.warehouse import write_partition
    root, tag = sys.argv[1], sys.argv[2]
    for i in range(int(sys.argv[3])):
        frame = pl.DataFrame({"tag": [f"{tag}-{i}"] * 200_000, "n": range(200_000)})
        write_partition(root, "t", "2026-09-01", frame, column="landing_date")
""")
HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from meter_pipeline.io import warehouse
    from meter_pipeline.storage.local import lock_folder
    fd = lock_folder(warehouse.partition_dir(sys.argv[1], "t", "2026-09-01", "landing_date"))
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
""")


def _python(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_processes_writing_one_partition_both_succeed_and_readers_see_whole_writes(tmp_path):
    folder = warehouse.partition_dir(tmp_path, "t", KEY, "landing_date")
    writers = [_python("-c", WRITER, str(tmp_path), tag, "12") for tag in ("a", "b")]
    seen = set()
    while any(w.poll() is None for w in writers):  # read while they write: never a half file
        if (folder / warehouse.PART_FILE).exists():
            # one open, one read: a reader opening the path twice (footer, then data) could
            # pair two writes' halves; the file behind one open is always a whole write
            data = (folder / warehouse.PART_FILE).read_bytes()
            tags = pl.read_parquet(data)["tag"].unique().to_list()
            assert len(tags) == 1, f"a partition mixes two writes: {tags}"
            seen.add(tags[0])
        time.sleep(0.01)
    for w in writers:
        _, err = w.communicate()
        assert w.returncode == 0, err  # no FileNotFoundError: no writer lost its temp file
    final = pl.read_parquet(folder / warehouse.PART_FILE)
    assert final.height == 200_000 and final["tag"][0] in {"a-11", "b-11"}
    assert sorted(p.name for p in folder.iterdir()) == [warehouse.PART_FILE], "no temp file left"
    assert len(seen) >= 2


def test_a_writer_that_cannot_get_the_partition_fails_clearly_and_keeps_the_old_one(
    tmp_path, monkeypatch
):
    old = pl.DataFrame({"tag": ["old"]})
    warehouse.write_partition(tmp_path, "t", KEY, old, column="landing_date")
    holder = _python("-c", HOLDER, str(tmp_path), "30")
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(local_storage, "LOCK_WAIT_S", 0.3)
        with pytest.raises(warehouse.PartitionBusy, match="is being written by another run"):
            warehouse.write_partition(
                tmp_path, "t", KEY, pl.DataFrame({"tag": ["new"]}), column="landing_date"
            )
    finally:
        holder.kill()
        holder.communicate()
    folder = warehouse.partition_dir(tmp_path, "t", KEY, "landing_date")
    assert pl.read_parquet(folder / warehouse.PART_FILE)["tag"].to_list() == ["old"]
    assert sorted(p.name for p in folder.iterdir()) == [warehouse.PART_FILE]
    # the holder died: the kernel dropped its lock, the next write goes through at once
    warehouse.write_partition(
        tmp_path, "t", KEY, pl.DataFrame({"tag": ["new"]}), column="landing_date"
    )
    assert pl.read_parquet(folder / warehouse.PART_FILE)["tag"].to_list() == ["new"]


@pytest.mark.slow
def test_two_backfills_over_one_root_at_once_end_with_the_tables_of_one(tmp_path):
    clean = write_month_root(tmp_path / "clean")
    one = cli_backfill(clean)
    assert one.wait(timeout=600) == 0, one.communicate()[0]
    root = write_month_root(tmp_path / "root")
    runs = [cli_backfill(root) for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, out in zip(runs, outputs, strict=True):
        assert run.returncode == 0 or "is being written by another run" in out, out
        assert "Traceback" not in out
    assert any(run.returncode == 0 for run in runs)
    assert table_bytes(root) == table_bytes(clean)
    leftovers = [p for p in (root / "warehouse").rglob(".*.tmp")]
    assert leftovers == []
