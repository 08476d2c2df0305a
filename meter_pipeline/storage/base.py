"""What every storage of a data root offers, and the errors and records they share."""

from __future__ import annotations

import abc
import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from meter_pipeline.io.limits import LimitExceeded, Limits

CHUNK = 16 * 1024 * 1024
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

#: Kinds of :class:`FolderEntry`.
FILE, FOLDER, LINK, SPECIAL, BAD_NAME = "file", "folder", "link", "special", "bad name"


class NotReadable(Exception):
    """The file cannot be read or decompressed; the message says why."""


class OutsideRoot(Exception):
    """A folder under the root resolves outside it (a link): it is not read."""


class PartitionBusy(RuntimeError):
    """Another run is writing, or has just written, the same partition."""

    def __init__(self, where: str, how: str = "is being written by another run"):
        super().__init__(
            f"partition {where} {how}; wait for that run to finish and re-run this one"
        )


class PartitionWriteFailed(OSError):
    """Writing a partition's file failed (disk full, read-only, refused by the store, …): the
    error names the file, which Polars', pyarrow's and the store's own errors do not; ``errno``
    kept when known."""


@dataclass(frozen=True)
class FolderEntry:
    """One entry of a folder: its name (a name that is not valid UTF-8 comes with ``\\xNN``
    escapes and kind ``bad name``) and its kind (file, folder, link, special)."""

    name: str
    kind: str


@dataclass(frozen=True)
class FileStat:
    """What tells a file changed without reading it: its size and ``version`` (local: mtime,
    ctime and inode; object store: the entity tag)."""

    size: int
    version: tuple


@dataclass
class FileBytes:
    """What was read of one landing file: its size and SHA-256 as stored, and its content."""

    size: int
    sha256: str
    data: bytes | None = None  # decompressed; None when the file was refused
    error: Exception | None = None


def finish_read(data: bytes, gzipped: bool, limits: Limits) -> FileBytes:
    """Hash a whole file's stored bytes and decompress them within the limits."""
    found = FileBytes(len(data), hashlib.sha256(data).hexdigest())
    try:
        found.data = gunzip_capped(data, limits.max_file_bytes) if gzipped and data else data
    except (NotReadable, LimitExceeded) as exc:
        found.error = exc
    return found


def too_big(chunks: Iterator[bytes], limits: Limits) -> FileBytes:
    """A file over ``max_file_bytes``: hashed in a stream, never held, refused with the limit."""
    digest, read = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        read += len(chunk)
    error = LimitExceeded("max_file_bytes", limits.max_file_bytes, f"the file's {read} bytes")
    return FileBytes(read, digest.hexdigest(), error=error)


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


class Storage(abc.ABC):
    """The files of one data root, named by their path relative to it (``/`` separators).

    Reads never follow a link out of the root; a whole-file write (:meth:`replace`,
    :meth:`put_bytes`) is atomic: a reader sees the old file or the new one, and a second writer
    of the same file at the same time fails with :class:`PartitionBusy`.
    """

    #: The root as users write it: a local path or ``s3://bucket/prefix``.
    root: str

    def location(self, rel: str) -> str:
        """The file's full name, for messages and for Polars/pyarrow readers."""
        return f"{self.root.rstrip('/')}/{rel}" if rel else self.root

    #: Options Polars' readers need for :meth:`location` (None for local files).
    storage_options: dict[str, str] | None = None

    @abc.abstractmethod
    def list_folder(self, rel: str) -> list[FolderEntry] | None:
        """The entries directly in a folder, sorted by the bytes of their names; None when the
        folder does not exist. Raises :class:`OutsideRoot` for a folder that leads out."""

    @abc.abstractmethod
    def is_folder(self, rel: str) -> bool:
        """Whether a folder exists (on an object store: whether anything is under it)."""

    @abc.abstractmethod
    def folders_with(self, rel: str, name: str) -> list[str]:
        """Names of the sub-folders of ``rel`` that hold a file called ``name``."""

    @abc.abstractmethod
    def stat(self, rel: str) -> FileStat | None:
        """Size and version of a file; None when it does not exist."""

    def exists(self, rel: str) -> bool:
        return self.stat(rel) is not None

    def existing(self, rels: list[str]) -> list[str]:
        """Those of ``rels`` that exist, in the order given."""
        return [rel for rel in rels if self.exists(rel)]

    @abc.abstractmethod
    def read_landing(self, rel: str, gzipped: bool, limits: Limits) -> FileBytes:
        """Read one landing file within the limits; never raises for the file itself."""

    @abc.abstractmethod
    def read_bytes(self, rel: str) -> bytes:
        """A whole file (FileNotFoundError when there is none)."""

    @abc.abstractmethod
    def open_read(self, rel: str) -> AbstractContextManager[BinaryIO]:
        """A seekable reader of a file, for Parquet footers (FileNotFoundError when none)."""

    @abc.abstractmethod
    def replace(self, rel: str) -> AbstractContextManager[Path]:
        """A local temporary path to write; when the block ends without an error it replaces
        ``rel`` atomically, otherwise it is removed and ``rel`` stays as it was."""

    def put_bytes(self, rel: str, data: bytes) -> None:
        """Replace a whole file atomically with ``data``."""
        with self.replace(rel) as tmp:
            tmp.write_bytes(data)

    @abc.abstractmethod
    def remove(self, rel: str) -> None:
        """Remove a file (nothing when there is none)."""

    @abc.abstractmethod
    def copy_tree(self, rel: str, dest: Path, skip: Callable[[str], bool] | None = None) -> None:
        """Copy every file under folder ``rel`` into the local folder ``dest`` (same relative
        names; hard links where the root is local and they can be made); a sub-folder whose
        name ``skip`` accepts is left out with everything in it."""

    @abc.abstractmethod
    def copy_file(self, rel: str, dest: Path, read_only: bool = False) -> None:
        """Copy one file to the local path ``dest`` (a hard link when it can be and
        ``read_only`` is not asked: a read-only copy is never a link to the original)."""

    def upload_tree(self, local: Path) -> None:
        """Write every file under the local folder ``local`` to the same names under the root
        (each file replaced whole)."""
        for path in sorted(local.rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.put_bytes(path.relative_to(local).as_posix(), path.read_bytes())

    def sha256(self, rel: str) -> str:
        """The SHA-256 of a file's bytes (of an empty file when it cannot be read)."""
        try:
            return hashlib.sha256(self.read_bytes(rel)).hexdigest()
        except OSError:
            return EMPTY_SHA256
