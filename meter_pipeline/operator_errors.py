"""Expected operational failures, said in one or two lines: what failed, where, and the fix.

Disk full, a read-only or unwritable warehouse, a partition another run is writing: the CLI
prints :func:`explain` of the innermost error instead of a stack trace (``--debug`` shows the
trace). Anything else is reported by its type and message, cut to one line.
"""

from __future__ import annotations

import errno

#: errno → the fix an operator applies.
FIXES = {
    errno.ENOSPC: "the disk is full: free space on the data root's disk, then re-run",
    errno.EDQUOT: "the disk quota is exhausted: free space or raise the quota, then re-run",
    errno.EROFS: "the file system is read-only: mount the data root writable, then re-run",
    errno.EACCES: "permission denied: give this user write access to the path, then re-run",
    errno.EPERM: "operation not permitted: give this user write access to the path, then re-run",
}
#: Words of an error message (as Dagster reports a step's error) → its errno.
_WORDS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
    "Operation not permitted": errno.EPERM,
}
BUSY = "is being written by another run"
MAX_CHARS = 300


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def explain(message: str, code: int | None = None) -> str:
    """One line for an error's message (and errno when known): the message and the fix."""
    if code is None:
        code = next((c for words, c in _WORDS.items() if words in message), None)
    if code in FIXES:
        return f"{_one_line(message)}\n  fix: {FIXES[code]}"
    if BUSY in message:
        return _one_line(message)
    return _one_line(message)


def explain_exception(exc: BaseException) -> str:
    """:func:`explain` of an exception: its innermost explicit cause (``raise … from``), not an
    error it happened while handling (pathlib's ``mkdir(parents=True)`` raises EROFS while
    handling its own FileNotFoundError: the EROFS is the one to explain)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    code = exc.errno if isinstance(exc, OSError) else None
    return explain(f"{type(exc).__name__}: {exc}", code)
