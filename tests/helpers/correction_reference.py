"""Corrections for the end-to-end billing scenario, and the reference's reading of them.

Two halves, like :mod:`tests.helpers.billing_reference` (which this extends):

- **The scenario**: a few events written for the corrections to target (``cx-…``, and a customer,
  india, subscribed for August only) and correction files in ``landing/corrections/<day>/``
  (JSONL and CSV): voids and amends while August is open, amends and voids after it closed
  (adjustments on September's invoices, one of them a credit note), a repeat of an accepted
  correction (with and without another content), and rows to quarantine, one per reason.
- **The reference** (:func:`reference_corrections`, :func:`effective`, :func:`adjustments`): the
  corrections rules of docs/audit.md re-implemented from the text with plain loops and
  ``decimal``; it parses the files' text itself and imports nothing from ``meter_pipeline``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.billing_reference import (
    DAY,
    METERS_YAML,
    NINE,
    PERIODS,
    CleanEvent,
    Row,
    customer_lines,
    meters_config,
    month_days,
    ok,
    period_of,
    pricing_config,
)

D = Decimal


def target_events() -> list[Row]:
    """Events for the corrections to act on (all land on time, all but one in August)."""
    f = "cx.jsonl"
    return [
        ok(
            "2026-08-15",
            f,
            "cx-beta-tok",
            "beta",
            "llm_tokens",
            "2026-08-15T10:00:00",
            "4000",
            model="small",
        ),  # fmt: skip
        ok("2026-08-16", f, "cx-beta-store", "beta", "storage_gb", "2026-08-16T10:00:00", "950"),
        ok("2026-08-18", f, "cx-delta-1", "delta", "api_calls", "2026-08-18T10:00:00"),
        ok("2026-08-18", f, "cx-delta-2", "delta", "api_calls", "2026-08-18T11:00:00"),
        ok(
            "2026-08-19",
            f,
            "cx-kyoto-tok",
            "kyoto",
            "llm_tokens",
            "2026-08-19T10:00:00",
            "5000",
            model="small",
        ),  # fmt: skip
        ok(
            "2026-08-19",
            f,
            "cx-india-rec",
            "india",
            "recovered_amount",
            "2026-08-19T10:00:00",
            "5000",
        ),  # fmt: skip
        ok(
            "2026-08-25",
            f,
            "cx-acme-rec",
            "acme",
            "recovered_amount",
            "2026-08-25T10:00:00",
            "80.00",
        ),  # fmt: skip
        ok("2026-08-20", f, "cx-ghost", "ghost", "storage_gb", "2026-08-20T10:00:00", "50"),
        ok(
            "2026-09-08",
            f,
            "cx-beta-sep",
            "beta",
            "llm_tokens",
            "2026-09-08T10:00:00",
            "3000",
            model="large",
        ),  # fmt: skip
    ]


@dataclass
class CorrectionRow:
    """One data row of a corrections file: its exact text (a JSONL line or a CSV record)."""

    landing: dt.date
    file: str
    text: str
    line: int = 0  # set when the file is written

    @property
    def source_file(self) -> str:
        return f"landing/corrections/{self.landing.isoformat()}/{self.file}"

    @property
    def arrival(self) -> tuple:
        return (self.landing, self.source_file.encode(), self.line)


CSV_HEADER = "correction_id,event_id,action,value"


def _j(day: str, **fields: Any) -> CorrectionRow:
    return CorrectionRow(dt.date.fromisoformat(day), "fix.jsonl", json.dumps(fields))


def _c(day: str, text: str) -> CorrectionRow:
    return CorrectionRow(dt.date.fromisoformat(day), "fix.csv", text)


def correction_rows() -> list[CorrectionRow]:
    """August is open until 09-03; September until 10-03."""
    return [
        # 08-20, August open: a void, an amend, the amend again (a duplicate), rejects.
        _j("2026-08-20", correction_id="k-void-1", event_id="cx-delta-1", action="void"),
        _j(
            "2026-08-20",
            correction_id="k-amend-1",
            event_id="cx-beta-tok",
            action="amend",
            value="6000",
        ),  # fmt: skip
        _j(
            "2026-08-20",
            correction_id="k-amend-1",
            event_id="cx-beta-tok",
            action="amend",
            value="6000",
        ),  # fmt: skip
        _j("2026-08-20", correction_id="k-unknown", event_id="no-such-event", action="void"),
        CorrectionRow(dt.date(2026, 8, 20), "fix.jsonl", '{"correction_id": "k-broken", '),
        _j("2026-08-20", correction_id="k-missing", action="void"),
        _j(
            "2026-08-20", correction_id="k-type", event_id="cx-acme-rec", action="amend", value=True
        ),  # fmt: skip  (an event that lands later: still invalid_type first)
        # 08-26 (CSV): a second void of the voided event, a negative value, a value on a count
        # meter, an action that is neither void nor amend.
        _c("2026-08-26", "k-void-1b,cx-delta-1,void,"),
        _c("2026-08-26", "k-neg,cx-acme-rec,amend,-5"),
        _c("2026-08-26", "k-count,cx-delta-2,amend,3"),
        _c("2026-08-26", "k-delete,cx-delta-2,delete,"),
        # 09-02, August still open: an amend of acme's recovery, new dimensions without the
        # required model.
        _j(
            "2026-09-02",
            correction_id="k-amend-2",
            event_id="cx-acme-rec",
            action="amend",
            value="120.00",
        ),  # fmt: skip
        _j(
            "2026-09-02",
            correction_id="k-dims-bad",
            event_id="cx-beta-tok",
            action="amend",
            dimensions={"region": "eu-west"},
        ),  # fmt: skip
        # 09-12, August closed: adjustments on September's invoices.
        _j(
            "2026-09-12",
            correction_id="k-adj-model",
            event_id="cx-beta-tok",
            action="amend",
            dimensions={"model": "large"},
        ),  # fmt: skip
        _j("2026-09-12", correction_id="k-adj-kyoto", event_id="cx-kyoto-tok", action="void"),
        _j(
            "2026-09-12",
            correction_id="k-adj-store",
            event_id="cx-beta-store",
            action="amend",
            value="90",
        ),  # fmt: skip
        _j("2026-09-12", correction_id="k-adj-india", event_id="cx-india-rec", action="void"),
        _j("2026-09-12", correction_id="k-sep-void", event_id="cx-beta-sep", action="void"),
        _j(
            "2026-09-12", correction_id="k-ghost", event_id="cx-ghost", action="amend", value="70"
        ),  # fmt: skip
        # k-amend-1 again, 23 days later and with another value: a conflicting duplicate.
        _j(
            "2026-09-12",
            correction_id="k-amend-1",
            event_id="cx-beta-tok",
            action="amend",
            value="7000",
        ),  # fmt: skip
        # 09-25: a later amend of acme's recovery (adjusts August again), an amend of a voided
        # event.
        _j(
            "2026-09-25",
            correction_id="k-adj-acme",
            event_id="cx-acme-rec",
            action="amend",
            value="50.00",
        ),  # fmt: skip
        _j(
            "2026-09-25",
            correction_id="k-after-void",
            event_id="cx-kyoto-tok",
            action="amend",
            value="1",
        ),  # fmt: skip
    ]


def write_corrections(root: Path, rows: list[CorrectionRow]) -> None:
    """Write the corrections files (grouped by day and file, in list order), numbering rows as
    event files are numbered (JSONL: physical line; CSV: data row, the header being row 0)."""
    files: dict[tuple[dt.date, str], list[CorrectionRow]] = defaultdict(list)
    for row in rows:
        files[(row.landing, row.file)].append(row)
    for (landing, name), frows in files.items():
        folder = root / "landing" / "corrections" / landing.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        lines = [CSV_HEADER] if name.endswith(".csv") else []
        for row in frows:
            lines.append(row.text)
            row.line = len(lines) - 1 if name.endswith(".csv") else len(lines)
        (folder / name).write_text("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------------------------
# The reference
# ----------------------------------------------------------------------------------------------


def _parse(row: CorrectionRow) -> dict | None:
    """The row's fields (absent: missing; JSON null and "" count as absent); None: malformed."""
    if row.file.endswith(".csv"):
        cells = next(csv.reader(io.StringIO(row.text)))
        fields = dict(zip(CSV_HEADER.split(","), cells, strict=True))
    else:
        try:
            fields = json.loads(row.text)
        except json.JSONDecodeError:
            return None
        if not isinstance(fields, dict):
            return None
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def _stored(value: Any) -> Decimal:
    return D(str(value)).quantize(NINE, rounding=ROUND_HALF_EVEN)


