"""Corrections of clean events
(docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history): validation,
deduplication by ``correction_id`` and the day's tables. Pure: rows and frames in, frames out.

A correction row is judged, in arrival order (file path in byte order, then row), against:

- ``seen_ids``: correction ids accepted in the previous ``dedup_window_days`` landing days and
  earlier the same day — a row whose id is among them is a duplicate *before* any reason is
  checked (quarantined rows are never seen);
- ``events``: the clean events landed in the previous ``correction_window_days`` landing days
  and the same day (the day's events count as earlier than its corrections); when one id has two
  clean events, the most recent one is corrected;
- ``voided``: (event_id, event landing date) of events voided by earlier accepted corrections.

Reasons, the first that applies: ``malformed`` · ``missing_field`` · ``invalid_type`` ·
``unknown_event`` · ``already_voided`` · ``invalid_value`` · ``negative_value`` ·
``missing_dimension``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from meter_pipeline.config.meters import MetersConfig
from meter_pipeline.grammar import MAX_LEN
from meter_pipeline.io.records import JsonNumber, RawRow
from meter_pipeline.money import VALUE_LIMIT, is_json_number, to_quantity

REASONS = (
    "malformed",
    "missing_field",
    "invalid_type",
    "unknown_event",
    "already_voided",
    "invalid_value",
    "negative_value",
    "missing_dimension",
)
ACTIONS = ("void", "amend")
REQUIRED = ("correction_id", "event_id", "action")


@dataclass(frozen=True)
class Target:
    """The clean event a correction applies to."""

    event_id: str
    landing_date: dt.date
    meter: str
    billing_period: str | None


class Rejected(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass
class Accepted:
    correction_id: str
    event_id: str
    action: str
    value: Decimal | None
    dimensions: list[dict[str, str]] | None
    event_landing_date: dt.date
    event_billing_period: str | None
    source_file: str
    line_number: int


@dataclass
class DayState:
    """What earlier rows decided: accepted ids (with their landing day) and voided events."""

    seen_ids: dict[str, tuple[dt.date, tuple]] = field(default_factory=dict)
    voided: set[tuple[str, dt.date]] = field(default_factory=set)


def _present(fields: Mapping[str, Any], name: str) -> Any:
    value = fields.get(name)
    return None if value is None or value == "" else value


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = _present(fields, name)
    if type(value) is not str:
        raise Rejected("invalid_type", f"{name} must be a string")
    return value


def _dimensions(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, dict):
        raise Rejected("invalid_type", "dimensions must be an object of string values")
    pairs = []
    for key, value in raw.items():
        if type(value) is str:
            text = value
        elif isinstance(value, JsonNumber):
            text = str.__str__(value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            raise Rejected("invalid_type", f"dimension {key!r} must be a string")
        pairs.append({"key": key, "value": text})
    return sorted(pairs, key=lambda p: p["key"])


def _value(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str):  # JsonNumber is a str
        raise Rejected("invalid_type", "value must be a number or a string holding one")
    text = str.__str__(raw)
    if not is_json_number(text):
        raise Rejected("invalid_value", f"value {text[:40]!r} is not a JSON number")
    exact = Decimal(text)
    if exact.copy_abs() >= VALUE_LIMIT:
        raise Rejected("invalid_value", "value is out of range (|value| < 10^20)")
    return to_quantity(exact)


def judge(
    fields: Mapping[str, Any],
    targets: Mapping[str, Target],
    state: DayState,
    meters: MetersConfig,
) -> tuple[str, str, str, Decimal | None, list[dict[str, str]] | None, Target]:
    """Validate one parsed row; raises :class:`Rejected` with the first reason that applies."""
    missing = [name for name in REQUIRED if _present(fields, name) is None]
    if missing:
        raise Rejected("missing_field", f"{', '.join(missing)} missing")
    correction_id, event_id, action = (_text(fields, n) for n in REQUIRED)
    raw_value, raw_dims = _present(fields, "value"), _present(fields, "dimensions")
    if action == "amend" and raw_value is None and fields.get("dimensions") is None:
        raise Rejected("missing_field", "an amend needs a value or dimensions")
    dims = None if action != "amend" or "dimensions" not in fields else _dimensions(raw_dims or {})
    if (
        action == "amend"
        and raw_value is not None
        and (isinstance(raw_value, bool) or not isinstance(raw_value, str))
    ):
        raise Rejected("invalid_type", "value must be a number or a string holding one")
    target = targets.get(event_id)
    if target is None:
        raise Rejected("unknown_event", f"no clean event {event_id[:80]!r} in the window")
    if (target.event_id, target.landing_date) in state.voided:
        raise Rejected("already_voided", f"event {event_id[:80]!r} is already voided")
    if action not in ACTIONS:
        raise Rejected("invalid_value", f"action {action[:40]!r} is not void or amend")
    long = [
        n for n, v in (("correction_id", correction_id), ("event_id", event_id)) if len(v) > MAX_LEN
    ]
    long += [
        f"dimension {p['key'][:40]!r}"
        for p in dims or ()
        if max(len(p["key"]), len(p["value"])) > MAX_LEN
    ]
    if long:
        raise Rejected("invalid_value", f"{', '.join(long)} longer than {MAX_LEN} characters")
    meter = meters.meters[target.meter]
    value = None
    if action == "amend" and raw_value is not None:
        if not meter.needs_value:
            raise Rejected(
                "invalid_value", f"meter {meter.name!r} ({meter.aggregation}) takes no value"
            )
        value = _value(raw_value)
        if value < 0 and not meter.allow_negative:
            raise Rejected("negative_value", f"value {value} < 0 on meter {meter.name!r}")
    if dims is not None:
        given = {p["key"]: p["value"] for p in dims}
        required = [
            *meter.required_dimensions,
            *([meter.unique_dimension] if meter.unique_dimension else []),
        ]
        absent = [name for name in required if given.get(name, "") == ""]
        if absent:
            raise Rejected(
                "missing_dimension", f"dimensions {', '.join(absent)} required by {meter.name!r}"
            )
    return correction_id, event_id, action, value, dims, target


def content(fields: Mapping[str, Any]) -> tuple:
    """What a duplicate is compared on: event_id, action, value (exact; ignored on a void) and
    dimensions (as a map; only on an amend), leniently (a row that would be rejected compares
    by its raw text)."""
    action = _present(fields, "action")
    value: Any = None
    dims: Any = None
    if action == "amend":
        raw = _present(fields, "value")
        try:
            value = None if raw is None else str(_value(raw))
        except Rejected:
            value = repr(raw)
        if "dimensions" in fields:
            try:
                pairs = _dimensions(fields["dimensions"] or {})
                dims = tuple((p["key"], p["value"]) for p in pairs)
            except Rejected:
                dims = repr(fields["dimensions"])
    return (_present(fields, "event_id"), action, value, dims)


def judge_day(
    rows: Iterable[tuple[str, RawRow]],
    day: dt.date,
    targets: Mapping[str, Target],
    state: DayState,
    meters: MetersConfig,
) -> tuple[list[Accepted], list[dict], list[dict]]:
    """``(accepted, quarantined, duplicates)`` of one landing day's rows, in arrival order;
    ``state`` is updated with what the day accepts."""
    accepted, quarantined, duplicates = [], [], []
    for source, row in rows:
        where = {"source_file": source, "line_number": row.line_number}
        fields = row.fields
        if fields is None:
            quarantined.append(
                {
                    **where,
                    "reason": "malformed",
                    "detail": row.error or "not parseable",
                    "raw_record": row.raw_record,
                }
            )
            continue
        cid = _present(fields, "correction_id")
        first = state.seen_ids.get(cid) if type(cid) is str else None
        if first is not None:
            duplicates.append(
                {
                    **where,
                    "correction_id": cid,
                    "first_landing_date": first[0],
                    "conflict": content(fields) != first[1],
                }
            )
            continue
        try:
            cid, eid, action, value, dims, target = judge(fields, targets, state, meters)
        except Rejected as why:
            quarantined.append(
                {**where, "reason": why.reason, "detail": why.detail, "raw_record": row.raw_record}
            )
            continue
        state.seen_ids[cid] = (day, content(fields))
        if action == "void":
            state.voided.add((target.event_id, target.landing_date))
        accepted.append(
            Accepted(
                cid, eid, action, value, dims, target.landing_date, target.billing_period, **where
            )
        )
    return accepted, quarantined, duplicates
