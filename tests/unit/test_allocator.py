"""Polars' allocator is set up by ``import meter_pipeline`` (docs/deploy.md#memory-allocator):
only when the variable is unset and Polars is not loaded yet; run in fresh interpreters, since
jemalloc reads its options once per process."""

from __future__ import annotations

import os
import subprocess
import sys

from meter_pipeline._allocator import VARIABLE, allocator_conf

SHOW = "import os; print(os.environ.get('_RJEM_MALLOC_CONF'))"


def _run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != VARIABLE}
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, env={**base, **env}, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_conf_keeps_freed_pages_a_while_in_an_arena_per_core():
    assert allocator_conf(2) == (
        "background_thread:true,dirty_decay_ms:3000,muzzy_decay_ms:0,oversize_threshold:0,narenas:2"
    )
    assert allocator_conf(0).endswith("narenas:1")


def test_importing_the_package_sets_it_before_polars_loads():
    cores = len(os.sched_getaffinity(0))
    assert _run(f"import meter_pipeline, sys; {SHOW}; print('polars' in sys.modules)") == (
        f"{allocator_conf(cores)}\nFalse"
    )
    # Polars appends what it finds to its own defaults: ours come last, so they win
    assert _run(f"import meter_pipeline, polars; {SHOW}").endswith(allocator_conf(cores))


def test_a_value_already_set_is_kept():
    assert _run(f"import meter_pipeline; {SHOW}", **{VARIABLE: "background_thread:true"}) == (
        "background_thread:true"
    )


def test_nothing_is_changed_once_polars_is_loaded():
    # Polars writes its own defaults (short decays) into the variable as it loads
    assert "narenas" not in _run(f"import polars, meter_pipeline; {SHOW}")
