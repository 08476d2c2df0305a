"""RFC 3339 and epoch-millisecond timestamps → UTC microseconds, exactly (SPEC §3)."""

from __future__ import annotations

import datetime as dt
import re

RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MAX_US = 253_402_300_800_000_000  # 10000-01-01T00:00:00Z: instants must be before it
US = dt.timedelta(microseconds=1)


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
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone == "Z":
        offset = dt.timedelta(0)
    else:
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            return None
        offset = dt.timedelta(hours=oh, minutes=om) * (1 if zone[0] == "+" else -1)
    micro = int((fraction or "").ljust(6, "0")[:6])
    try:
        local = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                            micro, tzinfo=dt.timezone(offset))
    except ValueError:
        return None  # month 13, Feb 30, hour 24, second 60, year 0000 …
    us = (local - EPOCH) // US
    return us if in_range(us) else None


def epoch_ms_to_us(ms: int) -> int | None:
    us = ms * 1000
    return us if in_range(us) else None
