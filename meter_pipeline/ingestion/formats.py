"""The forms a JSONL line may take (docs/rules.md#2-an-event,
docs/alerts-and-formats.md#three-forms-of-event-line-jsonl), recognised per line and mapped onto the
native field names, so that one validator (:func:`~meter_pipeline.ingestion.validate.
validate_fields`) applies every rule of docs/rules.md#3-validation-quarantined_events to every form,
in the same order.

- **CloudEvents 1.0** when the line has ``specversion`` (it must be the string ``"1.0"``, else the
  line is ``malformed``): ``id`` → event_id, ``subject`` → customer_id, ``type`` → meter, ``time``
  → timestamp (an RFC 3339 string; a number is ``invalid_type``), value and dimensions from the
  meter's ``value_property`` / ``dimension_properties`` inside ``data``; ``source`` is kept.
- **Stripe meter event** otherwise, when the line has ``identifier``, ``event_name`` or
  ``payload``: ``identifier`` → event_id, ``event_name`` → meter, ``timestamp`` (epoch seconds,
  a JSON integer or a string of digits), ``payload.stripe_customer_id`` → customer_id,
  ``payload.value`` → value, the other payload keys → dimensions.
- **Native / Amberflo** otherwise.

"Has a field" means a value other than null or ``""`` (docs/rules.md#2-an-event: they count as
absent). The fields of the other forms are unknown fields of a line. Only JSONL lines take the other
forms; CSV and Parquet rows are native (their column layout is §3's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meter_pipeline.config.jsonpath import ABSENT, lookup
from meter_pipeline.config.meters import Meter
from meter_pipeline.ingestion.validate import KNOWN_FIELDS, Rejection
from meter_pipeline.io.jsonl import read_jsonl
from meter_pipeline.io.landing import EVENT_FORMATS
from meter_pipeline.io.records import JsonNumber, TzTimestampUs

CLOUDEVENTS_FIELDS = frozenset(
    {
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "dataschema",
        "data",
        "data_base64",
    }
)
STRIPE_FIELDS = frozenset({"identifier", "event_name", "timestamp", "payload"})
#: The payload keys of a Stripe event that are not dimensions.
STRIPE_PAYLOAD = ("stripe_customer_id", "value")
#: Seconds of the last instant of year 9999 have 12 digits; longer digit strings are out of range
#: without converting them (a 5,000-digit integer is not converted at all).
_MAX_SECONDS_DIGITS = 12


class OutOfRange(TzTimestampUs):
    """A Stripe timestamp that is not epoch seconds in 1970–9999: ``invalid_timestamp``."""

    def __new__(cls, text: str):
        obj = super().__new__(cls, -1)
        obj.detail = f"timestamp {text[:40]!r} is not epoch seconds in 1970–9999"
        return obj


@dataclass(frozen=True, slots=True)
class Line:
    """A row in the native field names, with what its form adds."""

    fields: dict[str, Any]
    known: frozenset[str] = KNOWN_FIELDS
    source: str | None = None
    type_error: str | None = None  # an invalid_type found while mapping the form


def _has(fields: dict[str, Any], name: str) -> bool:
    value = fields.get(name)
    return value is not None and not (isinstance(value, str) and value == "")


def _kind(value: Any) -> str:
    if isinstance(value, JsonNumber):
        return "number"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string"}.get(type(value), type(value).__name__)


_JSONL_SUFFIXES = tuple(
    suffix for suffix, (reader, _) in EVENT_FORMATS.items() if reader is read_jsonl
)


def is_jsonl(path: str) -> bool:
    """True for a landing file read as JSON Lines (``*.jsonl``, ``*.ndjson``, gzipped or not)."""
    return path.endswith(_JSONL_SUFFIXES)


def form_of(fields: dict[str, Any], jsonl: bool) -> str:
    """``cloudevents``, ``stripe`` or ``native`` (Amberflo names are native aliases)."""
    if jsonl and _has(fields, "specversion"):
        return "cloudevents"
    if jsonl and any(_has(fields, name) for name in ("identifier", "event_name", "payload")):
        return "stripe"
    return "native"


#: The known fields of each form; any other field of a line is an unknown field.
KNOWN = {"cloudevents": CLOUDEVENTS_FIELDS, "stripe": STRIPE_FIELDS, "native": KNOWN_FIELDS}


def recognise(fields: dict[str, Any], meters: dict[str, Meter], form: str) -> Line | Rejection:
    """Map one parsed row of the given :func:`form_of` onto the native field names, or reject
    it as ``malformed``."""
    if form == "cloudevents":
        return _cloudevent(fields, meters)
    if form == "stripe":
        return _stripe(fields)
    return Line(fields)


def _cloudevent(fields: dict[str, Any], meters: dict[str, Meter]) -> Line | Rejection:
    version = fields["specversion"]
    if type(version) is not str or version != "1.0":
        shown = repr(str.__str__(version)) if isinstance(version, str) else _kind(version)
        return "malformed", f'specversion must be the string "1.0" (CloudEvents 1.0), got {shown}'
    out = {
        native: fields[name]
        for name, native in (("id", "event_id"), ("subject", "customer_id"), ("type", "meter"))
        if name in fields
    }
    errors: list[str] = []
    time = fields.get("time")
    if time is not None and not isinstance(time, JsonNumber | str):
        errors.append(f"time must be an RFC 3339 string, got {_kind(time)}")
    elif isinstance(time, JsonNumber):
        errors.append("time must be an RFC 3339 string, got a number")
    out["timestamp"] = time
    source = fields.get("source")
    if source is not None and type(source) is not str:
        errors.append(f"source must be a string, got {_kind(source)}")
        source = None
    data = fields.get("data")
    if data is not None and not isinstance(data, dict):
        errors.append(f"data must be an object, got {_kind(data)}")
        data = None
    meter = meters.get(fields["type"]) if type(fields.get("type")) is str else None
    if meter is not None and data is not None:
        if meter.value_property is not None:
            value = lookup(data, meter.value_property)
            if value is not ABSENT:
                out["value"] = value
        dims = {key: lookup(data, path) for key, path in meter.dimension_properties}
        out["dimensions"] = {key: value for key, value in dims.items() if value is not ABSENT}
    return Line(out, CLOUDEVENTS_FIELDS, source or None, errors[0] if errors else None)


def _stripe(fields: dict[str, Any]) -> Line:
    out = {
        native: fields[name]
        for name, native in (("identifier", "event_id"), ("event_name", "meter"))
        if name in fields
    }
    errors: list[str] = []
    if "timestamp" in fields:
        out["timestamp"] = _seconds(fields["timestamp"], errors)
    payload = fields.get("payload")
    if isinstance(payload, dict):
        for name, native in zip(STRIPE_PAYLOAD, ("customer_id", "value"), strict=True):
            if name in payload:
                out[native] = payload[name]
        out["dimensions"] = {
            key: value
            for key, value in payload.items()
            if key not in STRIPE_PAYLOAD and value is not None
        }
    elif payload is not None:
        errors.append(f"payload must be an object, got {_kind(payload)}")
        out["customer_id"] = payload  # given, in the wrong container: not missing
    return Line(out, STRIPE_FIELDS, None, errors[0] if errors else None)


def _seconds(stamp: Any, errors: list[str]) -> Any:
    """A Stripe timestamp (epoch seconds) as UTC microseconds, for the validator."""
    if stamp is None or (isinstance(stamp, str) and stamp == ""):
        return stamp  # absent: missing_field
    digits = str.__str__(stamp) if isinstance(stamp, str) else None
    if isinstance(stamp, JsonNumber) and not stamp.is_int:
        errors.append(f"timestamp must be integer epoch seconds, got {digits}")
        return stamp
    if digits is None:
        errors.append(f"timestamp must be integer epoch seconds, got {_kind(stamp)}")
        return stamp
    negative = isinstance(stamp, JsonNumber) and digits.startswith("-")
    body = digits[1:] if negative else digits
    if not (body.isascii() and body.isdigit()) or negative or len(body) > _MAX_SECONDS_DIGITS:
        return OutOfRange(digits)
    return TzTimestampUs(int(body) * 1_000_000)
