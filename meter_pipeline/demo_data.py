"""A realistic, deterministic demo data root for ``meter-pipeline demo``
(docs/rules.md#12-running-it-partitions-schedules-and-commands).

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
# Meter definitions: what is counted, independent of price (docs/rules.md#5-meters).
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
# value_property / dimension_properties: where CloudEvents lines carry value and dimensions
# inside `data` (one landing day of the demo arrives as CloudEvents, as OpenMeter sends them).
  - {name: api_calls, aggregation: count, unit: call, dimension_properties: {region: $.region}}
  - {name: llm_tokens, aggregation: sum, unit: token, required_dimensions: [model],
     value_property: $.value, dimension_properties: {model: $.model}}
  - {name: storage_gb, aggregation: max, unit: GB, value_property: $.value}
  - {name: seats, aggregation: latest, unit: seat, value_property: $.value}
  - {name: active_users, aggregation: unique_count, unique_dimension: user_id,
     dimension_properties: {user_id: $.user_id}}
  # AI service agent: one event per end-customer message; conversation_id names the
  # (end customer, 24-hour window) the message falls in, so distinct ids = conversations.
  - {name: agent_conversations, aggregation: unique_count, unique_dimension: conversation_id,
     dimension_properties: {conversation_id: $.conversation_id}}
  # AI support bot: one event per closed ticket, outcome resolved | escalated.
  - {name: bot_tickets, aggregation: count, required_dimensions: [outcome],
     dimension_properties: {outcome: $.outcome}}
  # Chargeback recovery: recovered funds (USD) and prevented chargebacks.
  - {name: recovered_amount, aggregation: sum, unit: USD, value_property: $.value}
  - {name: chargebacks_prevented, aggregation: count}
  # Fraud screening: value of each screened transaction, decision approved | declined.
  - {name: screened_value, aggregation: sum, unit: USD, required_dimensions: [decision],
     value_property: $.value, dimension_properties: {decision: $.decision}}
"""

#: Usage and cost alerts (docs/alerts-and-formats.md): each fires once per period, on the first
#: landing day whose period-to-date figure reaches the threshold.
ALERTS_CSV = """customer_id,meter,threshold_kind,threshold
cust_003,llm_tokens,usage,150000
cust_015,agent_conversations,usage,50
cust_021,recovered_amount,usage,15000
cust_021,,cost,5000
"""
#: The landing day whose app-events file arrives as CloudEvents (the same events, another form).
CLOUDEVENTS_DAY = dt.date(2026, 10, 15)

PRICING_YAML = """\
# The demo price book: real usage- and outcome-based prices seen in the market
# (docs/rules.md#7-pricing).
grace_days: 3
late_events: next_open_period
rounding: half_up
plans:
  # Developer platform: tiered API calls, LLM tokens priced per model, storage by volume tier.
  - id: platform_growth
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "300.00"}
      - {service: billing_meter, amount: "200.00"}
    minimum_commitment: "1000.00"
    charges:
      - id: api_calls
        meter: api_calls
        model: graduated
        free_units: "100"
        tiers:
          - {up_to: "1000", unit_price: "0.05"}
          - {up_to: "10000", unit_price: "0.03"}
          - {up_to: null, unit_price: "0.01"}
      - {id: tokens_small, meter: llm_tokens, filter: {model: small}, model: per_unit, unit_price: "0.0000005"}
      - {id: tokens_large, meter: llm_tokens, filter: {model: large}, model: per_unit, unit_price: "0.000015"}
      - id: storage
        meter: storage_gb
        model: volume
        tiers:
          - {up_to: "100", unit_price: "0.25"}
          - {up_to: "500", unit_price: "0.20", flat_fee: "5"}
          - {up_to: null, unit_price: "0.15", flat_fee: "10"}
      - {id: seats, meter: seats, model: per_unit, unit_price: "12.00"}
      - {id: active_users, meter: active_users, model: package, package_size: "25", package_price: "10.00"}
  - id: platform_starter
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "49.00"}
    charges:
      - {id: api_calls, meter: api_calls, model: per_unit, unit_price: "0.04", free_units: "500"}
      - {id: tokens_small, meter: llm_tokens, filter: {model: small}, model: per_unit, unit_price: "0.0000006"}
      - {id: tokens_large, meter: llm_tokens, filter: {model: large}, model: per_unit, unit_price: "0.000018"}
  # The same platform for a customer billed in yen (JPY has no minor unit).
  - id: platform_growth_jp
    currency: JPY
    platform_fees:
      - {service: cloud_meter, amount: "45000"}
      - {service: billing_meter, amount: "30000"}
    charges:
      - {id: api_calls, meter: api_calls, model: per_unit, unit_price: "4.5"}
      - {id: tokens_large, meter: llm_tokens, filter: {model: large}, model: per_unit, unit_price: "0.0022"}
  # Outcome-based: an AI service agent at $2 per conversation and an AI support bot at $0.99
  # per successful resolution (nothing when a human has to step in).
  - id: ai_agents
    currency: USD
    platform_fees:
      - {service: billing_meter, amount: "99.00"}
    charges:
      - {id: conversations, meter: agent_conversations, model: per_unit, unit_price: "2.00"}
      - {id: resolutions, meter: bot_tickets, filter: {outcome: resolved}, model: per_unit, unit_price: "0.99"}
  # Outcome-based risk products: 25% of recovered chargeback funds plus $39 per prevented
  # chargeback; fraud screening at 0.4% of the value of each approved transaction.
  - id: risk_suite
    currency: USD
    platform_fees:
      - {service: billing_meter, amount: "150.00"}
    charges:
      - {id: chargeback_recovery, meter: recovered_amount, model: percentage, rate: "0.25"}
      - {id: chargebacks_prevented, meter: chargebacks_prevented, model: per_unit, unit_price: "39.00"}
      - {id: fraud_screening, meter: screened_value, filter: {decision: approved}, model: percentage, rate: "0.004"}
"""

