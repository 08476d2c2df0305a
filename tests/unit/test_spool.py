"""The close's lineage spool on disk (``io/spool.py``): frames come back one per add, in order,
exactly as added (decimals, dates and strings), whatever their chunking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from meter_pipeline.billing.lineage import MemorySpool, spool_schema
from meter_pipeline.io.spool import ArrowSpool


def _rows(first: int, count: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"c{i % 3}" for i in range(first, first + count)],
            "subscription_start": [dt.date(2026, 1, 1 + i % 28) for i in range(count)],
            "charge_id": ["api" if i % 2 else None for i in range(count)],
            "event_id": [f"e{i:05d}" for i in range(first, first + count)],
            "landing_date": [dt.date(2026, 9, 2)] * count,
            "event_time": [dt.datetime(2026, 9, 1, 23, 59, 59, 999_000)] * count,
            "value": [
                None if i % 3 == 0 else Decimal("12345678901234567.123456789") for i in range(count)
            ],
        },
        schema=spool_schema(),
    )


def test_frames_come_back_one_per_add_in_order(tmp_path):
    chunked = pl.concat([_rows(100, 3), _rows(200, 4)], rechunk=False)
    assert chunked.n_chunks() == 2
    frames = [_rows(0, 5), pl.DataFrame(schema=spool_schema()), chunked, _rows(300, 1)]
    spool, memory = ArrowSpool(tmp_path / "s.arrow", spool_schema()), MemorySpool()
    for frame in frames:
        spool.add(frame)
        if frame.height:
            memory.add(frame)
    assert spool.rows == memory.rows == 13
    got = list(spool.chunks())
    assert [f.height for f in got] == [5, 7, 1]  # the empty frame adds nothing
    for ours, theirs in zip(got, memory.chunks(), strict=True):
        assert_frame_equal(ours, theirs)
    assert_frame_equal(spool.scan().collect(), memory.scan().collect())
    assert list(spool.chunks())[1]["event_id"].to_list()[-1] == "e00203"  # read twice: same


def test_an_empty_spool_reads_as_nothing(tmp_path):
    spool = ArrowSpool(tmp_path / "s.arrow", spool_schema())
    assert list(spool.chunks()) == []
    assert spool.scan().collect().schema == spool_schema()


def test_nothing_is_added_once_it_is_read(tmp_path):
    spool = ArrowSpool(tmp_path / "s.arrow", spool_schema())
    spool.add(_rows(0, 2))
    assert spool.scan().collect().height == 2
    with pytest.raises(RuntimeError, match="being read"):
        spool.add(_rows(2, 2))


def test_a_failed_write_is_raised_to_the_caller(tmp_path):
    spool = ArrowSpool(tmp_path / "missing" / "s.arrow", spool_schema())
    spool.add(_rows(0, 2))  # written in the background: the folder does not exist
    with pytest.raises(FileNotFoundError):
        spool.add(_rows(2, 2))
