"""How Polars' allocator is set up in a meter-pipeline process (docs/deploy.md#memory-allocator).

Polars allocates with its own jemalloc, which it sets up (as it loads) to hand freed pages back to
the kernel within 0.5–1 s, and large blocks (over 8 MiB: most column buffers of a landing day)
at once. A pipeline that builds and drops frames of the same sizes day after day then pays a page
fault for every 4 KiB it touches again: 3.1M faults and ~11 s of kernel time in a 10M-event
month. Here freed pages wait 3 s before they go back (long enough for the next day's frames to
reuse them), large blocks included, in one arena per core: ~1.0M faults and ~6 s less kernel time
in that month, and no higher peak (a 3.3M-event day peaks at 2.53–2.58 GiB against 2.65).
Keeping freed pages for good (no decay) saves more time but raised that day's peak past 3 GiB
(docs/decisions.md).

jemalloc reads ``_RJEM_MALLOC_CONF`` once, when Polars' library loads; ``import polars`` puts its
own options first and what it finds in the variable after them (the later wins). So this must run
before the first ``import polars``: the package's ``__init__`` calls it. A value already in the
environment is left as it is (set it to ``narenas:0`` for Polars' own behaviour).
"""

from __future__ import annotations

import os
import sys

from meter_pipeline.workers import cores  # no Polars import there

VARIABLE = "_RJEM_MALLOC_CONF"


def allocator_conf(cores: int) -> str:
    """The jemalloc options: Polars' own background purging thread; freed pages purged 3 s after
    they are freed (not 0.5 s), straight back to the kernel from there (no lazy "muzzy" stage);
    large blocks kept like the others (no arena of their own purged at once); one arena per core
    instead of four (fewer freed pages held apart)."""
    return (
        "background_thread:true,dirty_decay_ms:3000,muzzy_decay_ms:0,oversize_threshold:0,"
        f"narenas:{max(1, cores)}"
    )


def tune_polars_allocator() -> bool:
    """Set ``_RJEM_MALLOC_CONF`` unless it is set or Polars is loaded already (then it would not be
    read). Returns whether it set it."""
    if VARIABLE in os.environ or "polars" in sys.modules:
        return False
    os.environ[VARIABLE] = allocator_conf(cores())
    return True