SLA_YAML = """\
# Uptime target and service credits (docs/rules.md#8-uptime-and-sla-credits). This demo uses a
# credit ladder, as cloud providers do, instead of the linear "1% per 1%" rule.
services: [cloud_meter, billing_meter]
target_uptime_pct: "99.9"
maintenance_notice_hours: 48
excused_causes: [customer_network, third_party, force_majeure, suspension, misuse]
credit_schedule:
  - {below: "99.9", credit_pct: "10"}
  - {below: "99.0", credit_pct: "25"}
  - {below: "95.0", credit_pct: "100"}
require_claim: false
claim_window_days: 30
min_coverage_pct: "99"
"""

# An announced window (excused), an unannounced one (announced 2 h before: counted as down).
MAINTENANCE_CSV = """service,start,end,announced_at
cloud_meter,2026-08-20T02:00:00Z,2026-08-20T03:00:00Z,2026-08-15T09:00:00Z
billing_meter,2026-10-14T01:00:00Z,2026-10-14T01:30:00Z,2026-10-13T23:00:00Z
"""

EXCUSED_CSV = """service,start,end,cause
*,2026-08-27T10:00:00Z,2026-08-27T10:20:00Z,third_party
"""

#: (service, first down minute, minutes): the real outage is cloud_meter on 16 September.
OUTAGES = [
    ("cloud_meter", dt.datetime(2026, 9, 16, 13, 5, tzinfo=dt.UTC), 185),
    ("cloud_meter", dt.datetime(2026, 8, 20, 2, 0, tzinfo=dt.UTC), 60),  # maintenance
    ("billing_meter", dt.datetime(2026, 10, 14, 1, 0, tzinfo=dt.UTC), 30),
    ("billing_meter", dt.datetime(2026, 8, 27, 10, 0, tzinfo=dt.UTC), 20),
]

