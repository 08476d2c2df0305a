r"""JSON Lines (RFC 8259, one object per physical line), exact and strict.

The line rules are written once, here (docs/rules.md#2-an-event): a byte order mark at the start of
a file is ignored; a line ends at ``\n`` and a ``\r`` before it is not part of the line; a line
holding only blanks (:data:`BLANK`) is skipped and not counted, but keeps its number. The per-line
reader (:func:`read_jsonl`) and the vectorised splitter of the fast path (:func:`jsonl_lines`) both
apply them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import polars as pl

from meter_pipeline.io.records import JsonNumber, RawRow

#: The UTF-8 byte order mark, ignored at the start of a file.
BOM = b"\xef\xbb\xbf"
#: The bytes a blank line may hold: ASCII whitespace, i.e. what ``bytes.strip()`` removes (less
#: ``\n``, which ends the line).
BLANK = b" \t\r\x0b\x0c"
_BLANK_LINE = "^[" + "".join(f"\\x{byte:02x}" for byte in BLANK) + "]*$"


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


def strip_bom(data: bytes) -> bytes:
    """The file's bytes without a leading byte order mark."""
    return data[len(BOM) :] if data.startswith(BOM) else data


def physical_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` per non-blank physical line, numbered from 1, without line ends."""
    for number, line in enumerate(strip_bom(data).split(b"\n"), start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip(BLANK):
            yield number, line


def jsonl_lines(data: bytes) -> pl.DataFrame | None:
    """:func:`physical_lines` as a frame (line_number, text), split in Polars without the GIL; None
    when the file is not valid UTF-8 (then each line is judged on its own)."""
    data = strip_bom(data)
    try:  # strict UTF-8 (no surrogates, no overlong forms)
        text = pl.Series("text", [data], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.ComputeError:  # not valid UTF-8
        return None
    line = pl.col("text")
    lines = (
        text.str.split("\n")
        .explode()
        .to_frame()
        .with_row_index("line_number", offset=1)
        .with_columns(pl.col("line_number").cast(pl.Int64))
    )
    if b"\r" in data:  # only then pay for rewriting the lines
        lines = lines.with_columns(
            pl.when(line.str.ends_with("\r"))
            .then(line.str.slice(0, line.str.len_chars() - 1))
            .otherwise(line)
        )
    return lines.filter(~line.str.contains(_BLANK_LINE))  # blank: no row


def read_jsonl(data: bytes) -> Iterator[RawRow]:
    """Yield one row per non-blank physical line, numbered from 1."""
    for number, line in physical_lines(data):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield RawRow(number, line.decode("utf-8", "replace"), None, "not valid UTF-8")
            continue
        obj, error = parse_json_object(text)
        yield RawRow(number, text, obj, error)
