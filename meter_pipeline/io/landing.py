"""The landing folder of one day: which files are read, which are skipped, and their rows."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl

from meter_pipeline.io.csvfile import UnreadableFile, read_csv
from meter_pipeline.io.jsonl import jsonl_lines, read_jsonl
from meter_pipeline.io.limits import LimitExceeded, Limits
from meter_pipeline.io.parquetfile import check_parquet_footer, read_parquet
from meter_pipeline.io.records import LandingFile, RawRow
from meter_pipeline.io.safe_read import line_too_long
from meter_pipeline.storage import Storage, storage_for
from meter_pipeline.storage.base import BAD_NAME as BAD_NAME_KIND
from meter_pipeline.storage.base import FILE, FOLDER, OutsideRoot
from meter_pipeline.storage.base import LINK as LINK_KIND

Reader = Callable[[bytes], Iterator[RawRow]]

#: File suffix → (reader, gzipped). Names match case-sensitively.
EVENT_FORMATS: dict[str, tuple[Reader, bool]] = {
    ".jsonl": (read_jsonl, False),
    ".ndjson": (read_jsonl, False),
    ".jsonl.gz": (read_jsonl, True),
    ".ndjson.gz": (read_jsonl, True),
    ".csv": (read_csv, False),
    ".csv.gz": (read_csv, True),
    ".parquet": (read_parquet, False),
}


def event_folder(day: str) -> str:
    """A landing day's folder, relative to the data root."""
    return f"landing/events/{day}"


def format_of(name: str, formats: dict[str, tuple[Reader, bool]]) -> tuple[Reader, bool] | None:
    if name.startswith((".", "_")):
        return None
    for suffix, spec in formats.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return spec
    return None


#: Why an entry of a landing folder is not read (``skipped_reasons`` of the audit).
NOT_LANDING_NAME = "not a landing file name"
SUB_FOLDER = "sub-folder"
LINK = "symbolic link (not followed)"
SPECIAL = "not a regular file"
BAD_NAME = "name is not valid UTF-8 (listed escaped)"
OUTSIDE = "folder is outside the data root (a link)"


@dataclass
class LandingListing:
    """What is in a landing folder: files to read (in byte order of path), skipped paths and,
    in the same order, why each was skipped; ``limits`` bound what reading them may cost."""

    files: list[tuple[str, Storage, Reader, bool]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)

    def skip(self, rel: str, reason: str) -> None:
        self.skipped.append(rel)
        self.reasons.append(reason)


def _skip_reason(kind: str, name: str, formats: dict[str, tuple[Reader, bool]]) -> str | None:
    """Why a folder entry is not read, or None for a regular file with a landing file name.
    Links are never followed, whatever they point to."""
    if kind == BAD_NAME_KIND:
        return BAD_NAME
    if kind == LINK_KIND:
        return LINK
    if kind == FOLDER:
        return SUB_FOLDER
    if kind != FILE:
        return SPECIAL
    return None if format_of(name, formats) else NOT_LANDING_NAME


def list_landing(
    root: str | os.PathLike,
    folder: str,
    formats: dict[str, tuple[Reader, bool]] = EVENT_FORMATS,
    limits: Limits | None = None,
) -> LandingListing:
    """List a landing folder (``folder`` relative to the root). Paths are relative to the data
    root, with ``/`` separators; a name that is not valid UTF-8 is skipped and listed with
    ``\\xNN`` escapes."""
    listing = LandingListing(limits=limits or Limits())
    storage = storage_for(root)
    try:
        entries = storage.list_folder(folder)
    except OutsideRoot:
        listing.skip(folder, OUTSIDE)
        return listing
    for entry in entries or []:
        rel = f"{folder}/{entry.name}"
        reason = _skip_reason(entry.kind, entry.name, formats)
        spec = format_of(entry.name, formats) if reason is None else None
        if spec is not None:
            listing.files.append((rel, storage, *spec))
        else:
            listing.skip(rel, reason or NOT_LANDING_NAME)
    return listing


