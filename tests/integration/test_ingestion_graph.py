"""The daily ingestion graph run for real: dg.materialize, the CLI, and DuckDB reading it back."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from meter_pipeline.cli import main
from meter_pipeline.definitions import build_definitions
from meter_pipeline.io.warehouse import partition_dir
from tests.helpers.graph_root import event

REPO = Path(__file__).resolve().parents[2]
DAYS = ["2026-09-01", "2026-09-02", "2026-09-03"]


def materialize_day(root, day, instance):
    defs = build_definitions(str(root))
    job = defs.resolve_job_def("daily_ingestion")
    return job.execute_in_process(partition_key=day, instance=instance, raise_on_error=False)


def read(root, table):
    return duckdb.sql(
        f"select * from read_parquet('{root}/warehouse/{table}/*/*.parquet', "
        "hive_partitioning=true) order by all"
    ).fetchall()


def test_definitions_load_with_the_expected_assets_jobs_and_schedules():
    defs = build_definitions("/nonexistent")
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {
        "landing_events",  # external: the inputs, upstream of what reads them
        "landing_corrections",
        "landing_monitoring",
        "reference_files",
        "raw_events",
        "quarantined_events",
        "clean_events",
        "duplicate_events",
        "ingestion_audit",
        "daily_usage",
        "usage_alerts",
        "probe_results",
        "probe_minutes",
        "period_usage",
        "unbilled_usage",
        "uptime",
        "invoice_lines",
        "invoices",
        "sla_credits",
        "sla_credit_ledger",
        "invoice_line_events",
        "period_trace",
        "close_manifest",
        "event_corrections",
        "quarantined_corrections",
        "duplicate_corrections",
        "correction_audit",
    }
    assert {j.name for j in defs.jobs} == {
        "daily_ingestion",
        "daily_monitoring",
        "monthly_close",
        "asof_job",  # meter-pipeline asof / reprice from the Launchpad (SPEC §16)
        "reprice_job",
    }
    assert {s.name for s in defs.schedules} == {"daily_ingestion_schedule", "monthly_schedule"}


def test_landing_and_reference_data_are_external_assets_upstream_of_what_reads_them():
    defs = build_definitions("/nonexistent")
    graph = defs.resolve_asset_graph()
    readers = {
        "landing_events": {"raw_events", "clean_events", "ingestion_audit"},
        "landing_corrections": {"event_corrections", "correction_audit"},
        "landing_monitoring": {"probe_results", "probe_minutes"},
        "reference_files": {"clean_events", "invoices", "uptime", "usage_alerts", "close_manifest"},
    }
    for name, children in readers.items():
        node = graph.get(dg.AssetKey(name))
        assert node.is_external and not node.is_materializable
        assert node.group_name == "landing" and node.description
        assert children <= {k.to_user_string() for k in node.child_keys}
    jobs = [
        defs.resolve_job_def(j) for j in ("daily_ingestion", "daily_monitoring", "monthly_close")
    ]
    for job in jobs:  # no job tries to materialize an input
        assert not {k.to_user_string() for k in job.asset_layer.executable_asset_keys} & set(
            readers
        )


def test_dagster_definitions_validate_passes():
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_dg_sees_the_project_and_loads_its_definitions():
    """``dg`` (the command Dagster recommends) finds the project by pyproject.toml's [tool.dg]."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TERM": "dumb", "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "All definitions loaded successfully." in proc.stdout + proc.stderr
    assert "virtual environment does not match" not in proc.stdout + proc.stderr


def test_three_days_through_materialize_and_one_through_the_cli(data_root, instance, capsys):
    from meter_pipeline.assets.ingestion import daily_usage, ingest_landing_day
    from meter_pipeline.resources import DataRoot

    for day in DAYS:
        result = dg.materialize(
            [ingest_landing_day, daily_usage],
            partition_key=day,
            instance=instance,
            resources={"data_root": DataRoot(root=str(data_root))},
        )
        assert result.success
    before = read(data_root, "clean_events")
    assert main(["backfill", "--root", str(data_root), "--start", DAYS[2], "--end", DAYS[2]]) == 0
    assert "2026-09-03" in capsys.readouterr().out
    assert read(data_root, "clean_events") == before  # the CLI runs the same graph

    clean = duckdb.sql(
        f"select event_id, cast(landing_date as varchar), cast(value as varchar), billing_period "
        f"from read_parquet('{data_root}/warehouse/clean_events/*/*.parquet', "
        "hive_partitioning=true) order by event_id"
    ).fetchall()
    assert clean == [
        ("e1", "2026-09-01", None, "2026-09"),
        ("e3", "2026-09-03", None, "2026-09"),
        ("t1", "2026-09-01", "0.100000000", "2026-09"),
        ("t2", "2026-09-02", "0.200000000", "2026-09"),
    ]
    dups = duckdb.sql(
        f"select cast(landing_date as varchar), event_id, line_number, "
        f"cast(first_landing_date as varchar), conflict from read_parquet("
        f"'{data_root}/warehouse/duplicate_events/*/*.parquet', hive_partitioning=true) "
        "order by all"
    ).fetchall()
    # e1 twice (same day line 3, next day), t2 re-sent with another value: a conflict.
    assert dups == [
        ("2026-09-01", "e1", 3, "2026-09-01", False),
        ("2026-09-02", "e1", 1, "2026-09-01", False),
        ("2026-09-03", "t2", 2, "2026-09-02", True),
    ]
    audit = duckdb.sql(
        f"select cast(landing_date as varchar), rows_read, rows_quarantined, rows_duplicate, "
        f"rows_accepted, quarantined_malformed from read_parquet("
        f"'{data_root}/warehouse/ingestion_audit/*/*.parquet', hive_partitioning=true) "
        "order by 1"
    ).fetchall()
    assert audit == [
        ("2026-09-01", 4, 1, 1, 2, 1),
        ("2026-09-02", 2, 0, 1, 1, 0),
        ("2026-09-03", 2, 0, 1, 1, 0),
    ]
    usage = duckdb.sql(
        f"select meter, cast(sum(quantity) as varchar), sum(event_count) from read_parquet("
        f"'{data_root}/warehouse/daily_usage/*/*.parquet', hive_partitioning=true) "
        "group by meter order by meter"
    ).fetchall()
    assert usage == [("api_calls", "2.000000000", 2), ("llm_tokens", "0.300000000", 2)]