PLANS = {  # customer → subscriptions (plan, start, end)
    **{f"cust_{i:03d}": [("platform_growth", "2026-01-01", "")] for i in range(1, 9)},
    **{f"cust_{i:03d}": [("platform_starter", "2026-03-01", "")] for i in range(9, 15)},
    **{f"cust_{i:03d}": [("ai_agents", "2026-05-01", "")] for i in range(15, 21)},
    **{f"cust_{i:03d}": [("risk_suite", "2026-02-01", "")] for i in range(21, 27)},
    "cust_027": [("platform_growth_jp", "2026-04-01", "")],
    # a plan change in the middle of September
    "cust_028": [
        ("platform_starter", "2026-06-01", "2026-09-14"),
        ("platform_growth", "2026-09-15", ""),
    ],
    # a customer that starts mid-month, and one that leaves at the end of September
    "cust_029": [("platform_growth", "2026-08-10", "")],
    "cust_030": [("platform_growth", "2026-01-01", "2026-09-30")],
}
# cust_031 sends usage but has no subscription: reported as unbilled usage.
CUSTOMERS = sorted(PLANS) + ["cust_031"]
MODELS = ("small", "large")


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _event(rng: random.Random, n: int, day: dt.date) -> dict:
    """One event from a random customer, of a meter that customer's product emits."""
    customer = rng.choice(CUSTOMERS)
    product = PLANS[customer][-1][0] if customer in PLANS else "platform_starter"
    when = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(
        seconds=rng.randrange(86_400), milliseconds=rng.randrange(1000)
    )
    base = {
        "event_id": f"evt-{day:%Y%m%d}-{n:05d}",
        "customer_id": customer,
        "timestamp": _iso(when),
    }
    kind = rng.random()
    if product == "ai_agents":
        if kind < 0.6:  # one event per end-customer message
            user = rng.randrange(25)
            return {
                **base,
                "meter": "agent_conversations",
                "dimensions": {"conversation_id": f"enduser{user}/{day.isoformat()}"},
            }
        outcome = "resolved" if rng.random() < 0.7 else "escalated"
        return {**base, "meter": "bot_tickets", "dimensions": {"outcome": outcome}}
    if product == "risk_suite":
        if kind < 0.3:
            return {
                **base,
                "meter": "recovered_amount",
                "value": f"{rng.randrange(20, 900)}.{rng.randrange(100):02d}",
            }
        if kind < 0.45:
            return {**base, "meter": "chargebacks_prevented"}
        decision = "approved" if rng.random() < 0.9 else "declined"
        return {
            **base,
            "meter": "screened_value",
            "dimensions": {"decision": decision},
            "value": f"{rng.randrange(5, 2000)}.{rng.randrange(100):02d}",
        }
    if kind < 0.45:
        return {**base, "meter": "api_calls", "dimensions": {"region": rng.choice(["eu", "us"])}}
    if kind < 0.70:
        return {
            **base,
            "meter": "llm_tokens",
            "value": rng.randrange(100, 20_000),
            "dimensions": {"model": rng.choice(MODELS)},
        }
    if kind < 0.80:
        return {
            **base,
            "meter": "storage_gb",
            "value": f"{rng.randrange(10, 900)}.{rng.randrange(100):02d}",
        }
    if kind < 0.85:
        return {**base, "meter": "seats", "value": rng.randrange(3, 40)}
    return {**base, "meter": "active_users", "dimensions": {"user_id": f"u{rng.randrange(60)}"}}


def write_events(root: Path, rng: random.Random, per_day: int = 120) -> None:
    """Landing files for every day, with real-feed messiness: re-sends, late and bad rows."""
    sent: list[dict] = []
    for day in _days(FIRST_DAY, LAST_LANDING_DAY):
        folder = root / "landing" / "events" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        events = [_event(rng, n, day) for n in range(per_day)]
        if sent and rng.random() < 0.5:  # a client retry: yesterday's events re-sent
            events += rng.sample(sent[-per_day:], 5)
        if sent and day.day == 12:  # a conflicting re-send: same id, another value
            first = next(e for e in sent if "value" in e)
            events.append({**first, "value": str(first["value"]) + "1"})
        if day.day == 5:  # last month's events arriving late (after the grace days)
            late_day = day - dt.timedelta(days=7)
            events += [_event(rng, 90_000 + n, late_day) for n in range(4)]
        lines = [json.dumps(e, separators=(",", ":")) for e in events]
        if day.day % 7 == 0:  # a few bad rows
            lines += [
                '{"event_id":"bad-%s","customer_id":"cust_001","meter":"api_calls"}' % day,
                '{"event_id":"bad2-%s","customer_id":"cust_001","meter":"unknown_meter",'
                '"timestamp":"%sT00:00:00Z"}' % (day, day),
                "not json at all",
            ]
        half = len(lines) // 2
        if day == CLOUDEVENTS_DAY:  # this day's app events come from an OpenMeter collector
            (folder / "openmeter-cloudevents.jsonl").write_text(
                "\n".join(cloudevent(json.loads(line)) for line in lines[:half]) + "\n"
            )
        else:
            (folder / "app-events.jsonl").write_text("\n".join(lines[:half]) + "\n")
        (folder / "batch-export.jsonl.gz").write_bytes(
            gzip.compress(("\n".join(lines[half:]) + "\n").encode(), mtime=0)
        )
        sent = events


