"""Expected operational failures at the CLI (issue 13): a full disk or a read-only warehouse is
said in one or two lines per failure, naming the path and the fix, with the full trace only
behind ``--debug``. The warehouse is a real tiny tmpfs (mounted for the test; skipped where the
test may not mount)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from meter_pipeline.cli import main
from tests.helpers.graph_root import write_root

DAY = "2026-09-01"


def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True
    )
    return done.returncode == 0


@pytest.fixture
def small_warehouse(tmp_path) -> Iterator[Path]:
    """A data root whose warehouse is a 64 KiB tmpfs."""
    root = write_root(tmp_path / "root")
    warehouse = root / "warehouse"
    if not _mount(warehouse, "size=64k"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(warehouse)], check=True)


def _backfill(root: Path, *extra: str) -> int:
    return main(["backfill", "--root", str(root), "--start", DAY, "--end", DAY, *extra])


def _assert_short(out: str, words: str, fix: str) -> None:
    assert "Traceback" not in out and 'File "' not in out
    failures = [line for line in out.splitlines() if words in line]
    assert failures, out
    for line in failures:
        assert "/warehouse/" in line, f"the path is named: {line}"
        assert len(line) < 400
    assert out.count(f"fix: {fix}") == len(failures), out
    assert len(out.splitlines()) < 20, out


def test_a_full_disk_is_one_line_with_the_path_and_the_fix(small_warehouse, capsys):
    (small_warehouse / "landing" / "events" / DAY / "big.jsonl").write_text(
        "".join(
            f'{{"event_id": "big{i}", "customer_id": "c{i}", "meter": "api_calls", '
            f'"timestamp": "{DAY}T12:00:00Z", "dimensions": {{"k": "{i:0>200}"}}}}\n'
            for i in range(3000)
        )
    )
    assert _backfill(small_warehouse) == 1
    captured = capsys.readouterr()
    _assert_short(captured.out + captured.err, "No space left on device", "the disk is full")


def test_a_read_only_warehouse_is_one_line_and_the_trace_only_with_debug(small_warehouse, capsys):
    subprocess.run(["mount", "-o", "remount,ro", str(small_warehouse / "warehouse")], check=True)
    assert _backfill(small_warehouse) == 1
    captured = capsys.readouterr()
    out = captured.out + captured.err
    _assert_short(out, "Read-only file system", "the file system is read-only")
    assert "FileNotFoundError" not in out, "the error explained is the read-only one"
    assert "0 invoices" not in out

    assert _backfill(small_warehouse, "--debug") == 1
    captured = capsys.readouterr()
    debug = captured.out + captured.err
    assert "Traceback" in debug or 'File "' in debug, "--debug shows the full trace"


def test_a_platform_fee_for_a_service_sla_yaml_does_not_list_is_a_config_error(tmp_path, capsys):
    from tests.helpers.month_root import write_month_root

    root = write_month_root(tmp_path / "root")
    pricing = root / "reference" / "pricing.yaml"
    pricing.write_text(pricing.read_text().replace("service: api", "service: apii"))
    assert _backfill(root) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("configuration error: reference/pricing.yaml: ")
    assert "plans[0].platform_fees[0].service" in err and "'apii'" in err and "api" in err
    assert not (root / "warehouse").exists(), "nothing materialized"
