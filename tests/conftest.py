"""Shared fixtures and the Hypothesis profiles.

The test pyramid: ``unit/`` (rules, by hand, and properties), ``contracts/``, ``integration/``
(the Dagster graph, the CLI) and ``e2e/`` (backfills against independent implementations, the
demo, the UI in Chromium). Long tests carry the ``slow`` marker:

    pytest -m "not slow"    # the inner loop
    pytest                  # everything, as CI runs it

Hypothesis profiles, chosen by ``HYPOTHESIS_PROFILE``, else ``ci`` when ``CI=true``, else ``dev``:

- ``dev``: Hypothesis' defaults (random examples, the example database under ``.hypothesis/``).
- ``ci``: derandomized (the same examples on every run, so a red run reproduces anywhere), no
  deadline and no ``too_slow`` health check (a loaded runner must not fail a test for being
  slow), no example database, and the ``@reproduce_failure`` blob printed with any failure.

A test's own ``@settings(max_examples=...)`` keeps its strength under every profile.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from hypothesis import HealthCheck, settings

from tests.helpers import running_in_ci
from tests.helpers.graph_root import write_root

# Hypothesis itself loads its own "ci" profile when any CI variable is set (even CI=false), and a
# profile without a parent inherits the loaded one: so both start from Hypothesis' defaults.
DEFAULTS = settings.get_profile("default")
settings.register_profile("dev", DEFAULTS)
settings.register_profile(
    "ci",
    DEFAULTS,
    derandomize=True,
    print_blob=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if running_in_ci() else "dev"))


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """The small data root of :mod:`tests.helpers.graph_root`, written under ``tmp_path``."""
    return write_root(tmp_path / "root")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """An ephemeral Dagster instance."""
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory) -> Path:
    """A folder holding ``data/`` (the demo data root, what ``meter-pipeline demo`` leaves) and
    its ``.dagster/`` instance, built once per test process. Tests take a private copy
    (``tests.helpers.copy_demo``), so what one test writes never reaches another."""
    from meter_pipeline.cli import main

    folder = tmp_path_factory.mktemp("demo-shared")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        assert main(["demo", "--root", str(folder / "data")]) == 0
    return folder
