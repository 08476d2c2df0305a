"""The audit trail end to end (SPEC §14): a small root backfilled through the CLI, its lineage,
trace and close manifests read back, re-closed byte for byte, then ``meter-pipeline verify`` on
the untouched root (exit 0) and on copies tampered with on purpose (exit 1, each difference on
its own line)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meter_pipeline.cli import main
from tests.e2e.test_ui_browser import CHROMIUM_FLAGS, find_chromium
from tests.helpers import running_in_ci
from tests.helpers.audit_root import END, MONTHLY, START, write_root

pytestmark = pytest.mark.slow


def backfill(root: Path) -> None:
    args = ["backfill", "--root", str(root), "--start", str(START), "--end", str(END)]
    assert main(args) == 0


def snapshot(root: Path) -> dict[str, bytes]:
    """Every monthly partition file and manifest, by path."""
    warehouse = root / "warehouse"
    files = [p for t in MONTHLY for p in (warehouse / t).rglob("*.parquet")]
    files += list((warehouse / "_manifests").rglob("manifest.json"))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def closed_root(tmp_path_factory) -> Path:
    root = write_root(tmp_path_factory.mktemp("audit") / "root")
    backfill(root)
    return root


@pytest.fixture
def copy(closed_root: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(closed_root, tmp_path / "root"))


def sql(root: Path, table: str, query: str) -> list[tuple]:
    source = f"read_parquet('{root}/warehouse/{table}/*/*.parquet', hive_partitioning=true)"
    return duckdb.sql(query.format(t=source)).fetchall()


def manifest(root: Path, period: str) -> tuple[dict, bytes]:
    data = (
        root / "warehouse" / "_manifests" / f"billing_period={period}" / "manifest.json"
    ).read_bytes()
    return json.loads(data), data


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_lineage_and_trace_of_september_by_hand(closed_root):
    # September: api a1 a2 a3 a4 (a4 landed on 10-02, in grace), b1 (beta); tokens t1 (large,
    # priced) and t2 (small: not priced); seats s1 s2; storage g1 (no charge: not priced);
    # x1 of a customer without subscription (unbilled); the re-sent a1 is a duplicate.
    listed = sql(
        closed_root,
        "invoice_line_events",
        "select invoice_id, line_no, list(event_id order by event_id) from {t} "
        "where billing_period = '2026-09' group by all order by all",
    )
    assert listed == [
        ("2026-09-acme", 2, ["a1", "a2", "a3", "a4"]),
        ("2026-09-acme", 3, ["t1"]),
        ("2026-09-acme", 4, ["s1", "s2"]),
        ("2026-09-beta", 2, ["b1"]),
    ]
    lines = sql(
        closed_root,
        "invoice_lines",
        "select invoice_id, line_no, event_count, events_sha256 from {t} "
        "where billing_period = '2026-09' and kind = 'usage' order by all",
    )
    expected = {("2026-09-acme", 2): "a1\na2\na3\na4\n", ("2026-09-acme", 3): "t1\n"}
    expected |= {("2026-09-acme", 4): "s1\ns2\n", ("2026-09-beta", 2): "b1\n"}
    for invoice, line, count, digest in lines:
        text = expected.get((invoice, line), "")
        assert (count, digest) == (text.count("\n"), sha(text.encode())), (invoice, line)
    trace = sql(
        closed_root, "period_trace", "select * exclude (billing_period) from {t} order by all"
    )
    assert trace == [(3, 3, 0, 0), (11, 8, 1, 2)]  # October: b2, a5 and the late a6


def test_manifests_list_inputs_outputs_and_chain(closed_root):
    september, september_bytes = manifest(closed_root, "2026-09")
    october, _ = manifest(closed_root, "2026-10")
    inputs = {e["path"]: e for e in september["inputs"]}
    assert set(inputs) == {
        "landing/events/2026-09-02/a.jsonl",
        "landing/events/2026-09-15/b.jsonl",
        "landing/events/2026-10-02/c.jsonl",
        "landing/monitoring/2026-09-05/probes.csv",
        *(f"reference/{n}" for n in ("customers.csv", "excused_downtime.csv", "maintenance.csv")),
        *(f"reference/{n}" for n in ("meters.yaml", "pricing.yaml", "sla.yaml")),
    }
    for path, entry in inputs.items():
        data = (closed_root / path).read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(data), sha(data))
    outputs = {e["path"]: e for e in september["outputs"]}
    assert set(outputs) == {f"warehouse/{t}/billing_period=2026-09/part-0.parquet" for t in MONTHLY}
    for path, entry in outputs.items():
        assert entry["rows"] == pq.read_metadata(closed_root / path).num_rows
        assert entry["sha256"] == sha((closed_root / path).read_bytes())
    assert september["previous_manifest_sha256"] is None  # August never closed
    assert october["previous_period"] == "2026-09"
    assert october["previous_manifest_sha256"] == sha(september_bytes)
    assert "landing/events/2026-10-20/d.jsonl" in {e["path"] for e in october["inputs"]}
    # no wall-clock anywhere: these are all the keys
    assert set(september) == {
        "format",
        "billing_period",
        "product",
        "version",
        "previous_period",
        "previous_manifest_sha256",
        "inputs",
        "outputs",
    }


def test_reclosing_from_the_same_inputs_writes_the_same_bytes(copy):
    before = snapshot(copy)
    backfill(copy)
    assert snapshot(copy) == before


def verify(root: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    code = main(["verify", "--root", str(root), *extra])
    out = capsys.readouterr().out.splitlines()
    return code, out


def test_verify_passes_on_the_untouched_root(closed_root, capsys):
    code, out = verify(closed_root, capsys)
    assert code == 0, out
    assert out[-1].startswith("verify 2026-09, 2026-10: OK")


def test_a_changed_landing_file_is_reported(copy, capsys):
    path = copy / "landing/events/2026-09-15/b.jsonl"
    extra = json.dumps(
        {
            "event_id": "z9",
            "customer_id": "beta",
            "meter": "api_calls",
            "timestamp": "2026-09-15T11:00:00Z",
        }
    )
    extra += "\n"
    path.write_text(path.read_text() + extra)
    code, out = verify(copy, capsys, "--period", "2026-09")
    assert code == 1
    assert any(
        line.startswith("files: 2026-09: file changed: landing/events/2026-09-15/b.jsonl")
        for line in out
    )
    # beta's api line now has 2 events in the recompute
    assert any(
        "invoice_lines invoice_id=2026-09-beta line_no=2: event_count stored 1, recomputed 2"
        in line
        for line in out
    )


def _rewrite(path: Path, change) -> None:
    table = pq.read_table(path)
    pq.write_table(change(table), path)


def test_an_edited_invoice_amount_is_reported(copy, capsys):
    path = copy / "warehouse/invoices/billing_period=2026-09/part-0.parquet"
    stored = pq.read_table(path).to_pylist()

    def change(table: pa.Table) -> pa.Table:
        totals = table.column("total").to_pylist()
        totals[0] = totals[0] + 1
        index = table.schema.get_field_index("total")
        return table.set_column(index, "total", pa.array(totals, table.schema.field("total").type))

    _rewrite(path, change)
    code, out = verify(copy, capsys)
    assert code == 1
    first = stored[0]
    assert (
        "files: 2026-09: file changed: warehouse/invoices/billing_period=2026-09/part-0.parquet"
        in " ".join(out)
    )
    assert (
        f"recompute: 2026-09: invoices invoice_id={first['invoice_id']}: total stored "
        f"{first['total'] + 1}, recomputed {first['total']}"
    ) in out


def test_a_deleted_lineage_row_is_reported(copy, capsys):
    path = copy / "warehouse/invoice_line_events/billing_period=2026-09/part-0.parquet"
    table = pq.read_table(path)
    gone = table.slice(0, 1).to_pylist()[0]
    _rewrite(path, lambda t: t.slice(1))
    code, out = verify(copy, capsys)
    assert code == 1
    assert any(
        line.startswith("files: 2026-09: file changed: warehouse/invoice_line_events/")
        for line in out
    )
    label = (
        f"conservation: 2026-09: invoice_line_events {gone['invoice_id']} line {gone['line_no']}"
    )
    assert any(line.startswith(f"{label}: count broken") for line in out)
    assert (
        "recompute: 2026-09: invoice_line_events: 1 recomputed rows missing from the stored table"
        in out
    )


def test_a_manifest_of_the_wrong_month_in_the_chain_is_reported(copy, capsys):
    folder = copy / "warehouse/_manifests"
    shutil.copy(
        folder / "billing_period=2026-09/manifest.json",
        folder / "billing_period=2026-10/manifest.json",
    )
    code, out = verify(copy, capsys)
    assert code == 1
    assert (
        "chain: 2026-10: manifest of the wrong month: billing_period=2026-10 holds the manifest "
        "of '2026-09'"
    ) in out
    assert any(line.startswith("chain: 2026-10: chain broken") for line in out)


def test_verify_html_evidence_page_in_chromium(copy, tmp_path, capsys):
    chromium = find_chromium()
    if chromium is None:
        if running_in_ci():
            pytest.fail("Chromium is required in CI")
        pytest.skip("no Chromium")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "evidence.html"
    (copy / "landing/events/2026-10-20/d.jsonl").write_text("changed\n")
    code, out = verify(copy, capsys, "--html", str(page_file))
    assert code == 1
    differences = [
        x for x in out if x.split(":")[0] in ("files", "chain", "recompute", "conservation")
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            assert page.locator("#verdict").inner_text() == "FAIL"
            rows = page.locator("tr.difference")
            assert rows.count() == len(differences)
            texts = [rows.nth(i).inner_text() for i in range(rows.count())]
            assert any("file changed: landing/events/2026-10-20/d.jsonl" in t for t in texts)
            status = page.locator('#checks tr[data-section="files"] td').nth(2).inner_text()
            assert status == "FAIL"
            page.screenshot(path=str(tmp_path / "evidence.png"))
        finally:
            browser.close()
