"""Reading one landing file safely: regular files only, bounded memory, limits checked.

:func:`read_capped` opens the path without following a link, checks it is a regular file, hashes
and reads it (a file over ``max_file_bytes`` is hashed in a stream, never held), and decompresses
gzip in a stream stopped at ``max_file_bytes``. :func:`line_too_long` finds a physical line over
``max_line_bytes`` in O(size / limit) searches.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import zlib
from dataclasses import dataclass

from meter_pipeline.io.limits import LimitExceeded, Limits

CHUNK = 16 * 1024 * 1024


class NotReadable(Exception):
    """The file cannot be read or decompressed; the message says why."""


@dataclass
class FileBytes:
    """What was read of one landing file: its size and SHA-256 as stored, and its content."""

    size: int
    sha256: str
    data: bytes | None = None  # decompressed; None when the file was refused
    error: Exception | None = None


def _open_regular(path: os.PathLike | str) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise NotReadable(f"file cannot be opened ({exc.strerror or exc})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotReadable("not a regular file")
    return fd


def read_capped(path: os.PathLike | str, gzipped: bool, limits: Limits) -> FileBytes:
    """Read one landing file within the limits; never raises for the file's content."""
    empty = hashlib.sha256(b"").hexdigest()
    try:
        fd = _open_regular(path)
    except NotReadable as exc:
        return FileBytes(0, empty, error=exc)
    with os.fdopen(fd, "rb") as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            if size > limits.max_file_bytes:
                digest = hashlib.sha256()
                read = 0
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    read += len(chunk)
                what = f"the file's {read} bytes"
                error = LimitExceeded("max_file_bytes", limits.max_file_bytes, what)
                return FileBytes(read, digest.hexdigest(), error=error)
            data = fh.read()
        except OSError as exc:
            return FileBytes(0, empty, error=NotReadable(f"file cannot be read ({exc})"))
    found = FileBytes(len(data), hashlib.sha256(data).hexdigest())
    try:
        found.data = gunzip_capped(data, limits.max_file_bytes) if gzipped and data else data
    except (NotReadable, LimitExceeded) as exc:
        found.error = exc
    return found


def gunzip_capped(data: bytes, cap: int) -> bytes:
    """Decompress gzip (all members) in a stream; more than ``cap`` bytes is LimitExceeded."""
    chunks, total = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            while chunk := fh.read(min(CHUNK, cap + 1 - total) or 1):
                chunks.append(chunk)
                total += len(chunk)
                if total > cap:
                    del chunks
                    raise LimitExceeded("max_file_bytes", cap, "the decompressed size")
    except (OSError, EOFError, zlib.error) as exc:
        raise NotReadable(f"file cannot be decompressed ({exc})") from None
    return b"".join(chunks)


def line_too_long(data: bytes, limit: int) -> bool:
    """Whether a physical line (between ``\\n``) holds more than ``limit`` bytes."""
    pos, end = -1, len(data)
    while end - pos - 1 > limit:
        newline = data.rfind(b"\n", pos + 1, pos + limit + 2)
        if newline == -1:
            return True
        pos = newline
    return False
