"""The independent recompute of ``meter-pipeline verify``: the same Dagster graph and pure
functions, run into a scratch root that holds only a copy of the reference files and a read-only
view of the landing files, so nothing stored in the warehouse can leak into the result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import polars as pl

from meter_pipeline.calendar import last_landing_day, period_bounds
from meter_pipeline.config.reference import load_reference
from meter_pipeline.io import warehouse
from meter_pipeline.runner import Backfill, run_backfill
from meter_pipeline.storage import storage_for


def scratch_root(root: Path, scratch: Path, skip: Callable[[str], bool] | None = None) -> Path:
    """``scratch`` with a copy of ``reference/`` and of ``landing/`` (hard-linked when it can);
    ``skip``: sub-folder names of ``landing/`` left out (``meter-pipeline asof`` leaves out the
    days after its as-of date)."""
    scratch.mkdir(parents=True, exist_ok=True)
    storage = storage_for(root)
    storage.copy_tree("reference", scratch / "reference")
    if storage.is_folder("landing"):
        storage.copy_tree("landing", scratch / "landing", skip)
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
    return warehouse.read_stored(root, table, key)
