"""Which landing days are incomplete: a day needs an audit once anything landed in its folder; an
empty folder, or none, is a day with nothing to ingest (on any storage)."""

from __future__ import annotations

import polars as pl

from meter_pipeline.ingestion.completeness import day_incomplete
from meter_pipeline.io import warehouse

DAY = "2026-09-01"


def test_a_day_with_no_folder_or_an_empty_folder_needs_no_audit(tmp_path):
    assert day_incomplete(tmp_path, DAY) is None
    (tmp_path / "landing" / "events" / DAY).mkdir(parents=True)
    assert day_incomplete(tmp_path, DAY) is None


def test_a_day_with_a_landed_file_and_no_audit_is_incomplete(tmp_path):
    folder = tmp_path / "landing" / "events" / DAY
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text("{}\n")
    assert "no ingestion_audit" in day_incomplete(tmp_path, DAY)
    # not responsible for it: only a started ingestion (raw_events without an audit) counts
    assert day_incomplete(tmp_path, DAY, responsible=False) is None
    warehouse.write_partition(tmp_path, "raw_events", DAY, pl.DataFrame({"x": [1]}))
    assert "only in part" in day_incomplete(tmp_path, DAY, responsible=False)
