"""A generated two-month data root and a second, deliberately simple billing implementation.

The end-to-end billing test (``tests/e2e/test_billing_backfill.py``) writes the data root built
here, runs ``meter-pipeline backfill`` over it and compares the warehouse with what this module
computes.

Two halves:

- **The scenario** (:func:`build_scenario`): reference files and landing files (JSONL, gzipped
  NDJSON, CSV) written the way senders would, from a seeded ``random.Random``. Every row is kept
  as a Python object, :class:`Row`, holding the event it carries (its ground truth) or the reason
  it must be quarantined. The background traffic is random; the cases that matter (late events,
  duplicates, bad rows, edges of days and months) are written out one by one.
- **The reference** (:func:`reference_ingestion`, :func:`reference_billing`): SPEC §3.2, §4, §5
  and §6 re-implemented straight from the text, with Python's ``decimal`` module and plain loops.
  Corrections (§15) live in :mod:`tests.helpers.correction_reference`, which feeds
  :func:`reference_billing` the effective events and the adjustment lines.
  It reads the reference files with ``yaml``/``csv`` itself and imports nothing from
  ``meter_pipeline``, so a bug in the code under test cannot hide in both.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import gzip
import io
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import yaml

UTC = dt.UTC
D = Decimal
DAY = dt.timedelta(days=1)

LANDING_START = dt.date(2026, 8, 1)
LANDING_END = dt.date(2026, 10, 3)  # August and September close (09-03, 10-03)
PERIODS = ("2026-08", "2026-09")
LATE_FILE_DAY = dt.date(2026, 9, 10)  # after August's last landing day: the later delivery

METERS_YAML = """\
max_event_age_days: 35
future_tolerance: 1h
dedup_window_days: 40
meters:
  - {name: api_calls, aggregation: count, unit: call}
  - {name: llm_tokens, aggregation: sum, unit: token, required_dimensions: [model]}
  - {name: storage_gb, aggregation: max}
  - {name: seats, aggregation: latest}
  - {name: active_users, aggregation: unique_count, unique_dimension: user_id}
  - {name: recovered_amount, aggregation: sum, unit: USD}
"""

PRICING_YAML = """\
grace_days: 3
late_events: next_open_period
rounding: half_up
plans:
  - id: starter
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "49.00"}
    minimum_commitment: "150.00"
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.125", free_units: "20"}
      - id: tokens
        meter: llm_tokens
        model: graduated
        tiers:
          - {up_to: "10000", unit_price: "0.0009", flat_fee: "2.50"}
          - {up_to: null, unit_price: "0.0007", flat_fee: "1.25"}
  - id: growth
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "300.00"}
      - {service: billing_meter, amount: "200.00"}
    minimum_commitment: "1000.00"
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.137", free_units: "15"}
      - id: tokens_large
        meter: llm_tokens
        filter: {model: large}
        model: graduated
        tiers:
          - {up_to: "5000", unit_price: "0.0013", flat_fee: "1.50"}
          - {up_to: "20000", unit_price: "0.00091", flat_fee: "2.25"}
          - {up_to: null, unit_price: "0.0007"}
      - id: tokens_small
        meter: llm_tokens
        filter: {model: small}
        model: per_unit
        unit_price: "0.00033"
      - id: storage
        meter: storage_gb
        model: volume
        tiers:
          - {up_to: "100", unit_price: "0.10"}
          - {up_to: null, unit_price: "0.08", flat_fee: "5"}
      - {id: exports, meter: api_calls, model: package, package_size: "25", package_price: "5.00"}
      - {id: recovered, meter: recovered_amount, model: percentage, rate: "0.25",
         fee_per_event: "0.015"}
      - {id: seats, meter: seats, model: per_unit, unit_price: "7.50"}
      - id: users
        meter: active_users
        model: graduated
        tiers:
          - {up_to: "3", unit_price: "0"}
          - {up_to: null, unit_price: "4.99"}
  - id: enterprise
    currency: USD
    platform_fees:
      - {service: cloud_meter, amount: "900.00"}
      - {service: billing_meter, amount: "600.00"}
    minimum_commitment: "2000.00"
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.09", free_units: "40"}
      - id: tokens
        meter: llm_tokens
        model: graduated
        tiers:
          - {up_to: "10000", unit_price: "0.0011", flat_fee: "10"}
          - {up_to: null, unit_price: "0.0006"}
      - id: storage
        meter: storage_gb
        model: volume
        free_units: "20"
        tiers:
          - {up_to: "50", unit_price: "0.12"}
          - {up_to: "200", unit_price: "0.09", flat_fee: "2.50"}
          - {up_to: null, unit_price: "0.07", flat_fee: "7"}
      - {id: recovered, meter: recovered_amount, model: percentage, rate: "0.2"}
      - {id: seats, meter: seats, model: per_unit, unit_price: "6.00"}
  - id: jp_basic
    currency: JPY
    platform_fees:
      - {service: cloud_meter, amount: "9800"}
    minimum_commitment: "30000"
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.5"}
      - id: tokens
        meter: llm_tokens
        model: graduated
        tiers:
          - {up_to: "20000", unit_price: "0.013"}
          - {up_to: null, unit_price: "0.0085", flat_fee: "120"}
  - id: jp_pro
    currency: JPY
    platform_fees:
      - {service: cloud_meter, amount: "29800"}
      - {service: billing_meter, amount: "4980"}
    minimum_commitment: "50000"
    charges:
      - {id: api, meter: api_calls, model: per_unit, unit_price: "0.35", free_units: "50"}
      - id: tokens
        meter: llm_tokens
        model: volume
        tiers:
          - {up_to: "100000", unit_price: "0.011"}
          - {up_to: null, unit_price: "0.009", flat_fee: "500"}
      - {id: exports, meter: api_calls, model: package, package_size: "10", package_price: "120"}
