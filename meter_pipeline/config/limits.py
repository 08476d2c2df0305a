"""``limits:`` in ``reference/meters.yaml``: ingestion limits (:mod:`meter_pipeline.io.limits`)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from meter_pipeline.config.errors import ConfigError, reject_unknown_keys, require_int
from meter_pipeline.io.limits import Limits


def parse_limits(raw: Any, file: str) -> Limits:
    """Every key optional (its default kept); each a positive integer."""
    if raw is None:
        return Limits()
    if not isinstance(raw, dict):
        raise ConfigError(file, "limits", "must be a mapping of limit names to integers")
    names = {f.name for f in fields(Limits)}
    reject_unknown_keys(raw, names, file, "limits.")
    values = {name: require_int(raw[name], file, f"limits.{name}", minimum=1) for name in raw}
    return Limits(**values)
