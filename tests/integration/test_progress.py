"""Progress: every finished partition of a CLI run is reported once, in order, with its rows;
off a terminal each becomes one line with the elapsed time and the rate."""

from __future__ import annotations

import itertools

from meter_pipeline import progress
from meter_pipeline.cli import main
from tests.helpers.graph_root import write_root


def test_a_three_day_backfill_reports_each_day_once(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = write_root(tmp_path / "data")
    seen: list[progress.Done] = []
    with progress.listening(seen.append):
        assert (
            main(["backfill", "--root", str(root), "--start", "2026-09-01", "--end", "2026-09-03"])
            == 0
        )
    days = [(d.key, d.index, d.total, d.rows) for d in seen if d.step == "ingest_landing_day"]
    # rows read per day (graph_root: 4, 2 and 2 lines)
    assert days == [("2026-09-01", 1, 3, 4), ("2026-09-02", 2, 3, 2), ("2026-09-03", 3, 3, 2)]
    assert [d.key for d in seen if d.step == "daily_usage"] == [
        "2026-09-01",
        "2026-09-02",
        "2026-09-03",
    ]


def test_line_printer_says_elapsed_time_and_rate():
    lines: list[str] = []
    ticks = itertools.count(0.0, 2.0)  # 0 at start, then 2 s per partition
    printer = progress.LinePrinter(lines.append, clock=lambda: next(ticks))
    printer(progress.Done("ingest_landing_day", "2026-09-01", 1, 2, 100))
    printer(progress.Done("ingest_landing_day", "2026-09-02", 2, 2, 1))
    assert lines == [
        "ingest_landing_day 2026-09-01 (1/2): 100 rows; 2.0 s, 50 rows/s",
        "ingest_landing_day 2026-09-02 (2/2): 1 row; 4.0 s, 25 rows/s",
    ]
