"""The one error type for bad reference data, and small readers shared by the loaders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A reference file breaks a rule: ``<file>: <key or row>: <rule>`` on one line."""

    def __init__(self, file: str, where: str, rule: str):
        self.file, self.where, self.rule = file, where, rule
        super().__init__(f"{file}: {where}: {rule}")


def read_yaml(root: Path, rel: str, *, required: bool) -> dict[str, Any]:
    """Read ``<root>/<rel>`` as a YAML mapping; ``{}`` when optional and absent."""
    path = Path(root) / rel
    if not path.exists():
        if required:
            raise ConfigError(rel, "(file)", "is required but does not exist")
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(rel, where, f"is not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(rel, "(top level)", "must be a mapping of keys to values")
    return data


_DURATION = re.compile(r"([0-9]+)([smhd])\Z")
_UNIT_US = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


def parse_duration_us(text: Any, file: str, key: str) -> int:
    """``"1h"`` → microseconds. An integer with s, m, h or d."""
    match = _DURATION.match(str(text)) if isinstance(text, (str, int)) else None
    if match is None or isinstance(text, bool):
        raise ConfigError(file, key, f"must be an integer with s, m, h or d (e.g. 1h), got {text!r}")
    return int(match.group(1)) * _UNIT_US[match.group(2)]


def require_int(value: Any, file: str, key: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(file, key, f"must be an integer ≥ {minimum}, got {value!r}")
    return value


def require_str(value: Any, file: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(file, key, f"must be a non-empty string, got {value!r}")
    return value


def reject_unknown_keys(data: dict, allowed: set[str], file: str, where: str) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(file, f"{where}{key}", f"is not a known key (expected one of: "
                              f"{', '.join(sorted(allowed))})")
