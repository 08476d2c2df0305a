"""Does mixing CloudEvents and Stripe lines into a landing day slow its native lines?

    python bench/formats.py [--native 500000] [--other 50000] [--runs 3] [--root DIR]

Three days are ingested in process (``ingest_day``, no Dagster), alternating, ``--runs`` times:
``native`` (N native lines), ``other`` (M lines, half CloudEvents, half Stripe) and ``mixed``
(the same N native lines and M other lines, in one file, interleaved). The native lines' cost in
the mixed day is ``mixed − other``; the figure is native lines per second alone vs in the mixed
day (median of the runs). Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

DAY = dt.date(2026, 9, 1)
METERS = """\
meters:
  - {name: api_calls, aggregation: count}
  - name: tokens
    aggregation: sum
    value_property: $.usage.tokens
    dimension_properties: {model: $.model}
"""


def native(n: int) -> str:
    return json.dumps(
        {
            "event_id": f"n{n}",
            "customer_id": f"c{n % 500}",
            "meter": "tokens",
            "timestamp": f"2026-09-01T{n % 24:02d}:{n % 60:02d}:00Z",
            "value": f"{n % 1000}.25",
            "dimensions": {"model": "large"},
        }
    )


def other(n: int) -> str:
    if n % 2:
        return json.dumps(
            {
                "specversion": "1.0",
                "id": f"ce{n}",
                "source": "//bench",
                "type": "tokens",
                "subject": f"c{n % 500}",
                "time": "2026-09-01T12:00:00Z",
                "data": {"usage": {"tokens": n % 1000}, "model": "large"},
            }
        )
    return json.dumps(
        {
            "identifier": f"st{n}",
            "event_name": "api_calls",
            "timestamp": 1788264000,
            "payload": {"stripe_customer_id": f"c{n % 500}"},
        }
    )


def write_day(root: Path, lines: list[str]) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    (root / "reference").mkdir(parents=True)
    (root / "reference" / "meters.yaml").write_text(METERS)
    folder = root / "landing" / "events" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return root


def ingest_seconds(root: Path) -> float:
    from meter_pipeline.config.meters import load_meters
    from meter_pipeline.config.pricing import BillingRules
    from meter_pipeline.ingestion.day import ingest_day

    shutil.rmtree(root / "warehouse", ignore_errors=True)
    start = time.perf_counter()
    ingest_day(root, DAY, load_meters(root), BillingRules())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--native", type=int, default=500_000)
    parser.add_argument("--other", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path("/tmp/meter-bench-formats"))
    args = parser.parse_args()
    ours = [native(n) for n in range(args.native)]
    theirs = [other(n) for n in range(args.other)]
    step = max(1, args.native // max(1, args.other))
    mixed = []
    for i, line in enumerate(ours):
        mixed.append(line)
        if i % step == 0 and i // step < len(theirs):
            mixed.append(theirs[i // step])
    mixed += theirs[len(mixed) - len(ours) :]
    roots = {
        "native": write_day(args.root / "native", ours),
        "other": write_day(args.root / "other", theirs),
        "mixed": write_day(args.root / "mixed", mixed),
    }
    times: dict[str, list[float]] = {name: [] for name in roots}
    for run in range(args.runs):
        for name, root in roots.items():
            times[name].append(ingest_seconds(root))
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    med = {name: statistics.median(values) for name, values in times.items()}
    alone = args.native / med["native"]
    in_mix = args.native / max(med["mixed"] - med["other"], 1e-9)
    print(
        f"native lines alone: {alone:,.0f}/s; in the mixed day (mixed − other): {in_mix:,.0f}/s "
        f"(ratio {in_mix / alone:.2f}); other forms: {args.other / med['other']:,.0f} lines/s"
    )


if __name__ == "__main__":
    sys.exit(main())
