"""A data root on an S3-compatible object store: ``s3://bucket/prefix``.

Objects are read and written with obstore (the Rust ``object_store`` crate Polars also uses), so
no S3 protocol is written here. Configuration comes from the standard variables
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` (and ``AWS_SESSION_TOKEN``), ``AWS_REGION``
(default ``us-east-1``) and ``AWS_ENDPOINT_URL`` (plain ``http://`` allowed when given).

A file is one object written by a single PUT, so a reader sees the old object or the new one.
The PUT is conditional: ``If-None-Match: *`` when there was no object as the write began,
``If-Match: <etag it had>`` otherwise. Of two writers of one partition at once, the second to
finish fails with :class:`PartitionBusy` naming it, and the first one's object stands whole.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionError,
    UnauthenticatedError,
)
from obstore.store import S3Store

from meter_pipeline.io.limits import Limits
from meter_pipeline.storage.base import (
    CHUNK,
    EMPTY_SHA256,
    FILE,
    FOLDER,
    FileBytes,
    FileStat,
    FolderEntry,
    NotReadable,
    PartitionBusy,
    PartitionWriteFailed,
    Storage,
    finish_read,
    too_big,
)

DEFAULT_REGION = "us-east-1"


class StorageConfigError(ValueError):
    """The object store cannot be used as configured; the message says what failed and the fix,
    and never holds a secret."""


@dataclass(frozen=True)
class S3Config:
    """The object store's settings, from the standard AWS variables (secrets kept out of repr)."""

    region: str = DEFAULT_REGION
    endpoint: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls) -> S3Config:
        env = os.environ
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint=env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None,
            access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
        )

    def polars_options(self) -> dict[str, str]:
        """The same settings as Polars' ``storage_options``."""
        options = {"aws_region": self.region}
        if self.endpoint:
            options["aws_endpoint_url"] = self.endpoint
            options["aws_allow_http"] = "true"
        for key, value in (
            ("aws_access_key_id", self.access_key_id),
            ("aws_secret_access_key", self.secret_access_key),
            ("aws_session_token", self.session_token),
        ):
            if value:
                options[key] = value
        return options


def split_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix without slashes at either end)."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise StorageConfigError(
            f"data root {url!r} is not an s3://bucket/prefix address; fix: write it as "
            "s3://BUCKET or s3://BUCKET/PREFIX"
        )
    return parts.netloc, parts.path.strip("/")


def first_line(exc: BaseException) -> str:
    """An object-store error's first line (the rest is a debug dump)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class _Seekable(io.RawIOBase):
    """obstore's ranged reader as a standard binary file (pyarrow asks for ``closed``)."""

    def __init__(self, reader):
        self.reader = reader

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = bytes(self.reader.read(len(buffer)))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return bytes(self.reader.read() if size is None or size < 0 else self.reader.read(size))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.reader.seek(offset, whence)

    def tell(self) -> int:
        return self.reader.tell()

    @property
    def size(self) -> int:
        return self.reader.size


