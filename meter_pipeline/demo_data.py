"""A realistic, deterministic demo data root (SPEC §9 ``meter-pipeline demo``).

Everything is drawn from a seeded random generator, so the same code writes the same bytes.
The meters model real usage- and outcome-based prices (see README "The demo price book").
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from pathlib import Path

FIRST_DAY = dt.date(2026, 8, 1)
LAST_LANDING_DAY = dt.date(2026, 11, 3)  # October's last landing day (grace_days 3)
SEED = 20260801

METERS_YAML = """\
# Meter definitions: what is counted, independent of price (SPEC §4).
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
  - {name: api_calls, aggregation: count, unit: call}
  - {name: llm_tokens, aggregation: sum, unit: token, required_dimensions: [model]}
  - {name: storage_gb, aggregation: max, unit: GB}
  - {name: seats, aggregation: latest, unit: seat}
  - {name: active_users, aggregation: unique_count, unique_dimension: user_id}
  # AI service agent: one event per end-customer message; conversation_id names the
  # (end customer, 24-hour window) the message falls in, so distinct ids = conversations.
  - {name: agent_conversations, aggregation: unique_count, unique_dimension: conversation_id}
  # AI support bot: one event per closed ticket, outcome resolved | escalated.
  - {name: bot_tickets, aggregation: count, required_dimensions: [outcome]}
  # Chargeback recovery: recovered funds (USD) and prevented chargebacks.
  - {name: recovered_amount, aggregation: sum, unit: USD}
  - {name: chargebacks_prevented, aggregation: count}
  # Fraud screening: value of each screened transaction, decision approved | declined.
  - {name: screened_value, aggregation: sum, unit: USD, required_dimensions: [decision]}
"""

CUSTOMERS = [f"cust_{i:03d}" for i in range(1, 31)]
MODELS = ("small", "large")


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _event(rng: random.Random, n: int, day: dt.date) -> dict:
    customer = rng.choice(CUSTOMERS)
    when = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc) + dt.timedelta(
        seconds=rng.randrange(86_400))
    base = {"event_id": f"evt-{day:%Y%m%d}-{n:05d}", "customer_id": customer,
            "timestamp": _iso(when)}
    kind = rng.random()
    if kind < 0.30:
        return {**base, "meter": "api_calls", "dimensions": {"region": rng.choice(["eu", "us"])}}
    if kind < 0.45:
        return {**base, "meter": "llm_tokens", "value": rng.randrange(100, 20_000),
                "dimensions": {"model": rng.choice(MODELS)}}
    if kind < 0.50:
        return {**base, "meter": "storage_gb", "value": f"{rng.randrange(10, 900)}.{rng.randrange(100):02d}"}
    if kind < 0.53:
        return {**base, "meter": "seats", "value": rng.randrange(3, 40)}
    if kind < 0.60:
        return {**base, "meter": "active_users", "dimensions": {"user_id": f"u{rng.randrange(60)}"}}
    if kind < 0.75:
        user = rng.randrange(40)
        return {**base, "meter": "agent_conversations",
                "dimensions": {"conversation_id": f"{customer}/enduser{user}/{day.isoformat()}"}}
    if kind < 0.85:
        outcome = "resolved" if rng.random() < 0.7 else "escalated"
        return {**base, "meter": "bot_tickets", "dimensions": {"outcome": outcome}}
    if kind < 0.89:
        return {**base, "meter": "recovered_amount", "value": f"{rng.randrange(20, 900)}.{rng.randrange(100):02d}"}
    if kind < 0.91:
        return {**base, "meter": "chargebacks_prevented"}
    decision = "approved" if rng.random() < 0.9 else "declined"
    return {**base, "meter": "screened_value", "value": f"{rng.randrange(5, 2000)}.{rng.randrange(100):02d}",
            "dimensions": {"decision": decision}}


def write_events(root: Path, rng: random.Random, per_day: int = 120) -> None:
    """Landing files for every day, with real-feed messiness: re-sends, late and bad rows."""
    sent: list[dict] = []
    for day in _days(FIRST_DAY, LAST_LANDING_DAY):
        folder = root / "landing" / "events" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        events = [_event(rng, n, day) for n in range(per_day)]
        if sent and rng.random() < 0.5:  # a client retry: yesterday's events re-sent
            events += rng.sample(sent[-per_day:], 5)
        if day.day == 2:  # a batch of last month's events arriving late (after the grace days)
            late_day = day - dt.timedelta(days=6)
            events += [_event(rng, 90_000 + n, late_day) for n in range(4)]
        lines = [json.dumps(e, separators=(",", ":")) for e in events]
        if day.day % 7 == 0:  # a few bad rows
            lines += ['{"event_id":"bad-%s","customer_id":"cust_001","meter":"api_calls"}' % day,
                      '{"event_id":"bad2-%s","customer_id":"cust_001","meter":"unknown_meter",'
                      '"timestamp":"%sT00:00:00Z"}' % (day, day), "not json at all"]
        half = len(lines) // 2
        (folder / "app-events.jsonl").write_text("\n".join(lines[:half]) + "\n")
        (folder / "batch-export.jsonl.gz").write_bytes(
            gzip.compress(("\n".join(lines[half:]) + "\n").encode(), mtime=0))
        sent = events


def write_demo_root(root: Path) -> None:
    """Write the whole demo data root (reference files and landing folders)."""
    rng = random.Random(SEED)
    ref = root / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "meters.yaml").write_text(METERS_YAML)
    write_events(root, rng)
