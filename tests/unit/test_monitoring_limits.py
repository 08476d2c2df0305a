"""Monitoring exports honour the ingestion limits of meters.yaml (issue 13): an export over
``max_file_bytes`` (also after decompression) or with a line over ``max_line_bytes`` is one
unreadable row; the day's other exports still load."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest

from meter_pipeline.io.limits import Limits
from meter_pipeline.io.monitoring import read_monitoring_day

DAY = dt.date(2026, 9, 1)
HEADER = b"checked_at,service,region,status\n"
ROW = b"2026-09-01T00:00:00Z,api,eu,ok\n"


@pytest.mark.parametrize(
    "name, data, limits",
    [
        ("big.csv", HEADER + ROW * 200, Limits(max_file_bytes=1_000)),
        (
            "bomb.csv.gz",
            gzip.compress(HEADER + ROW * 5_000, mtime=0),
            Limits(max_file_bytes=10_000),
        ),
        (
            "long.csv",
            HEADER + b"2026-09-01T00:00:00Z,api," + b"e" * 600 + b",ok\n",
            Limits(max_line_bytes=512),
        ),
    ],
    ids=["over max_file_bytes", "gzip past max_file_bytes", "a line over max_line_bytes"],
)
def test_an_export_over_a_limit_is_one_unreadable_row(tmp_path, name, data, limits):
    folder = tmp_path / "landing" / "monitoring" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "a.csv").write_bytes(HEADER + ROW)
    (folder / name).write_bytes(data)
    day = read_monitoring_day(tmp_path, DAY, limits)
    assert day.probes.height == 1, "the good export still loads"
    assert day.unreadable_rows == 1
    # without the limits (the defaults), the same export loads
    assert read_monitoring_day(tmp_path, DAY).unreadable_rows == 0
