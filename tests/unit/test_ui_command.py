"""The UI command the CLI prints after a run: ``dg dev`` (Dagster's recommended command, from
dagster-dg-cli) on the instance beside the root, with ``dagster dev`` named as the alternative."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from meter_pipeline.cli import ui_hint
from meter_pipeline.instance import ui_command


def test_the_ui_command_is_dg_dev_on_the_instance_beside_the_root(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    root = tmp_path / "data"
    words = shlex.split(ui_command(root))
    assert words == [
        f"DAGSTER_HOME={tmp_path / '.dagster'}",
        f"METER_PIPELINE_ROOT={root}",
        str(Path(sys.executable).parent / "dg"),
        "dev",
        "-m",
        "meter_pipeline.definitions",
    ]
    assert Path(words[2]).exists()  # dagster-dg-cli is installed with the package


def test_the_hint_names_the_instance_and_dagster_dev_too(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    hint = ui_hint(tmp_path / "data")
    assert hint.startswith(f"Runs recorded in {tmp_path / 'home'}; see them in the UI: ")
    assert "dg dev -m meter_pipeline.definitions" in hint and "dagster dev" in hint
