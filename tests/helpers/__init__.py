"""Builders shared by the tests (imported as ``tests.helpers.<module>``); fixtures live in
``tests/conftest.py``.

- ``ingestion``: a data root under ``tmp_path`` with real landing files, ingested day by day.
- ``billing``: clean-event frames, meters, plans and subscriptions built in code.
- ``graph_root``: a small data root for running the Dagster graph.
- ``billing_reference`` (with ``correction_reference`` for corrections and adjustments),
  ``sla_reference``: independent implementations the end-to-end tests compare the pipeline with
  (they import nothing from ``meter_pipeline``).
- ``audit_root``: a small root for the audit-trail, corrections and what-if tests.
"""

import os
import shutil
from pathlib import Path


def running_in_ci() -> bool:
    """True when the environment variable ``CI`` is ``true`` (CI runs with ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def copy_demo(demo_folder: Path, target: Path) -> Path:
    """A private copy of the shared demo folder (the ``demo_folder`` fixture) at ``target``;
    returns its data root."""
    shutil.copytree(demo_folder, target, symlinks=True)
    return target / "data"
