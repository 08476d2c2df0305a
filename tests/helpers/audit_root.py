"""A small billing data root for the audit-trail tests (lineage, manifest, verify): two customers
on one plan, a customer without a subscription, a meter no charge prices, SLA probes, and landing
days 2026-09-01 … 2026-11-03 so September and October close."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

START, END = dt.date(2026, 9, 1), dt.date(2026, 11, 3)
PERIODS = ("2026-09", "2026-10")

METERS = """\
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
  - {name: api_calls, aggregation: count}
  - {name: llm_tokens, aggregation: sum, required_dimensions: [model]}
  - {name: seats, aggregation: latest}
  - {name: storage_gb, aggregation: max}
"""
PRICING = """\
grace_days: 3
late_events: next_open_period
rounding: half_up
plans:
  - id: growth
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "300.00"}
    minimum_commitment: "400.00"
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.25", free_units: "2"}
      - {id: tokens_large, meter: llm_tokens, filter: {model: large}, model: graduated,
         tiers: [{up_to: "100", unit_price: "0.01"}, {up_to: null, unit_price: "0.005"}]}
      - {id: seats, meter: seats, model: per_unit, unit_price: "12.5"}
"""
CUSTOMERS = """\
customer_id,customer_name,plan_id,start_date,end_date
acme,Acme,growth,2026-01-01,
beta,Beta,growth,2026-09-10,
"""
SLA = """\
services: [cloud_meter]
target_uptime_pct: "99.9"
maintenance_notice_hours: 48
excused_causes: [customer_network]
shortfall_rounding: floor
credit_per_point_pct: "1"
max_credit_pct: "100"
require_claim: false
claim_window_days: 30
min_coverage_pct: "0"
"""


def _event(eid: str, customer: str, meter: str, when: str, value=None, **dims) -> str:
    row = {"event_id": eid, "customer_id": customer, "meter": meter, "timestamp": when}
    if value is not None:
        row["value"] = value
    if dims:
        row["dimensions"] = dims
    return json.dumps(row)


def landing_files() -> dict[str, dict[str, list[str]]]:
    """landing day → file name → lines."""
    return {
        "2026-09-02": {
            "a.jsonl": [
                _event("a1", "acme", "api_calls", "2026-09-02T10:00:00Z"),
                _event("a2", "acme", "api_calls", "2026-09-02T11:00:00Z"),
                _event("a3", "acme", "api_calls", "2026-09-02T12:00:00Z"),
                _event("t1", "acme", "llm_tokens", "2026-09-02T12:00:00Z", "150", model="large"),
                _event("t2", "acme", "llm_tokens", "2026-09-02T13:00:00Z", "40", model="small"),
                _event("s1", "acme", "seats", "2026-09-02T13:00:00Z", "4"),
                _event("g1", "acme", "storage_gb", "2026-09-02T13:00:00Z", "9"),
                _event("x1", "stranger", "api_calls", "2026-09-02T14:00:00Z"),
                "not json",
            ]
        },
        "2026-09-15": {
            "b.jsonl": [
                _event("b1", "beta", "api_calls", "2026-09-15T10:00:00Z"),
                _event("s2", "acme", "seats", "2026-09-15T10:00:00Z", "6"),
                _event("a1", "acme", "api_calls", "2026-09-02T10:00:00Z"),
            ]
        },
        "2026-10-02": {
            "c.jsonl": [
                _event("a4", "acme", "api_calls", "2026-09-30T23:00:00Z"),
                _event("b2", "beta", "api_calls", "2026-10-01T09:00:00Z"),
            ]
        },
        "2026-10-20": {
            "d.jsonl": [
                _event("a5", "acme", "api_calls", "2026-10-20T10:00:00Z"),
                _event("a6", "acme", "api_calls", "2026-09-25T10:00:00Z"),  # late: October
            ]
        },
    }


def probes() -> dict[str, str]:
    """landing day → CSV of probe results (a down hour in September)."""
    rows = ["checked_at,service,region,status"]
    for minute in range(60):
        rows.append(f"2026-09-05T10:{minute:02d}:00Z,cloud_meter,eu,down")
    return {"2026-09-05": "\n".join(rows) + "\n"}


def write_root(root: Path) -> Path:
    ref = root / "reference"
    ref.mkdir(parents=True)
    (ref / "meters.yaml").write_text(METERS)
    (ref / "pricing.yaml").write_text(PRICING)
    (ref / "customers.csv").write_text(CUSTOMERS)
    (ref / "sla.yaml").write_text(SLA)
    (ref / "maintenance.csv").write_text("service,start,end,announced_at\n")
    (ref / "excused_downtime.csv").write_text("service,start,end,cause\n")
    for day, files in landing_files().items():
        folder = root / "landing" / "events" / day
        folder.mkdir(parents=True)
        for name, lines in files.items():
            (folder / name).write_text("\n".join(lines) + "\n")
    for day, text in probes().items():
        folder = root / "landing" / "monitoring" / day
        folder.mkdir(parents=True)
        (folder / "probes.csv").write_text(text)
    return root


CORRECTIONS = {
    # September is open until 2026-10-03: a void and an amend of September events, a repeat of
    # an accepted id, an unknown event.
    "2026-09-20/c.jsonl": "\n".join(
        [
            '{"correction_id": "c1", "event_id": "a2", "action": "void"}',
            '{"correction_id": "c2", "event_id": "t1", "action": "amend", "value": "50"}',
            '{"correction_id": "c2", "event_id": "t1", "action": "amend", "value": "50"}',
            '{"correction_id": "c3", "event_id": "zz", "action": "void"}',
        ]
    )
    + "\n",
    # After September closed: applied to the first open period, October.
    "2026-10-10/d.csv": "correction_id,event_id,action,value\nc4,s2,amend,8\nc1,a3,void,\n",
}


def write_corrections(root: Path) -> Path:
    for name, text in CORRECTIONS.items():
        path = root / "landing" / "corrections" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


#: The monthly tables of a close (what the audit-trail and what-if tests compare).
MONTHLY = (
    "invoice_line_events",
    "invoice_lines",
    "invoices",
    "period_trace",
    "period_usage",
    "sla_credit_ledger",
    "sla_credits",
    "unbilled_usage",
    "uptime",
)
