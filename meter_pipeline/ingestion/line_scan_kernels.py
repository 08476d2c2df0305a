"""The compiled kernels of :mod:`meter_pipeline.ingestion.line_scan` (numba; imported only when
a file takes the fast path, compiled once and cached on disk by numba). Bytes are ``uint8``
arrays; ASCII codes are spelled out beside each test."""

from __future__ import annotations

import numba as nb
import numpy as np

from meter_pipeline.grammar import MAX_MS_DIGITS, MAX_OFFSET_HOURS, MAX_OFFSET_MINUTES, MAX_US
from meter_pipeline.money import QUANTITY, VALUE_LIMIT

#: Dimension pairs a line may have to be scanned (more go to the other path).
MAX_PAIRS = 64
INT_DIGITS, FRACTION_DIGITS, MS_DIGITS = VALUE_LIMIT.adjusted(), QUANTITY.scale, MAX_MS_DIGITS
#: The field names in column order (event_id, customer_id, meter, timestamp, value, dimensions),
#: one after another; name f is NAMES[NAME_AT[f] : NAME_AT[f + 1]].
_FIELD_NAMES = ("event_id", "customer_id", "meter", "timestamp", "value", "dimensions")
NAMES = np.frombuffer("".join(_FIELD_NAMES).encode(), dtype=np.uint8).copy()
NAME_AT = np.cumsum([0, *(len(name) for name in _FIELD_NAMES)]).astype(np.int64)
DIMENSIONS, TIMESTAMP, VALUE = 5, 3, 4
STRING, NUMBER = 1, 2


@nb.njit(inline="always", cache=True)
def _ws(b, i, end):
    while i < end and (b[i] == 32 or b[i] == 9):  # blank, tab
        i += 1
    return i


@nb.njit(inline="always", cache=True)
def _string_end(b, i, end):
    """b[i] is '"': the index after the closing quote, or -1 (a backslash, a control character
    or no closing quote)."""
    i += 1
    while i < end:
        c = b[i]
        if c == 34:  # "
            return i + 1
        if c == 92 or c < 32:  # \ or a control character
            return -1
        i += 1
    return -1


@nb.njit(inline="always", cache=True)
def _field_of(b, s, e):
    """The field whose name is b[s:e], or -1 (an alias or an unknown name)."""
    for f in range(NAME_AT.shape[0] - 1):
        start = NAME_AT[f]
        if e - s == NAME_AT[f + 1] - start:
            k = 0
            while k < e - s and b[s + k] == NAMES[start + k]:
                k += 1
            if k == e - s:
                return f
    return -1


@nb.njit(inline="always", cache=True)
def _digits(b, i, end):
    while i < end and 48 <= b[i] <= 57:  # 0-9
        i += 1
    return i


@nb.njit(inline="always", cache=True)
def _decimal_end(b, i, end):
    """A plain decimal from b[i]: '-'?, then 0 or 1–20 digits without a leading zero, then
    optionally '.' and 1–9 digits. The index after it, or -1."""
    if i < end and b[i] == 45:  # -
        i += 1
    s = i
    i = _digits(b, i, end)
    if i == s or i - s > INT_DIGITS or (b[s] == 48 and i - s > 1):
        return -1
    if i < end and b[i] == 46:  # .
        s = i + 1
        i = _digits(b, s, end)
        if i == s or i - s > FRACTION_DIGITS:
            return -1
    return i


@nb.njit(inline="always", cache=True)
def _millis_end(b, i, end):
    """Epoch milliseconds from b[i]: 0, or 1–15 digits without a leading zero (no sign)."""
    s = i
    i = _digits(b, i, end)
    if i == s or i - s > MS_DIGITS or (b[s] == 48 and i - s > 1):
        return -1
    return i


@nb.njit(inline="always", cache=True)
def _number_ends(b, i, end):
    """A number token may end at i: what follows cannot continue a JSON number."""
    if i >= end:
        return True
    c = b[i]
    return not (c == 46 or c == 101 or c == 69 or c == 43 or c == 45 or 48 <= c <= 57)


@nb.njit(inline="always", cache=True)
def _two(b, i):
    """The two digits at b[i], or -1."""
    hi, lo = b[i] - 48, b[i + 1] - 48
    if hi < 0 or hi > 9 or lo < 0 or lo > 9:
        return -1
    return hi * 10 + lo


