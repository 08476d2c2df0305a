"""Shared benchmark plumbing: run a side in a child process, measure wall time and peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def run_child(code: str, *args: str) -> tuple[float, float, str]:
    """Run ``python -c code args`` and return (wall seconds, peak RSS GiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            text=True)
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
    return (f"{name:<10} median {med:7.2f} s  (min {min(walls):.2f} – max {max(walls):.2f})  "
            f"{events / med / 1e6:6.3f} M events/s  peak RSS {max(rss):.2f} GiB")
