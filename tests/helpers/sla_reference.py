"""An independent reference for the SLA end-to-end test (SPEC §5–§7), in plain Python.

Nothing here imports ``meter_pipeline``: it reads the files of a data root the way SPEC describes
them and recomputes, with :class:`fractions.Fraction` and :class:`decimal.Decimal` only, what the
pipeline must write to ``uptime``, ``sla_credits``, ``sla_credit_ledger``, ``invoice_lines`` and
``invoices``. It covers only what the e2e data root uses: JSONL events of ``count`` meters,
``per_unit`` charges without free units or minimums, the linear credit rule, no claims.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import yaml

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
MINOR_UNITS = {"USD": 2, "JPY": 0}


# --- periods (SPEC §5) -------------------------------------------------------------------------


def bounds(period: str) -> tuple[dt.date, dt.date]:
    year, month = int(period[:4]), int(period[5:7])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def next_period(period: str) -> str:
    day = bounds(period)[1] + dt.timedelta(days=1)
    return f"{day.year:04d}-{day.month:02d}"


def last_landing(period: str, grace: int) -> dt.date:
    return bounds(period)[1] + dt.timedelta(days=grace)


def billing_period(event_day: dt.date, landing: dt.date, grace: int) -> str:
    """Event month when it landed in time, else the earliest period still open at landing."""
    period = f"{event_day.year:04d}-{event_day.month:02d}"
    while last_landing(period, grace) < landing:
        period = next_period(period)
    return period


# --- money and percentages ---------------------------------------------------------------------


def round_half_up(value: Fraction, minor: int) -> Decimal:
    """A non-negative exact amount rounded once, half up, to ``minor`` decimals."""
    assert value >= 0
    scaled = value * 10**minor
    whole = math.floor(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole).scaleb(-minor)


def shown(value: Fraction) -> Decimal:
    """decimal(9, 4) rounded down."""
    return Decimal(math.floor(value * 10_000)).scaleb(-4)


# --- reference data ----------------------------------------------------------------------------


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Sub:
    customer: str
    plan: str
    start: dt.date
    end: dt.date | None

    def active_days(self, first: dt.date, last: dt.date) -> int:
        lo, hi = max(first, self.start), last if self.end is None else min(last, self.end)
        return max((hi - lo).days + 1, 0)

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class Reference:
    root: Path
    pricing: dict = field(init=False)
    sla: dict = field(init=False)
    subs: list[Sub] = field(init=False)
    grace: int = field(init=False)

    def __post_init__(self) -> None:
        ref = self.root / "reference"
        self.pricing = yaml.safe_load((ref / "pricing.yaml").read_text())
        self.sla = yaml.safe_load((ref / "sla.yaml").read_text())
        self.grace = int(self.pricing.get("grace_days", 3))
        self.plans = {p["id"]: p for p in self.pricing["plans"]}
        self.subs = [
            Sub(
                r["customer_id"],
                r["plan_id"],
                dt.date.fromisoformat(r["start_date"]),
                dt.date.fromisoformat(r["end_date"]) if r["end_date"] else None,
            )
            for r in _csv(ref / "customers.csv")
        ]
        self.services = list(self.sla["services"])
        self.target = Fraction(self.sla["target_uptime_pct"])
        self.intervals = self._excused_intervals(ref)
        self.events = self._clean_events()

    # --- §7.2 ----------------------------------------------------------------------------------
    def _excused_intervals(self, ref: Path) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
        notice = dt.timedelta(hours=int(self.sla.get("maintenance_notice_hours", 48)))
        causes = set(self.sla["excused_causes"])
        picked = [
            (r["service"], _time(r["start"]), _time(r["end"]))
            for r in _csv(ref / "maintenance.csv")
            if _time(r["start"]) - _time(r["announced_at"]) >= notice
        ]
        picked += [
            (r["service"], _time(r["start"]), _time(r["end"]))
            for r in _csv(ref / "excused_downtime.csv")
            if r["cause"] in causes
        ]
        out: dict[str, list] = defaultdict(list)
        for service, start, end in picked:
            for s in self.services if service == "*" else [service]:
                out[s].append((start, end))
        return out

    def _excused(self, service: str, minute: dt.datetime) -> bool:
        return any(
            start < minute + MINUTE and end > minute
            for start, end in self.intervals.get(service, ())
        )

    # --- §7.1, §7.3 ----------------------------------------------------------------------------
    def probes(self) -> list[tuple[dt.date, str, str, str, str]]:
        """Every probe row of every export: (landing day, checked_at text, service, region,
        status), in no particular order."""
        rows = []
        for folder in sorted((self.root / "landing" / "monitoring").iterdir()):
            day = dt.date.fromisoformat(folder.name)
            for path in sorted(folder.glob("*.csv")):
                for r in _csv(path):
                    rows.append((day, r["checked_at"], r["service"], r["region"], r["status"]))
        return rows

    def uptime(self, period: str, probes: list) -> dict[str, dict]:
        """Per service: minutes, down, excused, no_data, exact uptime and coverage."""
        first, last = bounds(period)
        read_from, read_to = first - dt.timedelta(days=1), last_landing(period, self.grace)
        start = dt.datetime.combine(first, dt.time(), UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), UTC)
        down_of: dict[tuple, bool] = {}
        for day, checked_at, service, region, status in probes:
            if (
                not read_from <= day <= read_to
                or service not in self.services
                or status not in ("up", "down")
            ):
                continue
            when = _time(checked_at)
            if start <= when < end:
                key = (service, region, when)
                down_of[key] = down_of.get(key, False) or status == "down"
        per_minute: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
        for (service, _region, when), down in down_of.items():
            counts = per_minute[(service, when.replace(second=0, microsecond=0))]
            counts[0] += 1
            counts[1] += down
        minutes = ((last - first).days + 1) * 1440
        out = {}
        for service in self.services:
            with_data = [(m, c) for (s, m), c in per_minute.items() if s == service]
            down = [m for m, (n, d) in with_data if 2 * d > n]
            excused = [m for m in down if self._excused(service, m)]
            exact = Fraction(100 * (minutes - len(down) + len(excused)), minutes)
            out[service] = {
                "minutes": minutes,
                "down_minutes": len(down),
                "excused_minutes": len(excused),
                "no_data_minutes": minutes - len(with_data),
                "exact": exact,
                "coverage": Fraction(100 * len(with_data), minutes),
            }
        return out

    # --- §7.4 ----------------------------------------------------------------------------------
    def credit_pct(self, uptime: Fraction) -> Fraction:
        assert "credit_schedule" not in self.sla and self.sla["shortfall_rounding"] == "floor"
        shortfall = self.target - uptime
        if shortfall <= 0:
            return Fraction(0)
        return min(
            math.floor(shortfall) * Fraction(self.sla["credit_per_point_pct"]),
            Fraction(self.sla["max_credit_pct"]),
        )

    # --- §3.2, §5 events -----------------------------------------------------------------------
    def _clean_events(self) -> list[dict]:
        """First copy of each event_id in arrival order (all test events are valid)."""
        seen, out = set(), []
        for folder in sorted((self.root / "landing" / "events").iterdir()):
            landing = dt.date.fromisoformat(folder.name)
            for path in sorted(folder.glob("*.jsonl"), key=lambda p: p.name.encode()):
                for line in path.read_text().splitlines():
                    event = json.loads(line)
                    if event["event_id"] in seen:
                        continue
                    seen.add(event["event_id"])
                    day = _time(event["timestamp"]).date()
                    out.append(
                        {**event, "day": day, "period": billing_period(day, landing, self.grace)}
                    )
        return out

    # --- §6 invoices ---------------------------------------------------------------------------
    def invoice(self, period: str) -> dict[str, dict]:
        """Per invoiced customer: currency, platform fee lines, subtotal (credits not applied)."""
        first, last = bounds(period)
        days = last.day
        rows: dict[str, dict] = {}
        for sub in self.subs:
            plan = self.plans[sub.plan]
            events = [
                e
                for e in self.events
                if e["period"] == period
                and e["customer_id"] == sub.customer
                and sub.covers(e["day"])
            ]
            active = sub.active_days(first, last)
            if active == 0 and not events:
                continue
            inv = rows.setdefault(
                sub.customer, {"currency": plan["currency"], "fees": [], "subtotal": Decimal(0)}
            )
            minor = MINOR_UNITS[plan["currency"]]
            if active:
                for fee in plan.get("platform_fees") or []:
                    amount = round_half_up(Fraction(Decimal(fee["amount"])) * active / days, minor)
                    inv["fees"].append((sub.plan, fee["service"], amount))
                    inv["subtotal"] += amount
            for charge in plan["charges"]:
                assert charge["model"] == "per_unit" and "free_units" not in charge
                count = sum(e["meter"] == charge["meter"] for e in events)
                inv["subtotal"] += round_half_up(
                    count * Fraction(Decimal(charge["unit_price"])), minor
                )
        return rows

    def has_later_subscription(self, customer: str, period: str) -> bool:
        last = bounds(period)[1]
        return any(s.customer == customer and (s.end is None or s.end > last) for s in self.subs)

    # --- the whole run ---------------------------------------------------------------------------
    def run(self, periods: list[str]) -> dict[str, dict]:
        """Per period: uptime, credits, ledger, credit lines and invoices, as SPEC §7.4 says.

        Outstanding credits are applied oldest earned period first, then by service, on the
        customer's next invoice, capped by its subtotal; the rest carried while a later
        subscription exists, else forfeited.
        """
        probes = self.probes()
        outstanding: dict[str, list[dict]] = defaultdict(list)  # customer → open credits
        result = {}
        for period in periods:
            uptime = self.uptime(period, probes)
            invoices = self.invoice(period)
            credits, ledger, lines = [], [], defaultdict(list)
            # credits earned in the period
            earned = defaultdict(list)
            for customer, inv in sorted(invoices.items()):
                minor = MINOR_UNITS[inv["currency"]]
                for service in sorted(self.services):
                    pct = self.credit_pct(uptime[service]["exact"])
                    fee = sum((a for _, s, a in inv["fees"] if s == service), Decimal(0))
                    amount = round_half_up(Fraction(fee) * pct / 100, minor)
                    credits.append(
                        {
                            "customer_id": customer,
                            "service": service,
                            "earned_period": period,
                            "currency": inv["currency"],
                            "uptime_pct": shown(uptime[service]["exact"]),
                            "credit_pct": shown(pct),
                            "fee_amount": fee,
                            "credit_amount": amount,
                            "status": "granted" if amount > 0 else "none",
                        }
                    )
                    if amount > 0:
                        earned[customer].append(
                            {
                                "service": service,
                                "earned_period": period,
                                "amount": amount,
                                "balance": amount,
                            }
                        )
            # apply what was outstanding at the period's start, then settle what is left
            for customer in sorted(set(outstanding) | set(earned)):
                capacity = invoices[customer]["subtotal"] if customer in invoices else Decimal(0)
                stays = self.has_later_subscription(customer, period)
                keep = []
                for credit in sorted(
                    outstanding[customer], key=lambda c: (c["earned_period"], c["service"])
                ):
                    opening = credit["balance"]
                    applied = min(opening, capacity)
                    capacity -= applied
                    left = opening - applied
                    ledger.append(
                        {
                            "customer_id": customer,
                            **_key(credit),
                            "amount": credit["amount"],
                            "opening": opening,
                            "applied": applied,
                            "carried": left if stays else 0,
                            "forfeited": 0 if stays else left,
                        }
                    )
                    if applied:
                        lines[customer].append(
                            (credit["service"], credit["earned_period"], -applied)
                        )
                    if stays and left:
                        keep.append({**credit, "balance": left})
                for credit in earned[customer]:
                    amount = credit["amount"]
                    ledger.append(
                        {
                            "customer_id": customer,
                            **_key(credit),
                            "amount": amount,
                            "opening": amount,
                            "applied": 0,
                            "carried": amount if stays else 0,
                            "forfeited": 0 if stays else amount,
                        }
                    )
                    if stays:
                        keep.append(credit)
                outstanding[customer] = keep
            totals = {}
            for customer, inv in invoices.items():
                credit = sum((a for _, _, a in lines[customer]), Decimal(0))
                totals[customer] = {
                    "currency": inv["currency"],
                    "subtotal": inv["subtotal"],
                    "credits": credit,
                    "total": inv["subtotal"] + credit,
                }
            result[period] = {
                "uptime": uptime,
                "invoices": invoices,
                "sla_credits": credits,
                "ledger": ledger,
                "credit_lines": dict(lines),
                "totals": totals,
            }
        return result


def _key(credit: dict) -> dict:
    return {"service": credit["service"], "earned_period": credit["earned_period"]}
