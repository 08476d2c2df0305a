"""Where concurrency comes from: one thread pool sized from the cores this process may use.

Pure functions never start threads; those that can work on independent chunks take a ``map``
argument (the built-in :func:`map` by default, so they run sequentially in tests), and the
orchestration of a landing day or a month close passes :func:`worker_map`'s. Polars and pyarrow
release the GIL, so threads give real parallelism here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

#: ``map``'s shape: a function and an iterable in, results out in order.
Map = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


def cores() -> int:
    """The CPU cores this process may run on (its affinity, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def worker_map(workers: int | None = None) -> Iterator[Map]:
    """A ``map`` over a pool of ``workers`` threads (default: :func:`cores`), in order."""
    with ThreadPoolExecutor(max_workers=workers or cores()) as pool:
        yield pool.map
