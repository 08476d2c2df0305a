"""Lineage benchmark: the month close (the `monthly_close` job of 2026-09) with and without the
audit trail (invoice_line_events, period_trace, the close manifest), same data, same run.

    python bench/lineage.py --without TREE [--with TREE] [--runs 3] [--root /tmp/meter-bench-month]

``--without`` is a source tree of the code before lineage (e.g. ``git archive 419ca52 | tar -x -C
/tmp/mp-base``), ``--with`` one with it (default: this repository). Each side runs in its own
child process with its tree first on ``sys.path``; sides alternate and the ratio is printed pair
by pair and of the medians. Uses the month root of bench/month.py (generated and ingested once
when missing). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import alternate, run_child  # noqa: E402
from _pipeline import DAYS, FIRST_DAY, LAST_DAY, MONTH, PIPELINE  # noqa: E402
from billing import OURS  # noqa: E402
from generate import ensure_generated  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: The child puts its tree first on sys.path, then runs billing.py's month close.
CHILD = "import sys\nsys.path.insert(0, sys.argv.pop(1))\n" + OURS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--without", type=Path, required=True, help="tree before lineage")
    parser.add_argument("--with", dest="with_", type=Path, default=REPO, help="tree with it")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=Path("/tmp/meter-bench-month"))
    args = parser.parse_args()
    ensure_generated(args.root, args.events, FIRST_DAY, DAYS)
    clean = args.root / "warehouse" / "clean_events"
    if len(list(clean.glob("*/*.parquet"))) < DAYS:
        print("ingesting the landing days once (daily partitions and the month) …", flush=True)
        run_child(PIPELINE, str(args.root), FIRST_DAY.isoformat(), LAST_DAY.isoformat())

    def notes(out1: str, out2: str) -> tuple[str, str]:
        a, b = (json.loads(o.strip().splitlines()[-1]) for o in (out1, out2))
        return f"run {a['run_s']:.2f} s", f"run {b['run_s']:.2f} s"

    lineage = args.root / "warehouse" / "invoice_line_events"

    def rows(_: int) -> None:
        files = list(lineage.glob(f"billing_period={MONTH}/*.parquet"))
        if files:
            import pyarrow.parquet as pq

            print(f"  lineage rows: {pq.read_metadata(files[0]).num_rows:,}", flush=True)

    print("first side: WITH the audit trail; second side: WITHOUT (the ratio is with/without)")
    alternate(
        (CHILD, str(args.with_), str(args.root), MONTH),
        (CHILD, str(args.without), str(args.root), MONTH),
        args.runs,
        args.events,
        notes,
        after_pair=rows,
    )


if __name__ == "__main__":
    main()
