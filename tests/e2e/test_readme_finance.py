"""The README's finance section, as written: every ``sh`` and ``python`` block between
"## For finance" and "### Lineage" is extracted and run in a folder whose ``data`` is the demo
root (what the README's demo command leaves), with ``.venv/bin/`` meaning this interpreter's
bin folder. Each must exit 0, and the files they say they write must be there; a block followed
by a ``text`` block (the corrections queries) must print exactly that text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.readme import demo_workdir, run_block

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def finance_part() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text[text.index("## For finance") : text.index("### Lineage")]


def finance_blocks() -> list[tuple[str, str]]:
    return re.findall(r"```(sh|python)\n(.*?)```", finance_part(), flags=re.S)


def shown_outputs() -> dict[str, str]:
    """sh block → the text block right after it (its output as the README shows it)."""
    pairs = re.findall(r"```sh\n((?:(?!```).)*)```\s*```text\n(.*?)```", finance_part(), flags=re.S)
    return dict(pairs)


def test_the_finance_section_has_the_commands_it_promises():
    blocks = finance_blocks()
    code = "".join(body for _, body in blocks)
    for needle in (
        "meter-pipeline query",
        "meter-pipeline invoices",
        "meter-pipeline report",
        "import duckdb",
        "import polars",
        "import pandas",
        "'.[pandas]'",
        "from event_corrections",
        "kind = 'adjustment'",
    ):
        assert needle in code
    assert "duckdb -c" not in code  # no DuckDB CLI is installed


@pytest.fixture(scope="module")
def workdir(demo_folder, tmp_path_factory) -> Path:
    return demo_workdir(demo_folder, tmp_path_factory.mktemp("readme") / "work")


@pytest.mark.parametrize("index", range(len(finance_blocks())))
def test_each_finance_block_runs_as_written(workdir, index):
    kind, body = finance_blocks()[index]
    proc = run_block(kind, body, workdir)  # a pip install is only resolved, never installed
    assert proc.returncode == 0, (
        f"{kind} block {index}:\n{body}\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    )
    if body in shown_outputs():
        assert proc.stdout.rstrip("\n") == shown_outputs()[body].rstrip("\n")
    if "--csv daily_usage.csv" in body:
        assert (workdir / "daily_usage.csv").stat().st_size > 0
    if "invoices --period 2026-10" in body:
        assert (workdir / "invoices-2026-10" / "2026-10-cust_001.pdf").exists()
    if "report --period 2026-10" in body:
        assert (workdir / "report" / "report-2026-10.html").exists()
    if kind == "python":
        assert "42892.73" in proc.stdout or "2026-10" in proc.stdout
