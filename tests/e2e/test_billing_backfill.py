"""Two months of landing days backfilled through the CLI, billed, and checked against a second
implementation (issue 3, Acceptance: the end-to-end test).

The data root is generated (seeded) by :mod:`tests.helpers.billing_reference`: about a thousand
events in JSONL, gzipped NDJSON and CSV over landing days 2026-08-01 … 2026-10-03, with late events,
duplicates (same file, two files, next day, a conflicting re-send, a retry after the month
closed), bad rows, a plan change mid-month in USD and in JPY, a mid-month start, a customer that
never sends anything, minimums that trigger and one that does not, all five charge models with a
filter and free units, and a customer with usage but no subscription.

Three backfills run, and the tests below read what each one left:

1. ``meter_pipeline.cli.main`` in-process over the whole range;
2. the ``meter-pipeline`` console script in a subprocess over the same range: no byte of any
   monthly partition may change;
3. after a file of August events lands on 2026-09-10, ``main`` again over 2026-08-31 … 2026-10-03
   (re-running August's close too): August stays byte-identical, the late events are billed in
   September.

Corrections land too (:mod:`tests.helpers.correction_reference`): voids and amends while August
is open, amends and voids of August events after it closed (adjustment lines on September's
invoices, one of them a credit note), repeats of an accepted correction, and rows quarantined
with each reason.

Tables are read back with DuckDB (``read_parquet(..., hive_partitioning=true)``) and compared,
exactly, with :func:`~tests.helpers.billing_reference.reference_billing` and
:func:`~tests.helpers.correction_reference.reference_corrections`, which use only Python's
decimal module and import nothing from the code under test.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from meter_pipeline.cli import main
from tests.helpers.billing_reference import (
    LANDING_END,
    LANDING_START,
    LATE_FILE_DAY,
    PERIODS,
    build_scenario,
    reference_billing,
    reference_ingestion,
)
from tests.helpers.correction_reference import (
    adjustments,
    effective,
    last_landing_day,
    reference_corrections,
)

pytestmark = pytest.mark.slow

SEED = 20260801
MONTHLY_TABLES = ("period_usage", "unbilled_usage", "invoice_lines", "invoices")
LINE_COLUMNS = (
    "invoice_id",
    "customer_id",
    "line_no",
    "kind",
    "plan_id",
    "subscription_start",
    "charge_id",
    "service",
    "meter",
    "quantity",
    "free_quantity",
    "unit_price",
    "event_count",
    "amount",
    "currency",
    "earned_period",
    "adjusts",
)
INVOICE_COLUMNS = (
    "invoice_id",
    "customer_id",
    "currency",
    "subtotal",
    "credits",
    "total",
    "line_count",
    "document_type",
)


def backfill_args(root: Path, start: dt.date, end: dt.date) -> list[str]:
    return ["backfill", "--root", str(root), "--start", start.isoformat(), "--end", end.isoformat()]


def cli_in_process(root: Path, start: dt.date, end: dt.date) -> int:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)  # an ephemeral Dagster instance
        return main(backfill_args(root, start, end))


def cli_subprocess(root: Path, start: dt.date, end: dt.date) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("meter-pipeline")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "meter_pipeline.cli"]
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.run(
        command + backfill_args(root, start, end),
        cwd=root.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def monthly_files(root: Path) -> tuple[dict[str, bytes], dict[str, int]]:
    """Every file of every monthly partition, by path relative to the root: bytes and inode (a
    partition is replaced by a new file, so a new inode shows it was written again)."""
    files = sorted((root / "warehouse").glob("*/billing_period=*/*"))
    paths = [f.relative_to(root).as_posix() for f in files]
    return (
        {p: f.read_bytes() for p, f in zip(paths, files, strict=True)},
        {p: f.stat().st_ino for p, f in zip(paths, files, strict=True)},
    )


def query(root: Path, table: str, sql: str) -> list[dict[str, Any]]:
    """``sql`` with ``{t}`` standing for the table read with Hive partitioning."""
    source = (
        f"read_parquet('{root}/warehouse/{table}/*/*.parquet', hive_partitioning=true, "
        "hive_types_autocast=false)"
    )
    with duckdb.connect() as con:
        result = con.execute(sql.format(t=source))
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


@dataclass
class Snapshot:
    """What a backfill left in the warehouse: monthly bytes and the billing tables."""

    files: dict[str, bytes]
    inodes: dict[str, int]
    invoices: dict[str, list[dict]]
    lines: dict[str, list[dict]]
    period_usage: dict[str, dict]
    unbilled: dict[str, dict]

    @classmethod
    def take(cls, root: Path) -> Snapshot:
        invoices, lines, usage, unbilled = {}, {}, {}, {}
        for period in PERIODS:
            where = f"where billing_period = '{period}'"
            invoices[period] = query(
                root,
                "invoices",
                f"select {', '.join(INVOICE_COLUMNS)} from {{t}} {where} order by customer_id",
            )
            lines[period] = query(
                root,
                "invoice_lines",
                f"select {', '.join(LINE_COLUMNS)} "
                f"from {{t}} {where} order by customer_id, line_no",
            )
            usage[period] = {
                (r["customer_id"], r["meter"]): {
                    k: r[k] for k in ("quantity", "event_count", "late_event_count")
                }
                for r in query(root, "period_usage", f"select * from {{t}} {where}")
            }
            unbilled[period] = {
                (r["customer_id"], r["meter"], r["reason"]): {
                    k: r[k] for k in ("event_count", "quantity")
                }
                for r in query(root, "unbilled_usage", f"select * from {{t}} {where}")
            }
        return cls(*monthly_files(root), invoices, lines, usage, unbilled)


@dataclass
class Runs:
    root: Path
    scenario: Any
    codes: dict[str, int]
    stderr: str
    first: Snapshot
    second: Snapshot
    third: Snapshot
    reference: dict[str, dict]  # period -> reference billing before the late file
    reference_after: dict[str, dict]  # period -> reference billing after it
    ingestion: dict
    ingestion_after: dict
    corrections: dict  # reference_corrections over the first delivery


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("billing_e2e") / "root"
    scenario = build_scenario(SEED)
    scenario.write(root)
    codes = {}

    codes["first"] = cli_in_process(root, LANDING_START, LANDING_END)
    first = Snapshot.take(root)

    proc = cli_subprocess(root, LANDING_START, LANDING_END)
    codes["second"] = proc.returncode
    second = Snapshot.take(root)

    scenario.deliver_late_file(root)
    codes["third"] = cli_in_process(root, dt.date(2026, 8, 31), LANDING_END)
    third = Snapshot.take(root)

    ingestion = reference_ingestion(scenario.rows)
    ingestion_after = reference_ingestion(scenario.rows + scenario.late_rows)
    corrections = reference_corrections(ingestion["clean"], scenario.corrections)
    corrections_after = reference_corrections(ingestion_after["clean"], scenario.corrections)
    assert (
        corrections_after["accepted"] == corrections["accepted"]
    )  # the late file corrects nothing
    return Runs(
        root,
        scenario,
        codes,
        proc.stderr[-3000:],
        first,
        second,
        third,
        {p: billing(ingestion["clean"], corrections["accepted"], p) for p in PERIODS},
        {p: billing(ingestion_after["clean"], corrections["accepted"], p) for p in PERIODS},
        ingestion,
        ingestion_after,
        corrections,
    )


def billing(clean: list, accepted: list[dict], period: str) -> dict:
    """The reference's period: its effective events at its last landing day, and the adjustments
    of earlier periods that corrections landed by then call for."""
    events = effective(clean, accepted, last_landing_day(period))
    return reference_billing(events, period, adjustments(clean, accepted, period))


def test_every_backfill_exits_zero(runs: Runs):
    assert runs.codes == {"first": 0, "second": 0, "third": 0}, runs.stderr


# ----------------------------------------------------------------------------------------------
# Ingestion agrees with the ground truth the generator kept (what billing starts from)
# ----------------------------------------------------------------------------------------------


def test_ingestion_audit_counts_match_the_ground_truth(runs: Runs):
    rows = query(
        runs.root,
        "ingestion_audit",
        "select landing_date, rows_read, rows_quarantined, rows_duplicate, rows_accepted "
        "from {t} order by landing_date",
    )
    got = {dt.date.fromisoformat(str(r.pop("landing_date"))): r for r in rows}
    expected = runs.ingestion_after["counts"]
    assert {day: got[day] for day in expected} == expected
    assert all(v["rows_read"] == 0 for day, v in got.items() if day not in expected)


def test_quarantine_duplicates_and_billing_periods_match_the_ground_truth(runs: Runs):
    quarantined = {
        (r["source_file"], r["line_number"], r["reason"])
        for r in query(
            runs.root, "quarantined_events", "select source_file, line_number, reason from {t}"
        )
    }
    assert quarantined == runs.ingestion_after["quarantined"]

    duplicates = {
        (r["event_id"], r["source_file"], r["line_number"], r["first_landing_date"], r["conflict"])
        for r in query(
            runs.root,
            "duplicate_events",
            "select event_id, source_file, line_number, first_landing_date, conflict from {t}",
        )
    }
    assert duplicates == runs.ingestion_after["duplicates"]
    assert sum(d[-1] for d in duplicates) == 1  # the one conflicting re-send

    clean = {
        (r["event_id"], r["billing_period"], r["late"])
        for r in query(runs.root, "clean_events", "select event_id, billing_period, late from {t}")
    }
    expected = {(c.event.event_id, c.billing_period, c.late) for c in runs.ingestion_after["clean"]}
    assert clean == expected


# ----------------------------------------------------------------------------------------------
# Billing agrees with the reference implementation, exactly
# ----------------------------------------------------------------------------------------------


def expected_invoices(reference: dict) -> list[dict]:
    return [
        {k: inv[k] for k in INVOICE_COLUMNS} for _, inv in sorted(reference["invoices"].items())
    ]


def expected_lines(reference: dict) -> list[dict]:
    return sorted(
        ({k: line[k] for k in LINE_COLUMNS} for line in reference["lines"]),
        key=lambda line: (line["customer_id"], line["line_no"]),
    )


@pytest.mark.parametrize("period", PERIODS)
def test_invoices_match_the_reference(runs: Runs, period: str):
    assert runs.first.invoices[period] == expected_invoices(runs.reference[period])


@pytest.mark.parametrize("period", PERIODS)
def test_invoice_lines_match_the_reference(runs: Runs, period: str):
    got, expected = runs.first.lines[period], expected_lines(runs.reference[period])
    # Line by line first, so a failure names the line; then the whole list (order, count).
    by_key = {(line["invoice_id"], line["line_no"]): line for line in got}
    for line in expected:
        assert by_key.get((line["invoice_id"], line["line_no"])) == line
    assert got == expected


@pytest.mark.parametrize("period", PERIODS)
def test_period_usage_and_unbilled_usage_match_the_reference(runs: Runs, period: str):
    assert runs.first.period_usage[period] == runs.reference[period]["period_usage"]
    assert runs.first.unbilled[period] == runs.reference[period]["unbilled"]


def amounts(lines: list[dict], customer: str, **match: Any) -> list[tuple]:
    return [
        (line["kind"], line["charge_id"] or line["service"], line["amount"])
        for line in lines
        if line["customer_id"] == customer and all(line[k] == v for k, v in match.items())
    ]


def test_a_few_invoices_worked_out_by_hand(runs: Runs):
    """Anchors for the reference itself, read from what the pipeline wrote."""
    D = Decimal
    aug, sep = runs.first.lines["2026-08"], runs.first.lines["2026-09"]
    # golf starts 08-10 (22 of 31 days) and sends nothing: 49 × 22/31 = 34.774… → 34.77; the
    # tier-1 flat fee is charged at zero usage; minimum 150 × 22/31 = 106.4516… − 37.27 → 69.18.
    assert amounts(aug, "golf") == [
        ("platform_fee", "cloud_meter", D("34.77")),
        ("usage", "api", D("0")),
        ("usage", "tokens", D("2.50")),
        ("minimum_commitment", None, D("69.18")),
    ]
    # beta starts 08-12: 300 × 20/31 = 193.548… → 193.55; 200 × 20/31 = 129.032… → 129.03.
    assert amounts(aug, "beta", kind="platform_fee") == [
        ("platform_fee", "cloud_meter", D("193.55")),
        ("platform_fee", "billing_meter", D("129.03")),
    ]
    # hotel ended 08-10; two late August events bill in September with no fee and no minimum:
    # 1 call is inside 20 free units; 777 tokens = 2.50 + 777 × 0.0009 = 3.1993 → 3.20.
    assert amounts(sep, "hotel") == [("usage", "api", D("0")), ("usage", "tokens", D("3.20"))]
    # acme's growth plan ended 08-20; its late events on September's invoice: 4200 large tokens
    # = 1.50 + 4200 × 0.0013 = 6.96; 1 call = 1 package of 25 = 5.00; recovered 100.04 × 0.25
    # + 1 × 0.015 = 25.025 → 25.03 (half up); latest seats 12 × 7.50 = 90.00.
    assert amounts(sep, "acme", plan_id="growth") == [
        ("usage", "api", D("0")),
        ("usage", "tokens_large", D("6.96")),
        ("usage", "tokens_small", D("0")),
        ("usage", "storage", D("0")),
        ("usage", "exports", D("5.00")),
        ("usage", "recovered", D("25.03")),
        ("usage", "seats", D("90.00")),
        ("usage", "users", D("0")),
    ]
    # After 2500 more recovered lands on 09-10: 2600.04 × 0.25 + 2 × 0.015 = 650.04.
    assert ("usage", "recovered", D("650.04")) in amounts(
        runs.third.lines["2026-09"], "acme", plan_id="growth"
    )
    # kyoto (JPY) falls short of its ¥30,000 minimum in August: the invoice is exactly ¥30,000.
    kyoto = [i for i in runs.first.invoices["2026-08"] if i["customer_id"] == "kyoto"]
    assert [(i["currency"], i["total"]) for i in kyoto] == [("JPY", D("30000"))]


def test_the_scenario_exercises_every_case(runs: Runs):
    """Guards the generator: the comparisons above are only as good as what they cover."""
    aug, sep = runs.reference["2026-08"], runs.reference["2026-09"]
    lines = aug["lines"] + sep["lines"]

    def of(ref, customer, **match):
        return [
            line
            for line in ref["lines"]
            if line["customer_id"] == customer and all(line[k] == v for k, v in match.items())
        ]

    # Plan changes: two subscriptions on one invoice (USD in August, JPY in September).
    assert {line["plan_id"] for line in of(aug, "acme")} == {"growth", "enterprise"}
    assert {line["plan_id"] for line in of(sep, "kyoto")} == {"jp_basic", "jp_pro"}
    assert sep["invoices"]["kyoto"]["currency"] == "JPY"
    # Mid-month start: prorated fee (beta: 20 of 31 days of 300.00 = 193.548… → 193.55).
    assert of(aug, "beta", kind="platform_fee", service="cloud_meter")[0]["amount"] == Decimal(
        "193.55"
    )
    # Minimums that trigger (golf never sends anything) and one that does not (acme enterprise).
    assert of(aug, "golf", kind="minimum_commitment") and of(sep, "golf", kind="minimum_commitment")
    assert not of(sep, "acme", kind="minimum_commitment", plan_id="enterprise")
    # Late events: acme's ended growth plan and hotel bill them in September with no fee.
    assert of(sep, "acme", plan_id="growth") and not of(
        sep, "acme", plan_id="growth", kind="platform_fee"
    )
    assert {line["kind"] for line in of(sep, "hotel")} == {"usage"}
    assert sum(u["late_event_count"] for u in sep["period_usage"].values()) >= 6
    # Usage without a subscription: ghost always, foxtrot before 09-05, delta after 09-15.
    assert {k[0] for k in aug["unbilled"]} == {"foxtrot", "ghost"}
    assert {k[0] for k in sep["unbilled"]} == {"delta", "foxtrot", "ghost"}
    assert "ghost" not in aug["invoices"] and "ghost" not in sep["invoices"]
    # Every model; a graduated quantity past its second bound; free units larger than usage.
    assert any(line["charge_id"] == "tokens_large" and line["quantity"] > 20000 for line in lines)
    assert any(
        line["kind"] == "usage" and line["quantity"] == 0 and line["free_quantity"] > 0
        for line in lines
    )
    assert any(line["charge_id"] == "storage" and line["quantity"] > 100 for line in lines)
    # Amounts exactly half a minor unit, where half_up decides.
    halves = [
        a
        for a, cur in aug["exact_amounts"] + sep["exact_amounts"]
        if (a * (100 if cur == "USD" else 1)) % 1 == Decimal("0.5")
    ]
    assert halves


# ----------------------------------------------------------------------------------------------
# Re-runs: idempotent, and a closed month never changes
# ----------------------------------------------------------------------------------------------


def test_rerunning_the_backfill_changes_no_byte_of_any_monthly_partition(runs: Runs):
    files = runs.first.files
    for table in MONTHLY_TABLES:
        for period in PERIODS:
            assert f"warehouse/{table}/billing_period={period}/part-0.parquet" in files
    assert runs.second.files.keys() == files.keys()
    changed = [path for path in files if runs.second.files[path] != files[path]]
    assert changed == []
    # ... although every one of them was written again.
    assert all(runs.second.inodes[path] != runs.first.inodes[path] for path in files)


def test_a_file_landing_after_august_closed_leaves_august_and_bills_september(runs: Runs):
    before, after = runs.first, runs.third
    august = {p: b for p, b in before.files.items() if "billing_period=2026-08/" in p}
    assert {p: after.files.get(p) for p in august} == august
    assert all(after.inodes[p] != runs.second.inodes[p] for p in august)  # August ran again
    assert after.invoices["2026-08"] == before.invoices["2026-08"]

    # The late events are billed in September, flagged late; the retry of an August event is not.
    late_ids = {row.event.event_id for row in runs.scenario.late_rows if row.event}
    late_file = runs.scenario.late_rows[0].source_file
    assert late_file.startswith(f"landing/events/{LATE_FILE_DAY.isoformat()}/")
    billed = {
        r["event_id"]: (r["billing_period"], r["late"])
        for r in query(
            runs.root,
            "clean_events",
            f"select event_id, billing_period, late from {{t}} where source_file = '{late_file}'",
        )
    }
    assert billed == {i: ("2026-09", True) for i in late_ids if i != "dup-same"}

    reference = runs.reference_after["2026-09"]
    assert after.invoices["2026-09"] == expected_invoices(reference)
    assert after.lines["2026-09"] == expected_lines(reference)
    assert after.period_usage["2026-09"] == reference["period_usage"]
    assert after.unbilled["2026-09"] == reference["unbilled"]
    assert after.invoices["2026-09"] != before.invoices["2026-09"]
    # The reference for August does not move either (the late events are not August's).
    assert expected_invoices(runs.reference_after["2026-08"]) == before.invoices["2026-08"]


# ----------------------------------------------------------------------------------------------
# Corrections agree with the reference, and closed months are adjusted, never re-issued
# ----------------------------------------------------------------------------------------------

CORRECTION_COLUMNS = (
    "correction_id",
    "event_id",
    "action",
    "value",
    "event_landing_date",
    "event_billing_period",
    "applied_period",
    "landing_date",
    "source_file",
    "line_number",
)


def test_event_corrections_match_the_reference(runs: Runs):
    got = query(
        runs.root,
        "event_corrections",
        f"select {', '.join(CORRECTION_COLUMNS)}, dimensions from {{t}} "
        "order by landing_date, source_file, line_number",
    )
    for row in got:
        row["landing_date"] = dt.date.fromisoformat(str(row["landing_date"]))
        dims = row.pop("dimensions")
        row["dimensions"] = None if dims is None else {d["key"]: d["value"] for d in dims}
    expected = [
        {**{k: a[k] for k in CORRECTION_COLUMNS}, "dimensions": a["dimensions"]}
        for a in runs.corrections["accepted"]
    ]
    assert got == expected


def test_quarantined_and_duplicate_corrections_and_the_audit_match_the_reference(runs: Runs):
    quarantined = {
        (r["source_file"], r["line_number"], r["reason"])
        for r in query(
            runs.root,
            "quarantined_corrections",
            "select source_file, line_number, reason from {t}",
        )
    }
    assert quarantined == runs.corrections["quarantined"]
    duplicates = {
        (
            r["correction_id"],
            r["source_file"],
            r["line_number"],
            r["first_landing_date"],
            r["conflict"],
        )
        for r in query(
            runs.root,
            "duplicate_corrections",
            "select correction_id, source_file, line_number, first_landing_date, conflict from {t}",
        )
    }
    assert duplicates == runs.corrections["duplicates"]
    audit = query(
        runs.root,
        "correction_audit",
        "select landing_date, rows_read, rows_quarantined, rows_duplicate, rows_accepted from {t}",
    )
    got = {dt.date.fromisoformat(str(r.pop("landing_date"))): r for r in audit}
    expected = runs.corrections["counts"]
    assert {day: got[day] for day in expected} == expected
    assert all(v["rows_read"] == 0 for day, v in got.items() if day not in expected)


def test_adjustments_worked_out_by_hand(runs: Runs):
    """Anchors for the reference's adjustments, read from what the pipeline wrote."""
    D = Decimal
    aug, sep = runs.first.lines["2026-08"], runs.first.lines["2026-09"]
    # india (enterprise, August only): fees 900 + 600, tokens' tier-1 flat fee 10.00 at zero use,
    # recovered 5000 × 0.2 = 1000.00: 2510.00, over the 2000 minimum. The recovery is voided on
    # 09-12: −1000.00, and the minimum now adds 2000 − 1510 = 490.00; September's document has
    # only these two lines, −510.00: a credit note.
    assert ("usage", "recovered", D("1000.00")) in amounts(aug, "india")
    assert amounts(sep, "india") == [
        ("adjustment", "recovered", D("-1000.00")),
        ("adjustment", None, D("490.00")),
    ]
    india = [i for i in runs.first.invoices["2026-09"] if i["customer_id"] == "india"]
    assert [(i["total"], i["document_type"]) for i in india] == [(D("-510.00"), "credit_note")]
    # acme's August recovery (enterprise, rate 0.2) was 80.00, amended to 120.00 while August
    # was open (billed 24.00), then to 50.00 after it closed: (50 − 120) × 0.2 = −14.00.
    assert amounts(sep, "acme", kind="adjustment") == [("adjustment", "recovered", D("-14.00"))]
    # kyoto stays on its ¥30,000 minimum: what the void takes off the tokens line, the minimum
    # gives back.
    kyoto = [
        line["amount"]
        for line in sep
        if line["customer_id"] == "kyoto" and line["kind"] == "adjustment"
    ]
    assert len(kyoto) == 2 and sum(kyoto) == 0 and kyoto[0] < 0
    # August as issued is untouched: its lines are the reference's at August's last landing day.
    assert all(line["adjusts"] is None for line in aug)


def test_the_corrections_scenario_exercises_every_case(runs: Runs):
    reasons = {r for _, _, r in runs.corrections["quarantined"]}
    assert reasons == {
        "malformed",
        "missing_field",
        "invalid_type",
        "unknown_event",
        "already_voided",
        "invalid_value",
        "negative_value",
        "missing_dimension",
    }
    assert {d[-1] for d in runs.corrections["duplicates"]} == {True, False}
    accepted = runs.corrections["accepted"]
    assert {(a["action"], a["event_billing_period"] == a["applied_period"]) for a in accepted} == {
        ("void", True),
        ("amend", True),
        ("void", False),
        ("amend", False),
    }
    sep = runs.reference["2026-09"]["lines"]
    adjusted = [line for line in sep if line["kind"] == "adjustment"]
    assert {line["adjusts"] for line in adjusted} == {"usage", "minimum_commitment"}
    assert any(line["amount"] > 0 for line in adjusted)
    assert any(line["amount"] < 0 for line in adjusted)
    # a dimension amend moves an event from one charge's filter to another's: two lines
    beta = {line["charge_id"] for line in adjusted if line["customer_id"] == "beta"}
    assert {"tokens_small", "tokens_large"} <= beta
