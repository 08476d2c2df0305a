"""`meter-pipeline demo` from the command line, and the outcome-based amounts a person can check
by hand from the demo's own events (README "The demo price book" works one out)."""

import datetime as dt
import gzip
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
KNOWN_METERS = {
    "api_calls",
    "llm_tokens",
    "storage_gb",
    "seats",
    "active_users",
    "agent_conversations",
    "bot_tickets",
    "recovered_amount",
    "chargebacks_prevented",
    "screened_value",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "data"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "meter-pipeline"), "demo", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},  # .dagster/ by the root
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, proc.stdout


def billed_events(root: Path, period: str) -> list[dict]:
    """Independently: first copy of each event id in arrival order (CloudEvents lines read by
    their own names), the demo's simple validity rules, and SPEC §5's billing period (grace 3
    days, next open period for late events)."""
    seen, events = set(), []
    for folder in sorted((root / "landing" / "events").iterdir()):
        landing = dt.date.fromisoformat(folder.name)
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            text = (gzip.decompress(data) if path.name.endswith(".gz") else data).decode()
            for line in text.splitlines():
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "specversion" in event:  # the CloudEvents day: the same fields, other names
                    data = dict(event.get("data") or {})
                    event = {
                        "event_id": event["id"],
                        "customer_id": event["subject"],
                        "meter": event["type"],
                        "timestamp": event["time"],
                        **({"value": data.pop("value")} if "value" in data else {}),
                        "dimensions": data,
                    }
                if (
                    not all(k in event for k in ("event_id", "customer_id", "meter", "timestamp"))
                    or event["meter"] not in KNOWN_METERS
                ):
                    continue
                if event["event_id"] in seen:
                    continue
                seen.add(event["event_id"])
                day = dt.date.fromisoformat(event["timestamp"][:10])
                month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(
                    day=1
                ) - dt.timedelta(days=1)
                bills = (
                    f"{day:%Y-%m}"
                    if landing <= month_end + dt.timedelta(days=3)
                    else f"{landing - dt.timedelta(days=3):%Y-%m}"
                )
                if bills == period:
                    events.append(event)
    return events


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_demo_prints_the_summary_with_invoices_uptime_and_credits(demo):
    root, out = demo
    for heading in (
        "== meter-pipeline demo ==",
        "Invoices",
        "Uptime",
        "SLA credits granted",
        "Credit ledger",
        "meter-pipeline query",
    ):
        assert heading in out
    assert "2026-09  cloud_meter" in out and "NO" in out  # the September outage
    # one money format: the currency's minor unit (JPY has none), grouped digits
    assert "2026-08      30 invoices: JPY 75,695, USD 42,180.87" in out
    assert "customers  USD 347.69" in out and " 1 customer  JPY 4,500" in out
    assert not re.search(r"(USD|JPY) -?[\d,]+\.\d{3}", out)  # no money at 4 decimals
    # what became of September's credits: 317.69 applied in October, 30.00 forfeited
    assert "2026-09          USD 0.00       USD 30.00      USD 317.69" in out
    assert "2026-10        USD 317.69        USD 0.00        USD 0.00" in out
    # the two corrections: an amend of closed September, a void in open October
    assert "Corrections: 2 read, 2 accepted (1 amend, 1 void), 0 duplicate, 0 quarantined" in out
    assert "Adjustment lines on 2026-10 invoices: 1 line, USD -25.00" in out
    assert "2026-10     28       USD 43,210.42       USD -317.69     USD 42,892.73" in out
    # the runs are in the instance beside the root, and the CLI says how to open the UI on it
    assert f"DAGSTER_HOME={root.parent / '.dagster'} " in out and "dagster dev" in out


