"""``meter-pipeline asof`` and ``reprice`` on a small closed root (SPEC §16, §17): as-of on or after
the last landing day equals the stored close value for value; an earlier as-of leaves out exactly
a late file's events; the data root is only read; the price book against itself differs nowhere;
a candidate change worked by hand; errors in one line; the report in headless Chromium."""

from __future__ import annotations

import argparse
import hashlib
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from meter_pipeline.cli import main as pipeline_main
from meter_pipeline.whatif import cli as whatif_cli
from tests.e2e.test_ui_browser import CHROMIUM_FLAGS, find_chromium
from tests.helpers import running_in_ci
from tests.helpers.audit_root import END, MONTHLY, PRICING, START, write_root

pytestmark = pytest.mark.slow


def main(argv: list[str]) -> int:
    """``meter-pipeline backfill`` through the package's CLI; ``asof`` and ``reprice`` through the
    subcommands whatif/cli.py registers on it."""
    if argv[0] == "backfill":
        return pipeline_main(argv)
    parser = argparse.ArgumentParser(prog="meter-pipeline")
    whatif_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def closed_root(tmp_path_factory) -> Path:
    root = write_root(tmp_path_factory.mktemp("whatif") / "root")
    args = ["backfill", "--root", str(root), "--start", str(START), "--end", str(END)]
    assert main(args) == 0
    return root


def table(root: Path, name: str, period: str) -> pl.DataFrame:
    return pl.read_parquet(root / f"warehouse/{name}/billing_period={period}/part-0.parquet")


@pytest.mark.parametrize(
    ("period", "as_of"),
    [("2026-09", "2026-10-03"), ("2026-10", "2026-11-03"), ("2026-10", "2027-01-01")],
)
def test_asof_on_or_after_the_last_landing_day_equals_the_stored_close(
    closed_root, tmp_path, capsys, period, as_of
):
    before = digest(closed_root)
    out = tmp_path / "asof"
    assert (
        main(
            [
                "asof",
                "--root",
                str(closed_root),
                "--period",
                period,
                "--as-of",
                as_of,
                "--out",
                str(out),
                "--diff",
            ]
        )
        == 0
    )
    assert "every invoice equals the stored close" in capsys.readouterr().out
    for name in MONTHLY:
        assert_frame_equal(table(closed_root, name, period), table(out, name, period))
    assert digest(closed_root) == before  # the data root is only read


def lineage_ids(root: Path, period: str) -> set[str]:
    return set(table(root, "invoice_line_events", period)["event_id"])


def test_asof_before_a_late_file_excludes_exactly_its_events(closed_root, tmp_path, capsys):
    """2026-10-20/d.jsonl brings a5 (October) and a6 (a late September event billed in October);
    as of 2026-10-19 October's lines list neither, and everything else stays."""
    out = tmp_path / "asof"
    args = ["asof", "--root", str(closed_root), "--period", "2026-10", "--as-of", "2026-10-19"]
    assert main([*args, "--out", str(out), "--diff"]) == 0
    assert lineage_ids(closed_root, "2026-10") - lineage_ids(out, "2026-10") == {"a5", "a6"}
    assert lineage_ids(out, "2026-10") <= lineage_ids(closed_root, "2026-10")
    printed = capsys.readouterr().out
    assert "~ usage api (growth from 2026-01-01): events 2 → 0" in printed
    assert not (out / "landing/events/2026-10-20").exists()


