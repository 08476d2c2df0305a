"""Progress of a run, one finished partition at a time.

The assets call :func:`partition_done` as each day or month is written (from
``assets/common.PartitionRun``); a listener installed by the CLI prints it. With no listener (the
UI, the schedules, the tests) nothing happens. The CLI runs the graph in its own process, so the
listener sees every partition as it finishes. A leaf: imports nothing of the project.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Done:
    """One finished partition of one asset step."""

    step: str  # the asset (or multi-asset) name, e.g. ingest_landing_day
    key: str  # the partition key
    index: int  # 1-based position in the run
    total: int  # partitions in the run
    rows: int  # rows read (a landing day) or written (the step's first table)


_listeners: list[Callable[[Done], None]] = []


def partition_done(done: Done) -> None:
    for listener in list(_listeners):
        listener(done)


@contextmanager
def listening(listener: Callable[[Done], None]) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class LinePrinter:
    """One line per finished partition, for logs and pipes:
    ``ingest_landing_day 2026-08-03 (3/95): 125 rows; 0.4 s, 312 rows/s``. A step's time counts
    from the end of the step before it (the CLI runs steps one after another)."""

    def __init__(self, echo: Callable[[str], None] = print, clock=time.monotonic) -> None:
        self.echo, self.clock = echo, clock
        self.last = clock()
        self.started: dict[str, float] = {}
        self.rows: dict[str, int] = {}

    def __call__(self, done: Done) -> None:
        now = self.clock()
        start = self.started.setdefault(done.step, self.last)
        self.last = now
        self.rows[done.step] = self.rows.get(done.step, 0) + done.rows
        elapsed = now - start
        rate = f", {self.rows[done.step] / elapsed:,.0f} rows/s" if elapsed > 0 else ""
        self.echo(
            f"{done.step} {done.key} ({done.index}/{done.total}): {done.rows:,} "
            f"row{'' if done.rows == 1 else 's'}; "
            f"{elapsed:.1f} s{rate}"
        )


@contextmanager
def progress_display(echo: Callable[[str], None] = print) -> Iterator[None]:
    """A live progress bar per step on a terminal (rich), else one line per partition."""
    if not sys.stdout.isatty():
        with listening(LinePrinter(echo)):
            yield
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[key]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    tasks: dict[str, int] = {}
    rows: dict[str, int] = {}
    with Progress(*columns, transient=False) as bar:

        def show(done: Done) -> None:
            if done.step not in tasks:
                tasks[done.step] = bar.add_task(done.step, total=done.total, key="", rate="")
            task = tasks[done.step]
            rows[done.step] = rows.get(done.step, 0) + done.rows
            elapsed = bar.tasks[task].elapsed or 0
            rate = f"{rows[done.step] / elapsed:,.0f} rows/s" if elapsed > 0 else ""
            bar.update(task, completed=done.index, key=done.key, rate=rate)

        with listening(show):
            yield