def test_outcome_based_invoices_match_a_count_by_hand(demo):
    root, _ = demo
    events = billed_events(root, "2026-09")
    agent = [e for e in events if e["customer_id"] == "cust_015"]
    conversations = len(
        {e["dimensions"]["conversation_id"] for e in agent if e["meter"] == "agent_conversations"}
    )
    resolved = sum(
        1 for e in agent if e["meter"] == "bot_tickets" and e["dimensions"]["outcome"] == "resolved"
    )
    risk = [e for e in events if e["customer_id"] == "cust_021"]
    recovered = sum(Decimal(e["value"]) for e in risk if e["meter"] == "recovered_amount")
    prevented = sum(1 for e in risk if e["meter"] == "chargebacks_prevented")
    approved = sum(
        Decimal(e["value"])
        for e in risk
        if e["meter"] == "screened_value" and e["dimensions"]["decision"] == "approved"
    )
    expected = {
        ("cust_015", "conversations"): cents(conversations * Decimal("2.00")),
        ("cust_015", "resolutions"): cents(resolved * Decimal("0.99")),
        ("cust_021", "chargeback_recovery"): cents(recovered * Decimal("0.25")),
        ("cust_021", "chargebacks_prevented"): cents(prevented * Decimal("39.00")),
        ("cust_021", "fraud_screening"): cents(approved * Decimal("0.004")),
    }
    lines = duckdb.sql(
        f"select customer_id, charge_id, amount from read_parquet("
        f"'{root}/warehouse/invoice_lines/*/*.parquet', hive_partitioning=true) where "
        "billing_period = '2026-09' and kind = 'usage' and customer_id in "
        "('cust_015', 'cust_021')"
    ).fetchall()
    assert {(c, charge): amount for c, charge, amount in lines} == expected
    totals = dict(
        duckdb.sql(
            f"select customer_id, total from read_parquet('{root}/warehouse/invoices/*/*.parquet', "
            "hive_partitioning=true) where billing_period = '2026-09' and customer_id in "
            "('cust_015', 'cust_021')"
        ).fetchall()
    )
    by_customer = defaultdict(Decimal)
    for (customer, _), amount in expected.items():
        by_customer[customer] += amount
    assert totals == {
        "cust_015": by_customer["cust_015"] + Decimal("99.00"),
        "cust_021": by_customer["cust_021"] + Decimal("150.00"),
    }
    readme = (REPO / "README.md").read_text()
    for total in totals.values():  # the README's worked example shows these very amounts
        assert f"{total:,.2f}" in readme


def corrections(root: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted((root / "landing" / "corrections").glob("*/*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_the_demo_corrections_by_hand(demo):
    """corr-0001 (20 October) amends a September recovery of cust_022 after September closed:
    its chargeback_recovery line is recomputed with the new value and the difference is an
    adjustment on the October invoice. corr-0002 (22 October) voids one of cust_023's October
    prevented chargebacks while October is open: the October line bills one fewer."""
    root, _ = demo
    amend, void = corrections(root)
    assert (amend["action"], void["action"]) == ("amend", "void")
    september = [e for e in billed_events(root, "2026-09") if e["customer_id"] == "cust_022"]
    recovered = [e for e in september if e["meter"] == "recovered_amount"]
    (amended,) = [e for e in recovered if e["event_id"] == amend["event_id"]]
    before = sum(Decimal(e["value"]) for e in recovered)
    after = before - Decimal(amended["value"]) + Decimal(amend["value"])
    adjustment = cents(after * Decimal("0.25")) - cents(before * Decimal("0.25"))
    assert adjustment == Decimal("-25.00")
    october = [e for e in billed_events(root, "2026-10") if e["customer_id"] == "cust_023"]
    prevented = {e["event_id"] for e in october if e["meter"] == "chargebacks_prevented"}
    assert void["event_id"] in prevented
    lines = duckdb.sql(
        f"select invoice_id, kind, charge_id, earned_period, amount from read_parquet("
        f"'{root}/warehouse/invoice_lines/*/*.parquet', hive_partitioning=true) where "
        "(invoice_id = '2026-09-cust_022' and charge_id = 'chargeback_recovery') or "
        "(invoice_id = '2026-10-cust_022' and kind = 'adjustment') or "
        "(invoice_id = '2026-10-cust_023' and charge_id = 'chargebacks_prevented') order by all"
    ).fetchall()
    assert lines == [
        ("2026-09-cust_022", "usage", "chargeback_recovery", None, cents(before / 4)),
        ("2026-10-cust_022", "adjustment", "chargeback_recovery", "2026-09", adjustment),
        ("2026-10-cust_023", "usage", "chargebacks_prevented", None, 39 * (len(prevented) - 1)),
    ]


def test_rerunning_the_demo_changes_no_table(demo, tmp_path):
    root, _ = demo
    before = {p: p.read_bytes() for p in (root / "warehouse").rglob("*.parquet")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "meter-pipeline"), "demo", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0
    after = {p: p.read_bytes() for p in (root / "warehouse").rglob("*.parquet")}
    assert after == before
