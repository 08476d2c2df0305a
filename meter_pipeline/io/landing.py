"""The landing folder of one day: which files are read, which are skipped, and their rows."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from meter_pipeline.io.csvfile import UnreadableFile, read_csv
from meter_pipeline.io.jsonl import jsonl_lines, read_jsonl
from meter_pipeline.io.parquetfile import read_parquet
from meter_pipeline.io.records import LandingFile, RawRow

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


def event_dir(root: Path, day: str) -> Path:
    return Path(root) / "landing" / "events" / day


def format_of(name: str, formats: dict[str, tuple[Reader, bool]]) -> tuple[Reader, bool] | None:
    if name.startswith((".", "_")):
        return None
    for suffix, spec in formats.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return spec
    return None


@dataclass
class LandingListing:
    """What is in a landing folder: files to read (in byte order of path) and skipped paths."""

    files: list[tuple[str, Path, Reader, bool]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def list_landing(
    root: Path, folder: Path, formats: dict[str, tuple[Reader, bool]] = EVENT_FORMATS
) -> LandingListing:
    """List a landing folder. Paths are relative to the data root, with ``/`` separators."""
    listing = LandingListing()
    if not folder.is_dir():
        return listing
    entries = sorted(folder.iterdir(), key=lambda p: p.name.encode("utf-8", "surrogateescape"))
    for entry in entries:
        rel = entry.relative_to(root).as_posix()
        spec = format_of(entry.name, formats) if entry.is_file() else None
        if spec is None:
            listing.skipped.append(rel)
        else:
            listing.files.append((rel, entry, *spec))
    return listing


def fingerprint(listing: LandingListing) -> list[list]:
    """Names, sizes and modification times: what tells a cached day index is stale."""
    out = []
    for rel, path, _, _ in listing.files:
        stat = path.stat()
        out.append([rel, stat.st_size, stat.st_mtime_ns])
    return out


def read_event_file(
    rel: str, path: Path, reader: Reader, gzipped: bool
) -> tuple[LandingFile, list[RawRow] | pl.DataFrame]:
    """Like :func:`read_landing_file`, but a readable JSONL file comes back as a frame of its
    lines, for the vectorised fast path."""
    info, data = _open(rel, path, gzipped)
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
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = None
        for entry in listing.files:
            future = pool.submit(read_event_file, *entry)
            if ahead is not None:
                yield ahead.result()
            ahead = future
        if ahead is not None:
            yield ahead.result()


def read_landing_file(
    rel: str, path: Path, reader: Reader, gzipped: bool
) -> tuple[LandingFile, list[RawRow]]:
    """Read one file whole. A file that cannot be read at all is one malformed row, line 0."""
    info, data = _open(rel, path, gzipped)
    return _rows(info, data, reader)


def _open(rel: str, path: Path, gzipped: bool) -> tuple[LandingFile, bytes | RawRow]:
    """The file's audit entry and its (decompressed) bytes, or the malformed row it becomes."""
    data = path.read_bytes()
    info = LandingFile(rel, len(data), hashlib.sha256(data).hexdigest())
    try:
        return info, gzip.decompress(data) if gzipped and data else data
    except (OSError, EOFError, zlib.error) as exc:
        return info, RawRow(0, None, None, f"file cannot be decompressed ({exc})")


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
