"""Validation of one input row into an event or a quarantine reason (docs/rules.md#2-an-event,
docs/rules.md#3-validation-quarantined_events).

Reasons (:data:`~data_contracts.ingestion.REASONS`) are tried in the order of
docs/rules.md#3-validation-quarantined_events and the first that applies wins. The grammar of
timestamps, numbers and lengths is :mod:`meter_pipeline.grammar`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from data_contracts.ingestion import REASONS
from meter_pipeline.config.meters import Meter, MetersConfig
from meter_pipeline.grammar import MAX_LEN, epoch_ms_to_us, in_range, parse_rfc3339_us
from meter_pipeline.io.records import JsonNumber, ParquetInt, TzTimestampUs
from meter_pipeline.money import VALUE_LIMIT, is_json_number, to_quantity

__all__ = [
    "ALIASES",
    "KNOWN_FIELDS",
    "MAX_LEN",
    "REASONS",
    "REQUIRED",
    "Event",
    "Rejection",
    "ValidationContext",
    "context_for",
    "validate_fields",
]

ALIASES = {
    "uniqueId": "event_id",
    "customerId": "customer_id",
    "meterApiName": "meter",
    "meterTimeInMillis": "timestamp",
    "meterValue": "value",
}
_NAMES = {canonical: (canonical, alias) for alias, canonical in ALIASES.items()}
_NAMES["dimensions"] = ("dimensions",)
KNOWN_FIELDS = frozenset(ALIASES) | frozenset(_NAMES)
REQUIRED = ("event_id", "customer_id", "meter", "timestamp")
DAY_US = 86_400_000_000


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs to know about one landing day."""

    meters: dict[str, Meter]
    oldest_us: int  # landing_date − max_event_age_days, 00:00 UTC
    future_us: int  # landing_date + 1 day + future_tolerance
    #: ``limits.max_number_chars``: the longest value or integer timestamp token.
    max_number_chars: int = 100


def context_for(config: MetersConfig, landing_date: dt.date) -> ValidationContext:
    start_us = (landing_date - dt.date(1970, 1, 1)).days * DAY_US
    return ValidationContext(
        config.meters,
        start_us - config.max_event_age_days * DAY_US,
        start_us + DAY_US + config.future_tolerance_us,
        config.limits.max_number_chars,
    )


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    customer_id: str
    meter: str
    event_time_us: int
    value: Decimal | None
    dimensions: tuple[tuple[str, str], ...]


Rejection = tuple[str, str]


def _present(fields: dict[str, Any], canonical: str) -> list[tuple[str, Any]]:
    """Values of a field under its native and alias names; null and "" count as absent."""
    return [
        (name, fields[name])
        for name in _NAMES[canonical]
        if name in fields and fields[name] is not None and not _is_empty_str(fields[name])
    ]


def _is_empty_str(value: Any) -> bool:
    return isinstance(value, str) and value == ""


def _dimension_text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if isinstance(value, JsonNumber):
        return str.__str__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, JsonNumber):
        return "number"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", float: "floating-point number"}.get(
        type(value), getattr(value, "what", type(value).__name__)
    )