def read_event_file(
    rel: str, storage: Storage, reader: Reader, gzipped: bool, limits: Limits | None = None
) -> tuple[LandingFile, list[RawRow] | pl.DataFrame]:
    """Like :func:`read_landing_file`, but a readable JSONL file comes back as a frame of its
    lines, for the vectorised fast path."""
    info, data = _open(rel, storage, reader, gzipped, limits or Limits())
    if reader is not read_jsonl or isinstance(data, RawRow):
        return _rows(info, data, reader)
    lines = jsonl_lines(data)
    if lines is None:  # not UTF-8 as a whole: each line is judged on its own
        return _rows(info, data, reader)
    info.rows = lines.height
    return info, lines


def iter_event_files(
    listing: LandingListing,
) -> Iterator[tuple[LandingFile, list[RawRow] | pl.DataFrame]]:
    """:func:`read_event_file` of every listed file, in listing order; the next file is read in
    the background while the caller works on the current one (reading, hashing and splitting
    lines release the GIL), so at most two files are in memory."""
    budget = DayBudget(listing.limits)
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = None
        for entry in listing.files:
            future = pool.submit(read_event_file, *entry, listing.limits)
            if ahead is not None:
                yield budget.admit(*ahead.result())
            ahead = future
        if ahead is not None:
            yield budget.admit(*ahead.result())


class DayBudget:
    """``max_day_bytes``: files are admitted in path order while the decompressed bytes of the
    admitted files stay within the limit; a file that would pass it is one malformed row (a later,
    smaller file may still fit). Decided in listing order, so the outcome never depends on
    timing."""

    def __init__(self, limits: Limits):
        self.limits, self.used = limits, 0

    def admit(self, info: LandingFile, rows: list[RawRow] | pl.DataFrame):
        if self.used + info.content_bytes <= self.limits.max_day_bytes:
            self.used += info.content_bytes
            return info, rows
        what = f"the day's decompressed bytes with this file ({self.used + info.content_bytes})"
        error = LimitExceeded("max_day_bytes", self.limits.max_day_bytes, what)
        info.rows = 1
        return info, [RawRow(0, None, None, str(error))]


def read_landing_file(
    rel: str, storage: Storage, reader: Reader, gzipped: bool, limits: Limits | None = None
) -> tuple[LandingFile, list[RawRow]]:
    """Read one file whole. A file that cannot be read at all is one malformed row, line 0."""
    info, data = _open(rel, storage, reader, gzipped, limits or Limits())
    return _rows(info, data, reader)


def _open(
    rel: str, storage: Storage, reader: Reader, gzipped: bool, limits: Limits
) -> tuple[LandingFile, bytes | RawRow]:
    """The file's audit entry and its (decompressed) bytes, or the malformed row it becomes:
    a file that is not a regular file (any more), cannot be read or decompressed, or breaks a
    limit (:mod:`meter_pipeline.io.limits`)."""
    found = storage.read_landing(rel, gzipped, limits)
    info = LandingFile(rel, found.size, found.sha256)
    data, error = found.data, found.error
    if data is not None and error is None:
        info.content_bytes = len(data)
        try:
            _check_limits(data, reader, limits)
        except LimitExceeded as exc:
            error = exc
    if error is not None:
        return info, RawRow(0, None, None, str(error))
    assert data is not None
    return info, data


def _check_limits(data: bytes, reader: Reader, limits: Limits) -> None:
    if reader is read_parquet:
        check_parquet_footer(data, limits)
    elif len(data) > limits.max_line_bytes and line_too_long(data, limits.max_line_bytes):
        raise LimitExceeded("max_line_bytes", limits.max_line_bytes, "a line")


def _rows(
    info: LandingFile, data: bytes | RawRow, reader: Reader
) -> tuple[LandingFile, list[RawRow]]:
    if isinstance(data, RawRow):
        rows = [data]
    else:
        try:
            rows = list(reader(data)) if data else []
        except UnreadableFile as exc:
            rows = [RawRow(0, None, None, f"file cannot be read: {exc}")]
    info.rows = len(rows)
    return info, rows