def cloudevent(event: dict) -> str:
    """A native event as a CloudEvents 1.0 line: value and dimensions inside ``data``, where
    meters.yaml's value_property / dimension_properties point."""
    data = dict(event.get("dimensions", {}))
    if "value" in event:
        data["value"] = event["value"]
    line = {
        "specversion": "1.0",
        "id": event["event_id"],
        "source": "//collector.demo.example/openmeter",
        "type": event["meter"],
        "subject": event["customer_id"],
        "time": event["timestamp"],
        "data": data,
    }
    return json.dumps(line, separators=(",", ":"))


def write_demo_root(root: Path) -> None:
    """Write the whole demo data root (reference files and landing folders)."""
    rng = random.Random(SEED)
    ref = root / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    (ref / "meters.yaml").write_text(METERS_YAML)
    (ref / "pricing.yaml").write_text(PRICING_YAML)
    (ref / "sla.yaml").write_text(SLA_YAML)
    (ref / "maintenance.csv").write_text(MAINTENANCE_CSV)
    (ref / "excused_downtime.csv").write_text(EXCUSED_CSV)
    (ref / "alerts.csv").write_text(ALERTS_CSV)
    rows = ["customer_id,customer_name,plan_id,start_date,end_date"]
    for customer, subs in sorted(PLANS.items()):
        name = f"Demo Customer {customer[-3:]}"
        rows += [f"{customer},{name},{plan},{start},{end}" for plan, start, end in subs]
    (ref / "customers.csv").write_text("\n".join(rows) + "\n")
    write_events(root, rng)
    write_monitoring(root, rng)
    write_corrections(root)


#: Corrections (docs/audit.md), landing day → lines of ``corrections.jsonl``; no random draw, so
#: the events and probes stay the same. On 20 October, after September closed (its last landing
#: day is 3 October), cust_022's recovery of 7 September (255.00) is amended to 155.00: September
#: stays as issued and cust_022's October invoice carries an adjustment of 100.00 × 25 % = −25.00
#: for chargeback_recovery earned in September. On 22 October one of cust_023's prevented
#: chargebacks of 16 October is voided: October is still open, so it bills 18 instead of 19
#: (−39.00 on the chargebacks_prevented line).
CORRECTIONS = {
    "2026-10-20": [
        '{"correction_id":"corr-0001","event_id":"evt-20260907-00048","action":"amend",'
        '"value":"155.00"}'
    ],
    "2026-10-22": ['{"correction_id":"corr-0002","event_id":"evt-20261016-00037","action":"void"}'],
}


def write_corrections(root: Path) -> None:
    for day, lines in CORRECTIONS.items():
        folder = root / "landing" / "corrections" / day
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "corrections.jsonl").write_text("\n".join(lines) + "\n")


def write_monitoring(root: Path, rng: random.Random) -> None:
    """One probe a minute per service from two regions; exports land daily, a few probes
    re-delivered in the next day's export (overlap)."""
    down = set()
    for service, first, minutes in OUTAGES:
        for m in range(minutes):
            down.add((service, first + dt.timedelta(minutes=m)))
    start = dt.datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=dt.UTC)
    for day in _days(FIRST_DAY, LAST_LANDING_DAY - dt.timedelta(days=3)):
        lines = ["checked_at,service,region,status,latency_ms"]
        day_start = start + dt.timedelta(days=(day - FIRST_DAY).days)
        for minute in range(1440):
            at = day_start + dt.timedelta(minutes=minute)
            for service in ("cloud_meter", "billing_meter"):
                status = "down" if (service, at) in down else "up"
                for region in ("eu-west", "us-east"):
                    stamp = at + dt.timedelta(seconds=7 if region == "eu-west" else 31)
                    lines.append(
                        f"{stamp:%Y-%m-%dT%H:%M:%SZ},{service},{region},{status},"
                        f"{rng.randrange(20, 90)}"
                    )
        # exports land the next morning; the last ten minutes are delivered twice
        landed = day + dt.timedelta(days=1)
        folder = root / "landing" / "monitoring" / landed.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        body = "\n".join(lines) + "\n"
        (folder / f"probes-{day.isoformat()}.csv.gz").write_bytes(
            gzip.compress(body.encode(), mtime=0)
        )
        (folder / f"probes-{day.isoformat()}-tail.csv").write_text(
            "\n".join([lines[0]] + lines[-40:]) + "\n"
        )
