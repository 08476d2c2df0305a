"""JSON Lines (RFC 8259, one object per physical line), exact and strict."""

from __future__ import annotations

import json
from collections.abc import Iterator

from meter_pipeline.io.records import JsonNumber, RawRow


class _JsonError(ValueError):
    pass


def _pairs(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonError(f"repeated key {key!r}")
            seen.add(key)
    return obj


def _constant(name: str) -> object:
    raise _JsonError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs,
    parse_float=lambda text: JsonNumber(text, False),
    parse_int=lambda text: JsonNumber(text, True),
    parse_constant=_constant,
)


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def parse_json_object(text: str) -> tuple[dict | None, str | None]:
    """Parse one JSON object strictly: ``(object, None)`` or ``(None, why it is malformed)``."""
    try:
        obj = _DECODER.decode(text)
    except _JsonError as exc:
        return None, str(exc)
    except (ValueError, RecursionError) as exc:
        return None, f"not valid JSON ({exc})"
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    if "\\u" in text and _has_lone_surrogate(obj):
        return None, "a \\u escape is not a valid Unicode character"
    return obj, None


def read_jsonl(data: bytes) -> Iterator[RawRow]:
    """Yield one row per non-blank physical line, numbered from 1."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield RawRow(number, line.decode("utf-8", "replace"), None, "not valid UTF-8")
            continue
        obj, error = parse_json_object(text)
        yield RawRow(number, text, obj, error)
