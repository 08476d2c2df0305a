"""Shared benchmark plumbing: run a side in a child process, measure wall time and peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def run_child(code: str, *args: str) -> tuple[float, float, str]:
    """Run ``python -c code args`` and return (wall seconds, peak RSS GiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    try:
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # Ctrl-C, or the parent stopped: do not leave the child running
        proc.kill()
        proc.wait()
        raise
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed ({proc.returncode}):\n{out}")
    return wall, usage.ru_maxrss / 1024 / 1024, out


def describe(name: str, walls: list[float], rss: list[float], events: int) -> str:
    med = statistics.median(walls)
    return (
        f"{name:<10} median {med:7.2f} s  (min {min(walls):.2f} – max {max(walls):.2f})  "
        f"{events / med / 1e6:6.3f} M events/s  peak RSS {max(rss):.2f} GiB"
    )


def alternate(
    ours: Sequence[str],
    duck: Sequence[str],
    runs: int,
    events: int,
    notes: Callable[[str, str], tuple[str, str]],
    after_pair: Callable[[int], None] | None = None,
) -> None:
    """Run both sides ``runs`` times, alternately, each as ``run_child(*side)``; print each pair
    (``notes`` turns the two stdouts into a remark per side) with its ratio, then the medians."""
    walls: tuple[list[float], list[float]] = ([], [])
    peaks: tuple[list[float], list[float]] = ([], [])
    for i in range(runs):
        w1, r1, out1 = run_child(*ours)
        w2, r2, out2 = run_child(*duck)
        walls[0].append(w1), walls[1].append(w2), peaks[0].append(r1), peaks[1].append(r2)
        ours_note, duck_note = notes(out1, out2)
        print(
            f"pair {i + 1}: meter-pipeline {w1:.2f} s ({ours_note}), duckdb {w2:.2f} s "
            f"({duck_note}), ratio {w1 / w2:.2f}",
            flush=True,
        )
        if after_pair is not None:
            after_pair(i)
    print(describe("meter-pipeline", walls[0], peaks[0], events))
    print(describe("duckdb", walls[1], peaks[1], events))
    print(
        f"ratio (meter-pipeline / duckdb, medians): "
        f"{statistics.median(walls[0]) / statistics.median(walls[1]):.2f}"
    )