"""

# acme changes plan on 08-21; beta starts mid-August; delta ends mid-September (and keeps sending);
# foxtrot starts 09-05 (earlier events are unbilled); golf never sends anything; hotel ended
# 08-10 but has late August events; kyoto pays in yen and changes plan on 09-18. ghost has usage
# and no subscription at all; india is on enterprise for August only (its September invoice is made
# of adjustments: a credit note).
CUSTOMERS_CSV = """\
customer_id,customer_name,plan_id,start_date,end_date
acme,Acme Corp,growth,2026-06-01,2026-08-20
acme,Acme Corp,enterprise,2026-08-21,
beta,"Beta GmbH, Berlin",growth,2026-08-12,
delta,Delta LLC,starter,2026-08-01,2026-09-15
foxtrot,Foxtrot Ltd,starter,2026-09-05,
golf,Golf Inc,starter,2026-08-10,
hotel,Hotel SA,starter,2026-07-01,2026-08-10
kyoto,Kyoto KK,jp_basic,2026-08-01,2026-09-17
kyoto,Kyoto KK,jp_pro,2026-09-18,
india,India Pvt Ltd,enterprise,2026-08-01,2026-08-31
"""

CSV_HEADER = [
    "event_id",
    "customer_id",
    "meter",
    "timestamp",
    "value",
    "dimensions.model",
    "dimensions.region",
    "dimensions.user_id",
]
NATIVE = {
    "event_id": "event_id",
    "customer_id": "customer_id",
    "meter": "meter",
    "timestamp": "timestamp",
    "value": "value",
}
AMBERFLO = {
    "event_id": "uniqueId",
    "customer_id": "customerId",
    "meter": "meterApiName",
    "timestamp": "meterTimeInMillis",
    "value": "meterValue",
}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


# ----------------------------------------------------------------------------------------------
# The scenario: ground truth as Python objects, and the files that carry it
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """What a valid row means: the truth the pipeline must recover from the file's text."""

    event_id: str
    customer: str
    meter: str
    time: dt.datetime  # UTC, microseconds
    value_text: str | None = None  # as the sender wrote it (JSON number text)
    dims: tuple[tuple[str, str], ...] = ()


@dataclass
class Row:
    """One data row of a landing file: a valid event, or a bad row with its expected reason."""

    landing: dt.date
    file: str  # file name inside landing/events/<landing>/
    event: Event | None = None
    reason: str | None = None  # quarantine reason of a bad row ("blank": skipped line)
    raw: str | None = None  # the exact text of a bad row (JSONL line / CSV record)
    style: dict[str, Any] = field(default_factory=dict)
    line: int = 0  # set when the file is written

    @property
    def source_file(self) -> str:
        return f"landing/events/{self.landing.isoformat()}/{self.file}"

    @property
    def arrival(self) -> tuple:
        """SPEC §3.2 arrival order: landing date, source path in byte order, line number."""
        return (self.landing, self.source_file.encode(), self.line)


def _ts_text(t: dt.datetime, style: str) -> str:
    """The timestamp token of a JSON line (quoted string or bare epoch-millisecond integer)."""
    if style == "ms":
        assert t.microsecond % 1000 == 0
        return str((t - EPOCH) // dt.timedelta(milliseconds=1))
    if style == "ns":  # 9 fraction digits: beyond microseconds is truncated
        return f'"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond:06d}789Z"'
    frac = (
        ""
        if t.microsecond == 0
        else (
            f".{t.microsecond // 1000:03d}"
            if t.microsecond % 1000 == 0
            else f".{t.microsecond:06d}"
        )
    )
    if style == "z":
        return f'"{t:%Y-%m-%dT%H:%M:%S}{frac}Z"'
    sign, hh, mm = style[0], int(style[1:3]), int(style[4:6])
    offset = dt.timedelta(hours=hh, minutes=mm) * (1 if sign == "+" else -1)
    return f'"{t + offset:%Y-%m-%dT%H:%M:%S}{frac}{style}"'


def render_jsonl(row: Row) -> str:
    if row.raw is not None:
        return row.raw
    ev, style = row.event, row.style
    names = AMBERFLO if style.get("amberflo") else NATIVE
    parts = [
        (names["event_id"], json.dumps(ev.event_id)),
        (names["customer_id"], json.dumps(ev.customer)),
        (names["meter"], json.dumps(ev.meter)),
        (names["timestamp"], _ts_text(ev.time, style.get("ts", "z"))),
    ]
    if ev.value_text is not None:
        token = ev.value_text if style.get("value_as") == "number" else json.dumps(ev.value_text)
        parts.append((names["value"], token))
    if ev.dims:
        parts.append(("dimensions", json.dumps(dict(ev.dims))))
    if style.get("extra"):
        parts.append(("sdk_version", json.dumps("2.4.1")))
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in parts) + "}"


