"""The independent recompute of ``meter-pipeline verify``: the same Dagster graph and pure
functions, run into a scratch root that holds only a copy of the reference files and a read-only
view of the landing files, so nothing stored in the warehouse can leak into the result."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import dagster as dg
import polars as pl

from meter_pipeline.calendar import last_landing_day, period_bounds
from meter_pipeline.config.reference import load_reference
from meter_pipeline.io.warehouse import PART_FILE, partition_dir
from meter_pipeline.runner import Backfill, run_backfill


def _link_or_copy(source: str, target: str) -> None:
    """A hard link when the scratch space is on the same file system (no bytes copied), else a
    copy. The pipeline only reads landing files, so a link cannot change the original."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def scratch_root(
    root: Path, scratch: Path, ignore: Callable[[str, list[str]], Iterable[str]] | None = None
) -> Path:
    """``scratch`` with a copy of ``reference/`` and of ``landing/`` (hard-linked when it can);
    ``ignore``: as :func:`shutil.copytree`'s, for the landing copy (``meter-pipeline asof``
    leaves out the days after its as-of date)."""
    scratch.mkdir(parents=True, exist_ok=True)
    shutil.copytree(root / "reference", scratch / "reference")
    if (root / "landing").exists():
        shutil.copytree(
            root / "landing", scratch / "landing", copy_function=_link_or_copy, ignore=ignore
        )
    return scratch


def recompute(root: Path, first: str, last: str, scratch: Path) -> list[str]:
    """Backfill the scratch root from ``first``'s first day to ``last``'s last landing day;
    returns what failed (empty when the run succeeded)."""
    scratch = scratch_root(root, scratch)
    reference = load_reference(scratch)
    start = period_bounds(first)[0]
    end: dt.date = last_landing_day(last, reference.grace_days)
    lines: list[str] = []
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_backfill(
            Backfill(scratch, start, end), instance, echo=lines.append, reference=reference
        )
    return [line for line in lines if "FAILED" in line] if not result.ok else []


def read_stored(root: Path, table: str, key: str) -> pl.DataFrame | None:
    """A partition's Parquet file as it is (no schema imposed), or None when absent."""
    path = partition_dir(root, table, key) / PART_FILE
    if not path.exists():
        return None
    return pl.read_parquet(path)
