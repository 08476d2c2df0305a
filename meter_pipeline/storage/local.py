"""A data root in a local folder.

A file is replaced by writing it aside under a hidden name in its folder, syncing it and moving it
into place with ``os.replace``: a reader sees the old file or the new one, and a writer killed
half-way leaves the old file intact.

Ownership: a writer holds an exclusive ``flock`` on ``<parent>/.<folder>.lock`` (beside the
file's folder, so a partition folder holds only its Parquet file) from the moment it creates its
temporary file until it has moved it into place. Holding the lock, it sweeps the temporary files
of killed writers (a live writer always holds the lock, so none of its files is ever deleted). A
second writer of the same folder waits up to :data:`LOCK_WAIT_S` seconds and then fails with
:class:`PartitionBusy`. The kernel drops the lock when a process dies, so a killed run never
leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from meter_pipeline.io.limits import Limits
from meter_pipeline.storage.base import (
    BAD_NAME,
    CHUNK,
    EMPTY_SHA256,
    FILE,
    FOLDER,
    LINK,
    SPECIAL,
    FileBytes,
    FileStat,
    FolderEntry,
    NotReadable,
    OutsideRoot,
    PartitionBusy,
    Storage,
    finish_read,
    too_big,
)

#: How long a writer waits for another run's write of the same folder to finish.
LOCK_WAIT_S = 60.0


def lock_folder(folder: Path, wait_s: float | None = None) -> int:
    """Take a folder's write lock (a file descriptor to close to release it)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.parent / f".{folder.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + (LOCK_WAIT_S if wait_s is None else wait_s)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise PartitionBusy(str(folder)) from None
            time.sleep(0.05)


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


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _kind(entry: os.DirEntry) -> str:
    mode = entry.stat(follow_symlinks=False).st_mode
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISDIR(mode):
        return FOLDER
    return FILE if stat.S_ISREG(mode) else SPECIAL


class LocalStorage(Storage):
    """A data root in a local folder (``root`` as given: relative paths stay relative)."""

    def __init__(self, root: str):
        self.root = root
        self.base = Path(root)

    def path(self, rel: str) -> Path:
        return self.base / rel if rel else self.base

    def location(self, rel: str) -> str:
        return str(self.path(rel))

    def list_folder(self, rel: str) -> list[FolderEntry] | None:
        folder = self.path(rel)
        if not folder.is_dir():
            return None
        if not folder.resolve().is_relative_to(self.base.resolve()):
            raise OutsideRoot(rel)
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: os.fsencode(e.name))
        out = []
        for entry in entries:
            name = os.fsencode(entry.name).decode("utf-8", "backslashreplace")
            out.append(FolderEntry(name, BAD_NAME if name != entry.name else _kind(entry)))
        return out

    def is_folder(self, rel: str) -> bool:
        return self.path(rel).is_dir()

    def folders_with(self, rel: str, name: str) -> list[str]:
        folder = self.path(rel)
        if not folder.is_dir():
            return []
        return [p.name for p in folder.iterdir() if (p / name).exists()]

    def stat(self, rel: str) -> FileStat | None:
        try:
            st = self.path(rel).stat()
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return FileStat(st.st_size, (st.st_mtime_ns, st.st_ctime_ns, st.st_ino))

    def read_landing(self, rel: str, gzipped: bool, limits: Limits) -> FileBytes:
        """Open without following a link, check it is a regular file, hash and read it (a file
        over ``max_file_bytes`` is hashed in a stream, never held)."""
        try:
            fd = _open_regular(self.path(rel))
        except NotReadable as exc:
            return FileBytes(0, EMPTY_SHA256, error=exc)
        with os.fdopen(fd, "rb") as fh:
            try:
                if os.fstat(fh.fileno()).st_size > limits.max_file_bytes:
                    return too_big(iter(lambda: fh.read(CHUNK), b""), limits)
                data = fh.read()
            except OSError as exc:
                return FileBytes(0, EMPTY_SHA256, error=NotReadable(f"file cannot be read ({exc})"))
        return finish_read(data, gzipped, limits)

    def read_bytes(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    @contextmanager
    def open_read(self, rel: str) -> Iterator[BinaryIO]:
        with open(self.path(rel), "rb") as fh:
            yield fh

    def sha256(self, rel: str) -> str:
        digest = hashlib.sha256()
        try:
            with open(self.path(rel), "rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
        except OSError:  # as the landing read records an unreadable file
            return EMPTY_SHA256
        return digest.hexdigest()

    def copy_tree(self, rel: str, dest: Path, skip: Callable[[str], bool] | None = None) -> None:
        def ignore(_folder: str, names: list[str]) -> list[str]:
            return [name for name in names if skip(name)] if skip else []

        shutil.copytree(self.path(rel), dest, copy_function=_link_or_copy, ignore=ignore)

    def copy_file(self, rel: str, dest: Path, read_only: bool = False) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if read_only:
            shutil.copyfile(self.path(rel), dest)
            dest.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            return
        _link_or_copy(str(self.path(rel)), str(dest))

    @contextmanager
    def replace(self, rel: str) -> Iterator[Path]:
        target = self.path(rel)
        folder = target.parent
        lock = lock_folder(folder)
        try:
            for stale in folder.glob(f".{target.name}.*.tmp"):
                stale.unlink(missing_ok=True)
            tmp = folder / f".{target.name}.{uuid.uuid4().hex}.tmp"
            try:
                yield tmp
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        finally:
            os.close(lock)

    def remove(self, rel: str) -> None:
        target = self.path(rel)
        if not target.parent.is_dir():
            return
        lock = lock_folder(target.parent)
        try:
            target.unlink(missing_ok=True)
        finally:
            os.close(lock)