def validate_fields(
    fields: dict[str, Any], ctx: ValidationContext, type_error: str | None = None
) -> Event | Rejection:
    """One parsed row → an :class:`Event`, or ``(reason, detail)``. ``type_error``: an
    ``invalid_type`` found while mapping another form onto these names (see
    :mod:`meter_pipeline.ingestion.formats`), reported at that reason's place in the order."""
    found = {name: _present(fields, name) for name in _NAMES}
    for name in REQUIRED:
        if not found[name]:
            return "missing_field", f"{name} is missing"
    for name in REQUIRED:
        if len(found[name]) > 1:
            return (
                "invalid_type",
                f"{name} is given under both names {found[name][0][0]} and {found[name][1][0]}",
            )
    if type_error is not None:
        return "invalid_type", type_error
    ids = {}
    for name in ("event_id", "customer_id", "meter"):
        value = found[name][0][1]
        if type(value) is not str:
            return "invalid_type", f"{name} must be a string, got {_type_name(value)}"
        ids[name] = value
    stamp = found["timestamp"][0][1]
    if not (
        type(stamp) is str
        or isinstance(stamp, (ParquetInt, TzTimestampUs))
        or (isinstance(stamp, JsonNumber) and stamp.is_int)
    ):
        return (
            "invalid_type",
            f"timestamp must be a string or integer epoch milliseconds, got {_type_name(stamp)}",
        )
    dims: dict[str, str] = {}
    if found["dimensions"]:
        raw_dims = found["dimensions"][0][1]
        if not isinstance(raw_dims, dict):
            return "invalid_type", f"dimensions must be an object, got {_type_name(raw_dims)}"
        for key, value in raw_dims.items():
            text = _dimension_text(value)
            if text is None:
                got = "null" if value is None else _type_name(value)
                return (
                    "invalid_type",
                    f"dimension {key!r} must be a string, number or boolean, got {got}",
                )
            dims[key] = text
    meter = ctx.meters.get(ids["meter"])
    needs_value = meter is not None and meter.needs_value
    values = found["value"] if needs_value else []
    if len(values) > 1:
        return "invalid_type", "value is given under both names value and meterValue"
    raw_value = values[0][1] if values else None
    if raw_value is not None and not (
        type(raw_value) is str or isinstance(raw_value, (JsonNumber, Decimal))
    ):
        return (
            "invalid_type",
            f"value must be a number or a string holding one, got {_type_name(raw_value)}",
        )
    for name, value in ids.items():
        if len(value) > MAX_LEN:
            return "field_too_long", f"{name} has {len(value)} characters (at most {MAX_LEN})"
    for key, value in dims.items():
        if len(key) > MAX_LEN:
            return "field_too_long", f"dimension key {key[:40]!r}… has {len(key)} characters"
        if len(value) > MAX_LEN:
            return "field_too_long", f"dimension {key!r} has {len(value)} characters"
    if meter is None:
        return "unknown_meter", f"meter {ids['meter']!r} is not in meters.yaml"
    if needs_value and raw_value is None:
        return "missing_field", f"value is missing (meter {meter.name} is a {meter.aggregation})"
    if type(stamp) is str:
        us = parse_rfc3339_us(stamp)
        if us is None:
            return (
                "invalid_timestamp",
                f"timestamp {stamp[:64]!r} is not an RFC 3339 instant in 1970–9999",
            )
    elif isinstance(stamp, TzTimestampUs):
        us = int(stamp) if in_range(int(stamp)) else None
        if us is None:
            return "invalid_timestamp", getattr(stamp, "detail", "timestamp is outside 1970–9999")
    else:
        if len(_token(stamp)) > ctx.max_number_chars:
            return "invalid_timestamp", _over_limit("timestamp", stamp, ctx.max_number_chars)
        us = epoch_ms_to_us(stamp)
        if us is None:
            return (
                "invalid_timestamp",
                f"epoch milliseconds {_short_int(stamp)} are outside 1970–9999",
            )
    if us < ctx.oldest_us:
        return "too_old", "event time is older than max_event_age_days before the landing date"
    if us >= ctx.future_us:
        return (
            "future_timestamp",
            "event time is at or after the end of the landing day plus future_tolerance",
        )
    value = None
    if needs_value:
        if isinstance(raw_value, str) and len(raw_value) > ctx.max_number_chars:
            return "invalid_value", _over_limit("value", raw_value, ctx.max_number_chars)
        try:
            exact = _exact_value(raw_value)
        except ValueError as exc:
            return "invalid_value", str(exc)
        if exact < 0 and not meter.allow_negative:
            return (
                "negative_value",
                f"value {_short(exact)} is negative and meter {meter.name} does not allow_negative",
            )
        value = to_quantity(exact)
    for name in meter.all_required_dimensions:
        if dims.get(name, "") == "":
            return "missing_dimension", f"dimension {name!r} is required by meter {meter.name}"
    return Event(
        ids["event_id"], ids["customer_id"], meter.name, us, value, tuple(sorted(dims.items()))
    )


def _short_int(value: int | str) -> str:
    """An integer's text for a detail, cut short (a huge token is never converted to int)."""
    text = str.__str__(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else f"{text[:37]}… ({len(text)} digits)"


def _token(token: object) -> str:
    """A number token's own text (a JsonNumber's str, never a conversion of a huge int)."""
    return str.__str__(token) if isinstance(token, str) else str(token)


def _over_limit(name: str, token: object, limit: int) -> str:
    """The detail of a number token longer than ``limits.max_number_chars``."""
    text = _token(token)
    return (
        f"{name} token {text[:20]!r}… has {len(text)} characters, over the limit "
        f"max_number_chars = {limit} (meters.yaml limits:)"
    )


def _short(value: Decimal) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _exact_value(raw: Any) -> Decimal:
    if isinstance(raw, Decimal):
        exact = raw
        if not exact.is_finite():
            raise ValueError("value is not a finite number")
    else:
        text = str.__str__(raw)
        if not is_json_number(text):
            raise ValueError(f"value {text[:40]!r} is not a JSON number")
        try:
            exact = Decimal(text)
        except decimal.InvalidOperation:  # pragma: no cover - the grammar rules this out
            raise ValueError(f"value {text[:40]!r} is not a number") from None
    if exact.copy_abs() >= VALUE_LIMIT:  # exact: abs() would round to the context precision
        raise ValueError(f"value {_short(exact)} is out of range (|value| < 10^20)")
    return exact
