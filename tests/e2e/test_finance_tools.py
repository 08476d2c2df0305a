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
from tests.helpers import copy_demo

pytestmark = pytest.mark.slow
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def demo_root(demo_folder, tmp_path_factory) -> Path:
    return copy_demo(demo_folder, tmp_path_factory.mktemp("finance") / "demo")


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


def shown_lines(chromium_path: str, page_file: Path, shot: Path) -> tuple[str, list, str, str]:
    """(heading, [(line_no, description, amount)], total label, total) as Chromium shows them."""
    pw, browser, page, requests = open_page(chromium_path, page_file.as_uri(), shot)
    try:
        heading = page.locator("h1").inner_text()
        shown = page.locator("tr[data-line]").evaluate_all(
            "rows => rows.map(r => [Number(r.dataset.line), r.cells[1].innerText, "
            "r.cells[5].innerText])"
        )
        total = page.locator("[data-total]")
        label = total.evaluate("cell => cell.previousElementSibling.innerText")
        text = total.inner_text()
    finally:
        browser.close()
        pw.stop()
    assert all(u.startswith("file:") for u in requests)
    return heading, [tuple(x) for x in shown], label, text


def test_an_adjustment_line_in_chromium_names_what_it_adjusts_and_the_month(
    demo_root,
    tmp_path,
    chromium,  # noqa: F811
):
    """The demo amends a September recovery of cust_022 on 20 October, after September closed:
    255.00 → 155.00 recovered at 25 % is −25.00, on cust_022's October invoice."""
    out = tmp_path / "invoices"
    args = ["invoices", "--root", str(demo_root), "--period", PERIOD, "--out", str(out), "--no-pdf"]
    assert main(args) == 0
    lines = sorted(
        (r for r in rows(demo_root, "invoice_lines") if r["invoice_id"] == "2026-10-cust_022"),
        key=lambda r: r["line_no"],
    )
    (invoice,) = [r for r in rows(demo_root, "invoices") if r["invoice_id"] == "2026-10-cust_022"]
    heading, shown, label, total = shown_lines(
        chromium, out / "2026-10-cust_022.html", shots_dir(tmp_path) / "adjustment.png"
    )
    assert heading == "Invoice 2026-10-cust_022"
    assert [(n, amount) for n, _, amount in shown] == [
        (r["line_no"], by_hand(r["amount"], "USD")) for r in lines
    ]
    assert shown[-1] == (5, "Adjustment — chargeback_recovery, September 2026", "USD -25.00")
    assert (label, total) == ("Total due", by_hand(invoice["total"], "USD"))
    assert invoice["total"] == sum(r["amount"] for r in lines)


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
        applied, adjusted = (
            page.locator(f"#corrections table:nth-of-type({n}) tbody tr").evaluate_all(
                "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
            )
            for n in (1, 2)
        )
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
    # the demo summary's October figure, after its two corrections (−25.00 adjustment, −39.00)
    assert revenue["USD"][-1] == "USD 42,892.73"
    audit = pq.read_table(demo_root / "warehouse" / "ingestion_audit").to_pylist()
    october = [a for a in audit if str(a["landing_date"]).startswith(PERIOD)]
    assert quality.startswith(f"{sum(a['rows_read'] for a in october):,} rows read")
    assert f"{sum(a['rows_quarantined'] for a in october):,} quarantined" in quality
    assert charts >= 4 and len(sections) == 7
    assert all(u.startswith("file:") for u in requests)
    # the corrections section: the demo's two corrections of October and its adjustment line
    assert applied == [
        ["2026-10-20", "corr-0001", "evt-20260907-00048", "amend", "155", "2026-09"],
        ["2026-10-22", "corr-0002", "evt-20261016-00037", "void", "", "2026-10"],
    ]
    adjustments = [r for r in rows(demo_root, "invoice_lines") if r["kind"] == "adjustment"]
    assert adjusted == [
        [
            r["invoice_id"],
            r["customer_id"],
            f"Adjustment — {r['charge_id']}, September 2026",
            by_hand(r["amount"], "USD"),
        ]
        for r in adjustments
    ]
    assert adjusted[0][-1] == "USD -25.00"  # 100.00 of recovered funds less, at 25 %