def test_asof_diff_names_the_changed_lines_with_money(closed_root, tmp_path, capsys):
    """September as of 2026-10-01 leaves out c.jsonl of 2026-10-02 (a4, a September call landed
    in the grace days): acme's api line 2 → 1 billable calls (0.50 → 0.25 USD), and the minimum
    commitment takes up the difference (23.25 → 23.50)."""
    out = tmp_path / "asof"
    args = ["asof", "--root", str(closed_root), "--period", "2026-09", "--as-of", "2026-10-01"]
    assert main([*args, "--out", str(out), "--diff"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "acme: total USD 400.00 stored → USD 400.00 as of (USD 0.00)" in printed
    assert (
        "  ~ usage api (growth from 2026-01-01): events 4 → 3, quantity 2 → 1, USD 0.50 → USD 0.25"
        in printed
    )
    assert "  ~ minimum_commitment (growth from 2026-01-01): USD 23.25 → USD 23.50" in printed
    assert lineage_ids(closed_root, "2026-09") - lineage_ids(out, "2026-09") == {"a4"}


def reprice(root: Path, pricing: Path, out: Path, *extra: str) -> int:
    args = ["reprice", "--root", str(root), "--pricing", str(pricing), "--start", "2026-09"]
    return main([*args, "--end", "2026-10", "--out", str(out), *extra])


def test_the_current_price_book_against_itself_differs_nowhere(closed_root, tmp_path):
    before = digest(closed_root)
    out = tmp_path / "self"
    assert reprice(closed_root, closed_root / "reference/pricing.yaml", out) == 0
    lines = pl.read_parquet(out / "warehouse/reprice_lines/*/*.parquet")
    summary = pl.read_parquet(out / "warehouse/reprice_summary/*/*.parquet")
    assert lines.height > 0 and (lines["difference"] == 0).all()
    assert summary.height == 4 and (summary["difference"] == 0).all()
    assert (summary["difference_pct"] == 0).all()
    assert summary["current_subtotal"].dtype == pl.Decimal(38, 4)
    assert digest(closed_root) == before


CANDIDATE = PRICING.replace(
    '{id: api, meter: api_calls, model: per_unit, unit_price: "0.25", free_units: "2"}',
    '{id: api, meter: api_calls, model: per_unit, unit_price: "1.00"}',
).replace('minimum_commitment: "400.00"', 'minimum_commitment: "300.00"')


def test_a_candidate_worked_by_hand(closed_root, tmp_path):
    """September, acme: 4 billed calls (a1, a2, a3 on the 2nd, a4 landed on 2 October; a1's
    re-send is a duplicate). Current: 0.25 each after 2 free = 0.50, and the 400.00 minimum tops
    the invoice up to 400.00. Candidate: 1.00 each = 4.00, minimum 300.00 already met by the fee:
    300.00 + 4.00 + 1.25 (tokens) + 75.00 (seats) = 380.25; −19.75 = −4.9375 %."""
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(CANDIDATE)
    out = tmp_path / "cand"
    assert reprice(closed_root, candidate, out) == 0
    summary = pl.read_parquet(out / "warehouse/reprice_summary/billing_period=2026-09/*.parquet")
    acme = summary.filter(pl.col("customer_id") == "acme").row(0, named=True)
    assert acme["current_subtotal"] == Decimal("400.00")
    assert acme["candidate_subtotal"] == Decimal("380.25")
    assert acme["difference"] == Decimal("-19.75")
    assert acme["difference_pct"] == Decimal("-4.9375")
    assert (out / "reprice_report.html").exists()


def test_candidate_errors_are_one_line(closed_root, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(PRICING.replace("rounding: half_up", "rounding: sideways"))
    assert reprice(closed_root, bad, tmp_path / "o1") == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {bad}: rounding: must be one of half_up, half_even, got 'sideways'"
    eur = tmp_path / "eur.yaml"
    eur.write_text(PRICING.replace("id: growth", "id: euro").replace("USD", "EUR"))
    assert reprice(closed_root, eur, tmp_path / "o2", "--plan-map", "growth=euro") == 2
    assert "bills in USD but 'euro' in EUR" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_reprice_report_renders_offline_in_chromium(closed_root, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        if running_in_ci():
            pytest.fail("Chromium is required in CI")
        pytest.skip("no Chromium")
    from playwright.sync_api import sync_playwright

    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(CANDIDATE)
    out = tmp_path / "cand"
    assert reprice(closed_root, candidate, out) == 0
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto((out / "reprice_report.html").as_uri())
            for period in ("2026-09", "2026-10"):
                section = page.locator(f"#period-{period}")
                assert section.locator("svg rect.bar.current").count() == 1  # one plan
                assert section.locator("svg rect.bar.candidate").count() == 1
                height = section.locator("svg rect.bar.current").bounding_box()["height"]
                assert height > 0
            largest = page.locator("#period-2026-09 table").first
            assert "acme" in largest.inner_text() and "USD -19.75" in largest.inner_text()
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith("file:")] == []


def test_both_as_dagster_jobs_writing_to_the_separate_root(closed_root, tmp_path):
    from meter_pipeline.whatif.jobs import asof_job, reprice_job

    before = digest(closed_root)
    asof = asof_job.execute_in_process(
        run_config={
            "ops": {
                "asof_close": {
                    "config": {
                        "root": str(closed_root),
                        "period": "2026-10",
                        "as_of": "2026-11-03",
                        "out": str(tmp_path / "asof"),
                    }
                }
            }
        }
    )
    assert asof.success
    assert_frame_equal(
        table(closed_root, "invoices", "2026-10"), table(tmp_path / "asof", "invoices", "2026-10")
    )
    config = {
        "root": str(closed_root),
        "pricing": str(closed_root / "reference/pricing.yaml"),
        "start": "2026-09",
        "end": "2026-10",
        "out": str(tmp_path / "reprice"),
    }
    run = reprice_job.execute_in_process(run_config={"ops": {"reprice_months": {"config": config}}})
    assert run.success
    summary = pl.read_parquet(tmp_path / "reprice/warehouse/reprice_summary/*/*.parquet")
    assert (summary["difference"] == 0).all()
    assert digest(closed_root) == before
