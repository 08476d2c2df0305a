"""What a landing reader hands to validation: one :class:`RawRow` per input row.

Readers keep every value in a form that validation can judge exactly: JSON numbers keep their
text (:class:`JsonNumber`), Parquet values are tagged with the column type they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class JsonNumber(str):
    """A JSON number token, kept as its exact text. ``is_int``: no fraction and no exponent."""

    __slots__ = ("is_int",)

    def __new__(cls, text: str, is_int: bool):
        obj = super().__new__(cls, text)
        obj.is_int = is_int
        return obj


class ParquetInt(int):
    """An integer from a Parquet INT column (valid only as epoch-millisecond timestamps)."""


class TzTimestampUs(int):
    """A Parquet TIMESTAMP with time zone, as UTC microseconds since the epoch."""


class BadType:
    """A value whose type can never be valid (e.g. a Parquet TIMESTAMP without zone)."""

    __slots__ = ("what",)

    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


@dataclass(slots=True)
class RawRow:
    """One input row. ``fields`` is None when the row could not be parsed (``malformed``)."""

    line_number: int
    raw_record: str | None
    fields: dict[str, Any] | None
    error: str | None = None


@dataclass(slots=True)
class LandingFile:
    """A file read on a landing day, as listed in the audit."""

    path: str
    bytes: int
    sha256: str
    rows: int = 0
    #: Bytes after decompression (not in the audit; counted against ``max_day_bytes``).
    content_bytes: int = 0