def test_finance_commands_explain_a_month_not_closed(demo_root, tmp_path, capsys):
    args = ["--root", str(demo_root), "--period", "2027-01", "--out", str(tmp_path)]
    assert main(["invoices", *args]) == 2
    err = capsys.readouterr().err
    assert "2027-01 has no invoices" in err and "months closed: 2026-08, 2026-09, 2026-10" in err
    assert main(["report", *args]) == 2


#: A customer on the audit root's plan for September only; its seats (latest, 12.50 each) are
#: amended from 10 to 2 on 10 October, after September closed.
GAMMA_EVENTS = (
    '{"event_id": "g-seats", "customer_id": "gamma", "meter": "seats", '
    '"timestamp": "2026-09-12T10:00:00Z", "value": "10"}\n'
)
GAMMA_CORRECTION = (
    '{"correction_id": "g-c1", "event_id": "g-seats", "action": "amend", "value": "2"}\n'
)


@pytest.fixture(scope="module")
def credit_note_root(tmp_path_factory) -> Path:
    from tests.helpers.audit_root import END, START, write_corrections, write_root

    root = write_corrections(write_root(tmp_path_factory.mktemp("credit") / "root"))
    with (root / "reference" / "customers.csv").open("a") as f:
        f.write("gamma,Gamma,growth,2026-09-01,2026-09-30\n")
    (root / "landing/events/2026-09-12").mkdir(parents=True)
    (root / "landing/events/2026-09-12/g.jsonl").write_text(GAMMA_EVENTS)
    (root / "landing/corrections/2026-10-10/g.jsonl").write_text(GAMMA_CORRECTION)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        args = ["backfill", "--root", str(root), "--start", str(START), "--end", str(END)]
        assert main(args) == 0
    return root


def test_a_credit_note_in_chromium(
    credit_note_root,
    tmp_path,
    chromium,  # noqa: F811
):
    """gamma's September: fee 300.00 + 10 seats × 12.50 = 425.00, over the 400.00 minimum.
    Amended to 2 seats: 25.00, so seats −100.00, and the minimum now adds 400 − 325 = +75.00.
    gamma has no subscription in October: its October document holds only these two
    adjustments, −25.00 in all, a credit note."""
    root = credit_note_root
    out = tmp_path / "invoices"
    assert main(["invoices", "--root", str(root), "--period", PERIOD, "--out", str(out)]) == 0
    (invoice,) = [r for r in rows(root, "invoices") if r["invoice_id"] == "2026-10-gamma"]
    assert (invoice["total"], invoice["document_type"]) == (Decimal("-25.00"), "credit_note")
    lines = sorted(
        (r for r in rows(root, "invoice_lines") if r["invoice_id"] == "2026-10-gamma"),
        key=lambda r: r["line_no"],
    )
    heading, shown, label, total = shown_lines(
        chromium, out / "2026-10-gamma.html", shots_dir(tmp_path) / "credit-note.png"
    )
    assert heading == "Credit note 2026-10-gamma"
    assert shown == [
        (1, "Adjustment — seats, September 2026", "USD -100.00"),
        (2, "Adjustment — minimum commitment, September 2026", "USD 75.00"),
    ]
    assert [(r["line_no"], r["amount"]) for r in lines] == [
        (1, Decimal("-100.00")),
        (2, Decimal("75.00")),
    ]
    assert (label, total) == ("Total credited", "USD -25.00")
    assert (out / "2026-10-gamma.pdf").read_bytes().startswith(b"%PDF")
    with (out / "invoices.csv").open() as f:
        ledger = {r["invoice_id"]: r for r in csv.DictReader(f)}
    assert ledger["2026-10-gamma"]["document_type"] == "credit_note"