def test_rematerializing_a_partition_rewrites_identical_bytes(data_root, instance):
    assert materialize_day(data_root, DAYS[0], instance).success
    tables = [
        "raw_events",
        "quarantined_events",
        "clean_events",
        "duplicate_events",
        "ingestion_audit",
        "daily_usage",
    ]
    before = {
        t: (partition_dir(data_root, t, DAYS[0]) / "part-0.parquet").read_bytes() for t in tables
    }
    assert materialize_day(data_root, DAYS[0], instance).success
    after = {
        t: (partition_dir(data_root, t, DAYS[0]) / "part-0.parquet").read_bytes() for t in tables
    }
    assert before == after


def test_a_day_without_landing_folder_writes_empty_partitions(data_root, instance):
    assert materialize_day(data_root, "2026-10-01", instance).success
    for table in ["raw_events", "clean_events", "daily_usage"]:
        assert (partition_dir(data_root, table, "2026-10-01") / "part-0.parquet").exists()
    audit = read(data_root, "ingestion_audit")
    assert len(audit) == 1 and audit[0][1:5] == (0, 0, 0, 0)


def test_a_failing_blocking_check_fails_the_cli(data_root, monkeypatch, capsys):
    import meter_pipeline.checks as checks

    monkeypatch.setattr(checks, "conservation_holds", lambda audit: False)
    assert main(["backfill", "--root", str(data_root), "--start", DAYS[0], "--end", DAYS[0]]) == 1
    assert "rows_conserved" in capsys.readouterr().out
    # The blocking check stopped the downstream asset.
    assert not partition_dir(data_root, "daily_usage", DAYS[0]).exists()


def test_a_bad_meters_file_is_one_line_naming_file_key_and_rule(data_root, capsys):
    (data_root / "reference" / "meters.yaml").write_text(
        "meters:\n  - {name: x, aggregation: avg}\n"
    )
    assert main(["backfill", "--root", str(data_root), "--start", DAYS[0], "--end", DAYS[0]]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "configuration error: reference/meters.yaml: meters[0].aggregation: must be "
        "one of count, sum, max, latest, unique_count, got 'avg'"
    )
    assert not (data_root / "warehouse").exists()


def test_pyarrow_reads_the_warehouse_back(data_root, instance):
    import pyarrow.dataset as ds

    for day in DAYS:
        assert materialize_day(data_root, day, instance).success
    table = ds.dataset(
        data_root / "warehouse" / "clean_events", format="parquet", partitioning="hive"
    ).to_table()
    rows = sorted(
        zip(
            table.column("landing_date").to_pylist(),
            table.column("event_id").to_pylist(),
            strict=True,
        )
    )
    assert rows == [
        ("2026-09-01", "e1"),
        ("2026-09-01", "t1"),
        ("2026-09-02", "t2"),
        ("2026-09-03", "e3"),
    ]
    assert str(table.schema.field("value").type) == "decimal128(38, 9)"
    assert str(table.schema.field("event_time").type) == "timestamp[us, tz=UTC]"


def test_a_key_first_seen_on_line_10000_is_not_lost(tmp_path, instance):
    from tests.helpers.graph_root import METERS

    root = tmp_path / "root"
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "meters.yaml").write_text(METERS)
    folder = root / "landing" / "events" / "2026-09-01"
    folder.mkdir(parents=True)
    lines = [event(f"e{i}", "2026-09-01") for i in range(1, 10_000)]
    lines.append(
        '{"event_id":"e10000","customer_id":"c1","meter":"api_calls",'
        '"timestamp":"2026-09-01T12:00:00Z","dimensions":{"late_key":"v"},'
        '"late_field":"x"}'
    )
    (folder / "big.jsonl").write_text("\n".join(lines) + "\n")
    assert materialize_day(root, "2026-09-01", instance).success
    last = duckdb.sql(
        f"select line_number, dimensions from read_parquet("
        f"'{root}/warehouse/clean_events/*/*.parquet') where event_id = 'e10000'"
    ).fetchall()
    assert last == [(10_000, [{"key": "late_key", "value": "v"}])]
    unknown = duckdb.sql(
        f"select unknown_fields, rows_accepted from read_parquet("
        f"'{root}/warehouse/ingestion_audit/*/*.parquet')"
    ).fetchall()
    assert unknown == [([{"name": "late_field", "rows": 1}], 10_000)]
