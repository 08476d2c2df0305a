"""Deterministic synthetic data roots for benchmarks: ``python bench/generate.py ROOT --events N``.

~3% duplicates (some re-sent days later), ~0.5% bad rows, 5,000 customers, 20 meters, spread
over the landing days of one month (or a single day with ``--days 1``).

``--billing`` makes a root that monthly billing can run on, seeded and deterministic as well:

- ``reference/pricing.yaml``: two USD plans using every charge model (per_unit, graduated,
  volume, package, percentage), a ``filter``, ``free_units``, platform fees and a minimum;
- ``reference/customers.csv``: the 5,000 customers, a quarter on ``growth`` and the rest on
  ``starter``; every 100th customer (cust_00001, cust_00101 …) moves from starter to growth on
  the 16th of the first landing day's month (a mid-month plan change);
- ``llm_tokens`` requires the ``region`` dimension (so ``missing_dimension`` can happen);
- ~3% of valid events land 1–3 days after their event time (late arrivals; those landing in
  the grace days are billed in the previous month);
- the ~0.5% bad rows are spread over the validation reasons of SPEC §3.1: malformed,
  missing_field (twice: a required field, a value), unknown_meter, invalid_timestamp, too_old,
  future_timestamp, invalid_value, negative_value, missing_dimension.

Without ``--billing`` the output is byte for byte what it always was (``bench/ingest.py`` uses it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

import yaml

CUSTOMERS = 5000
METERS = [
    ("api_calls", "count"),
    ("llm_tokens", "sum"),
    ("storage_gb", "max"),
    ("seats", "latest"),
    ("active_users", "unique_count"),
]
METERS += [(f"meter_{i:02d}", "sum" if i % 2 else "count") for i in range(5, 20)]

#: Billing roots only: meter -> its required dimensions (besides a unique_dimension).
REQUIRED_DIMENSIONS = {"llm_tokens": ("region",)}
UNIQUE_DIMENSION = {"active_users": "user_id"}
MAX_EVENT_AGE_DAYS = 35
FUTURE_TOLERANCE_HOURS = 1
DEDUP_WINDOW_DAYS = 40
GRACE_DAYS = 3

#: The price book of billing roots (rendered to reference/pricing.yaml; bench/month.py prices
#: its per_unit and graduated charges in SQL from the same data).
PRICE_BOOK: dict = {
    "grace_days": GRACE_DAYS,
    "late_events": "next_open_period",
    "rounding": "half_up",
    "plans": [
        {
            "id": "starter",
            "currency": "USD",
            "platform_fees": [{"service": "cloud_meter", "amount": "49.00"}],
            "charges": [
                {
                    "id": "api",
                    "meter": "api_calls",
                    "model": "per_unit",
                    "unit_price": "0.0004",
                    "free_units": "100",
                },
                {
                    "id": "tokens",
                    "meter": "llm_tokens",
                    "model": "graduated",
                    "tiers": [
                        {"up_to": "100000", "unit_price": "0.00002"},
                        {"up_to": "1000000", "unit_price": "0.000015", "flat_fee": "5"},
                        {"up_to": None, "unit_price": "0.00001", "flat_fee": "20"},
                    ],
                },
                {
                    "id": "storage",
                    "meter": "storage_gb",
                    "model": "volume",
                    "tiers": [
                        {"up_to": "1000", "unit_price": "0.10"},
                        {"up_to": None, "unit_price": "0.08", "flat_fee": "5"},
                    ],
                },
            ],
        },
        {
            "id": "growth",
            "currency": "USD",
            "platform_fees": [
                {"service": "cloud_meter", "amount": "300.00"},
                {"service": "billing_meter", "amount": "200.00"},
            ],
            "minimum_commitment": "1000.00",
            "charges": [
                {
                    "id": "api",
                    "meter": "api_calls",
                    "model": "per_unit",
                    "unit_price": "0.0003",
                    "free_units": "1000",
                },
                {
                    "id": "tokens_eu",
                    "meter": "llm_tokens",
                    "filter": {"region": "eu"},
                    "model": "graduated",
                    "free_units": "10000",
                    "tiers": [
                        {"up_to": "100000", "unit_price": "0.000018", "flat_fee": "2"},
                        {"up_to": "500000", "unit_price": "0.000012"},
                        {"up_to": None, "unit_price": "0.000008", "flat_fee": "10"},
                    ],
                },
                {
                    "id": "storage",
                    "meter": "storage_gb",
                    "model": "volume",
                    "tiers": [
                        {"up_to": "500", "unit_price": "0.12"},
                        {"up_to": "5000", "unit_price": "0.09", "flat_fee": "5"},
                        {"up_to": None, "unit_price": "0.07", "flat_fee": "15"},
                    ],
                },
                {
                    "id": "exports",
                    "meter": "api_calls",
                    "model": "package",
                    "package_size": "100",
                    "package_price": "0.50",
                },
                {
                    "id": "recovered",
                    "meter": "meter_05",
                    "model": "percentage",
                    "rate": "0.25",
                    "fee_per_event": "0.01",
                },
                {"id": "seats", "meter": "seats", "model": "per_unit", "unit_price": "12.00"},
                {
                    "id": "active_users",
                    "meter": "active_users",
                    "model": "graduated",
                    "tiers": [
                        {"up_to": "100", "unit_price": "1.00", "flat_fee": "10"},
                        {"up_to": None, "unit_price": "0.50"},
                    ],
                },
            ],
        },
    ],
}


def meters_yaml(billing: bool = False) -> str:
    lines = [
        f"max_event_age_days: {MAX_EVENT_AGE_DAYS}",
        f"future_tolerance: {FUTURE_TOLERANCE_HOURS}h",
        f"dedup_window_days: {DEDUP_WINDOW_DAYS}",
        "meters:",
    ]
    for name, agg in METERS:
        extra = ", unique_dimension: user_id" if agg == "unique_count" else ""
        if billing and name in REQUIRED_DIMENSIONS:
            extra += f", required_dimensions: [{', '.join(REQUIRED_DIMENSIONS[name])}]"
        lines.append(f"  - {{name: {name}, aggregation: {agg}{extra}}}")
    return "\n".join(lines) + "\n"


def pricing_yaml() -> str:
    head = "# Benchmark price book (bench/generate.py --billing): every charge model.\n"
    return head + yaml.safe_dump(PRICE_BOOK, sort_keys=False, default_flow_style=None, width=100)


def customers_csv(first_day: dt.date) -> str:
    """5,000 customers; a quarter on growth; every 100th moves starter → growth mid-month."""
    change = first_day.replace(day=16)
    rows = ["customer_id,customer_name,plan_id,start_date,end_date"]
    for i in range(CUSTOMERS):
        cid, name = f"cust_{i:05d}", f"Bench Customer {i:05d}"
        if i % 100 == 1:
            rows.append(f"{cid},{name},starter,2020-01-01,{change - dt.timedelta(days=1)}")
            rows.append(f"{cid},{name},growth,{change},")
        else:
            rows.append(f"{cid},{name},{'growth' if i % 4 == 0 else 'starter'},2020-01-01,")
    return "\n".join(rows) + "\n"


def _line(rng: random.Random, eid: str, day: dt.date, billing: bool = False) -> str:
    name, agg = METERS[rng.randrange(len(METERS))]
    secs = rng.randrange(86_400)
    if billing and rng.random() < 0.03:  # a late arrival: the event happened 1–3 days earlier
        day = day - dt.timedelta(days=rng.randint(1, 3))
    clock = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
    ts = f"{day.isoformat()}T{clock}.{rng.randrange(1000):03d}Z"
    event = {
        "event_id": eid,
        "customer_id": f"cust_{rng.randrange(CUSTOMERS):05d}",
        "meter": name,
        "timestamp": ts,
        "dimensions": {
            "region": ("eu", "us", "ap")[rng.randrange(3)],
            "user_id": f"u{rng.randrange(500)}",
        },
    }
    if agg not in ("count", "unique_count"):
        event["value"] = f"{rng.randrange(1, 10_000)}.{rng.randrange(1000):03d}"
    return json.dumps(event, separators=(",", ":"))


def _bad_line(rng: random.Random, d: int, n: int, day: dt.date) -> str:
    """One row that breaks one rule of SPEC §3.1 (billing roots); the reason in a comment."""
    eid = f"bad-{d}-{n}"
    kind = rng.randrange(10)
    if kind == 0:  # malformed
        return '{"event_id":"%s","meter":"api_calls","timestamp":' % eid
    if kind == 1:  # missing_field (customer_id, timestamp)
        return '{"event_id":"%s","meter":"api_calls"}' % eid
    event: dict = {
        "event_id": eid,
        "customer_id": f"cust_{rng.randrange(CUSTOMERS):05d}",
        "meter": "llm_tokens",
        "timestamp": f"{day.isoformat()}T12:00:00Z",
        "value": "5.000",
        "dimensions": {"region": "eu", "user_id": "u1"},
    }
    if kind == 2:
        event["meter"] = "no_such_meter"  # unknown_meter
    elif kind == 3:
        del event["value"]  # missing_field (value)
    elif kind == 4:
        event["timestamp"] = f"{day.isoformat()} 12:00:00"  # invalid_timestamp
    elif kind == 5:
        event["timestamp"] = f"{day - dt.timedelta(days=40)}T12:00:00Z"  # too_old
    elif kind == 6:
        event["timestamp"] = f"{day + dt.timedelta(days=2)}T12:00:00Z"  # future_timestamp
    elif kind == 7:
        event["value"] = "12.5.3"  # invalid_value
    elif kind == 8:
        event["value"] = "-5.000"  # negative_value
    else:
        event["dimensions"] = {"user_id": "u1"}  # missing_dimension (region)
    return json.dumps(event, separators=(",", ":"))


def generate(
    root: Path,
    events: int,
    first_day: dt.date,
    days: int,
    seed: int = 7,
    files_per_day: int = 4,
    billing: bool = False,
) -> int:
    """Write the root; returns the number of event lines written (events // days × days)."""
    rng = random.Random(seed)
    ref = root / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "meters.yaml").write_text(meters_yaml(billing))
    if billing:
        (ref / "pricing.yaml").write_text(pricing_yaml())
        (ref / "customers.csv").write_text(customers_csv(first_day))
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
                lines.append(
                    _bad_line(rng, d, n, day)
                    if billing
                    else '{"event_id":"bad-%d-%d","meter":"api_calls"}' % (d, n)
                )
            else:
                lines.append(_line(rng, f"e{d:03d}-{n:08d}", day, billing))
        recent = (recent + lines[-5000:])[-20000:]
        folder = root / "landing" / "events" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        chunk = -(-len(lines) // files_per_day)
        for f in range(files_per_day):
            part = lines[f * chunk : (f + 1) * chunk]
            (folder / f"part-{f:02d}.jsonl").write_text("\n".join(part) + "\n")
    return per_day * days


MARKER = ".bench-generated.json"


def ensure_generated(
    root: Path,
    events: int,
    first_day: dt.date,
    days: int,
    *,
    billing: bool = True,
    seed: int = 7,
    regenerate: bool = False,
    echo=print,
) -> int:
    """Generate ``root`` unless it already holds exactly these parameters (a marker file written
    last says so); returns the number of event lines. A root with other parameters, or one whose
    generation was interrupted, is wiped and generated again."""
    import shutil
    import time

    params = {
        "events": events,
        "first_day": first_day.isoformat(),
        "days": days,
        "billing": billing,
        "seed": seed,
        "version": 2,
    }
    marker = root / MARKER
    if not regenerate and marker.exists():
        stored = json.loads(marker.read_text())
        if stored.get("params") == params:
            echo(f"reusing {root} ({stored['lines']:,} event lines)")
            return stored["lines"]
    if root.exists():
        shutil.rmtree(root)
    start = time.perf_counter()
    lines = generate(root, events, first_day, days, seed=seed, billing=billing)
    marker.write_text(json.dumps({"params": params, "lines": lines}))
    echo(
        f"generated {lines:,} event lines over {days} landing days in {root} "
        f"({time.perf_counter() - start:.0f} s)"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--first-day", type=dt.date.fromisoformat, default=dt.date(2026, 9, 1))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--billing",
        action="store_true",
        help="also write pricing.yaml and customers.csv, late arrivals and bad "
        "rows of every validation reason (see above)",
    )
    args = parser.parse_args()
    generate(
        args.root, args.events, args.first_day, args.days, seed=args.seed, billing=args.billing
    )


if __name__ == "__main__":
    main()
