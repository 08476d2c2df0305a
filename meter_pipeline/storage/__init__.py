"""Where a data root lives: a local folder or an ``s3://bucket/prefix`` on any S3-compatible store.

Every read and write under a data root goes through :func:`storage_for`, which returns one
:class:`~meter_pipeline.storage.base.Storage` per root: :class:`LocalStorage` (files, written
aside and renamed under a lock) or :class:`S3Storage` (objects, one conditional PUT each).
Callers name files by their path relative to the root, with ``/`` separators.
"""

from __future__ import annotations

import os
from functools import lru_cache

from meter_pipeline.storage.base import (
    FileBytes,
    FileStat,
    FolderEntry,
    NotReadable,
    PartitionBusy,
    PartitionWriteFailed,
    Storage,
)
from meter_pipeline.storage.local import LocalStorage

__all__ = [
    "FileBytes",
    "FileStat",
    "FolderEntry",
    "LocalStorage",
    "NotReadable",
    "PartitionBusy",
    "PartitionWriteFailed",
    "Storage",
    "is_remote",
    "root_text",
    "storage_for",
]

S3_SCHEME = "s3://"


def is_remote(root: str | os.PathLike) -> bool:
    """Whether ``root`` names an object store (``s3://…``) rather than a local folder."""
    return str(root).startswith(S3_SCHEME)


def root_text(root: str | os.PathLike) -> str:
    """The root as users write it (``s3://bucket/prefix`` or a local path)."""
    return str(root).rstrip("/") if is_remote(root) else os.fspath(root)


def storage_for(root: str | os.PathLike) -> Storage:
    """The storage of a data root (one instance per root and environment, shared by a process)."""
    if is_remote(root):
        from meter_pipeline.storage.s3 import S3Config

        return _s3(root_text(root), S3Config.from_environment())
    return LocalStorage(os.fspath(root))


@lru_cache(maxsize=16)
def _s3(url: str, config):
    from meter_pipeline.storage.s3 import S3Storage

    return S3Storage(url, config)
