"""The finance tools on the demo's warehouse, as a finance analyst runs them:
``meter-pipeline query`` (printed, --csv, --parquet), ``invoices`` (HTML, PDF, the ledger CSVs)
and ``report``; one invoice and the report opened in headless Chromium, the numbers on the page
compared with the tables, read independently with pyarrow; no request leaves the page."""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from meter_pipeline.cli import main
from tests.e2e.test_ui_browser import CHROMIUM_FLAGS, chromium  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("finance") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        assert main(["demo", "--root", str(root)]) == 0
    return root


def rows(root: Path, table: str, period: str = PERIOD) -> list[dict]:
    return pq.read_table(root / "warehouse" / table / f"billing_period={period}").to_pylist()


def by_hand(amount: Decimal, currency: str) -> str:
    """The expected text of an amount: code, grouped digits, the minor unit's decimals."""
    digits = {"USD": 2, "JPY": 0}[currency]
    return f"{currency} {amount:,.{digits}f}"


def test_query_prints_and_writes_exact_results(demo_root, tmp_path, capsys):
    sql = "select customer_id, total from invoices where billing_period = '2026-10' order by 1"
    assert main(["query", "--root", str(demo_root), sql]) == 0
    printed = capsys.readouterr().out
    expected = sorted((r["customer_id"], r["total"]) for r in rows(demo_root, "invoices"))
    assert f"({len(expected)} rows)" in printed
    for customer, total in expected:
        assert any(line.split() == [customer, str(total)] for line in printed.splitlines())
    out = tmp_path / "q.csv"
    assert main(["query", "--root", str(demo_root), sql, "--csv", str(out)]) == 0
    with out.open() as f:
        assert [(r["customer_id"], Decimal(r["total"])) for r in csv.DictReader(f)] == expected
    parquet = tmp_path / "q.parquet"
    assert main(["query", "--root", str(demo_root), sql, "--parquet", str(parquet)]) == 0
    assert [(r["customer_id"], r["total"]) for r in pq.read_table(parquet).to_pylist()] == expected
    assert main(["query", "--root", str(demo_root), "select * from invoicez"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("query error:") and "invoices" in err


def open_page(chromium_path: str, url: str, shot: Path):
    """(page texts by selector → function) through a real browser; records any non-file request."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    return pw, browser, page, requests


def shots_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("METER_PIPELINE_TEST_OUTPUT", tmp_path)) / "screenshots"


def test_an_invoice_document_in_chromium_shows_the_tables_numbers(
    demo_root,
    tmp_path,
    chromium,  # noqa: F811
):
    out = tmp_path / "invoices"
    assert main(["invoices", "--root", str(demo_root), "--period", PERIOD, "--out", str(out)]) == 0
    invoices = {r["invoice_id"]: r for r in rows(demo_root, "invoices")}
    assert {p.stem for p in out.glob("*.html")} == set(invoices)
    assert {p.stem for p in out.glob("*.pdf")} == set(invoices)
    assert all(p.read_bytes().startswith(b"%PDF") for p in out.glob("*.pdf"))
    with (out / "invoice_lines.csv").open() as f:
        ledger = list(csv.DictReader(f))
    assert sum(Decimal(r["amount"]) for r in ledger) == sum(i["total"] for i in invoices.values())
    # an invoice with a credit earned in September
    lines = [r for r in rows(demo_root, "invoice_lines") if r["invoice_id"] == "2026-10-cust_003"]
    assert any(r["kind"] == "sla_credit" and r["earned_period"] == "2026-09" for r in lines)
    invoice = invoices["2026-10-cust_003"]
    url = (out / "2026-10-cust_003.html").as_uri()
    pw, browser, page, requests = open_page(chromium, url, shots_dir(tmp_path) / "invoice.png")
    try:
        shown = page.locator("tr[data-line]").evaluate_all(
            "rows => rows.map(r => [r.dataset.line, r.cells[1].innerText, r.cells[5].innerText])"
        )
        total = page.locator("[data-total]").inner_text()
    finally:
        browser.close()
        pw.stop()
    cur = invoice["currency"]
    assert [(int(n), amount) for n, _, amount in shown] == [
        (r["line_no"], by_hand(r["amount"], cur)) for r in sorted(lines, key=lambda r: r["line_no"])
    ]
    assert any("SLA credit" in text and "earned 2026-09" in text for _, text, _ in shown)
    assert total == by_hand(invoice["total"], cur)
    assert all(u.startswith("file:") for u in requests)


def test_the_usage_report_in_chromium_shows_the_tables_numbers(
    demo_root,
    tmp_path,
    chromium,  # noqa: F811
):
    out = tmp_path / "report"
    assert main(["report", "--root", str(demo_root), "--period", PERIOD, "--out", str(out)]) == 0
    page_file = out / f"report-{PERIOD}.html"
    first = page_file.read_bytes()
    assert main(["report", "--root", str(demo_root), "--period", PERIOD, "--out", str(out)]) == 0
    assert page_file.read_bytes() == first  # same warehouse, same bytes
    pw, browser, page, requests = open_page(
        chromium, page_file.as_uri(), shots_dir(tmp_path) / "report.png"
    )
    try:
        revenue = {
            cur: page.locator(f"#revenue-{cur} td").all_inner_texts() for cur in ("USD", "JPY")
        }
        charts = page.locator("svg.pygal-chart").count()
        quality = page.locator("#quality-totals").inner_text()
        sections = page.locator("section h2").all_inner_texts()
    finally:
        browser.close()
        pw.stop()
    sums: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
    for r in rows(demo_root, "invoices"):
        for k in ("subtotal", "credits", "total"):
            sums[r["currency"]][k] += r[k]
        sums[r["currency"]]["n"] += 1
    for cur, cells in revenue.items():
        s = sums[cur]
        assert cells == [cur, str(s["n"])] + [
            by_hand(s[k], cur) for k in ("subtotal", "credits", "total")
        ]
    assert revenue["USD"][-1] == "USD 42,956.73"  # the README's figure for October
    audit = pq.read_table(demo_root / "warehouse" / "ingestion_audit").to_pylist()
    october = [a for a in audit if str(a["landing_date"]).startswith(PERIOD)]
    assert quality.startswith(f"{sum(a['rows_read'] for a in october):,} rows read")
    assert f"{sum(a['rows_quarantined'] for a in october):,} quarantined" in quality
    assert charts >= 4 and len(sections) == 6
    assert all(u.startswith("file:") for u in requests)


def test_finance_commands_explain_a_month_not_closed(demo_root, tmp_path, capsys):
    args = ["--root", str(demo_root), "--period", "2027-01", "--out", str(tmp_path)]
    assert main(["invoices", *args]) == 2
    err = capsys.readouterr().err
    assert "2027-01 has no invoices" in err and "months closed: 2026-08, 2026-09, 2026-10" in err
    assert main(["report", *args]) == 2
