"""``reference/meters.yaml``: meter definitions and ingestion limits (docs/rules.md#5-meters,
docs/rules.md#11-reference-files)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from meter_pipeline.config.errors import (
    ConfigError,
    parse_duration_us,
    read_yaml,
    reject_unknown_keys,
    require_int,
    require_str,
)
from meter_pipeline.config.jsonpath import parse_meter_properties
from meter_pipeline.config.limits import parse_limits
from meter_pipeline.grammar import MAX_LEN
from meter_pipeline.io.limits import Limits

FILE = "reference/meters.yaml"
AGGREGATIONS = ("count", "sum", "max", "latest", "unique_count")
VALUE_AGGREGATIONS = frozenset({"sum", "max", "latest"})


@dataclass(frozen=True)
class Meter:
    name: str
    aggregation: str
    unit: str | None = None
    required_dimensions: tuple[str, ...] = ()
    unique_dimension: str | None = None
    allow_negative: bool = False
    #: Where a CloudEvents line's value and dimensions sit in its ``data``: JSONPath member names
    #: (:mod:`meter_pipeline.config.jsonpath`; docs/alerts-and-formats.md, "Declaring where
    #: CloudEvents carry value and dimensions").
    value_property: tuple[str, ...] | None = None
    dimension_properties: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def needs_value(self) -> bool:
        """sum, max and latest meters carry a value; count and unique_count do not."""
        return self.aggregation in VALUE_AGGREGATIONS

    @property
    def all_required_dimensions(self) -> tuple[str, ...]:
        extra = (self.unique_dimension,) if self.unique_dimension else ()
        return tuple(dict.fromkeys(self.required_dimensions + extra))


@dataclass(frozen=True)
class MetersConfig:
    meters: dict[str, Meter] = field(default_factory=dict)
    max_event_age_days: int = 35
    future_tolerance_us: int = 3_600_000_000
    dedup_window_days: int = 40
    #: Ingestion limits (``limits:``); part of the fingerprint, as they decide what loads.
    limits: Limits = field(default_factory=Limits)
    #: How far back a correction finds its event
    #: (docs/audit.md#corrections-void-or-amend-an-event-without-rewriting-history; not part of the
    #: fingerprint).
    correction_window_days: int = 90

    def fingerprint(self) -> str:
        """A stable digest of everything that decides whether an event is valid."""
        fields = asdict(self)
        fields.pop("correction_window_days")
        payload = json.dumps(fields, sort_keys=True, default=list)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


_TOP = {
    "max_event_age_days",
    "future_tolerance",
    "dedup_window_days",
    "meters",
    "limits",
    "correction_window_days",
}
_METER = {
    "name",
    "aggregation",
    "unit",
    "required_dimensions",
    "unique_dimension",
    "allow_negative",
    "value_property",
    "dimension_properties",
}


def parse_meters(data: dict) -> MetersConfig:
    """Validate a parsed meters.yaml mapping (see :func:`load_meters`)."""
    reject_unknown_keys(data, _TOP, FILE, "")
    age = require_int(data.get("max_event_age_days", 35), FILE, "max_event_age_days")
    tolerance = parse_duration_us(data.get("future_tolerance", "1h"), FILE, "future_tolerance")
    window = require_int(data.get("dedup_window_days", 40), FILE, "dedup_window_days", minimum=1)
    if window <= age + 1:
        raise ConfigError(
            FILE,
            "dedup_window_days",
            f"must be more than max_event_age_days + 1 "
            f"({age + 1}) so every retry of a valid event is caught, got {window}",
        )
    raw_meters = data.get("meters")
    if not isinstance(raw_meters, list) or not raw_meters:
        raise ConfigError(FILE, "meters", "must be a non-empty list of meters")
    meters: dict[str, Meter] = {}
    for i, raw in enumerate(raw_meters):
        where = f"meters[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(FILE, where, "must be a mapping with name and aggregation")
        reject_unknown_keys(raw, _METER, FILE, f"{where}.")
        name = require_str(raw.get("name"), FILE, f"{where}.name")
        if len(name) > MAX_LEN:  # a longer name could never be an event's meter
            raise ConfigError(FILE, f"{where}.name", f"must be at most {MAX_LEN} characters")
        if name in meters:
            raise ConfigError(FILE, f"{where}.name", f"meter {name!r} is defined twice")
        aggregation = raw.get("aggregation")
        if aggregation not in AGGREGATIONS:
            raise ConfigError(
                FILE,
                f"{where}.aggregation",
                f"must be one of {', '.join(AGGREGATIONS)}, got {aggregation!r}",
            )
        dims = raw.get("required_dimensions", []) or []
        if not isinstance(dims, list) or not all(isinstance(d, str) and d for d in dims):
            raise ConfigError(
                FILE, f"{where}.required_dimensions", "must be a list of dimension names"
            )
        unique = raw.get("unique_dimension")
        if aggregation == "unique_count":
            unique = require_str(unique, FILE, f"{where}.unique_dimension")
        elif unique is not None:
            raise ConfigError(
                FILE, f"{where}.unique_dimension", "is only allowed on unique_count meters"
            )
        unit = raw.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise ConfigError(FILE, f"{where}.unit", f"must be a string, got {unit!r}")
        allow_negative = raw.get("allow_negative", False)
        if not isinstance(allow_negative, bool):
            raise ConfigError(FILE, f"{where}.allow_negative", "must be true or false")
        value_path, dim_paths = parse_meter_properties(
            raw, FILE, where, name, aggregation in VALUE_AGGREGATIONS
        )
        meters[name] = Meter(
            name, aggregation, unit, tuple(dims), unique, allow_negative, value_path, dim_paths
        )
    corrections = require_int(
        data.get("correction_window_days", 90), FILE, "correction_window_days", minimum=1
    )
    limits = parse_limits(data.get("limits"), FILE)
    return MetersConfig(meters, age, tolerance, window, limits, corrections)


def load_meters(root: str | Path) -> MetersConfig:
    """Load ``<root>/reference/meters.yaml``; a :class:`ConfigError` names file, key and rule."""
    return parse_meters(read_yaml(root, FILE, required=True))
