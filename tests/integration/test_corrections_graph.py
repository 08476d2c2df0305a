"""Corrections through the Dagster graph (SPEC §15): the day's tables, effective events in an
open month (invoice lines, lineage, trace), and the same bytes whatever order days run in."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from meter_pipeline.assets.alerts import usage_alerts
from meter_pipeline.assets.corrections import ingest_corrections
from meter_pipeline.calendar import days_between
from meter_pipeline.cli import main
from meter_pipeline.resources import DataRoot
from tests.helpers.audit_root import END, MONTHLY, START, write_corrections, write_root

pytestmark = pytest.mark.slow
CORRECTION_TABLES = ("event_corrections", "quarantined_corrections", "duplicate_corrections")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = write_corrections(write_root(tmp_path_factory.mktemp("corr") / "root"))
    args = ["backfill", "--root", str(root), "--start", str(START), "--end", str(END)]
    assert main(args) == 0
    return root


def rows(root: Path, table: str, query: str) -> list[tuple]:
    source = f"read_parquet('{root}/warehouse/{table}/*/*.parquet', hive_partitioning=true)"
    return duckdb.sql(query.format(t=source)).fetchall()


def test_the_days_tables(root):
    assert rows(
        root,
        "event_corrections",
        "select correction_id, event_id, action, cast(value as varchar), "
        "cast(event_landing_date as varchar), event_billing_period, applied_period "
        "from {t} order by all",
    ) == [
        ("c1", "a2", "void", None, "2026-09-02", "2026-09", "2026-09"),
        ("c2", "t1", "amend", "50.000000000", "2026-09-02", "2026-09", "2026-09"),
        ("c4", "s2", "amend", "8.000000000", "2026-09-15", "2026-09", "2026-10"),
    ]
    # c1 again on 2026-10-10 is a duplicate (within 40 days), whatever it says
    assert rows(
        root,
        "duplicate_corrections",
        "select correction_id, line_number, conflict from {t} order by all",
    ) == [("c1", 2, True), ("c2", 3, False)]
    assert rows(root, "quarantined_corrections", "select reason, line_number from {t}") == [
        ("unknown_event", 4)
    ]
    assert rows(
        root,
        "correction_audit",
        "select sum(rows_read), sum(rows_quarantined), sum(rows_duplicate), "
        "sum(rows_accepted) from {t}",
    ) == [(6, 1, 2, 3)]


def test_an_open_month_bills_the_effective_events(root):
    # September acme: api a1 a3 a4 (a2 voided) − 2 free = 1 × 0.25; tokens_large t1 amended to
    # 50 × 0.01 = 0.50; seats latest s2 = 6 (c4 landed after September closed: not applied).
    lines = rows(
        root,
        "invoice_lines",
        "select line_no, quantity, event_count, amount from {t} "
        "where invoice_id = '2026-09-acme' and kind = 'usage' order by 1",
    )
    assert lines == [
        (2, Decimal("1"), 3, Decimal("0.25")),
        (3, Decimal("50"), 1, Decimal("0.50")),
        (4, Decimal("6"), 2, Decimal("75.00")),
    ]
    listed = rows(
        root,
        "invoice_line_events",
        "select event_id, cast(value as varchar) from {t} where invoice_id = '2026-09-acme' "
        "and line_no in (2, 3) order by all",
    )
    assert listed == [("a1", None), ("a3", None), ("a4", None), ("t1", "50.000000000")]
    trace = rows(
        root,
        "period_trace",
        "select * exclude (billing_period) from {t} where billing_period = '2026-09'",
    )
    assert trace == [(10, 7, 1, 2)]  # a2 counts nowhere


def _materialize(root: Path, day: str) -> None:
    result = dg.materialize(
        [ingest_corrections],
        partition_key=day,
        resources={"data_root": DataRoot(root=str(root))},
        selection=[dg.AssetKey(t) for t in (*CORRECTION_TABLES, "correction_audit")],
        raise_on_error=True,
    )
    assert result.success


def _bytes(root: Path) -> dict[str, bytes]:
    files = [p for t in CORRECTION_TABLES for p in (root / "warehouse" / t).rglob("*.parquet")]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def test_days_give_the_same_bytes_in_any_order(root, tmp_path):
    copy = Path(shutil.copytree(root, tmp_path / "root"))
    for table in CORRECTION_TABLES:
        shutil.rmtree(copy / "warehouse" / table)
    for day in ("2026-10-10", "2026-09-20"):  # the later day first
        _materialize(copy, day)
    expected = {k: v for k, v in _bytes(root).items() if "2026-10-10" in k or "2026-09-20" in k}
    assert _bytes(copy) == expected


def test_a_closed_month_is_adjusted_on_the_next_invoice(root):
    # c4 (2026-10-10) amends s2 from 6 to 8 seats after September closed: September stays as
    # issued; October's acme invoice adds seats +25.00 and gives back September's minimum 24.25.
    assert rows(
        root, "invoices", "select total, document_type from {t} where invoice_id = '2026-09-acme'"
    ) == [(Decimal("400.00"), "invoice")]
    adjustments = rows(
        root,
        "invoice_lines",
        "select charge_id, adjusts, earned_period, amount, event_count from {t} "
        "where invoice_id = '2026-10-acme' and kind = 'adjustment' order by line_no",
    )
    assert adjustments == [
        ("seats", "usage", "2026-09", Decimal("25.00"), 0),
        (None, "minimum_commitment", "2026-09", Decimal("-24.25"), 0),
    ]
    assert rows(root, "invoices", "select total from {t} where invoice_id = '2026-10-acme'") == [
        (Decimal("400.75"),)
    ]


def _asof(root: Path, out: Path, period: str, as_of: str) -> int:
    args = ["asof", "--root", str(root), "--period", period, "--as-of", as_of, "--out", str(out)]
    return main([*args, "--diff"])


def _table(root: Path, name: str, period: str) -> pl.DataFrame:
    return pl.read_parquet(root / f"warehouse/{name}/billing_period={period}/part-0.parquet")


@pytest.mark.parametrize(
    ("period", "as_of"), [("2026-09", "2026-10-03"), ("2026-10", "2026-11-03")]
)
def test_asof_with_corrections_equals_the_stored_close(root, tmp_path, capsys, period, as_of):
    """As of the last landing day, a root with corrections recomputes to its stored close, value
    for value: the voids and amends of an open September, October's adjustment lines."""
    before = _bytes_of_everything(root)
    out = tmp_path / "asof"
    assert _asof(root, out, period, as_of) == 0
    assert "every invoice equals the stored close" in capsys.readouterr().out
    for name in MONTHLY:
        assert_frame_equal(_table(root, name, period), _table(out, name, period))
    assert _bytes_of_everything(root) == before  # the data root is only read