def last_landing_day(period: str) -> dt.date:
    return month_days(period)[1] + int(pricing_config().get("grace_days", 3)) * DAY


def reference_corrections(clean: list[CleanEvent], rows: list[CorrectionRow]) -> dict[str, Any]:
    """Every correction row's fate: ``accepted`` (dicts in arrival order, with the clean event
    they correct under ``target``), ``quarantined`` {(source_file, line, reason)},
    ``duplicates`` {(correction_id, source_file, line, first_landing, conflict)}, ``counts``
    per landing day."""
    meters = meters_config()
    config = yaml.safe_load(METERS_YAML)
    window = int(config["dedup_window_days"])
    reach = int(config.get("correction_window_days", 90))
    counts: dict[dt.date, dict[str, int]] = defaultdict(
        lambda: {"rows_read": 0, "rows_quarantined": 0, "rows_duplicate": 0, "rows_accepted": 0}
    )
    accepted: list[dict] = []
    quarantined, duplicates = set(), set()
    voided: set[tuple] = set()

    def content(fields: dict) -> tuple:
        value = fields.get("value")
        return (
            fields.get("event_id"),
            fields.get("action"),
            None if value is None else _stored(value),
            json.dumps(fields.get("dimensions"), sort_keys=True),
        )

    for row in sorted(rows, key=lambda r: r.arrival):
        day = row.landing
        counts[day]["rows_read"] += 1

        def reject(reason: str, row: CorrectionRow = row, day: dt.date = day) -> None:
            quarantined.add((row.source_file, row.line, reason))
            counts[day]["rows_quarantined"] += 1

        fields = _parse(row)
        if fields is None:
            reject("malformed")
            continue
        cid = fields.get("correction_id")
        first = [
            a
            for a in accepted
            if a["correction_id"] == cid and a["landing_date"] >= day - window * DAY
        ]
        if first:
            conflict = content(first[0]["fields"]) != content(fields)
            duplicates.add((cid, row.source_file, row.line, first[0]["landing_date"], conflict))
            counts[day]["rows_duplicate"] += 1
            continue
        action, value, dims = fields.get("action"), fields.get("value"), fields.get("dimensions")
        if any(k not in fields for k in ("correction_id", "event_id", "action")) or (
            action == "amend" and value is None and dims is None
        ):
            reject("missing_field")
            continue
        if isinstance(value, bool | dict | list) or (
            dims is not None and not isinstance(dims, dict)
        ):
            reject("invalid_type")
            continue
        candidates = [
            c
            for c in clean
            if c.event.event_id == fields["event_id"] and day - reach * DAY <= c.landing <= day
        ]
        if not candidates:
            reject("unknown_event")
            continue
        target = max(candidates, key=lambda c: c.arrival)
        key = (target.event.event_id, target.landing)
        if key in voided:
            reject("already_voided")
            continue
        meter = meters[target.event.meter]
        if action not in ("void", "amend") or (
            action == "amend"
            and value is not None
            and meter["aggregation"] in ("count", "unique_count")
        ):
            reject("invalid_value")
            continue
        if action == "amend" and value is not None and _stored(value) < 0:
            reject("negative_value")
            continue
        if action == "amend" and dims is not None:
            if any(not dims.get(d) for d in meter.get("required_dimensions") or []):
                reject("missing_dimension")
                continue
        period = target.billing_period
        grace = int(pricing_config().get("grace_days", 3))
        # open on the day: its own period; else the earliest whose last landing day is ≥ the day
        applied = period if day <= last_landing_day(period) else period_of(day - grace * DAY)
        if action == "void":
            voided.add(key)
        counts[day]["rows_accepted"] += 1
        accepted.append(
            {
                "correction_id": cid,
                "event_id": fields["event_id"],
                "action": action,
                "value": _stored(value) if action == "amend" and value is not None else None,
                "dimensions": dims if action == "amend" else None,
                "event_landing_date": target.landing,
                "event_billing_period": period,
                "applied_period": applied,
                "landing_date": day,
                "source_file": row.source_file,
                "line_number": row.line,
                "target": key,
                "fields": fields,
            }
        )
    return {
        "accepted": accepted,
        "quarantined": quarantined,
        "duplicates": duplicates,
        "counts": dict(counts),
    }


