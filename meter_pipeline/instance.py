"""The Dagster instance the CLI records its runs in, shared with the UI.

``$DAGSTER_HOME`` when it is set (Dagster's own rule). Otherwise a project-local instance in
``.dagster/`` beside the data root (``./data`` → ``./.dagster``), created with a ``dagster.yaml``
on first use, so ``meter-pipeline demo`` and then the README's UI command show the same runs,
partitions, checks and metadata. Runs launched by the CLI carry tags naming the command.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from meter_pipeline.storage import is_remote, root_text

DAGSTER_YAML = """\
# The Dagster instance of meter-pipeline's CLI and UI, written by `meter-pipeline` on first use.
# Point the UI at it with DAGSTER_HOME=<this folder>. Storage: SQLite files in this folder.
telemetry:
  enabled: false
"""
#: Run tags (visible and filterable in the UI's run list).
COMMAND_TAG = "meter-pipeline/command"
ARGS_TAG = "meter-pipeline/args"


def instance_home(root: Path) -> Path:
    """``$DAGSTER_HOME`` if set, else ``.dagster`` in the folder that holds the data root."""
    home = os.environ.get("DAGSTER_HOME")
    if home:
        return Path(home)
    if is_remote(root):  # an object-store root: the instance of the current folder
        return Path.cwd() / ".dagster"
    return Path(root).resolve().parent / ".dagster"


def open_instance(root: Path) -> dg.DagsterInstance:
    """The persistent instance of :func:`instance_home` (its dagster.yaml written if missing)."""
    home = instance_home(root)
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return dg.DagsterInstance.from_config(str(home))


def run_tags(argv: Sequence[str]) -> dict[str, str]:
    """Tags naming the CLI command and its arguments, e.g. ``backfill`` and
    ``--root data --start 2026-08-01 --end 2026-08-03``."""
    command, *rest = list(argv) or ["?"]
    return {COMMAND_TAG: command, ARGS_TAG: shlex.join(rest)[:1000]}


def ui_command(root: Path) -> str:
    """The shell command that opens the UI on this instance and root (from any folder): ``dg dev``,
    the command Dagster recommends, when dagster-dg-cli is installed (it is a dependency), else
    ``dagster dev``, which takes the same arguments and keeps working."""
    home = instance_home(root)
    where = root_text(root) if is_remote(root) else str(Path(root).resolve())
    bin_dir = Path(sys.executable).parent
    dg_cli, dagster = bin_dir / "dg", bin_dir / "dagster"
    if dg_cli.exists():
        program = f"{shlex.quote(str(dg_cli))} dev"
    else:
        program = f"{shlex.quote(str(dagster)) if dagster.exists() else 'dagster'} dev"
    return (
        f"DAGSTER_HOME={shlex.quote(str(home))} "
        f"METER_PIPELINE_ROOT={shlex.quote(where)} "
        f"{program} -m meter_pipeline.definitions"
    )
