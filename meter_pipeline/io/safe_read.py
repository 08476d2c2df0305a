"""Limits checked on a landing file's bytes once read (the read itself is the storage's:
:meth:`meter_pipeline.storage.Storage.read_landing`).

:func:`line_too_long` finds a physical line over ``max_line_bytes`` in O(size / limit) searches.
"""

from __future__ import annotations


def line_too_long(data: bytes, limit: int) -> bool:
    """Whether a physical line (between ``\\n``) holds more than ``limit`` bytes."""
    pos, end = -1, len(data)
    while end - pos - 1 > limit:
        newline = data.rfind(b"\n", pos + 1, pos + limit + 2)
        if newline == -1:
            return True
        pos = newline
    return False
