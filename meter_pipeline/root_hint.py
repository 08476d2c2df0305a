"""What to tell an operator whose ``--root`` is not a data root (missing, or without
``reference/``): name the folder and suggest the demo command, before any file is read."""

from __future__ import annotations

from pathlib import Path

from meter_pipeline.storage import is_remote, storage_for
from meter_pipeline.storage.s3 import StorageConfigError


def root_problem(root: Path) -> str | None:
    """None when ``root`` has a ``reference/`` folder, else a one-line explanation."""
    if is_remote(root):
        return remote_problem(str(root))
    root = Path(root)
    where = root.resolve()
    if not root.exists():
        return (
            f"data root {where} does not exist (from --root, $METER_PIPELINE_ROOT or ./data). "
            "Check the path, or make a demo root there: meter-pipeline demo --root "
            f"{root}"
        )
    if not root.is_dir():
        return f"data root {where} is not a folder (from --root, $METER_PIPELINE_ROOT or ./data)"
    if not (root / "reference").is_dir():
        return (
            f"data root {where} has no reference/ folder (meters.yaml, pricing.yaml, "
            "customers.csv, …): is this the right folder? See docs/rules.md for the files, or "
            f"make a demo root elsewhere: meter-pipeline demo --root DIR"
        )
    return None


def remote_problem(root: str, need_reference: bool = True) -> str | None:
    """An object-store root: reachable with its credentials, its bucket there, and (unless
    ``need_reference`` is false: the demo writes one) a reference/ folder under its prefix."""
    try:
        storage = storage_for(root)
        storage.check()  # type: ignore[attr-defined]  # S3Storage
    except StorageConfigError as exc:
        return str(exc)
    if need_reference and not storage.is_folder("reference"):
        return (
            f"data root {root} has no reference/ folder (meters.yaml, pricing.yaml, "
            "customers.csv, …): is this the right prefix? Upload the reference files under "
            f"{root}/reference/ (docs/rules.md lists them)"
        )
    return None
