"""The event grammar (docs/rules.md#2-an-event), written once: timestamps, JSON numbers, field
lengths.

Both validation paths take their patterns from here: the per-line validator
(:mod:`meter_pipeline.ingestion.validate`, with :func:`parse_rfc3339_us`) and the vectorised fast
path (:mod:`meter_pipeline.ingestion.fast_path`, which anchors the same pieces for Polars and may
narrow them, never widen them). The patterns use only syntax that Python's :mod:`re` and Polars'
Rust regex read alike.
"""

from __future__ import annotations

import datetime as dt
import re

#: Characters allowed in event_id, customer_id, meter, a dimension key or value (code points).
MAX_LEN = 256

# --- RFC 3339 (docs/rules.md#2-an-event): uppercase T and Z, 1–9 fraction digits, offsets ±HH:MM
# ---------------

#: Groups 1–3: year, month, day.
DATE = r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
#: Groups 4–7: hour, minute, second, fraction digits (absent when there is no fraction).
TIME = r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
#: Groups 8–11: the whole zone (``Z`` or ``±HH:MM``), then sign, offset hours, offset minutes
#: (absent for ``Z``).
ZONE = r"(Z|([+-])([0-9]{2}):([0-9]{2}))"
#: An RFC 3339 instant, unanchored, with the eleven groups above. It checks the shape only: the
#: calendar (month 13, Feb 30, second 60), offsets beyond ±23:59 and the range are checked after.
RFC3339_PATTERN = f"{DATE}T{TIME}{ZONE}"
RFC3339 = re.compile(RFC3339_PATTERN + r"\Z")
MAX_OFFSET_HOURS, MAX_OFFSET_MINUTES = 23, 59

# --- The instant range: 1970-01-01T00:00Z up to the end of year 9999 -------------------------

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_US = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z: instants must be before it
US = dt.timedelta(microseconds=1)

# --- JSON numbers (RFC 8259): no leading '+', no leading zeros, no bare '.' -------------------


def json_integer(max_digits: int | None = None, *, signed: bool = True) -> str:
    """The integer part of a JSON number: ``0`` or digits without a leading zero.

    ``max_digits`` bounds the digits and ``signed=False`` leaves out the ``-``: narrowings for
    a path that accepts fewer forms (the grammar itself has neither).
    """
    more = "*" if max_digits is None else f"{{0,{max_digits - 1}}}"
    return ("-?" if signed else "") + f"(?:0|[1-9][0-9]{more})"


def json_fraction(max_digits: int | None = None) -> str:
    """The fraction of a JSON number: ``.`` and at least one digit (at most ``max_digits``)."""
    digits = "+" if max_digits is None else f"{{1,{max_digits}}}"
    return rf"\.[0-9]{digits}"


JSON_EXPONENT = r"[eE][+-]?[0-9]+"
#: A JSON number token, unanchored.
JSON_NUMBER_PATTERN = f"{json_integer()}(?:{json_fraction()})?(?:{JSON_EXPONENT})?"


def in_range(us: int) -> bool:
    """Instants from 1970-01-01T00:00Z up to the end of year 9999."""
    return 0 <= us < MAX_US


def parse_rfc3339_us(text: str) -> int | None:
    """UTC microseconds of an RFC 3339 timestamp, or None when it is not one (or out of range).

    Uppercase T and Z, 1–9 fraction digits (beyond microseconds truncated), offsets up to ±23:59.
    """
    match = RFC3339.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone, sign, oh, om = match.groups()
    if zone == "Z":
        offset = dt.timedelta(0)
    else:
        if int(oh) > MAX_OFFSET_HOURS or int(om) > MAX_OFFSET_MINUTES:
            return None
        offset = dt.timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    micro = int((fraction or "").ljust(6, "0")[:6])
    try:
        local = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micro,
            tzinfo=dt.timezone(offset),
        )
    except ValueError:
        return None  # month 13, Feb 30, hour 24, second 60, year 0000 …
    us = (local - EPOCH) // US
    return us if in_range(us) else None


# --- Epoch milliseconds: a JSON integer, in the same instant range ---------------------------

#: The largest epoch-millisecond value in range, and its digits: a longer integer is out of range.
MAX_MS = (MAX_US - 1) // 1000
MAX_MS_DIGITS = len(str(MAX_MS))


def epoch_ms_to_us(ms: int | str) -> int | None:
    """UTC microseconds of epoch milliseconds (an int, or the text of a JSON integer), or None
    outside 1970–9999. A text longer than any instant in range is out of range without being
    converted (Python refuses to convert integer strings of more than 4,300 digits)."""
    if isinstance(ms, str):
        if len(ms.lstrip("-")) > MAX_MS_DIGITS:
            return None
        ms = int(ms)
    us = ms * 1000
    return us if in_range(us) else None