def effective(clean: list[CleanEvent], accepted: list[dict], until: dt.date) -> list[CleanEvent]:
    """The clean events with the accepted corrections landed on or before ``until`` applied in
    arrival order: a voided event is left out; an amend replaces the value and/or the whole
    dimension map."""
    meters = meters_config()
    out = []
    for c in clean:
        key = (c.event.event_id, c.landing)
        mine = [a for a in accepted if a["target"] == key and a["landing_date"] <= until]
        if any(a["action"] == "void" for a in mine):
            continue
        for a in mine:
            if a["value"] is not None and meters[c.event.meter]["aggregation"] not in (
                "count",
                "unique_count",
            ):
                c = dataclasses.replace(c, value=a["value"])
            if a["dimensions"] is not None:
                dims = tuple(sorted((k, str(v)) for k, v in a["dimensions"].items()))
                c = dataclasses.replace(c, event=dataclasses.replace(c.event, dims=dims))
        out.append(c)
    return out


ADJUSTED = ("usage", "minimum_commitment")


def _amounts(lines: dict[str, list[dict]]) -> dict[tuple, dict]:
    """(customer, subscription_start, charge_id, adjusts) → the line (with its 1-based position)."""
    out = {}
    for customer, mine in lines.items():
        for position, line in enumerate(mine, start=1):
            if line["kind"] in ADJUSTED:
                key = (customer, line["subscription_start"], line["charge_id"], line["kind"])
                out[key] = {**line, "position": position}
    return out