def render_csv(row: Row) -> str:
    if row.raw is not None:
        return row.raw
    ev = row.event
    ts = _ts_text(ev.time, row.style.get("ts", "z")).strip('"')
    dims = dict(ev.dims)
    cells = [
        ev.event_id,
        ev.customer,
        ev.meter,
        ts,
        ev.value_text or "",
        dims.get("model", ""),
        dims.get("region", ""),
        dims.get("user_id", ""),
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def write_rows(root: Path, rows: list[Row]) -> None:
    """Write the landing files of ``rows`` (grouped by day and file, in list order); set each
    row's line number (JSONL: physical line; CSV: data row, the header being row 0)."""
    files: dict[tuple[dt.date, str], list[Row]] = defaultdict(list)
    for row in rows:
        files[(row.landing, row.file)].append(row)
    for (landing, name), frows in files.items():
        folder = root / "landing" / "events" / landing.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        is_csv = ".csv" in name
        lines = [",".join(CSV_HEADER)] if is_csv else []
        for row in frows:
            lines.append(render_csv(row) if is_csv else render_jsonl(row))
            row.line = len(lines) - 1 if is_csv else len(lines)
        data = ("\n".join(lines) + "\n").encode()
        (folder / name).write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)


@dataclass
class Scenario:
    rows: list[Row]  # every row of the first delivery
    late_rows: list[Row]  # the file that lands on LATE_FILE_DAY after the months closed
    corrections: list = field(default_factory=list)  # correction_reference.CorrectionRow

    def write_reference(self, root: Path) -> None:
        ref = root / "reference"
        ref.mkdir(parents=True, exist_ok=True)
        (ref / "meters.yaml").write_text(METERS_YAML)
        (ref / "pricing.yaml").write_text(PRICING_YAML)
        (ref / "customers.csv").write_text(CUSTOMERS_CSV)

    def write(self, root: Path) -> None:
        self.write_reference(root)
        write_rows(root, self.rows)
        from tests.helpers.correction_reference import write_corrections

        write_corrections(root, self.corrections)
        # Not an event file: listed in the audit as skipped, never read.
        notes = root / "landing" / "events" / "2026-08-03" / "notes.txt"
        notes.write_text("ops: replayed the exporter at 09:00\n")

    def deliver_late_file(self, root: Path) -> None:
        write_rows(root, self.late_rows)


# Background traffic per customer: event dates [first, last] and the mean events per day per meter.
PROFILES: dict[str, tuple[str, str, dict[str, float]]] = {
    "acme": (
        "2026-08-01",
        "2026-10-03",
        {
            "api_calls": 2,
            "llm_tokens": 2,
            "storage_gb": 0.5,
            "seats": 0.3,
            "active_users": 1,
            "recovered_amount": 0.6,
        },
    ),
    "beta": (
        "2026-08-12",
        "2026-10-03",
        {
            "api_calls": 1.5,
            "llm_tokens": 1,
            "storage_gb": 0.4,
            "seats": 0.3,
            "active_users": 1,
            "recovered_amount": 0.5,
        },
    ),
    "delta": ("2026-08-01", "2026-09-20", {"api_calls": 1, "llm_tokens": 0.3}),
    "foxtrot": ("2026-08-20", "2026-10-03", {"api_calls": 1.5, "llm_tokens": 0.5}),
    "hotel": ("2026-08-01", "2026-08-10", {"api_calls": 1.5}),
    "kyoto": ("2026-08-01", "2026-10-03", {"api_calls": 2, "llm_tokens": 1}),
    "ghost": ("2026-08-01", "2026-10-03", {"api_calls": 0.4, "storage_gb": 0.1}),
}


def _count(rng: random.Random, mean: float) -> int:
    if mean < 1:
        return 1 if rng.random() < mean else 0
    return rng.randint(0, round(2 * mean))


def _value(rng: random.Random, customer: str, meter: str) -> tuple[str | None, dict[str, str]]:
    """A value text and dimensions for a random event."""
    if meter == "api_calls":
        return None, {"region": rng.choice(["eu-west", "us-east"])}
    if meter == "llm_tokens":
        model = rng.choice(["large", "large", "small", "medium"])
        value = (
            str(rng.randint(50, 25000))
            if rng.random() < 0.8
            else f"{rng.randint(50, 25000)}.{rng.randint(0, 99):02d}"
        )
        return value, {"model": model}
    if meter == "storage_gb":
        return f"{rng.randint(1000, 25000) // 100}.{rng.randint(0, 99):02d}", {}
    if meter == "seats":
        return str(rng.randint(1, 40)), {}
    if meter == "active_users":
        return None, {"user_id": f"u{rng.randint(1, 9)}"}
    if meter == "recovered_amount":
        high = 500000 if customer == "acme" else 30000
        cents = rng.randint(1000, high)
        return f"{cents // 100}.{cents % 100:02d}", {}
    raise AssertionError(meter)


