"""Reprice benchmark: ``meter-pipeline reprice`` of one closed month of bench/month.py's root (the
stored usage lines' lineage priced under a candidate), against the month close that produced it.

    python bench/reprice.py [--root /tmp/meter-bench-month] [--runs 3] [--unit-factor 1.5]

The candidate is the root's own pricing.yaml with every ``unit_price`` multiplied by
``--unit-factor`` (1 = the price book against itself). Each run is a child process (wall time and
peak RSS from ``wait4``), writing to a fresh folder; the data root is only read. Generates and
closes the month (10M events) when the root has no closed month. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import run_child  # noqa: E402
from _pipeline import DAYS, FIRST_DAY, LAST_DAY, MONTH, PIPELINE  # noqa: E402
from generate import ensure_generated  # noqa: E402

CHILD = """
import json, sys, time
from pathlib import Path
from meter_pipeline.whatif.reprice import reprice
root, pricing, month, out = sys.argv[1:5]
start = time.perf_counter()
result = reprice(Path(root), Path(pricing), month, month, Path(out))
seconds = time.perf_counter() - start
s = result.summary
print(json.dumps({"run_s": seconds, "customers": s.height, "lines": result.lines.height,
                  "difference": str(s["difference"].sum())}))
"""


def candidate(pricing: Path, factor: Decimal, target: Path) -> Path:
    def scale(match: re.Match[str]) -> str:
        return f'unit_price: "{Decimal(match.group(1)) * factor}"'

    text = re.sub(r"unit_price: [\"']?([0-9.]+)[\"']?", scale, pricing.read_text())
    target.write_text(text)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=Path("/tmp/meter-bench-month"))
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unit-factor", type=Decimal, default=Decimal("1.5"))
    args = parser.parse_args()
    ensure_generated(args.root, args.events, FIRST_DAY, DAYS)
    lineage = args.root / "warehouse" / "invoice_line_events" / f"billing_period={MONTH}"
    if not lineage.is_dir():
        print("ingesting and closing the month once …", flush=True)
        run_child(PIPELINE, str(args.root), FIRST_DAY.isoformat(), LAST_DAY.isoformat())
    import pyarrow.parquet as pq

    rows = sum(pq.read_metadata(p).num_rows for p in lineage.glob("*.parquet"))
    print(f"{MONTH}: {rows:,} lineage rows (events listed under usage lines)")
    with tempfile.TemporaryDirectory(prefix="bench-reprice-") as tmp:
        pricing = candidate(
            args.root / "reference" / "pricing.yaml", args.unit_factor, Path(tmp) / "cand.yaml"
        )
        for run in range(args.runs):
            out = Path(tmp) / f"out{run}"
            wall, rss, stdout = run_child(CHILD, str(args.root), str(pricing), MONTH, str(out))
            result = json.loads(stdout.strip().splitlines()[-1])
            print(
                f"run {run + 1}: reprice {result['run_s']:.2f} s (process {wall:.2f} s), peak RSS "
                f"{rss:.2f} GiB; {result['customers']} customers, {result['lines']} lines, "
                f"difference {result['difference']}",
                flush=True,
            )
            shutil.rmtree(out)


if __name__ == "__main__":
    main()