def adjustments(
    clean: list[CleanEvent], accepted: list[dict], period: str
) -> dict[str, list[dict]]:
    """customer → the adjustment lines on ``period``'s invoice: for each earlier period P of the
    run, each usage and minimum line of P recomputed with every correction landed up to
    ``period``'s last landing day, rounded, minus what P's line and the adjustments of it on
    the invoices between P and ``period`` billed; no line for 0. Ordered by earned period, then
    the adjusted line's place on P's invoice."""
    out: dict[str, list[tuple]] = defaultdict(list)
    for earned in (p for p in PERIODS if p < period):
        stored = _amounts(
            customer_lines(effective(clean, accepted, last_landing_day(earned)), earned)[0]
        )
        billed = {k: line["amount"] for k, line in stored.items()}
        for between in (p for p in PERIODS if earned < p < period):
            for lines in adjustments(clean, accepted, between).values():
                for line in lines:
                    if line["earned_period"] == earned:
                        key = (line["customer_id"], line["subscription_start"],
                               line["charge_id"], line["adjusts"])  # fmt: skip
                        billed[key] = billed.get(key, D(0)) + line["amount"]
        until = last_landing_day(period)
        now = _amounts(customer_lines(effective(clean, accepted, until), earned)[0])
        for key in sorted(set(now) | set(billed), key=str):
            amount = (now[key]["amount"] if key in now else D(0)) - billed.get(key, D(0))
            if amount == 0:
                continue
            line = stored.get(key) or now[key]
            order = stored[key]["position"] if key in stored else now[key]["position"]
            out[key[0]].append(
                (
                    earned,
                    order,
                    {
                        "invoice_id": f"{period}-{key[0]}",
                        "customer_id": key[0],
                        "kind": "adjustment",
                        "plan_id": line["plan_id"],
                        "subscription_start": key[1],
                        "charge_id": key[2],
                        "service": None,
                        "meter": line["meter"],
                        "quantity": None,
                        "free_quantity": None,
                        "unit_price": None,
                        "event_count": 0,
                        "amount": amount,
                        "currency": line["currency"],
                        "earned_period": earned,
                        "adjusts": key[3],
                    },
                )
            )
    return {c: [x[2] for x in sorted(rows, key=lambda x: x[:2])] for c, rows in out.items()}
