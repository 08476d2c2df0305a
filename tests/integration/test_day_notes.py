"""A backfill says which landing days had no folder and names every unreadable file with its
reason, on stderr, instead of silent zeros or a bare "quarantined 1"."""

from __future__ import annotations

from meter_pipeline.cli import main
from tests.helpers.graph_root import write_root


def test_missing_folder_and_corrupt_gzip_are_named(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = write_root(tmp_path / "data")
    (root / "landing" / "events" / "2026-09-02" / "broken.jsonl.gz").write_bytes(b"not gzip")
    code = main(["backfill", "--root", str(root), "--start", "2026-08-31", "--end", "2026-09-02"])
    assert code == 0
    err = capsys.readouterr().err.splitlines()
    notes = [line for line in err if line.startswith("warning: landing day")]
    assert notes[0] == (
        "warning: landing day 2026-08-31: no folder landing/events/2026-08-31 (nothing landed; "
        "the day's tables are empty)"
    )
    assert len(notes) == 2
    assert notes[1].startswith(
        "warning: landing day 2026-09-02: unreadable file "
        "landing/events/2026-09-02/broken.jsonl.gz: "
    )


def test_log_level_shows_dagsters_own_log(tmp_path, monkeypatch, capfd):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = write_root(tmp_path / "data")
    args = ["backfill", "--root", str(root), "--start", "2026-09-01", "--end", "2026-09-01"]
    assert main(args) == 0
    assert "RUN_START" not in capfd.readouterr().err  # quiet by default
    assert main(["--log-level", "debug", *args]) == 0
    assert "RUN_START" in capfd.readouterr().err