@nb.njit(cache=True)
def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (years ≥ 1)."""
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(cache=True)
def _instant_us(b, s, e):
    """UTC microseconds of the RFC 3339 text b[s:e] (the grammar's: YYYY-MM-DDTHH:MM:SS, 1–9
    fraction digits, Z or ±HH:MM up to ±23:59; beyond microseconds truncated), or -1 when it is
    not one or not in 1970–9999."""
    if e - s < 20 or b[s + 4] != 45 or b[s + 7] != 45 or b[s + 10] != 84:  # - - T
        return -1
    if b[s + 13] != 58 or b[s + 16] != 58:  # : :
        return -1
    hi, lo = _two(b, s), _two(b, s + 2)
    mo, d, h, mi, sec = (
        _two(b, s + 5),
        _two(b, s + 8),
        _two(b, s + 11),
        _two(b, s + 14),
        _two(b, s + 17),
    )
    if hi < 0 or lo < 0 or mo < 0 or d < 0 or h < 0 or mi < 0 or sec < 0:
        return -1
    y = hi * 100 + lo
    i = s + 19
    micro, places = 0, 0
    if b[i] == 46:  # .
        i += 1
        first = i
        while i < e and 48 <= b[i] <= 57:
            if places < 6:
                micro = micro * 10 + (b[i] - 48)
                places += 1
            i += 1
        if i == first or i - first > 9:
            return -1
    while places < 6:
        micro *= 10
        places += 1
    offset = 0
    if i == e - 1 and b[i] == 90:  # Z
        offset = 0
    elif i == e - 6 and (b[i] == 43 or b[i] == 45) and b[i + 3] == 58:  # ± :
        oh, om = _two(b, i + 1), _two(b, i + 4)
        if oh < 0 or om < 0 or oh > MAX_OFFSET_HOURS or om > MAX_OFFSET_MINUTES:
            return -1
        offset = (oh * 60 + om) * 60_000_000
        if b[i] == 45:
            offset = -offset
    else:
        return -1
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    if mo == 2:
        dim = 29 if leap else 28
    elif mo == 4 or mo == 6 or mo == 9 or mo == 11:
        dim = 30
    else:
        dim = 31
    if y < 1 or mo < 1 or mo > 12 or d < 1 or d > dim or h > 23 or mi > 59 or sec > 59:
        return -1
    local = ((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec
    us = local * 1_000_000 + micro - offset
    if us < 0 or us >= MAX_US:
        return -1
    return us


@nb.njit(inline="always", cache=True)
def _new_key(b, pairs, first, last, s, e):
    """b[s:e] is none of the keys pairs[first:last] holds."""
    for p in range(first, last):
        ps, pe = pairs[p, 0], pairs[p, 1]
        if pe - ps == e - s:
            equal = True
            for k in range(e - s):
                if b[ps + k] != b[s + k]:
                    equal = False
                    break
            if equal:
                return False
    return True


@nb.njit(nogil=True, cache=True)
def _dimensions_end(b, i, end, r, used, pairs, pair_count):
    """The dimensions object from b[i] ('{'): its pairs appended to ``pairs`` from ``used``.
    Returns (the index after '}' or -1, pairs used now)."""
    i = _ws(b, i + 1, end)
    if i < end and b[i] == 125:  # }
        return i + 1, used
    first = used
    while True:
        if i >= end or b[i] != 34 or used - first == MAX_PAIRS:
            return -1, used
        j = _string_end(b, i, end)
        if j < 0 or not _new_key(b, pairs, first, used, i + 1, j - 1):
            return -1, used
        key_start, key_end = i + 1, j - 1
        i = _ws(b, j, end)
        if i >= end or b[i] != 58:  # :
            return -1, used
        i = _ws(b, i + 1, end)
        if i >= end or b[i] != 34:
            return -1, used
        j = _string_end(b, i, end)
        if j < 0:
            return -1, used
        pairs[used, 0], pairs[used, 1], pairs[used, 2], pairs[used, 3] = (
            key_start,
            key_end,
            i + 1,
            j - 1,
        )
        used += 1
        pair_count[r] += 1
        i = _ws(b, j, end)
        if i < end and b[i] == 44:  # ,
            i = _ws(b, i + 1, end)
        elif i < end and b[i] == 125:  # }
            return i + 1, used
        else:
            return -1, used


@nb.njit(nogil=True, cache=True)
def scan(b, starts, ends, spans, kinds, instants, pair_start, pair_count, pairs):
    """Scan each line b[starts[r]:ends[r]] into spans[r, f] (start, end of field f's text; a
    string's inside its quotes), kinds[r, f] (0 absent, 1 string, 2 number), instants[r] (the
    timestamp's UTC microseconds, from RFC 3339 text or epoch milliseconds) and its dimension
    pairs pairs[pair_start[r] :][: pair_count[r]] (key start, key end, value start, value end).
    Returns (read, pairs used): read[r] is False for a line left to the other path — any line
    without the four required fields or with a timestamp that is not a valid instant in range
    among them (the other path then gives its reason)."""
    rows = starts.shape[0]
    read = np.zeros(rows, dtype=np.bool_)
    used = 0
    for r in range(rows):
        end = ends[r]
        i = _ws(b, starts[r], end)
        pair_start[r], pair_count[r], instants[r] = used, 0, -1
        for f in range(5):
            kinds[r, f] = 0
        if i >= end or b[i] != 123:  # {
            continue
        i = _ws(b, i + 1, end)
        seen, good, closed = 0, i < end and b[i] == 34, False
        while good:
            j = _string_end(b, i, end)
            f = -1 if j < 0 else _field_of(b, i + 1, j - 1)
            if f < 0 or (seen >> f) & 1:  # an alias, an unknown or a repeated name
                good = False
                break
            seen |= 1 << f
            i = _ws(b, j, end)
            if i >= end or b[i] != 58:  # :
                good = False
                break
            i = _ws(b, i + 1, end)
            if i >= end:
                good = False
                break
            if f == DIMENSIONS:
                if b[i] != 123:
                    good = False
                    break
                i, used = _dimensions_end(b, i, end, r, used, pairs, pair_count)
                if i < 0:
                    good = False
                    break
            elif b[i] == 34:  # a string
                j = _string_end(b, i, end)
                if j < 0 or (f == VALUE and _decimal_end(b, i + 1, j - 1) != j - 1):
                    good = False  # a value string holds a plain decimal and nothing else
                    break
                spans[r, f, 0], spans[r, f, 1], kinds[r, f] = i + 1, j - 1, STRING
                if f == TIMESTAMP:
                    instants[r] = _instant_us(b, i + 1, j - 1)
                i = j
            elif f == VALUE or f == TIMESTAMP:  # a number
                j = _decimal_end(b, i, end) if f == VALUE else _millis_end(b, i, end)
                if j < 0 or not _number_ends(b, j, end):
                    good = False
                    break
                if f == TIMESTAMP:
                    ms = 0
                    for k in range(i, j):
                        ms = ms * 10 + (b[k] - 48)
                    instants[r] = ms * 1000 if ms * 1000 < MAX_US else -1
                spans[r, f, 0], spans[r, f, 1], kinds[r, f] = i, j, NUMBER
                i = j
            else:  # an id that is not a string
                good = False
                break
            i = _ws(b, i, end)
            if i < end and b[i] == 44:  # ,
                i = _ws(b, i + 1, end)
                good = i < end and b[i] == 34
            elif i < end and b[i] == 125:  # }
                closed = _ws(b, i + 1, end) == end
                break
            else:
                good = False
        complete = kinds[r, 0] == STRING and kinds[r, 1] == STRING and kinds[r, 2] == STRING
        if good and closed and complete and instants[r] >= 0:
            read[r] = True
        else:
            used = pair_start[r]
            pair_count[r] = 0
    return read, used


@nb.njit(nogil=True, cache=True)
def gather(b, first, last, offsets, out):
    """Copy the spans b[first[k]:last[k]] one after another into ``out``; offsets[k + 1] is
    where span k ends."""
    at = 0
    offsets[0] = 0
    for k in range(first.shape[0]):
        for p in range(first[k], last[k]):
            out[at] = b[p]
            at += 1
        offsets[k + 1] = at


@nb.njit(inline="always", cache=True)
def _key_before(b, pairs, p, q):
    """Pair p's key sorts before pair q's (bytes compared in order; a prefix first)."""
    ps, pe, qs, qe = pairs[p, 0], pairs[p, 1], pairs[q, 0], pairs[q, 1]
    for k in range(min(pe - ps, qe - qs)):
        if b[ps + k] != b[qs + k]:
            return b[ps + k] < b[qs + k]
    return pe - ps < qe - qs


@nb.njit(nogil=True, cache=True)
def sort_pairs(b, rows, pair_start, pair_count, pairs):
    """Order each row's dimension pairs by key, in place (insertion sort: a row has few; its keys
    are distinct, so the order is total)."""
    for r in rows:
        first, last = pair_start[r], pair_start[r] + pair_count[r]
        for p in range(first + 1, last):
            q = p
            while q > first and _key_before(b, pairs, q, q - 1):
                for c in range(4):
                    pairs[q, c], pairs[q - 1, c] = pairs[q - 1, c], pairs[q, c]
                q -= 1
