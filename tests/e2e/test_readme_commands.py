"""Every ``sh`` block of the README runs as written after the two setup commands.

Each block is run, in a folder where the README's demo command has run, by the mechanism of
tests/helpers/readme.py: the finance section's blocks by test_readme_finance.py (which also checks
the files they write), every other block here. A block the README marks ``not-run`` (it starts a
server, or runs the test suite) says why, and is run elsewhere: the UI command by the browser
test (tests/e2e/test_ui_browser.py), the quick suite by CI's test command. Output a block shows
as ``# …`` comments after its last command must be what it prints.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.readme import (
    Block,
    between,
    demo_workdir,
    readme_blocks,
    run_block,
    shown_output,
)

FINANCE = ("## For finance", "### Lineage")


def sh_blocks() -> list[Block]:
    return [b for b in readme_blocks() if b.lang == "sh"]


def finance_blocks() -> list[Block]:
    return between(sh_blocks(), *FINANCE)


def runnable() -> list[Block]:
    """The sh blocks this file runs: not a setup command, not marked not-run, not finance."""
    finance = {b.line for b in finance_blocks()}
    return [b for b in sh_blocks() if not (b.is_setup or b.is_not_run or b.line in finance)]


def test_every_sh_block_is_run_somewhere():
    blocks = sh_blocks()
    assert sorted(b.marker for b in blocks if b.is_setup) == ["demo-command", "test-command"]
    for block in blocks:
        if block.is_not_run:
            assert block.not_run, f"README line {block.line}: say why it is not run"
    ui = [b for b in blocks if b.is_not_run and "dg dev" in b.body]
    assert len(ui) == 1 and "test_ui_browser.py" in ui[0].marker
    assert len(runnable()) >= 3 and finance_blocks()
    assert all("duckdb -c" not in b.body for b in blocks)  # no DuckDB CLI is installed


@pytest.fixture(scope="module")
def workdir(demo_folder, tmp_path_factory) -> Path:
    return demo_workdir(demo_folder, tmp_path_factory.mktemp("readme") / "work")


@pytest.mark.slow
@pytest.mark.parametrize("block", runnable(), ids=lambda b: f"line{b.line}")
def test_each_block_runs_as_written(workdir, block):
    proc = run_block(block.lang, block.body, workdir)
    assert proc.returncode == 0, (
        f"README line {block.line} ({block.section}):\n{block.body}\n"
        f"{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
    )
    for line in shown_output(block.body):
        assert line in proc.stdout, f"README line {block.line} shows {line!r}:\n{proc.stdout}"
    if "verify" in block.body:
        assert (workdir / "evidence.html").stat().st_size > 0
    if "reprice" in block.body:
        assert (workdir / "whatif" / "reprice_report.html").exists()