class S3Storage(Storage):
    """A data root under ``s3://bucket/prefix``."""

    def __init__(self, url: str, config: S3Config):
        self.root = url
        self.bucket, self.prefix = split_url(url)
        self.config = config
        self.storage_options = config.polars_options()
        options: dict = {"connect_timeout": "10s"}
        if config.endpoint and config.endpoint.startswith("http://"):
            options["allow_http"] = True
        given = {
            "endpoint": config.endpoint,
            "access_key_id": config.access_key_id,
            "secret_access_key": config.secret_access_key,
            "session_token": config.session_token,
        }
        self.builder_options = {
            "region": config.region,
            "client_options": options,
            "retry_config": {"max_retries": 3, "retry_timeout": timedelta(seconds=30)},
            **{key: value for key, value in given.items() if value},
        }
        self.store = S3Store(self.bucket, prefix=self.prefix or None, **self.builder_options)

    def __repr__(self) -> str:
        return f"S3Storage({self.root!r}, endpoint={self.config.endpoint!r})"

    def __reduce__(self):  # never pickle the credentials: rebuild from the environment
        raise TypeError("an S3Storage is not sent between processes; pass the root instead")

    def fsspec(self):
        """An fsspec file system over the same store and credentials (for DuckDB and other
        readers that take one), from obstore."""
        from obstore.fsspec import FsspecStore

        return FsspecStore("s3", **self.builder_options)

    # -- checks -------------------------------------------------------------------------------

    def check(self) -> None:
        """Reach the store once: an unreachable endpoint, a missing bucket or refused credentials
        is a :class:`StorageConfigError` naming what failed and the fix."""
        try:
            next(iter(obstore.list(self.store, chunk_size=1)), None)
        except (BaseError, OSError) as exc:
            raise StorageConfigError(self.explain(exc)) from None

    def explain(self, exc: BaseException) -> str:
        text = str(exc)
        endpoint = self.config.endpoint or f"AWS S3 in {self.config.region}"
        if "NoSuchBucket" in text:
            return (
                f"bucket {self.bucket!r} does not exist at {endpoint}; fix: create it, or correct "
                f"the data root {self.root}"
            )
        if isinstance(exc, UnauthenticatedError | PermissionDeniedError) or any(
            word in text
            for word in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403")
        ):
            return (
                f"the object store at {endpoint} refused the credentials for {self.root}; fix: "
                "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and the bucket's policy)"
            )
        if any(
            word in text
            for word in ("error sending request", "Connection refused", "dns error", "timed out")
        ):
            return (
                f"cannot reach the object store at {endpoint} for {self.root}; fix: check "
                "AWS_ENDPOINT_URL (scheme, host, port) and that the store is running"
            )
        return f"the object store failed for {self.root}: {first_line(exc)}"

    # -- reads --------------------------------------------------------------------------------

    def list_folder(self, rel: str) -> list[FolderEntry] | None:
        prefix = rel.rstrip("/") + "/" if rel else ""
        found = obstore.list_with_delimiter(self.store, prefix or None)
        entries = []
        for meta in found["objects"]:
            name = meta["path"][len(prefix) :]
            if name:  # a folder marker (an empty object named like the folder) is no entry
                entries.append(FolderEntry(name, FILE))
        for sub in found["common_prefixes"]:
            entries.append(FolderEntry(sub[len(prefix) :].rstrip("/"), FOLDER))
        if not entries:
            return None
        return sorted(entries, key=lambda e: e.name.encode())

    def is_folder(self, rel: str) -> bool:
        prefix = rel.rstrip("/") + "/"
        return next(iter(obstore.list(self.store, prefix, chunk_size=1)), None) is not None

    def folders_with(self, rel: str, name: str) -> list[str]:
        prefix = rel.rstrip("/") + "/"
        out = []
        for batch in obstore.list(self.store, prefix):
            for meta in batch:
                parts = meta["path"][len(prefix) :].split("/")
                if len(parts) == 2 and parts[1] == name:
                    out.append(parts[0])
        return out

    def existing(self, rels: list[str]) -> list[str]:
        """One listing per folder of partitions instead of a request per file."""
        if len(rels) <= 2:
            return [rel for rel in rels if self.exists(rel)]
        found: set[str] = set()
        for table in {rel.rsplit("/", 2)[0] for rel in rels}:
            for batch in obstore.list(self.store, table + "/"):
                found.update(meta["path"] for meta in batch)
        return [rel for rel in rels if rel in found]

    def stat(self, rel: str) -> FileStat | None:
        try:
            meta = obstore.head(self.store, rel)
        except (FileNotFoundError, NotFoundError):
            return None
        return FileStat(meta["size"], (meta["e_tag"],))

    def read_landing(self, rel: str, gzipped: bool, limits: Limits) -> FileBytes:
        try:
            result = obstore.get(self.store, rel)
            if result.meta["size"] > limits.max_file_bytes:
                return too_big((bytes(c) for c in result.stream(min_chunk_size=CHUNK)), limits)
            data = bytes(result.bytes())
        except (BaseError, OSError) as exc:
            error = NotReadable(f"file cannot be read ({first_line(exc)})")
            return FileBytes(0, EMPTY_SHA256, error=error)
        return finish_read(data, gzipped, limits)

    def read_bytes(self, rel: str) -> bytes:
        try:
            return bytes(obstore.get(self.store, rel).bytes())
        except (FileNotFoundError, NotFoundError):  # obstore raises either for a 404
            raise FileNotFoundError(self.location(rel)) from None

    @contextmanager
    def open_read(self, rel: str) -> Iterator[BinaryIO]:
        try:
            reader = obstore.open_reader(self.store, rel)
        except (FileNotFoundError, NotFoundError):  # obstore raises either for a 404
            raise FileNotFoundError(self.location(rel)) from None
        try:
            yield _Seekable(reader)  # type: ignore[misc]  # a seekable binary reader
        finally:
            reader.close()

    def copy_tree(self, rel: str, dest: Path, skip: Callable[[str], bool] | None = None) -> None:
        prefix = rel.rstrip("/") + "/"
        dest.mkdir(parents=True, exist_ok=True)
        for batch in obstore.list(self.store, prefix):
            for meta in batch:
                inner = meta["path"][len(prefix) :]
                if not inner or (skip and any(skip(part) for part in inner.split("/")[:-1])):
                    continue
                self.copy_file(meta["path"], dest / inner)

    def copy_file(self, rel: str, dest: Path, read_only: bool = False) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.read_bytes(rel))
        if read_only:
            dest.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    # -- writes -------------------------------------------------------------------------------

    @contextmanager
    def replace(self, rel: str) -> Iterator[Path]:
        before = self.stat(rel)
        with tempfile.TemporaryDirectory(prefix="meter-pipeline-put-") as folder:
            tmp = Path(folder) / Path(rel).name
            yield tmp
            mode = "create" if before is None else {"e_tag": before.version[0]}
            try:
                obstore.put(self.store, rel, tmp, mode=mode, use_multipart=False)
            except (AlreadyExistsError, PreconditionError):
                raise PartitionBusy(
                    self.location(rel).rsplit("/", 1)[0],
                    "was written by another run while this run was writing it",
                ) from None
            except (BaseError, OSError) as exc:
                raise PartitionWriteFailed(
                    None, f"cannot write {self.location(rel)}: {self.explain(exc)}"
                ) from None

    def remove(self, rel: str) -> None:
        obstore.delete(self.store, rel)