def _style(rng: random.Random, t: dt.datetime, file: str) -> dict[str, Any]:
    ms_ok = t.microsecond % 1000 == 0
    if ".csv" in file:
        return {"ts": "ms" if ms_ok and rng.random() < 0.4 else "z"}
    choices = ["z", "z", "+02:00", "-05:30", "+09:00"] + (["ms"] if ms_ok else ["ns"])
    ts = rng.choice(choices)
    return {
        "ts": ts,
        "value_as": rng.choice(["number", "string"]),
        "amberflo": ms_ok and ts == "ms" and rng.random() < 0.5,
        "extra": rng.random() < 0.05,
    }


def _background(rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    serial = 0
    day = LANDING_START
    while day <= LANDING_END:
        for customer, (first, last, rates) in PROFILES.items():
            if not (dt.date.fromisoformat(first) <= day <= dt.date.fromisoformat(last)):
                continue
            for meter, mean in rates.items():
                if customer == "beta" and meter == "seats" and day >= dt.date(2026, 9, 29):
                    continue  # keep beta's September "latest" on the explicit tie below
                for _ in range(_count(rng, mean)):
                    serial += 1
                    seconds = rng.randint(0, 86399)
                    micro = rng.choice([0, rng.randint(0, 999) * 1000, rng.randint(0, 999999)])
                    t = dt.datetime.combine(day, dt.time(), UTC) + dt.timedelta(
                        seconds=seconds, microseconds=micro
                    )
                    delay = rng.choices([0, 1, 2], weights=[85, 12, 3])[0]
                    if t.hour >= 22 and rng.random() < 0.5:
                        delay = max(delay, 1)
                    landing = day + delay * DAY
                    if landing > LANDING_END:
                        continue
                    value, dims = _value(rng, customer, meter)
                    if meter == "api_calls" and rng.random() < 0.03:
                        value = "n/a"  # a count meter's value is not validated nor stored
                    file = rng.choices(
                        ["a.jsonl", "b.jsonl.gz" if landing.day % 2 else "b.ndjson.gz", "c.csv"],
                        weights=[6, 2, 2],
                    )[0]
                    if value == "n/a" and ".csv" in file:
                        file = "a.jsonl"
                    ev = Event(
                        f"{customer}-{serial:05d}",
                        customer,
                        meter,
                        t,
                        value,
                        tuple(sorted(dims.items())),
                    )
                    style = _style(rng, t, file)
                    if value == "n/a":
                        style["value_as"] = "string"
                    rows.append(Row(landing, file, ev, style=style))
        day += DAY
    return rows


Z = {"ts": "z", "value_as": "string"}


def ok(
    landing: str,
    file: str,
    event_id: str,
    customer: str,
    meter: str,
    when: str,
    value: str | None = None,
    style: dict | None = None,
    **dims: str,
) -> Row:
    """A valid row; ``when`` is a UTC ``YYYY-MM-DDTHH:MM:SS[.fff]``."""
    time_ = dt.datetime.fromisoformat(when).replace(tzinfo=UTC)
    event = Event(event_id, customer, meter, time_, value, tuple(sorted(dims.items())))
    return Row(dt.date.fromisoformat(landing), file, event, style=style or Z)


def bad(landing: str, file: str, reason: str, raw: str) -> Row:
    """A row the pipeline must quarantine with ``reason`` (``blank``: a skipped blank line)."""
    return Row(dt.date.fromisoformat(landing), file, reason=reason, raw=raw)


def _json(**fields: Any) -> str:
    return json.dumps(fields)


def _explicit() -> list[Row]:
    """The cases that matter, one by one (comments say what each one checks)."""
    large, a, num = {"model": "large"}, "a.jsonl", {"ts": "z", "value_as": "number"}
    late = "resend.jsonl"
    return [
        # A July event landing 08-01: billed in July, a period this backfill never closes.
        ok("2026-08-01", a, "jul-1", "acme", "api_calls", "2026-07-31T22:00:00"),
        # Bad rows, one per reason.
        bad("2026-08-01", a, "malformed", '{"event_id": "bad-1", "customer_id": "acme"'),
        bad(
            "2026-08-01",
            a,
            "missing_field",
            _json(event_id="bad-2", meter="api_calls", timestamp="2026-08-01T10:00:00Z"),
        ),
        bad(
            "2026-08-01",
            a,
            "unknown_meter",
            _json(
                event_id="bad-3",
                customer_id="acme",
                meter="gpu_hours",
                timestamp="2026-08-01T10:00:00Z",
                value=3,
            ),
        ),
        bad(
            "2026-08-01",
            a,
            "too_old",
            _json(  # older than 08-01 - 35 days
                event_id="bad-4",
                customer_id="acme",
                meter="api_calls",
                timestamp="2026-06-20T10:00:00Z",
            ),
        ),
        bad("2026-08-01", a, "blank", ""),
        # A quarantined row is never "seen": the valid copy on the next day is accepted.
        bad(
            "2026-08-05",
            a,
            "negative_value",
            _json(
                event_id="qv-1",
                customer_id="acme",
                meter="llm_tokens",
                timestamp="2026-08-05T10:00:00Z",
                value=-5,
                dimensions=large,
            ),
        ),
        ok("2026-08-06", a, "qv-1", "acme", "llm_tokens", "2026-08-05T10:00:00", "500", **large),
        bad(
            "2026-08-05",
            a,
            "missing_dimension",
            _json(
                event_id="bad-5",
                customer_id="acme",
                meter="llm_tokens",
                timestamp="2026-08-05T10:00:00Z",
                value=5,
            ),
        ),
        bad(
            "2026-08-05",
            a,
            "invalid_value",
            _json(
                event_id="bad-6",
                customer_id="beta",
                meter="storage_gb",
                timestamp="2026-08-05T10:00:00Z",
                value="12,5",
            ),
        ),
        bad(
            "2026-08-05",
            a,
            "future_timestamp",
            _json(  # at/after 08-06T01:00Z
                event_id="bad-7",
                customer_id="acme",
                meter="api_calls",
                timestamp="2026-08-06T01:00:00Z",
            ),
        ),
        bad("2026-08-05", "c.csv", "malformed", "bad-8,acme,api_calls"),
        # Duplicates: the same line twice in one file ...
        ok("2026-08-07", a, "dup-same", "acme", "api_calls", "2026-08-07T08:00:00"),
        ok("2026-08-07", a, "dup-same", "acme", "api_calls", "2026-08-07T08:00:00"),
        # ... in two files of one day, in two formats (the same content: no conflict) ...
        ok(
            "2026-08-14",
            a,
            "dup-xfile",
            "beta",
            "llm_tokens",
            "2026-08-14T09:15:00",
            "2500",
            {"ts": "+02:00", "value_as": "number"},
            **large,
        ),
        ok(
            "2026-08-14",
            "c.csv",
            "dup-xfile",
            "beta",
            "llm_tokens",
            "2026-08-14T09:15:00",
            "2500",
            {"ts": "ms"},
            **large,
        ),
        # ... retried the next day ...
        ok("2026-08-20", a, "dup-nextday", "kyoto", "api_calls", "2026-08-20T07:00:00"),
        ok(
            "2026-08-21",
            "b.ndjson.gz",
            "dup-nextday",
            "kyoto",
            "api_calls",
            "2026-08-20T07:00:00",
            style={"ts": "ms"},
        ),
        # ... re-sent three days later with another value: a conflict; the first stays billed ...
        ok(
            "2026-08-18",
            a,
            "dup-conflict",
            "acme",
            "recovered_amount",
            "2026-08-18T16:00:00",
            "1000.00",
        ),
        ok(
            "2026-08-21",
            a,
            "dup-conflict",
            "acme",
            "recovered_amount",
            "2026-08-18T16:00:00",
            "9999.99",
        ),
        # ... and retried after August closed: a duplicate, never billed again in September.
        ok(
            "2026-08-28",
            a,
            "dup-cross",
            "beta",
            "llm_tokens",
            "2026-08-28T11:00:00",
            "7000",
            **large,
        ),
        ok(
            "2026-09-06",
            a,
            "dup-cross",
            "beta",
            "llm_tokens",
            "2026-08-28T11:00:00",
            "7000",
            **large,
        ),
        # The last millisecond of August landing on its last landing day: August, not late.
        ok("2026-09-03", a, "edge-ontime", "beta", "api_calls", "2026-08-31T23:59:59.999"),
        # One landing day later: late, billed in September, in beta's September token tiers.
        ok(
            "2026-09-04",
            a,
            "edge-late",
            "beta",
            "llm_tokens",
            "2026-08-31T18:00:00",
            "3000",
            **large,
        ),
        # Late August events delivered on 09-05. acme's are covered by its growth subscription
        # (ended 08-20: on September's invoice with usage lines only) but for -4 (enterprise);
        # -5 makes growth's percentage line exactly 25.025 (half_up: 25.03, half_even: 25.02).
        ok("2026-09-05", late, "late-acme-1", "acme", "api_calls", "2026-08-15T09:00:00"),
        ok(
            "2026-09-05",
            late,
            "late-acme-2",
            "acme",
            "llm_tokens",
            "2026-08-16T09:00:00",
            "4200",
            **large,
        ),
        ok("2026-09-05", late, "late-acme-3", "acme", "seats", "2026-08-19T09:00:00", "12"),
        ok(
            "2026-09-05",
            late,
            "late-acme-4",
            "acme",
            "recovered_amount",
            "2026-08-25T09:00:00",
            "1500.50",
        ),
        ok(
            "2026-09-05",
            late,
            "late-acme-5",
            "acme",
            "recovered_amount",
            "2026-08-12T09:00:00",
            "100.04",
        ),
        ok("2026-09-05", late, "late-hotel-1", "hotel", "api_calls", "2026-08-08T09:00:00"),
        ok(
            "2026-09-05",
            late,
            "late-hotel-2",
            "hotel",
            "llm_tokens",
            "2026-08-09T09:00:00",
            "777",
            model="small",
        ),
        ok("2026-09-05", late, "late-ghost-1", "ghost", "api_calls", "2026-08-25T09:00:00"),
        ok(
            "2026-09-05",
            late,
            "late-kyoto-1",
            "kyoto",
            "llm_tokens",
            "2026-08-30T09:00:00",
            "12345",
            model="small",
        ),
        # 00:30 UTC on 09-01 landing on 08-31 (within the 1h future tolerance): September.
        ok("2026-08-31", a, "edge-early", "acme", "api_calls", "2026-09-01T00:30:00"),
        # 01:30+02:00 on 08-21 is 23:30 UTC on 08-20: acme's growth subscription, not enterprise.
        ok(
            "2026-08-21",
            a,
            "edge-tz",
            "acme",
            "llm_tokens",
            "2026-08-20T23:30:00",
            "6000",
            {"ts": "+02:00", "value_as": "number"},
            **large,
        ),
        # "latest" tie on the same instant: the later arrival (09-30) wins.
        ok(
            "2026-09-29",
            "c.csv",
            "seat-tie-a",
            "beta",
            "seats",
            "2026-09-29T23:00:00",
            "17",
            {"ts": "z"},
        ),
        ok("2026-09-30", a, "seat-tie-b", "beta", "seats", "2026-09-29T23:00:00", "21"),
        # A value with 10 fraction digits is stored half-even at 9 digits: 10.000000000.
        ok(
            "2026-08-22",
            a,
            "round-9",
            "beta",
            "recovered_amount",
            "2026-08-22T08:00:00",
            "10.0000000005",
            num,
        ),
    ]


def _late_delivery() -> list[Row]:
    """A file landing on 09-10, a week after August closed, holding August events."""
    day, f = LATE_FILE_DAY.isoformat(), "replay.jsonl"
    return [
        ok(day, f, "l10-beta-1", "beta", "api_calls", "2026-08-20T10:00:00"),
        ok(
            day,
            f,
            "l10-beta-2",
            "beta",
            "llm_tokens",
            "2026-08-25T10:00:00",
            "18000",
            model="large",
        ),
        ok(day, f, "l10-acme-1", "acme", "recovered_amount", "2026-08-10T10:00:00", "2500"),
        ok(day, f, "l10-delta-1", "delta", "api_calls", "2026-08-12T10:00:00"),
        ok(day, f, "l10-ghost-1", "ghost", "storage_gb", "2026-08-30T10:00:00", "300"),
        ok(day, f, "l10-kyoto-1", "kyoto", "api_calls", "2026-08-31T10:00:00"),
        # A retry of an event billed in August: a duplicate, billed nowhere.
        ok(day, f, "dup-same", "acme", "api_calls", "2026-08-07T08:00:00"),
        # Older than 09-10 - 35 days = 08-06: quarantined too_old.
        bad(
            day,
            f,
            "too_old",
            _json(
                event_id="l10-old",
                customer_id="acme",
                meter="api_calls",
                timestamp="2026-08-05T12:00:00Z",
            ),
        ),
    ]


def build_scenario(seed: int) -> Scenario:
    from tests.helpers.correction_reference import correction_rows, target_events

    rng = random.Random(seed)
    return Scenario(
        rows=_background(rng) + _explicit() + target_events(),
        late_rows=_late_delivery(),
        corrections=correction_rows(),
    )


# ----------------------------------------------------------------------------------------------
# The reference implementation: SPEC §3.2, §4, §5, §6 in plain Python and decimal
# ----------------------------------------------------------------------------------------------

NINE = D("1e-9")


@dataclass(frozen=True)
class CleanEvent:
    event: Event
    value: Decimal | None  # stored value (None for count / unique_count meters)
    landing: dt.date
    arrival: tuple
    billing_period: str
    late: bool


def meters_config() -> dict[str, dict]:
    return {m["name"]: m for m in yaml.safe_load(METERS_YAML)["meters"]}


def pricing_config() -> dict:
    return yaml.safe_load(PRICING_YAML)


def subscriptions() -> list[dict]:
    subs = []
    for r in csv.DictReader(io.StringIO(CUSTOMERS_CSV)):
        subs.append(
            {
                "customer": r["customer_id"],
                "plan": r["plan_id"],
                "start": dt.date.fromisoformat(r["start_date"]),
                "end": dt.date.fromisoformat(r["end_date"]) if r["end_date"] else None,
            }
        )
    return sorted(subs, key=lambda s: (s["customer"], s["start"]))


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_days(period: str) -> tuple[dt.date, dt.date]:
    year, month = int(period[:4]), int(period[5:])
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def stored_value(ev: Event, meters: dict[str, dict]) -> Decimal | None:
    if meters[ev.meter]["aggregation"] in ("count", "unique_count"):
        return None
    return D(ev.value_text).quantize(NINE, rounding=ROUND_HALF_EVEN)


def reference_ingestion(rows: list[Row]) -> dict[str, Any]:
    """Dedup (SPEC §3.2) and billing periods (§5) from the ground truth.

    Returns the clean events, the duplicates ``(event_id, source_file, line, first_landing,
    conflict)``, the quarantined rows ``(source_file, line, reason)`` and per-day counts.
    """
    meters = meters_config()
    pricing_grace = int(pricing_config().get("grace_days", 3))
    window = int(yaml.safe_load(METERS_YAML)["dedup_window_days"])

    counts: dict[dt.date, dict[str, int]] = defaultdict(
        lambda: {"rows_read": 0, "rows_quarantined": 0, "rows_duplicate": 0, "rows_accepted": 0}
    )
    quarantined = set()
    for row in rows:
        if row.reason == "blank":
            continue
        counts[row.landing]["rows_read"] += 1
        if row.event is None:
            counts[row.landing]["rows_quarantined"] += 1
            quarantined.add((row.source_file, row.line, row.reason))

    def payload(r: Row) -> tuple:
        ev = r.event
        return (ev.customer, ev.meter, ev.time, stored_value(ev, meters), tuple(sorted(ev.dims)))

    seen: dict[str, list[Row]] = defaultdict(list)
    clean: list[CleanEvent] = []
    duplicates = set()
    for row in sorted((r for r in rows if r.event is not None), key=lambda r: r.arrival):
        ev = row.event
        earlier = [r for r in seen[ev.event_id] if r.landing >= row.landing - window * DAY]
        seen[ev.event_id].append(row)
        if earlier:
            first = earlier[0]
            duplicates.add(
                (
                    ev.event_id,
                    row.source_file,
                    row.line,
                    first.landing,
                    payload(first) != payload(row),
                )
            )
            counts[row.landing]["rows_duplicate"] += 1
            continue
        counts[row.landing]["rows_accepted"] += 1
        own = period_of(ev.time.date())
        if row.landing <= month_days(own)[1] + pricing_grace * DAY:
            period, late = own, False
        else:  # next_open_period: the earliest period whose last landing day ≥ landing date
            period, late = period_of(row.landing - pricing_grace * DAY), True
        clean.append(
            CleanEvent(ev, stored_value(ev, meters), row.landing, row.arrival, period, late)
        )
    return {
        "clean": clean,
        "duplicates": duplicates,
        "quarantined": quarantined,
        "counts": dict(counts),
    }


def aggregate(meter: dict, events: list[CleanEvent]) -> Decimal:
    """SPEC §4: count, sum, max, latest (tie: later arrival), unique_count; empty → 0."""
    if not events:
        return D(0)
    kind = meter["aggregation"]
    if kind == "count":
        return D(len(events))
    if kind == "sum":
        return sum((e.value for e in events), D(0))
    if kind == "max":
        return max(e.value for e in events)
    if kind == "latest":
        return max(events, key=lambda e: (e.event.time, e.arrival)).value
    if kind == "unique_count":
        return D(len({dict(e.event.dims)[meter["unique_dimension"]] for e in events}))
    raise AssertionError(kind)


def price(charge: dict, q: Decimal, event_count: int) -> Decimal:
    """SPEC §6.2, exact: q is the quantity after free units."""
    model = charge["model"]
    if model == "per_unit":
        return q * D(charge.get("unit_price") or "0")
    if model == "graduated":
        amount, below = D(0), D(0)
        for i, tier in enumerate(charge["tiers"]):
            top = None if tier["up_to"] is None else D(tier["up_to"])
            if i > 0 and q <= below:
                break
            amount += D(tier.get("flat_fee") or "0")
            units = (q if top is None else min(q, top)) - below
            amount += max(units, D(0)) * D(tier.get("unit_price") or "0")
            if top is None:
                break
            below = top
        return amount
    if model == "volume":
        for tier in charge["tiers"]:
            if tier["up_to"] is None or q <= D(tier["up_to"]):
                return q * D(tier.get("unit_price") or "0") + D(tier.get("flat_fee") or "0")
        raise AssertionError("the last tier has no bound")
    if model == "package":
        packages = (q / D(charge["package_size"])).to_integral_value(rounding=ROUND_CEILING)
        return packages * D(charge["package_price"])
    if model == "percentage":
        return q * D(charge["rate"]) + event_count * D(charge.get("fee_per_event") or "0")
    raise AssertionError(model)


def to_money(amount: Decimal, currency: str) -> Decimal:
    minor = {"USD": 2, "JPY": 0}[currency]
    return amount.quantize(D(1).scaleb(-minor), rounding=ROUND_HALF_UP)


def matches(event: Event, flt: dict | None) -> bool:
    dims = dict(event.dims)
    return all(dims.get(k) == v for k, v in (flt or {}).items())


def covers(sub: dict, c: CleanEvent) -> bool:
    day = c.event.time.date()
    return (
        c.event.customer == sub["customer"]
        and sub["start"] <= day
        and (sub["end"] is None or day <= sub["end"])
    )


def customer_lines(
    clean: list[CleanEvent], period: str
) -> tuple[dict[str, list[dict]], list[tuple[Decimal, str]]]:
    """Each customer's fee, usage and minimum lines of ``period`` (in invoice order, not yet
    numbered) over the events of ``clean`` billed in it, and every exact amount before rounding.

    Every money amount is rounded once (ROUND_HALF_UP, the currency's minor unit); the rest is
    exact (a 100-digit context: proration quotients never sit on a rounding boundary).
    """
    meters, pricing, subs = meters_config(), pricing_config(), subscriptions()
    assert pricing["rounding"] == "half_up"
    plans = {p["id"]: p for p in pricing["plans"]}
    first, last = month_days(period)
    days_in_month = last.day
    billed = [c for c in clean if c.billing_period == period]
    out: dict[str, list[dict]] = {}
    exact_amounts: list[tuple[Decimal, str]] = []
    with localcontext() as ctx:
        ctx.prec = 100
        for customer in sorted({s["customer"] for s in subs}):
            mine: list[dict] = []
            for sub in (s for s in subs if s["customer"] == customer):
                start = max(first, sub["start"])
                end = last if sub["end"] is None else min(last, sub["end"])
                active = max((end - start).days + 1, 0)
                covered = [c for c in billed if covers(sub, c)]
                if active == 0 and not covered:
                    continue
                plan = plans[sub["plan"]]
                cur = plan["currency"]
                base = {
                    "invoice_id": f"{period}-{customer}",
                    "customer_id": customer,
                    "plan_id": plan["id"],
                    "subscription_start": sub["start"],
                    "charge_id": None,
                    "service": None,
                    "meter": None,
                    "quantity": None,
                    "free_quantity": None,
                    "unit_price": None,
                    "event_count": 0,
                    "currency": cur,
                }
                sub_lines = []
                if active > 0:
                    for fee in plan.get("platform_fees") or []:
                        exact = D(fee["amount"]) * active / days_in_month
                        exact_amounts.append((exact, cur))
                        sub_lines.append(
                            {
                                **base,
                                "kind": "platform_fee",
                                "service": fee["service"],
                                "amount": to_money(exact, cur),
                            }
                        )
                for charge in plan.get("charges") or []:
                    events = [
                        c
                        for c in covered
                        if c.event.meter == charge["meter"]
                        and matches(c.event, charge.get("filter"))
                    ]
                    total = aggregate(meters[charge["meter"]], events)
                    free_units = D(charge.get("free_units") or "0")
                    free = min(max(total, D(0)), free_units)
                    q = max(total - free_units, D(0))
                    exact = price(charge, q, len(events))
                    exact_amounts.append((exact, cur))
                    sub_lines.append(
                        {
                            **base,
                            "kind": "usage",
                            "charge_id": charge["id"],
                            "meter": charge["meter"],
                            "quantity": q,
                            "free_quantity": free,
                            "unit_price": (
                                D(charge.get("unit_price") or "0")
                                if charge["model"] == "per_unit"
                                else None
                            ),
                            "event_count": len(events),
                            "amount": to_money(exact, cur),
                        }
                    )
                if active > 0 and plan.get("minimum_commitment") is not None:
                    minimum = D(plan["minimum_commitment"]) * active / days_in_month
                    shortfall = minimum - sum(line["amount"] for line in sub_lines)
                    if shortfall > 0 and to_money(shortfall, cur) > 0:
                        exact_amounts.append((shortfall, cur))
                        sub_lines.append(
                            {
                                **base,
                                "kind": "minimum_commitment",
                                "amount": to_money(shortfall, cur),
                            }
                        )
                mine += sub_lines
            if mine:
                out[customer] = mine
    return out, exact_amounts


def reference_billing(
    clean: list[CleanEvent], period: str, adjustments: dict[str, list[dict]] | None = None
) -> dict[str, Any]:
    """invoice_lines, invoices, period_usage and unbilled_usage of one period, as plain dicts.

    ``clean``: the events as billed (with corrections, the effective events of the period);
    ``adjustments``: customer → adjustment lines of earlier periods, placed after the customer's
    other lines (an invoice with only adjustments when the customer has none).
    """
    meters, subs = meters_config(), subscriptions()
    billed = [c for c in clean if c.billing_period == period]
    per_customer, exact_amounts = customer_lines(clean, period)
    lines: list[dict] = []
    invoices: dict[str, dict] = {}
    with localcontext() as ctx:
        ctx.prec = 100
        for customer in sorted(set(per_customer) | set(adjustments or {})):
            mine = [
                {**line, "earned_period": None, "adjusts": None}
                for line in per_customer.get(customer, [])
            ]
            mine += (adjustments or {}).get(customer, [])
            for number, line in enumerate(mine, start=1):
                line["line_no"] = number
            lines += mine
            subtotal = sum(line["amount"] for line in mine)
            invoices[customer] = {
                "invoice_id": f"{period}-{customer}",
                "customer_id": customer,
                "currency": mine[0]["currency"],
                "subtotal": subtotal,
                "credits": D(0),
                "total": subtotal,
                "line_count": len(mine),
                "document_type": "credit_note" if subtotal < 0 else "invoice",
            }

        usage: dict[tuple[str, str], dict] = {}
        for key in sorted({(c.event.customer, c.event.meter) for c in billed}):
            events = [c for c in billed if (c.event.customer, c.event.meter) == key]
            usage[key] = {
                "quantity": aggregate(meters[key[1]], events),
                "event_count": len(events),
                "late_event_count": sum(c.late for c in events),
            }
        uncovered = [c for c in billed if not any(covers(s, c) for s in subs)]
        unbilled: dict[tuple[str, str, str], dict] = {}
        for key in sorted({(c.event.customer, c.event.meter) for c in uncovered}):
            events = [c for c in uncovered if (c.event.customer, c.event.meter) == key]
            unbilled[(*key, "no_subscription")] = {
                "event_count": len(events),
                "quantity": aggregate(meters[key[1]], events),
            }

    return {
        "lines": lines,
        "invoices": invoices,
        "period_usage": usage,
        "unbilled": unbilled,
        "exact_amounts": exact_amounts,
    }
