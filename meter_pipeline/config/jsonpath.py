"""The JSONPath subset of meters.yaml's ``value_property`` and ``dimension_properties``
(docs/alerts-and-formats.md#declaring-where-cloudevents-carry-value-and-dimensions-metersyaml, §17
Formats): where a CloudEvents line's value and dimensions sit inside its ``data`` object.

A path is ``$`` followed by one or more segments, each ``.name`` or ``['name']``:

- ``.name``: a letter or ``_`` then letters, digits or ``_`` (RFC 9535's member-name shorthand,
  ASCII or not; no ``-``: write ``['my-key']`` instead);
- ``['name']``: any characters but ``'`` and ``\\`` (no escapes), possibly empty.

Anything else (wildcards, indexes, filters, ``..``, double quotes, a bare ``$``) is a
configuration error. A full JSONPath library (jsonpath-ng, python-jsonpath) would accept all of
those and still need this check; the evaluation is a walk through nested objects, so the subset
is written here, with its tests, instead.
"""

from __future__ import annotations

import re
from typing import Any

from meter_pipeline.config.errors import ConfigError
from meter_pipeline.grammar import MAX_LEN

Path = tuple[str, ...]

_SEGMENT = re.compile(r"\.([^\W\d]\w*)|\['([^'\\]*)'\]")


def parse_path(text: object) -> Path:
    """The member names of a path, in order; ``ValueError`` (saying why) when it is not one."""
    if not isinstance(text, str):
        raise ValueError(f"must be a JSONPath string like $.tokens, got {text!r}")
    if not text.startswith("$"):
        raise ValueError(f"must start with $, got {text!r}")
    names: list[str] = []
    at = 1
    while at < len(text):
        match = _SEGMENT.match(text, at)
        if match is None:
            raise ValueError(
                f"{text!r} is not a supported JSONPath: only $ followed by .name or ['name'] "
                f"segments (problem at character {at + 1})"
            )
        names.append(match.group(1) if match.group(1) is not None else match.group(2))
        at = match.end()
    if not names:
        raise ValueError(f"{text!r} names no member: write $.name or $['name']")
    return tuple(names)


ABSENT = object()


def lookup(data: Any, path: Path) -> Any:
    """The value at ``path`` inside ``data``, or :data:`ABSENT` when a member is missing, a step
    is not an object, or the value is null (absent or null gives an absent field,
    docs/rules.md#2-an-event)."""
    node = data
    for name in path:
        if not isinstance(node, dict) or name not in node:
            return ABSENT
        node = node[name]
    return ABSENT if node is None else node


def format_path(path: Path) -> str:
    """The path in the ``$['a']['b']`` form (any name can be written so)."""
    return "$" + "".join(f"['{name}']" for name in path)


def parse_meter_properties(
    raw: dict, file: str, where: str, name: str, needs_value: bool
) -> tuple[Path | None, tuple[tuple[str, Path], ...]]:
    """A meter's ``value_property`` and ``dimension_properties`` (a mapping of dimension name to
    path), validated; a :class:`~meter_pipeline.config.errors.ConfigError` names the meter.

    A sum, max or latest meter that declares ``dimension_properties`` is meant for CloudEvents
    lines, so it must declare ``value_property`` too (else its lines could never carry a value).
    """
    value_path = None
    if raw.get("value_property") is not None:
        try:
            value_path = parse_path(raw["value_property"])
        except ValueError as exc:
            raise ConfigError(file, f"{where}.value_property", f"meter {name!r}: {exc}") from None
    dims = raw.get("dimension_properties")
    if dims is None:
        dims = {}
    if not isinstance(dims, dict):
        raise ConfigError(
            file,
            f"{where}.dimension_properties",
            f"meter {name!r}: must be a mapping of dimension name to JSONPath, got {dims!r:.60}",
        )
    paths: list[tuple[str, Path]] = []
    for key, text in dims.items():
        if not isinstance(key, str) or not key or len(key) > MAX_LEN:
            raise ConfigError(
                file,
                f"{where}.dimension_properties",
                f"meter {name!r}: dimension names must be strings of 1–{MAX_LEN} characters, "
                f"got {key!r:.60}",
            )
        try:
            paths.append((key, parse_path(text)))
        except ValueError as exc:
            raise ConfigError(
                file, f"{where}.dimension_properties.{key}", f"meter {name!r}: {exc}"
            ) from None
    if needs_value and paths and value_path is None:
        raise ConfigError(
            file,
            f"{where}.value_property",
            f"meter {name!r} takes CloudEvents lines (it declares dimension_properties) and "
            "needs a value: add value_property, e.g. $.value",
        )
    return value_path, tuple(sorted(paths))