def test_asof_before_a_correction_lands_leaves_it_out(root, tmp_path, capsys):
    """As of 2026-10-09, c4 (landed 2026-10-10) is not yet known: October's acme invoice has no
    adjustment lines, 400.75 − 25.00 + 24.25 = 400.00, and the diff names the two lines."""
    out = tmp_path / "asof"
    assert _asof(root, out, "2026-10", "2026-10-09") == 0
    lines = _table(out, "invoice_lines", "2026-10").filter(pl.col("invoice_id") == "2026-10-acme")
    assert lines.filter(pl.col("kind") == "adjustment").height == 0
    invoices = _table(out, "invoices", "2026-10").filter(pl.col("invoice_id") == "2026-10-acme")
    assert invoices["total"].to_list() == [Decimal("400.00")]
    assert not (out / "landing/corrections/2026-10-10").exists()
    printed = capsys.readouterr().out
    assert "acme: total USD 400.75 stored → USD 400.00 as of (USD -0.75)" in printed
    assert "  - adjustment of usage seats (growth from 2026-01-01) earned 2026-09: " in printed


def _bytes_of_everything(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


#: Alerts whose answer the corrections decide (SPEC §17 Alerts).
ALERTS = """\
customer_id,meter,threshold_kind,threshold
acme,api_calls,usage,4
acme,,cost,300.50
acme,,cost,325
"""


def _alerts(root: Path, days: list[str]) -> list[tuple]:
    result = dg.materialize(
        [usage_alerts],
        resources={"data_root": DataRoot(root=str(root))},
        tags={
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        },
        raise_on_error=True,
    )
    assert result.success
    return rows(
        root,
        "usage_alerts",
        "select cast(landing_date as varchar), billing_period, threshold_kind, "
        "cast(threshold as varchar), value from {t} order by all",
    )


def test_alerts_use_effective_events_and_adjustment_lines(root, tmp_path):
    """acme's September api calls would reach 4 on 2026-10-02 (a1, a2, a3, a4), but c1 voided a2
    on 2026-09-20: 3, never 4. September's cost (300 + 0.25 + 1.25 + 50.00 = 351.50) crosses
    300.50 and 325 on its first day. October's cost is 300.00 until c4 lands on 2026-10-10 and
    brings the adjustments +25.00 (seats 6 → 8) and −24.25 (September's minimum): 300.75, which
    crosses 300.50 but not 325 (every adjustment line counts, the minimum's too). The same rows
    when the days run one at a time, newest first, before any month has closed."""
    copy = Path(shutil.copytree(root, tmp_path / "root"))
    (copy / "reference" / "alerts.csv").write_text(ALERTS)
    days = [d.isoformat() for d in days_between(START, END)]
    expected = [
        ("2026-09-02", "2026-09", "cost", "300.500000000", Decimal("351.50")),
        ("2026-09-02", "2026-09", "cost", "325.000000000", Decimal("351.50")),
        ("2026-10-10", "2026-10", "cost", "300.500000000", Decimal("300.75")),
    ]
    assert _alerts(copy, days) == expected
    # No month closed, days one at a time, newest first: the same rows.
    fresh = Path(shutil.copytree(copy, tmp_path / "fresh"))
    for table in (*MONTHLY, "usage_alerts"):
        shutil.rmtree(fresh / "warehouse" / table)
    for day in ("2026-10-10", "2026-10-02", "2026-09-20", "2026-09-02"):
        found = _alerts(fresh, [day])
    assert found == expected
