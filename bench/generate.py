"""Deterministic synthetic data roots for benchmarks: ``python bench/generate.py ROOT --events N``.

~3% duplicates (some re-sent days later), ~0.5% bad rows, 5,000 customers, 20 meters, spread
over the landing days of one month (or a single day with ``--days 1``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

CUSTOMERS = 5000
METERS = [("api_calls", "count"), ("llm_tokens", "sum"), ("storage_gb", "max"),
          ("seats", "latest"), ("active_users", "unique_count")]
METERS += [(f"meter_{i:02d}", "sum" if i % 2 else "count") for i in range(5, 20)]


def meters_yaml() -> str:
    lines = ["max_event_age_days: 35", "future_tolerance: 1h", "dedup_window_days: 40",
             "meters:"]
    for name, agg in METERS:
        extra = ", unique_dimension: user_id" if agg == "unique_count" else ""
        lines.append(f"  - {{name: {name}, aggregation: {agg}{extra}}}")
    return "\n".join(lines) + "\n"


def _line(rng: random.Random, eid: str, day: dt.date) -> str:
    name, agg = METERS[rng.randrange(len(METERS))]
    secs = rng.randrange(86_400)
    ts = f"{day.isoformat()}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.{rng.randrange(1000):03d}Z"
    event = {"event_id": eid, "customer_id": f"cust_{rng.randrange(CUSTOMERS):05d}",
             "meter": name, "timestamp": ts,
             "dimensions": {"region": ("eu", "us", "ap")[rng.randrange(3)],
                            "user_id": f"u{rng.randrange(500)}"}}
    if agg not in ("count", "unique_count"):
        event["value"] = f"{rng.randrange(1, 10_000)}.{rng.randrange(1000):03d}"
    return json.dumps(event, separators=(",", ":"))


def generate(root: Path, events: int, first_day: dt.date, days: int, seed: int = 7,
             files_per_day: int = 4) -> None:
    rng = random.Random(seed)
    ref = root / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "meters.yaml").write_text(meters_yaml())
    per_day = events // days
    recent: list[str] = []
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        lines = []
        for n in range(per_day):
            r = rng.random()
            if r < 0.03 and (recent or lines):
                pool = recent if recent and rng.random() < 0.5 else lines[-5000:] or recent
                lines.append(pool[rng.randrange(len(pool))])  # a re-send, maybe days later
            elif r < 0.035:
                lines.append('{"event_id":"bad-%d-%d","meter":"api_calls"}' % (d, n))
            else:
                lines.append(_line(rng, f"e{d:03d}-{n:08d}", day))
        recent = (recent + lines[-5000:])[-20000:]
        folder = root / "landing" / "events" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        chunk = -(-len(lines) // files_per_day)
        for f in range(files_per_day):
            part = lines[f * chunk:(f + 1) * chunk]
            (folder / f"part-{f:02d}.jsonl").write_text("\n".join(part) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--first-day", type=dt.date.fromisoformat, default=dt.date(2026, 9, 1))
    args = parser.parse_args()
    generate(args.root, args.events, args.first_day, args.days)


if __name__ == "__main__":
    main()
