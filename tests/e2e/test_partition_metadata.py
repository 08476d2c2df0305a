"""Every partition of a ranged run shows its own numbers: after a 3-day and a 2-month ranged
``meter-pipeline backfill``, each partition's materialization in the instance (the one the CLI
writes and the UI reads: ``.dagster/`` beside the root) carries that partition's row count and
totals, read back from its own Parquet, and each day and month has its own check evaluation.
The 2-month root's sla_claims.csv names a service that sla.yaml does not have: the months close
anyway, and the claim is counted and flagged by a warning check."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from meter_pipeline.cli import main
from meter_pipeline.demo_data import write_demo_root
from meter_pipeline.instance import ARGS_TAG, COMMAND_TAG
from tests.helpers.graph_root import write_root

pytestmark = pytest.mark.slow

DAILY = {
    "raw_events",
    "quarantined_events",
    "clean_events",
    "duplicate_events",
    "ingestion_audit",
    "daily_usage",
}
MONTHLY = {
    "period_usage",
    "unbilled_usage",
    "uptime",
    "invoice_lines",
    "invoices",
    "sla_credits",
    "sla_credit_ledger",
}


def parquet_rows(root: Path, table: str, column: str, key: str) -> list[dict]:
    path = root / "warehouse" / table / f"{column}={key}" / "part-0.parquet"
    return pq.read_table(path).to_pylist()


def metadata_of(instance: dg.DagsterInstance, table: str, key: str) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(table), asset_partitions=[key]), limit=1
    ).records
    assert records, f"{table} {key}: no materialization recorded"
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def evaluations(instance: dg.DagsterInstance) -> dict[tuple[str, str], list]:
    """(check name, partition) → its evaluations, from the instance."""
    records = instance.get_event_records(
        dg.EventRecordsFilter(dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    )
    out = defaultdict(list)
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        out[(evaluation.check_name, evaluation.partition)].append(evaluation)
    return out


def backfill(root: Path, start: str, end: str, monkeypatch) -> dg.DagsterInstance:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["backfill", "--root", str(root), "--start", start, "--end", end]) == 0
    home = root.parent / ".dagster"
    assert (home / "dagster.yaml").exists()
    return dg.DagsterInstance.from_config(str(home))


def test_three_days_each_with_its_own_rows_and_check(tmp_path, monkeypatch):
    root = write_root(tmp_path / "data")
    days = ["2026-09-01", "2026-09-02", "2026-09-03"]
    with backfill(root, days[0], days[-1], monkeypatch) as instance:
        for day in days:
            for table in DAILY:
                meta = metadata_of(instance, table, day)
                assert meta["dagster/row_count"] == len(
                    parquet_rows(root, table, "landing_date", day)
                ), (table, day)
            (audit,) = parquet_rows(root, "ingestion_audit", "landing_date", day)
            meta = metadata_of(instance, "ingestion_audit", day)
            assert {k: meta[k] for k in ("rows_read", "rows_accepted")} == {
                k: audit[k] for k in ("rows_read", "rows_accepted")
            }
            (evaluation,) = evaluations(instance)[("rows_conserved", day)]
            assert (
                evaluation.passed and evaluation.metadata["rows_read"].value == audit["rows_read"]
            )
        # the days differ, so a range-wide figure on every partition would be caught above
        counts = {metadata_of(instance, "raw_events", d)["dagster/row_count"] for d in days}
        assert len(counts) > 1
        runs = instance.get_runs()
        assert runs and all(r.tags[COMMAND_TAG] == "backfill" for r in runs)
        assert all(r.tags[ARGS_TAG].endswith("--start 2026-09-01 --end 2026-09-03") for r in runs)


def test_two_months_each_with_its_own_totals_checks_and_an_unknown_claim(tmp_path, monkeypatch):
    root = tmp_path / "data"
    write_demo_root(root)
    (root / "reference" / "sla_claims.csv").write_text(
        "customer_id,service,billing_period,submitted_at\n"
        "cust_001,no_such_service,2026-08,2026-09-02T00:00:00Z\n"
    )
    periods = ["2026-08", "2026-09"]
    with backfill(root, "2026-08-01", "2026-10-03", monkeypatch) as instance:
        for period in periods:
            for table in MONTHLY:
                meta = metadata_of(instance, table, period)
                rows = parquet_rows(root, table, "billing_period", period)
                assert meta["dagster/row_count"] == len(rows), (table, period)
            totals: dict[str, Decimal] = defaultdict(Decimal)
            for row in parquet_rows(root, "invoices", "billing_period", period):
                totals[row["currency"]] += row["total"]
            meta = metadata_of(instance, "invoices", period)
            assert {c: Decimal(t) for c, t in meta["totals_by_currency"].items()} == totals
            found = evaluations(instance)
            for check in (
                "invoices_total_matches_lines",
                "invoice_amounts_exact_at_minor_unit",
                "sla_credits_within_fee",
                "sla_credit_ledger_balances",
            ):
                (evaluation,) = found[(check, period)]
                assert evaluation.passed, (check, period)
        first, second = (
            metadata_of(instance, "invoices", p)["totals_by_currency"] for p in periods
        )
        assert first != second
        # the claim naming an unknown service: counted and flagged in August, not fatal
        (august,) = evaluations(instance)[("sla_claims_matched", "2026-08")]
        assert not august.passed and august.severity == dg.AssetCheckSeverity.WARN
        assert august.metadata["unmatched_claims"].value == 1
        assert "no_such_service" in august.metadata["claims"].value
        (september,) = evaluations(instance)[("sla_claims_matched", "2026-09")]
        assert september.passed
        assert metadata_of(instance, "sla_credits", "2026-08")["unmatched_claims"] == 1


def test_partitions_start_is_a_first_of_month_near_the_data():
    from meter_pipeline.partitions import DEFAULT_START, daily_partitions, partitions_start

    assert DEFAULT_START == "2025-01-01"
    assert daily_partitions.start == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert partitions_start("2026-08-01") == "2026-08-01"
    with pytest.raises(ValueError, match="METER_PIPELINE_PARTITIONS_START='2026-08-15' must be"):
        partitions_start("2026-08-15")
